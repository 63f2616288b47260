"""UBL 2.1 CIUS-RO writer: an :class:`EDocument` to Invoice or CreditNote XML (lxml).

Element order follows the UBL XSD; only the business terms e-Factura uses are written.
"""
from __future__ import annotations

from decimal import Decimal

from lxml import etree

from crm.efactura.document import EDocument, Party

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:efactura.mfinante.ro:CIUS-RO:1.0.1"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ROOT_NS = {"Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
           "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"}
_CAC, _CBC = f"{{{NS_CAC}}}", f"{{{NS_CBC}}}"


def amount(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def number(value: Decimal) -> str:
    """A quantity, price or percentage without exponent or trailing zeros: 2, 1.5, 12.3456."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


class _Writer:
    def __init__(self, doc: EDocument):
        self.doc = doc
        self.currency = doc.currency

    def cbc(self, parent, tag, text=None, **attrs):
        el = etree.SubElement(parent, _CBC + tag, attrs)
        if text is not None:
            el.text = str(text)
        return el

    def cac(self, parent, tag):
        return etree.SubElement(parent, _CAC + tag)

    def money(self, parent, tag, value, currency=None):
        return self.cbc(parent, tag, amount(value), currencyID=currency or self.currency)

    def build(self) -> etree._Element:
        doc = self.doc
        root = etree.Element(f"{{{ROOT_NS[doc.kind]}}}{doc.kind}",
                             nsmap={None: ROOT_NS[doc.kind], "cac": NS_CAC, "cbc": NS_CBC})
        self.cbc(root, "CustomizationID", CUSTOMIZATION_ID)
        self.cbc(root, "ID", doc.number)
        self.cbc(root, "IssueDate", doc.issue_date.isoformat())
        if doc.kind == "Invoice" and doc.due_date:
            self.cbc(root, "DueDate", doc.due_date.isoformat())
        self.cbc(root, "InvoiceTypeCode" if doc.kind == "Invoice" else "CreditNoteTypeCode", doc.type_code)
        for note in doc.notes:
            self.cbc(root, "Note", note)
        self.cbc(root, "DocumentCurrencyCode", doc.currency)
        if doc.tax_currency:
            self.cbc(root, "TaxCurrencyCode", doc.tax_currency)
        if doc.billing_reference:
            ref = self.cac(self.cac(root, "BillingReference"), "InvoiceDocumentReference")
            self.cbc(ref, "ID", doc.billing_reference)
            if doc.billing_reference_date:
                self.cbc(ref, "IssueDate", doc.billing_reference_date.isoformat())
        self.party(self.cac(root, "AccountingSupplierParty"), doc.supplier, seller=True)
        self.party(self.cac(root, "AccountingCustomerParty"), doc.customer, seller=False)
        if doc.delivery_date:
            delivery = self.cac(root, "Delivery")
            self.cbc(delivery, "ActualDeliveryDate", doc.delivery_date.isoformat())
            # CIUS-RO wants the whole address once there is a delivery (BR-RO-180/201/211).
            self.address(self.cac(self.cac(delivery, "DeliveryLocation"), "Address"), doc.customer,
                         subdivision_fallback=True)
        self.payment_means(root)
        if doc.payment_terms:
            self.cbc(self.cac(root, "PaymentTerms"), "Note", doc.payment_terms)
        for allowance in doc.allowances:
            el = self.cac(root, "AllowanceCharge")
            self.cbc(el, "ChargeIndicator", "false")
            self.cbc(el, "AllowanceChargeReasonCode", "95")  # UNTDID 5189: discount
            self.cbc(el, "AllowanceChargeReason", allowance.reason)
            self.money(el, "Amount", allowance.amount)
            self.money(el, "BaseAmount", allowance.base)
            self.tax_category(el, "TaxCategory", allowance.category, allowance.rate)
        self.tax_total(root)
        self.totals(root)
        for line in doc.lines:
            self.line(root, line)
        return root

    def payment_means(self, root):
        doc = self.doc
        if not (doc.iban or (doc.kind == "CreditNote" and doc.due_date)):
            return
        means = self.cac(root, "PaymentMeans")
        self.cbc(means, "PaymentMeansCode", "30" if doc.iban else "1")  # 30 credit transfer
        if doc.kind == "CreditNote" and doc.due_date:
            self.cbc(means, "PaymentDueDate", doc.due_date.isoformat())
        self.cbc(means, "PaymentID", doc.number)
        if doc.iban:
            account = self.cac(means, "PayeeFinancialAccount")
            self.cbc(account, "ID", doc.iban.replace(" ", ""))

    def cac_country(self, address, country):
        self.cbc(self.cac(address, "Country"), "IdentificationCode", country or "RO")

    def address(self, address, p: Party, subdivision_fallback=False):
        if p.street:
            self.cbc(address, "StreetName", p.street)
        if p.city:
            self.cbc(address, "CityName", p.city)
        if p.postal_zone:
            self.cbc(address, "PostalZone", p.postal_zone)
        county = p.county or (p.city if subdivision_fallback else None)
        if county:
            self.cbc(address, "CountrySubentity", county)
        self.cac_country(address, p.country)

    def party(self, holder, p: Party, seller: bool):
        party = self.cac(holder, "Party")
        self.cbc(self.cac(party, "PartyName"), "Name", p.name)
        self.address(self.cac(party, "PostalAddress"), p)
        if p.vat_id:
            scheme = self.cac(party, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", p.vat_id)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")
        legal = self.cac(party, "PartyLegalEntity")
        self.cbc(legal, "RegistrationName", p.name)
        if p.legal_id:
            self.cbc(legal, "CompanyID", p.legal_id)
        if seller and p.legal_info:
            self.cbc(legal, "CompanyLegalForm", p.legal_info)
        if p.email or p.phone:
            contact = self.cac(party, "Contact")
            if p.phone:
                self.cbc(contact, "Telephone", p.phone)
            if p.email:
                self.cbc(contact, "ElectronicMail", p.email)

    def tax_category(self, parent, tag, category, rate, exemption_code=None, exemption_text=None):
        el = self.cac(parent, tag)
        self.cbc(el, "ID", category)
        if category != "O":
            self.cbc(el, "Percent", number(rate))
        if exemption_code:
            self.cbc(el, "TaxExemptionReasonCode", exemption_code)
        if exemption_text:
            self.cbc(el, "TaxExemptionReason", exemption_text)
        self.cbc(self.cac(el, "TaxScheme"), "ID", "VAT")
        return el

    def tax_total(self, root):
        doc = self.doc
        total = self.cac(root, "TaxTotal")
        self.money(total, "TaxAmount", doc.tax_total)
        for group in doc.groups:
            sub = self.cac(total, "TaxSubtotal")
            self.money(sub, "TaxableAmount", group.taxable)
            self.money(sub, "TaxAmount", group.tax)
            self.tax_category(sub, "TaxCategory", group.category, group.rate, group.exemption_code,
                              group.exemption_text)
        if doc.tax_currency:  # BT-111: the VAT total in RON, on its own
            self.money(self.cac(root, "TaxTotal"), "TaxAmount", doc.tax_total_ron, doc.tax_currency)

    def totals(self, root):
        doc = self.doc
        lmt = self.cac(root, "LegalMonetaryTotal")
        self.money(lmt, "LineExtensionAmount", doc.line_total)
        self.money(lmt, "TaxExclusiveAmount", doc.tax_exclusive)
        self.money(lmt, "TaxInclusiveAmount", doc.tax_inclusive)
        if doc.allowances:
            self.money(lmt, "AllowanceTotalAmount", doc.allowance_total)
        if doc.rounding:
            self.money(lmt, "PayableRoundingAmount", doc.rounding)
        self.money(lmt, "PayableAmount", doc.payable)

    def line(self, root, line):
        credit = self.doc.kind == "CreditNote"
        el = self.cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        self.cbc(el, "ID", line.id)
        self.cbc(el, "CreditedQuantity" if credit else "InvoicedQuantity", number(line.quantity),
                 unitCode=line.unit_code)
        self.money(el, "LineExtensionAmount", line.net)
        if line.allowance:
            ac = self.cac(el, "AllowanceCharge")
            self.cbc(ac, "ChargeIndicator", "false")
            self.cbc(ac, "AllowanceChargeReasonCode", "95")
            self.cbc(ac, "AllowanceChargeReason", "Discount")
            self.cbc(ac, "MultiplierFactorNumeric", number(line.discount_percent))
            self.money(ac, "Amount", line.allowance)
            self.money(ac, "BaseAmount", line.gross)
        item = self.cac(el, "Item")
        if line.description:
            self.cbc(item, "Description", line.description)
        self.cbc(item, "Name", line.name)
        self.tax_category(item, "ClassifiedTaxCategory", line.category, line.rate)
        price = self.cac(el, "Price")
        self.cbc(price, "PriceAmount", number(line.price), currencyID=self.currency)


def to_tree(doc: EDocument) -> etree._Element:
    return _Writer(doc).build()


def to_xml(doc: EDocument) -> bytes:
    return etree.tostring(to_tree(doc), xml_declaration=True, encoding="UTF-8", pretty_print=True)
