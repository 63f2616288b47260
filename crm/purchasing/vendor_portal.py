"""The vendor portal: what a vendor sees from the link in a purchasing email (no login; the link's
unguessable hash is the key, compared in constant time, as in the client portal crm/portal).

``/vendor/quotation/<id>/<hash>``: the request for quotation the vendor was asked to price; while
the quotation is pending the vendor enters a unit price per line, the delivery date and a note.
``/vendor/order/<id>/<hash>``: an approved purchase order. Both offer the PDF.
The rules live in crm.purchasing.actions.quotations (vendor_answer); this module only reads the form.
"""
from __future__ import annotations

import hmac
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from crm.core.documents import fmt, fmt_qty, pdf_filename, pdf_of
from crm.core.extensions import db
from crm.core.registry import ActionError
from crm.purchasing.actions import quotations as quotation_actions
from crm.purchasing.documents import render_html
from crm.purchasing.models import PurchaseOrder, PurchaseOrderStatus, PurchaseQuotation, PurchaseQuotationStatus

bp = Blueprint("vendor_portal", __name__, url_prefix="/vendor")

MODELS = {"quotation": PurchaseQuotation, "order": PurchaseOrder}
KIND = "<any(quotation, order):kind>/<int:doc_id>/<doc_hash>"
LARGEST_PRICE = Decimal("9999999999999.99")  # Numeric(15, 2)


@bp.errorhandler(404)
def _not_found(exc):
    return render_template("portal/not_found.html"), 404


def _document(kind: str, doc_id: int, doc_hash: str):
    doc = db.session.get(MODELS[kind], doc_id)
    if doc is None or not doc.hash or not hmac.compare_digest(doc.hash.encode(), doc_hash.encode()):
        abort(404)
    if kind == "order" and doc.status != PurchaseOrderStatus.APPROVED.value:
        abort(404)  # a draft, rejected or canceled order is not the vendor's business
    if kind == "quotation" and doc.status == PurchaseQuotationStatus.CANCELED.value:
        abort(404)
    return doc


def _printed(kind, doc):
    """The document whose PDF the vendor downloads: the RFQ behind a quotation, or the order."""
    return doc.pur_request_rel if kind == "quotation" else doc


def _page(kind, doc, values=None, errors=None, notice=None, status=200):
    here = url_for("vendor_portal.view", kind=kind, doc_id=doc.id, doc_hash=doc.hash)
    refusal = quotation_actions.open_to_vendor(doc) if kind == "quotation" else None
    status_enum = PurchaseQuotationStatus if kind == "quotation" else PurchaseOrderStatus
    member = status_enum(doc.status)
    return render_template("vendor_portal/page.html", kind=kind, doc=doc, here=here, fmt=fmt, fmt_qty=fmt_qty,
                           printed=_printed(kind, doc), can_answer=kind == "quotation" and refusal is None,
                           refusal=refusal, status_label=member.label, status_color=member.color,
                           values=values or {}, errors=errors or {}, notice=notice), status


@bp.get(f"/{KIND}")
def view(kind, doc_id, doc_hash):
    return _page(kind, _document(kind, doc_id, doc_hash))


@bp.get(f"/{KIND}/pdf")
def pdf(kind, doc_id, doc_hash):
    doc = _document(kind, doc_id, doc_hash)
    printed = _printed(kind, doc)
    if printed is None:
        abort(404)
    body = pdf_of(render_html(printed, doc.vendor_rel))
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{pdf_filename(printed)}"'})


def _read_answer(q):
    """(prices by line id, delivery date, note, values to show again, errors by field)."""
    values = {k: (v or "").strip() for k, v in request.form.items() if k != "csrf_token"}
    errors, prices = {}, {}
    for line in q.items:
        key = f"price_{line.id}"
        raw = values.get(key, "").replace(" ", "").replace(",", ".")
        try:
            price = Decimal(raw)
        except InvalidOperation:
            errors[key] = f"Unit price of “{line}”: enter a number, such as 12.50."
            continue
        if not price.is_finite() or price < 0 or price > LARGEST_PRICE:
            errors[key] = f"Unit price of “{line}”: enter an amount of 0 or more."
            continue
        prices[line.id] = price
    delivery = None
    try:
        delivery = date.fromisoformat(values.get("delivery_date", ""))
        if delivery < date.today():
            errors["delivery_date"] = "Delivery date: it cannot be in the past."
    except ValueError:
        errors["delivery_date"] = "Delivery date: enter the date you can deliver by (YYYY-MM-DD)."
    note = values.get("note") or None
    if note and len(note) > 5000:
        errors["note"] = "Note is too long (at most 5000 characters)."
    return prices, delivery, note, values, errors


@bp.post("/<any(quotation):kind>/<int:doc_id>/<doc_hash>")
def answer(kind, doc_id, doc_hash):
    q = _document(kind, doc_id, doc_hash)
    prices, delivery, note, values, errors = _read_answer(q)
    if errors:
        return _page(kind, q, values, errors, status=422)
    try:
        quotation_actions.vendor_answer(q, prices, delivery, note, request.remote_addr)
    except ActionError as exc:
        db.session.rollback()
        return _page(kind, q, values, notice=exc.message, status=exc.status)
    flash(f"Thank you: your quotation {q} for {fmt(q.total)} was sent to us.", "success")
    return redirect(url_for("vendor_portal.view", kind=kind, doc_id=q.id, doc_hash=q.hash))
