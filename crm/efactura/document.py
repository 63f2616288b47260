"""The e-Factura view of an invoice: parties, lines, VAT breakdown and totals, computed with Decimal.

:func:`from_invoice` reads the invoice, its client, its lines and the tax definitions and returns
an :class:`EDocument` (what the UBL writer needs) plus the findings that stop it being a valid
CIUS-RO invoice, each naming the record and field a person must correct. Amounts follow the
EN 16931 arithmetic (BR-CO-10/13/15/16): line net = qty × price − line discount, VAT per
(category, rate) on the taxable base, all rounded half-up to 2 places.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from crm.catalog.models import Tax
from crm.core import totals
from crm.core.company import Profile, profile
from crm.core.extensions import db
from crm.core.models.base import money
from crm.efactura import codes
from crm.efactura.findings import Finding
from crm.sales.models.documents import Invoice

ZERO = Decimal("0.00")
PRIVATE_BUYER_ID = "0000000000000"  # CIUS-RO: a private person's missing CNP
# Default exemption reason codes (VATEX) of the categories that always have one.
DEFAULT_EXEMPTION = {"AE": "VATEX-EU-AE", "K": "VATEX-EU-IC", "G": "VATEX-EU-G", "O": "VATEX-EU-O"}
UNTAXED = {"Z", "E", "AE", "K", "G", "O"}


@dataclass
class Party:
    name: str
    street: str | None
    city: str | None
    postal_zone: str | None
    county: str | None  # ISO 3166-2 subdivision (RO-CJ) or a free text region abroad
    country: str | None  # ISO 3166-1 alpha-2
    vat_id: str | None = None  # BT-31 / BT-48 (with country prefix)
    legal_id: str | None = None  # BT-30 / BT-47
    legal_info: str | None = None  # BT-33 (seller's trade register number)
    email: str | None = None
    phone: str | None = None


@dataclass
class Line:
    id: str
    name: str
    description: str | None
    quantity: Decimal
    unit_code: str
    price: Decimal
    gross: Decimal  # quantity × price, rounded
    discount_percent: Decimal
    allowance: Decimal
    net: Decimal
    category: str
    rate: Decimal


@dataclass
class TaxGroup:
    category: str
    rate: Decimal
    taxable: Decimal = ZERO
    tax: Decimal = ZERO
    exemption_code: str | None = None
    exemption_text: str | None = None


@dataclass
class Allowance:
    amount: Decimal
    base: Decimal
    percent: Decimal | None
    category: str
    rate: Decimal
    reason: str = "Discount"


@dataclass
class EDocument:
    kind: str  # "Invoice" | "CreditNote"
    number: str
    issue_date: date
    due_date: date | None
    payment_terms: str | None
    currency: str
    exchange_rate: Decimal | None
    supplier: Party
    customer: Party
    iban: str | None
    lines: list[Line] = field(default_factory=list)
    allowances: list[Allowance] = field(default_factory=list)
    groups: list[TaxGroup] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rounding: Decimal = ZERO
    delivery_date: date | None = None
    delivery_country: str | None = None
    billing_reference: str | None = None  # BT-25, the invoice a credit note reverses
    billing_reference_date: date | None = None

    @property
    def type_code(self) -> str:
        return "381" if self.kind == "CreditNote" else "380"

    @property
    def line_total(self) -> Decimal:
        return money(sum((ln.net for ln in self.lines), ZERO))

    @property
    def allowance_total(self) -> Decimal:
        return money(sum((a.amount for a in self.allowances), ZERO))

    @property
    def tax_exclusive(self) -> Decimal:
        return self.line_total - self.allowance_total

    @property
    def tax_total(self) -> Decimal:
        return money(sum((g.tax for g in self.groups), ZERO))

    @property
    def tax_inclusive(self) -> Decimal:
        return self.tax_exclusive + self.tax_total

    @property
    def payable(self) -> Decimal:
        return self.tax_inclusive + self.rounding

    @property
    def tax_currency(self) -> str | None:
        return "RON" if self.currency != "RON" else None

    @property
    def tax_total_ron(self) -> Decimal | None:
        if self.tax_currency is None:
            return None
        return money(self.tax_total * (self.exchange_rate or Decimal(1)))


SETTINGS = "Company profile (/admin/company)"


class _TaxLookup:
    """tbltaxes rows by name (a line's tax copies the name and rate of its definition)."""

    def __init__(self):
        self.rows = db.session.query(Tax).all()

    def find(self, name: str, rate: Decimal):
        same_name = [t for t in self.rows if t.name == name]
        for t in same_name:
            if Decimal(t.taxrate) == Decimal(rate):
                return t
        return same_name[0] if same_name else None


def _address_checks(findings, record, prefix, country, county_raw, city, street, sector_texts):
    """Country / county / city / street of an address, with Bucharest sectors (BR-RO-100/110)."""
    county = None
    if country is None:
        findings.append(Finding(record, f"{prefix}country", "is missing or not a country we know; use the "
                                "two-letter code (RO, DE, …) or the country's name"))
        return None, city
    if not street:
        findings.append(Finding(record, f"{prefix}address", "is empty; e-Factura needs the street and number"))
    if not city:
        findings.append(Finding(record, f"{prefix}city", "is empty; e-Factura needs the locality"))
    if country == "RO":
        county = codes.county_code(county_raw)
        if county is None and codes.plain(city) in ("bucuresti", "bucharest") or codes.bucharest_sector(city):
            county = county or "RO-B"
        if county is None:
            findings.append(Finding(record, f"{prefix}state", f"“{county_raw or ''}” is not a Romanian county; "
                                    "write the county (e.g. Cluj or CJ, București or B)"))
        elif county == "RO-B":
            sector = codes.bucharest_sector(*sector_texts)
            if sector is None:
                findings.append(Finding(record, f"{prefix}city", "in Bucharest must name the sector "
                                        "(Sector 1 … Sector 6)"))
            city = sector or city
    else:
        county = (county_raw or "").strip() or None
    return county, city


def company_party(company: Profile, findings: list[Finding], use_vat_id: bool) -> Party:
    if not company.name:
        findings.append(Finding(SETTINGS, "Legal name", "is empty"))
    if not company.cui:
        findings.append(Finding(SETTINGS, "CUI", "is missing or not a CUI (digits, with or without RO)"))
    elif not codes.valid_cui(company.cui):  # ANAF would reject it (R6.1): nothing is sent with it
        findings.append(Finding(SETTINGS, "CUI", f"{company.cui} fails the CUI check digit; type the "
                                "company's CUI as on its registration certificate"))
    country = codes.country_code(company.country)
    county, city = _address_checks(findings, SETTINGS, "Company ", country, company.county, company.city,
                                   company.street, (company.city, company.street))
    party = Party(name=company.name or "", street=company.street, city=city, postal_zone=company.postal_code,
                  county=county, country=country, email=company.email, phone=company.phone)
    if company.vat_registered and use_vat_id:
        party.vat_id = f"RO{company.cui}" if company.cui else None
        party.legal_id = company.trade_register or company.cui
    else:
        party.legal_id = company.cui
        if company.trade_register:
            party.legal_info = f"Nr. Reg. Com. {company.trade_register}"
    return party


def _primary_contact(client):
    return next((c for c in client.contacts if c.is_primary), None)


def buyer_name(client) -> str:
    """The buyer's legal name (BT-44): the company, or for a private person with no company name
    the primary contact's first and last name."""
    if (client.company or "").strip():
        return client.company.strip()
    contact = _primary_contact(client)
    return f"{contact.firstname or ''} {contact.lastname or ''}".strip() if contact is not None else ""


def client_record(client) -> str:
    return f"Client “{buyer_name(client)}” (#{client.userid})"


def _is_a_person(client) -> bool:
    """No company name, or the company name is one of its contacts' names: a private person."""
    name = codes.plain(client.company or "")
    return not name or any(codes.plain(f"{c.firstname or ''} {c.lastname or ''}") == name for c in client.contacts)


def client_party(invoice, findings: list[Finding], use_vat_id: bool) -> Party:
    client = invoice.client
    record = client_record(client)
    street = invoice.billing_street or client.address
    city = invoice.billing_city or client.city
    state = invoice.billing_state or client.state
    country_raw = invoice.billing_country or client.country or "RO"
    zip_ = invoice.billing_zip or client.zip
    where = "billing " if invoice.billing_street else ""
    country = codes.country_code(country_raw)
    county, city = _address_checks(findings, record, where, country, state, city, street, (city, street))
    party = Party(name=buyer_name(client), street=street, city=city, postal_zone=zip_, county=county,
                  country=country)
    contact = _primary_contact(client)
    if contact is not None:
        party.email = contact.email
    vat = (client.vat or "").replace(" ", "").upper()
    if not vat:  # a private person
        party.legal_id = PRIVATE_BUYER_ID
        if not _is_a_person(client):  # sent as a person, so said: a company's missing CUI is an error to see
            findings.append(Finding(record, "VAT number", f"is empty, so “{client.company}” is sent to ANAF as a "
                                    f"private person ({PRIVATE_BUYER_ID}); if it is a company, enter its CUI",
                                    fatal=False))
    elif country == "RO" or vat.startswith("RO") or vat.isdigit():
        cui = codes.cui_digits(vat)
        if cui is None:
            findings.append(Finding(record, "VAT number", f"“{client.vat}” is not a CUI (digits, RO prefix "
                                    "only when the client pays VAT)"))
        elif not codes.valid_cui(cui):
            findings.append(Finding(record, "VAT number", f"“{client.vat}” fails the CUI check digit; type the "
                                    "client's CUI as on its registration certificate"))
        party.legal_id = cui
        if vat.startswith("RO") and use_vat_id and cui:
            party.vat_id = f"RO{cui}"
    else:  # a foreign company: its VAT number carries its country prefix
        party.legal_id = vat
        if use_vat_id:
            party.vat_id = vat if vat[:2].isalpha() else f"{country}{vat}"
    if not party.name:
        findings.append(Finding(record, "company", "is empty and the client has no primary contact with a "
                                "name; enter the company, or the person's name on its primary contact"))
    return party


def _currency(invoice) -> tuple[str, Decimal | None]:
    cur = invoice.currency_rel
    code = (cur.name if cur is not None else None) or "RON"
    if code == "RON":
        return code, None
    rate = invoice.exchange_rate or (cur.exchange_rate if cur is not None else None)
    return code, Decimal(rate) if rate else None


def from_invoice(invoice, company: Profile | None = None, taxes: _TaxLookup | None = None
                 ) -> tuple[EDocument, list[Finding]]:
    """The invoice as e-Factura sees it, seller ``company`` (default: the company profile), and what
    stops it being sent."""
    company = company or profile()
    taxes = taxes or _TaxLookup()
    findings: list[Finding] = []
    name = str(invoice)
    inv_record = f"Invoice {name}"
    if not invoice.number or not any(ch.isdigit() for ch in name):
        findings.append(Finding(inv_record, "number", "the invoice has no number yet; issue it first "
                                "(the number must contain a digit, BR-RO-010)"))
    sign = Decimal(-1) if Decimal(invoice.total or 0) < 0 else Decimal(1)
    kind = "CreditNote" if sign < 0 else "Invoice"

    lines, categories = [], []
    for pos, item in enumerate((ln for ln in invoice.items
                                if not (ln.is_optional and not ln.is_selected)), start=1):
        line_record = f"{inv_record}, line {pos} “{item.description}”"
        category, rate, tax_row = _line_category(item, company, taxes, findings, line_record)
        categories.append((category, rate, tax_row))
        qty, price = Decimal(item.qty or 0), Decimal(item.rate or 0)
        if price < 0:  # PriceAmount cannot be negative (BR-27): the sign moves to the quantity
            qty, price = -qty, -price
        qty *= sign
        pct = Decimal(getattr(item, "discount_percent", None) or 0)
        gross = money(qty * price)
        net = totals.line_net(qty, price, pct)  # the invoice's own rule
        allowance = gross - net
        if len(item.description or "") > 100:
            findings.append(Finding(line_record, "description", "is longer than 100 characters (e-Factura's "
                                    "limit for an item name); move the rest to the long description"))
        lines.append(Line(id=str(pos), name=(item.description or "")[:100],
                          description=(item.long_description or None) and item.long_description[:200],
                          quantity=qty, unit_code=codes.unit_code(item.unit), price=price, gross=gross,
                          discount_percent=pct, allowance=allowance, net=net,
                          category=category, rate=rate))
    if not lines:
        findings.append(Finding(inv_record, "items", "has no lines"))

    cats = {c for c, _, _ in categories}
    if "O" in cats and len(cats) > 1:
        findings.append(Finding(inv_record, "items", "mixes lines not subject to VAT (category O) with other "
                                "VAT categories; e-Factura needs them on separate invoices (BR-O-11)"))
    use_vat_id = "O" not in cats
    supplier = company_party(company, findings, use_vat_id)
    customer = client_party(invoice, findings, use_vat_id)
    if cats & {"AE", "K"} and not customer.vat_id:
        findings.append(Finding(client_record(invoice.client), "VAT number", "is needed for reverse-charge or "
                                "intra-EU lines (AE/K): enter the client's VAT number with its country prefix"))
    if cats & {"S", "Z", "E", "AE", "K", "G"} and not supplier.vat_id:
        findings.append(Finding(SETTINGS, "VAT registration", "the company is not registered for VAT, so its "
                                "lines must use a tax of category O (not subject to VAT)"))

    currency, rate = _currency(invoice)
    if currency != "RON" and not rate:
        findings.append(Finding(inv_record, "exchange rate", f"is missing; a {currency} invoice reports its "
                                "VAT in RON at the invoice's rate"))
    doc = EDocument(kind=kind, number=name, issue_date=invoice.date, due_date=invoice.duedate,
                    payment_terms=(invoice.terms or "").strip()[:300] or None, currency=currency,
                    exchange_rate=rate, supplier=supplier, customer=customer, iban=company.iban_for(currency), lines=lines)
    if invoice.efactura_billing_reference:
        doc.billing_reference = invoice.efactura_billing_reference.strip()
        original = _invoice_by_number(doc.billing_reference)
        doc.billing_reference_date = original.date if original is not None else None
    if invoice.clientnote:
        doc.notes.append(invoice.clientnote.strip()[:300])
    if "K" in cats:
        doc.delivery_date, doc.delivery_country = invoice.date, customer.country
    _groups(doc, invoice, categories, findings, inv_record, sign)
    # The invoice's adjustment goes to the rounding amount (BT-114), so the payable amount is the
    # invoice's total; with the same totals rule nothing else can end up there.
    doc.rounding = money(Decimal(invoice.total or 0) * sign) - doc.tax_inclusive
    if abs(doc.rounding - money(Decimal(invoice.adjustment or 0) * sign)) > Decimal("0.05"):
        findings.append(Finding(inv_record, "total", f"is {invoice.total} but its lines, discount and VAT add "
                                f"up to {doc.tax_inclusive * sign}; save the invoice again to recompute it"))
    if doc.payable > 0 and doc.due_date is None and not doc.payment_terms:
        findings.append(Finding(inv_record, "due date", "is empty and there are no terms; set a due date or "
                                "write the payment terms (BR-CO-25)"))
    if doc.due_date and doc.due_date < doc.issue_date:
        findings.append(Finding(inv_record, "due date", "is before the invoice date"))
    return doc, findings


def _invoice_by_number(number: str):
    return db.session.query(Invoice).filter_by(formatted_number=number).first()


def _line_category(item, company, taxes, findings, line_record):
    """The line's (VAT category, rate, tbltaxes row) from its tax, as the tax definition says."""
    line_taxes = list(item.taxes or [])
    if not company.vat_registered:
        return "O", ZERO, None
    if not line_taxes:
        findings.append(Finding(line_record, "tax", "has no VAT; choose a tax (a 0% tax of category Z, E, "
                                "AE, K, G or O when no VAT is due)"))
        return "S", ZERO, None
    if len(line_taxes) > 1:
        findings.append(Finding(line_record, "tax", "has two taxes; an e-Factura line carries one VAT rate"))
    tax = line_taxes[0]
    row = taxes.find(tax.taxname, tax.taxrate)
    category = (row.vat_category if row is not None else None) or "S"
    rate = Decimal(tax.taxrate or 0)
    if category == "S" and rate <= 0:
        findings.append(Finding(f"Tax “{tax.taxname}”" + (f" (#{row.id})" if row else ""), "VAT category",
                                "is S (standard) with a 0% rate; choose Z, E, AE, K, G or O for untaxed lines"))
    if category in UNTAXED and rate != 0:
        findings.append(Finding(f"Tax “{tax.taxname}”" + (f" (#{row.id})" if row else ""), "rate",
                                f"is {rate}% but category {category} carries no VAT; set the rate to 0"))
    return category, (rate if category == "S" else ZERO), row


def _groups(doc: EDocument, invoice, categories, findings, inv_record, sign) -> None:
    """VAT breakdown per (category, rate), with a before-tax document discount split across them."""
    groups: "OrderedDict[tuple[str, Decimal], TaxGroup]" = OrderedDict()
    for line, (category, rate, row) in zip(doc.lines, categories):
        key = (category, rate)
        group = groups.get(key)
        if group is None:
            group = groups[key] = TaxGroup(category, rate)
            if category in UNTAXED and category != "Z":
                group.exemption_code = (row.exemption_reason_code if row is not None else None) \
                    or DEFAULT_EXEMPTION.get(category)
                group.exemption_text = ((row.exemption_reason if row is not None else None) or "")[:100] or None
                if not group.exemption_code and not group.exemption_text:
                    findings.append(Finding(f"Tax “{row.name if row else category}”" + (f" (#{row.id})" if row else ""),
                                            "exemption reason", f"is empty; category {category} needs the "
                                            "exemption reason code (e.g. VATEX-EU-132) or text (BR-E-10)"))
        group.taxable += line.net
    discount = money(Decimal(invoice.discount_total or 0)) * sign if invoice.discount_type else ZERO
    if discount and invoice.discount_type == "after_tax":
        findings.append(Finding(inv_record, "discount type", "is after tax; e-Factura takes discounts off "
                                "the amount before VAT: use a before-tax discount"))
    elif discount and groups:
        # Spread and taxed as the invoice's totals are (crm/core/totals.py): same VAT, no rounding line.
        shares = totals.spread(discount, {key: group.taxable for key, group in groups.items()})
        for key, group in groups.items():
            if shares[key]:
                doc.allowances.append(Allowance(amount=shares[key], base=group.taxable, percent=None,
                                                category=group.category, rate=group.rate))
                group.taxable -= shares[key]
    for group in groups.values():
        group.taxable = money(group.taxable)
        group.tax = totals.vat(group.taxable, group.rate) if group.category == "S" else ZERO
    doc.groups = list(groups.values())
