"""PDFs of the documents purchasing sends to vendors: requests for quotation and purchase orders.

crm.core.documents lists them as kinds (so the staff download link and the PDF button work as for sales
documents) and hands their rendering here: the lines are tblpur_*_detail rows, not tblitemable.
"""
from __future__ import annotations

from flask import render_template

from crm.core.documents import Kind, company, currency_of, fmt, fmt_price, fmt_qty, kind_of, register
from crm.purchasing.actions.purchase_common import line_text


def vendor_block(vendor) -> dict:
    if vendor is None:
        return {"name": "", "lines": []}
    parts = [vendor.address, " ".join(p for p in (vendor.zip, vendor.city) if p), vendor.state, vendor.country]
    return {"name": vendor.company, "vat": vendor.vat, "lines": [p for p in parts if p], "phone": vendor.phonenumber}


def context(doc, vendor=None) -> dict:
    kind = kind_of(doc)
    cur = currency_of(doc)
    lines = [{"description": line_text(ln), "qty": fmt_qty(ln.quantity), "unit": str(ln.unit or ""),
              "rate": fmt_price(ln.unit_price), "tax": str(ln.tax_rel) if ln.tax_rel is not None else "",
              "amount": fmt(ln.total)} for ln in doc.items]
    is_order = kind.name == "pur_order"
    return {"kind": kind, "doc": doc, "number": str(doc), "company": company(), "currency": cur, "fmt": fmt,
            "vendor": vendor_block(vendor if vendor is not None else getattr(doc, "vendor_rel", None)),
            "date": doc.order_date if is_order else doc.request_date,
            "until": doc.delivery_date if is_order else None, "lines": lines,
            "title_line": doc.pur_order_name if is_order else doc.pur_rq_name,
            "notes": doc.vendornote if is_order else doc.rq_description, "terms": getattr(doc, "terms", None),
            "totals": {"subtotal": doc.subtotal, "tax": doc.total_tax, "total": doc.total}}


def render_html(doc, vendor=None) -> str:
    return render_template("pdf/purchase.html", **context(doc, vendor))


def _by_name(doc) -> str:
    return str(doc).lstrip("#") or kind_of(doc).name


register(
    Kind("pur_request", "PurchaseRequest", "Request for quotation", "Date", html=render_html, filename=_by_name),
    Kind("pur_order", "PurchaseOrder", "Purchase order", "Order date", "delivery_date", "Delivery date",
         html=render_html, filename=_by_name),
)
