"""Invoices received through e-Factura become vendor invoices (tblpur_invoices), never twice.

The job lists the FACTURA PRIMITA messages (listaMesajeFactura, filtru=P), downloads each one not
recorded yet, reads the UBL and records the bill with its vendor (found by CUI, created if new)
and lines. Each message is its own transaction; ``tblpur_invoices.efactura_download_id`` is
unique, so two runs at once still record a message once.
"""
from __future__ import annotations

import io
import logging
import zipfile
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree
from sqlalchemy.exc import IntegrityError

from crm.catalog.models import Currency, Tax
from crm.core import options, storage
from crm.core.extensions import db
from crm.core.models.base import money, unit_price
from crm.efactura import codes
from crm.efactura.anaf import AnafError
from crm.efactura.service import client, company_cif, token_problem, token_refusal
from crm.efactura.ubl import NS_CAC, NS_CBC
from crm.purchasing.models import Vendor, VendorInvoice, VendorInvoiceDetail

log = logging.getLogger(__name__)
NS = {"cac": NS_CAC, "cbc": NS_CBC}


class ReceivedInvoiceError(ValueError):
    pass


def _dec(value, default="0") -> Decimal:
    try:
        return Decimal((value or default).strip())
    except InvalidOperation:
        raise ReceivedInvoiceError(f"not a number: {value!r}") from None


def _date(value) -> date | None:
    return date.fromisoformat(value.strip()) if value else None


def parse_invoice(xml: bytes) -> dict:
    """What a vendor invoice needs from a UBL Invoice or CreditNote."""
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    kind = etree.QName(root).localname
    if kind not in ("Invoice", "CreditNote"):
        raise ReceivedInvoiceError(f"the message holds a {kind}, not an invoice")
    sign = Decimal(-1) if kind == "CreditNote" else Decimal(1)
    party = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    if party is None:
        raise ReceivedInvoiceError("no AccountingSupplierParty")
    vat_id = party.findtext("cac:PartyTaxScheme/cbc:CompanyID", namespaces=NS)
    legal_id = party.findtext("cac:PartyLegalEntity/cbc:CompanyID", namespaces=NS)
    seller = {
        "name": party.findtext("cac:PartyLegalEntity/cbc:RegistrationName", namespaces=NS)
        or party.findtext("cac:PartyName/cbc:Name", namespaces=NS) or "?",
        "vat": (vat_id or legal_id or "").strip(),
        "cui": codes.cui_digits(vat_id) or codes.cui_digits(legal_id),
        "street": party.findtext("cac:PostalAddress/cbc:StreetName", namespaces=NS),
        "city": party.findtext("cac:PostalAddress/cbc:CityName", namespaces=NS),
        "state": party.findtext("cac:PostalAddress/cbc:CountrySubentity", namespaces=NS),
        "zip": party.findtext("cac:PostalAddress/cbc:PostalZone", namespaces=NS),
        "country": party.findtext("cac:PostalAddress/cac:Country/cbc:IdentificationCode", namespaces=NS),
    }
    currency = root.findtext("cbc:DocumentCurrencyCode", namespaces=NS) or "RON"
    lines = []
    line_tag = "cac:CreditNoteLine" if kind == "CreditNote" else "cac:InvoiceLine"
    qty_tag = "cbc:CreditedQuantity" if kind == "CreditNote" else "cbc:InvoicedQuantity"
    for line in root.findall(line_tag, NS):
        qty = _dec(line.findtext(qty_tag, namespaces=NS), "1") * sign
        net = _dec(line.findtext("cbc:LineExtensionAmount", namespaces=NS)) * sign
        price = _dec(line.findtext("cac:Price/cbc:PriceAmount", namespaces=NS))
        base_qty = _dec(line.findtext("cac:Price/cbc:BaseQuantity", namespaces=NS), "1") or Decimal(1)
        percent = _dec(line.findtext("cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", namespaces=NS))
        lines.append({
            "description": (line.findtext("cac:Item/cbc:Name", namespaces=NS) or "")[:255],
            "quantity": qty, "unit_price": unit_price(price / base_qty), "into_money": money(net),
            "tax_rate": percent, "tax_value": money(net * percent / 100),
            "category": line.findtext("cac:Item/cac:ClassifiedTaxCategory/cbc:ID", namespaces=NS),
        })
    totals = root.find("cac:LegalMonetaryTotal", NS)
    if totals is None:
        raise ReceivedInvoiceError("no LegalMonetaryTotal")
    tax_total = next((t for t in root.findall("cac:TaxTotal", NS)
                      if (t.find("cbc:TaxAmount", NS) is not None
                          and t.find("cbc:TaxAmount", NS).get("currencyID") == currency)), None)
    return {
        "kind": kind, "number": root.findtext("cbc:ID", namespaces=NS), "currency": currency,
        "issue_date": _date(root.findtext("cbc:IssueDate", namespaces=NS)),
        "due_date": _date(root.findtext("cbc:DueDate", namespaces=NS)
                          or root.findtext("cac:PaymentMeans/cbc:PaymentDueDate", namespaces=NS)),
        "seller": seller, "lines": lines,
        "subtotal": money(_dec(totals.findtext("cbc:TaxExclusiveAmount", namespaces=NS)) * sign),
        "tax": money(_dec(tax_total.findtext("cbc:TaxAmount", namespaces=NS)) * sign)
        if tax_total is not None else Decimal("0.00"),
        "total": money(_dec(totals.findtext("cbc:PayableAmount", namespaces=NS)) * sign),
        "note": root.findtext("cbc:Note", namespaces=NS),
    }


def _vendor(seller: dict):
    cui = seller["cui"]
    if cui:
        for vendor in db.session.query(Vendor).filter(Vendor.vat.isnot(None)):
            if codes.cui_digits(vendor.vat) == cui:
                return vendor
    elif seller["vat"]:
        found = db.session.query(Vendor).filter_by(vat=seller["vat"]).first()
        if found:
            return found
    vendor = Vendor(company=seller["name"][:191], vat=(seller["vat"] or None) and seller["vat"][:50],
                    address=seller["street"], city=seller["city"], state=seller["state"], zip=seller["zip"],
                    country=seller["country"])
    db.session.add(vendor)
    db.session.flush()
    return vendor


def _tax_id(rate: Decimal, category: str | None):
    query = db.session.query(Tax).filter(Tax.taxrate == rate)
    if category:
        query = query.filter(Tax.vat_category == category)
    tax = query.first()
    return tax.id if tax else None


def record(message_id: str, xml: bytes):
    """Create the vendor invoice of one received message (the caller commits)."""
    data = parse_invoice(xml)
    vendor = _vendor(data["seller"])
    currency = db.session.query(Currency).filter_by(name=data["currency"]).first()
    bill = VendorInvoice(vendor=vendor.userid, vendor_invoice_number=(data["number"] or "")[:100],
                         invoice_date=data["issue_date"], duedate=data["due_date"], subtotal=data["subtotal"],
                         tax=data["tax"], total=data["total"], currency=currency.id if currency else None,
                         efactura_download_id=message_id, payment_status="unpaid",
                         adminnote=f"Received through e-Factura (ANAF message {message_id})",
                         vendor_note=(data["note"] or None))
    for line in data["lines"]:
        bill.items.append(VendorInvoiceDetail(
            description=line["description"], quantity=line["quantity"], unit_price=line["unit_price"],
            into_money=line["into_money"], tax=_tax_id(line["tax_rate"], line["category"]),
            tax_value=line["tax_value"], total=line["into_money"] + line["tax_value"]))
    db.session.add(bill)
    db.session.flush()
    return bill


def _invoice_xml(archive: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        name = next((n for n in zf.namelist() if n.endswith(".xml") and not n.startswith("semnatura_")), None)
        if name is None:
            raise ReceivedInvoiceError("the archive holds no invoice")
        return zf.read(name)


def fetch_received() -> str:
    """The job: record every FACTURA PRIMITA message not recorded yet."""
    if token_refusal():
        return token_refusal()
    cif = company_cif()
    anaf = client()
    try:
        messages = anaf.messages(cif, options.get("efactura_received_days"), filtru="P")
    except AnafError as err:
        token_problem(err)
        db.session.commit()
        return f"message list not read: {err.message}"
    created, failed = 0, []
    for message in messages:
        mid = str(message.get("id") or "")
        if message.get("tip") != "FACTURA PRIMITA" or not mid:
            continue
        if db.session.query(VendorInvoice.id).filter_by(efactura_download_id=mid).first():
            continue
        try:
            archive = anaf.download(mid)
            record(mid, _invoice_xml(archive))
            db.session.commit()
        except IntegrityError:  # another run recorded it first
            db.session.rollback()
            continue
        except (AnafError, ReceivedInvoiceError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
            db.session.rollback()
            failed.append(f"{mid}: {getattr(exc, 'message', exc)}")
            continue
        storage.save("efactura_received", archive, "zip", label=mid)  # ANAF's signed original, kept
        created += 1
    summary = f"{created} received invoice(s) recorded"
    return summary + (f"; not recorded (tried again next run): {'; '.join(failed)}" if failed else "")
