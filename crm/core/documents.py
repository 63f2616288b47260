"""PDF documents: proposals, sales orders (estimates), invoices, payment receipts, contracts,
purchasing documents, delivery notes and inventory count sheets.

One template (templates/pdf/document.html) serves the three sales documents; the other kinds name
their own renderer and file name in :data:`KINDS`. Staff download them at
``GET /admin/documents/<kind>/<id>.pdf`` with the view permission of the document's area. :func:`public_url` is the client-portal address sent in emails.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Callable

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func

from crm.catalog.models import PaymentMode
from crm.core import options
from crm.core.company import profile
from crm.core.config import ROOT
from crm.core.extensions import db
from crm.core.resources import all_models
from crm.core.permissions import can_table, sees
from crm.core.totals import compute, line_amount
from crm.sales.invoice_status import amount_paid
from crm.sales.models.clients import Client
from crm.sales.models.documents import InvoicePayment
from crm.warehouse.models import Shipment


@dataclass(frozen=True)
class Kind:
    name: str  # URL segment and rel_type
    model: str  # class name in crm.models
    title: str  # printed on the document
    date_label: str = ""
    until_field: str = ""
    until_label: str = ""
    html: Callable[[Any], str] | None = None  # the PDF's HTML; None: the sales document template
    filename: Callable[[Any], str] | None = None  # None: the document's number


def model_of(kind: str):
    return next(m for m in all_models() if m.__name__ == KINDS[kind].model)


def kind_of(doc) -> Kind:
    return next(k for k in KINDS.values() if k.model == type(doc).__name__)


def pdf_url(doc) -> str | None:
    """The staff download link of a record that has a PDF, else None (used by the details page)."""
    kind = next((k for k in KINDS.values() if k.model == type(doc).__name__), None)
    return url_for("documents.download", kind=kind.name, doc_id=doc.id) if kind else None


# --- portal links ----------------------------------------------------------------------------

def ensure_hash(doc) -> str:
    if not doc.hash:
        doc.hash = secrets.token_hex(16)
    return doc.hash


def base_url() -> str:
    """PUBLIC_URL (config or environment), else the address of the current request, else localhost."""
    url = current_app.config.get("PUBLIC_URL") or os.environ.get("PUBLIC_URL")
    if not url and has_request_context():
        url = request.url_root
    return (url or "http://127.0.0.1:5000").rstrip("/")


def public_url(doc) -> str:
    """The client-portal address of a proposal, estimate, invoice or contract (sets its hash if empty)."""
    return f"{base_url()}/portal/{kind_of(doc).name}/{doc.id}/{ensure_hash(doc)}"


# --- what a document shows ---------------------------------------------------------------------

def fmt(value, currency: str = "") -> str:
    text = f"{Decimal(value or 0):,.2f}"
    return f"{text} {currency}".strip()


def price_text(value, grouping: str = "") -> str:
    """A unit price as written: 2 decimals at least, up to the 4 it may carry (4.12, 0.005, 1.2345)."""
    d = Decimal(value or 0)
    return f"{d:{grouping}.2f}" if d == d.quantize(Decimal("0.01")) else f"{d.normalize():{grouping}f}"


def fmt_price(value, currency: str = "") -> str:
    return f"{price_text(value, ',')} {currency}".strip()


def fmt_qty(value) -> str:
    """1.000 → 1, 2.500 → 2.5, 19.00 → 19."""
    return f"{Decimal(value or 0).normalize():f}"


def number_of(doc) -> str:
    """The number a person sees (INV-000042, INV-DRAFT), as crm.core.numbering shows it."""
    if not hasattr(doc, "formatted_number"):  # contracts are not numbered: #id
        return f"#{doc.id}"
    try:
        from crm.core.numbering import shown  # cycle: actions -> actions.campaigns -> documents
    except ImportError:
        return doc.formatted_number or f"#{doc.id}"
    return shown(doc)


def currency_of(doc) -> str:
    cur = getattr(doc, "currency_rel", None)
    return cur.name if cur is not None else (options.get("base_currency") or "")


def company():
    """The seller on every document: the company profile (crm/core/company.py)."""
    return profile()


def _address(*parts) -> list[str]:
    return [p for p in parts if p]


def client_block(doc) -> dict:
    if type(doc).__name__ == "Proposal":
        client = None
        if doc.rel_type == "customer" and doc.rel_id:
            client = db.session.get(Client, doc.rel_id)
        return {"name": doc.proposal_to or (client.company if client else ""),
                "vat": client.vat if client else None,
                "lines": _address(doc.address, " ".join(_address(doc.zip, doc.city)), doc.state, doc.country),
                "email": doc.email, "phone": doc.phone}
    c = doc.client
    return {"name": c.company, "vat": c.vat, "registration": c.registration_number,
            "lines": _address(doc.billing_street or c.billing_street or c.address,
                              " ".join(_address(doc.billing_zip or c.billing_zip, doc.billing_city or c.billing_city)),
                              doc.billing_state or c.billing_state, doc.billing_country or c.billing_country),
            "email": None, "phone": c.phonenumber}


def tax_label(name: str, rate) -> str:
    """A tax as printed: "TVA 21%" — its rate once, even when the tax's name already says it."""
    pct = f"{fmt_qty(rate)}%"
    return name if (name or "").replace(" ", "").endswith(pct) else f"{name} {pct}".strip()


def lines_and_totals(doc):
    """The printed lines and totals, computed by the one totals function (crm/core/totals.py)."""
    lines = [{"description": ln.description, "long_description": ln.long_description, "qty": fmt_qty(ln.qty),
              "unit": ln.unit or "", "rate": fmt_price(ln.rate), "amount": fmt(line_amount(ln)),
              "taxes": ", ".join(tax_label(t.taxname, t.taxrate) for t in ln.taxes),
              "optional": ln.is_optional and not ln.is_selected} for ln in doc.items]
    if doc.items:
        t = compute(doc.items, doc.discount_percent, doc.discount_type, doc.discount_total, doc.adjustment)
        subtotal, discount, adjustment, total = t.subtotal, t.discount, t.adjustment, t.total
        taxes = [(tax_label(name, rate), amount) for (name, rate), amount in sorted(t.taxes.items())]
    else:  # a document without lines: print what is stored
        subtotal, discount, adjustment, total = doc.subtotal, doc.discount_total, doc.adjustment, doc.total
        taxes = [("Tax", doc.total_tax)] if doc.total_tax else []
    return lines, {"subtotal": subtotal, "taxes": taxes, "discount": discount or Decimal(0),
                   "adjustment": adjustment or Decimal(0), "total": total}


def document_context(doc) -> dict:
    kind = kind_of(doc)
    lines, totals = lines_and_totals(doc)
    cur = currency_of(doc)
    ctx = {"kind": kind, "doc": doc, "number": number_of(doc), "company": company(), "client": client_block(doc),
           "lines": lines, "totals": totals, "currency": cur, "fmt": fmt,
           "date": doc.date, "until": getattr(doc, kind.until_field, None) if kind.until_field else None,
           "subject": getattr(doc, "subject", None), "notes": getattr(doc, "clientnote", None),
           "terms": getattr(doc, "terms", None), "paid": None}
    if kind.name == "invoice" and doc.id:
        paid = Decimal(amount_paid(doc.id))
        ctx["paid"], ctx["due"] = paid, totals["total"] - paid
    return ctx


def contract_context(contract) -> dict:
    """What a contract's PDF and portal page show: parties, dates, value, content and the signature."""
    from crm.sales.portal.signatures import path_of  # cycle: portal -> portal.contracts -> documents

    client = contract.client_rel
    signature = path_of(contract.signature)
    return {"kind": kind_of(contract), "doc": contract, "number": number_of(contract), "company": company(),
            "client": {"name": client.company, "vat": client.vat,
                       "lines": _address(client.billing_street or client.address,
                                         " ".join(_address(client.billing_zip or client.zip,
                                                           client.billing_city or client.city)),
                                         client.billing_country or client.country)},
            "currency": options.get("base_currency") or "", "fmt": fmt,
            "signature_uri": signature.as_uri() if signature is not None else None}


def _contract_html(contract) -> str:
    return render_template("pdf/contract.html", **contract_context(contract))


def mode_name(payment) -> str:
    """A payment's mode as a person reads it: the tblpayment_modes name, or the gateway name."""
    mode = payment.paymentmode or ""
    if mode.isdigit():
        row = db.session.get(PaymentMode, int(mode))
        mode = row.name if row else mode
    return " – ".join(p for p in (mode, payment.paymentmethod) if p)


def _receipt_html(payment) -> str:
    inv = payment.invoice
    # What was left once this payment was in (later payments do not change an old receipt).
    paid = db.session.query(func.coalesce(func.sum(InvoicePayment.amount), 0)).filter(
        InvoicePayment.invoiceid == inv.id, InvoicePayment.id <= payment.id).scalar()
    return render_template("pdf/receipt.html", payment=payment, invoice=inv, company=company(),
                           client=client_block(inv), currency=currency_of(inv), fmt=fmt,
                           invoice_number=number_of(inv), mode=mode_name(payment),
                           left=max(inv.total - Decimal(paid or 0), Decimal(0)))


def _delivery_note_html(note) -> str:
    return render_template("pdf/delivery_note.html", **delivery_note_context(note))


def _printed_elsewhere(doc) -> str:
    raise LookupError(f"nothing prints a {kind_of(doc).name}: its module registers it with documents.prints")


def prints(*kinds: str):
    """Register the HTML of a kind printed by the module that knows it (purchasing documents, count
    sheets), so that this module needs nothing above it; create_app imports those modules."""
    def register(html: Callable[[Any], str]):
        for name in kinds:
            KINDS[name] = replace(KINDS[name], html=html)
        return html
    return register


def render_html(doc) -> str:
    kind = kind_of(doc)
    return kind.html(doc) if kind.html else render_template("pdf/document.html", **document_context(doc))


def delivery_note_context(note) -> dict:
    """Products, quantities, the lots each line was taken from (after approval) and the AWB numbers."""
    lines = [{"name": ln.commodity_name or str(ln.commodity or ""), "qty": fmt_qty(ln.quantities),
              "lots": " · ".join(", ".join(pair) for pair in _pairs((ln.lot_number or "").split(",")))
              if ln.lot_number else "", "expiry": ln.expiry_date.isoformat() if ln.expiry_date else ""}
             for ln in note.items]
    awbs = [s.awb_number for s in db.session.query(Shipment).filter_by(delivery_note_id=note.id) if s.awb_number]
    return {"note": note, "number": note.goods_delivery_code or f"#{note.id}", "company": company(),
            "lines": lines, "awbs": awbs, "invoice_number": number_of(note.invoice) if note.invoice else None}


def _pairs(parts):
    """"LOT1,4,LOT2,6" as [("LOT1", "4"), ("LOT2", "6")]."""
    return list(zip(parts[::2], parts[1::2]))


def pdf_of(html: str) -> bytes:
    """A PDF printed from our HTML (its images and styles found under templates/)."""
    from weasyprint import HTML  # lazy: heavy, and it needs Pango, which only printing should require

    return HTML(string=html, base_url=str(ROOT / "templates")).write_pdf()


def render_pdf(doc) -> bytes:
    return pdf_of(render_html(doc))


def _by_id(doc) -> str:
    return f"{kind_of(doc).name}-{doc.id}"


def _by_name(doc) -> str:
    return str(doc).lstrip("#") or kind_of(doc).name


def _delivery_note_name(note) -> str:
    return note.goods_delivery_code or f"delivery-note-{note.id}"


def _count_sheet_name(count) -> str:
    return f"count-sheet-{count.code or count.id}"


def pdf_filename(doc) -> str:
    kind = kind_of(doc)
    if kind.filename:
        stem = kind.filename(doc)
    else:
        stem = number_of(doc) if doc.formatted_number else f"{kind.name}-{doc.id}"
    return f"{stem}.pdf".replace("/", "-")


KINDS = {k.name: k for k in (
    Kind("proposal", "Proposal", "Proposal", "Date", "open_till", "Open till"),
    Kind("estimate", "Estimate", "Sales order", "Date", "expirydate", "Valid until"),
    Kind("invoice", "Invoice", "Invoice", "Invoice date", "duedate", "Due date"),
    Kind("receipt", "InvoicePayment", "Payment receipt", html=_receipt_html, filename=_by_id),
    Kind("contract", "Contract", "Contract", "Start date", "dateend", "End date", html=_contract_html,
         filename=_by_id),
    # Purchasing documents sent to vendors (crm/purchasing/documents.py prints them).
    Kind("pur_request", "PurchaseRequest", "Request for quotation", "Date", html=_printed_elsewhere,
         filename=_by_name),
    Kind("pur_order", "PurchaseOrder", "Purchase order", "Order date", "delivery_date", "Delivery date",
         html=_printed_elsewhere, filename=_by_name),
    Kind("delivery_note", "GoodsDelivery", "Delivery note", html=_delivery_note_html, filename=_delivery_note_name),
    Kind("count_sheet", "PhysicalInventory", "Inventory count sheet", html=_printed_elsewhere,  # crm/warehouse/count_sheets.py
         filename=_count_sheet_name),
)}


# --- staff download ----------------------------------------------------------------------------

bp = Blueprint("documents", __name__)


@bp.route("/admin/documents/<kind>/<int:doc_id>.pdf")
def download(kind, doc_id):
    if kind not in KINDS:
        abort(404)
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    model = model_of(kind)
    if not can_table(current_user, model, "view"):
        abort(403)
    doc = db.session.get(model, doc_id)
    if doc is None or not sees(current_user, doc):  # view own: a colleague's document is not there
        abort(404)
    disposition = "inline" if request.args.get("inline") else "attachment"
    return Response(render_pdf(doc), mimetype="application/pdf",
                    headers={"Content-Disposition": f'{disposition}; filename="{pdf_filename(doc)}"'})
