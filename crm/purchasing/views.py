"""Purchasing screens that are not a table: the side-by-side comparison of an RFQ's quotations, and
what an RFQ's details page shows below its fields (its quotations and the comparison link)."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from crm.admin_views.access import StaffView
from crm.core import pages
from crm.core.extensions import db
from crm.core.permissions import can, sees
from crm.purchasing.actions.vendor_mail import vendor_link
from crm.purchasing.actions.purchase_common import left_to_pay
from crm.purchasing.models import PurchaseQuotation, PurchaseQuotationStatus, PurchaseRequest, VendorInvoice


def _quotations(rq):
    return (db.session.query(PurchaseQuotation)
            .filter(PurchaseQuotation.pur_request == rq.id,
                    PurchaseQuotation.status != PurchaseQuotationStatus.CANCELED.value)
            .order_by(PurchaseQuotation.id).all())


def _match(rq_line, index, q):
    """The quotation line answering an RFQ line: the same item, else the same position."""
    if rq_line.item_code is not None:
        found = [ln for ln in q.items if ln.item_code == rq_line.item_code]
        if found:
            return found[0]
    return q.items[index] if index < len(q.items) else None


def _cheapest(values):
    priced = [v for v in values if v is not None and v > 0]
    return min(priced) if priced else None


def comparison(rq) -> dict:
    """Rows per RFQ line with each quotation's unit price and total; the best (lowest) marked."""
    quotes = _quotations(rq)
    rows = []
    for i, line in enumerate(rq.items):
        cells = [_match(line, i, q) for q in quotes]
        best = _cheapest([c.unit_price if c is not None else None for c in cells])
        rows.append({"line": line, "cells": [{"line": c, "best": c is not None and best is not None
                                              and c.unit_price == best} for c in cells]})
    best_total = _cheapest([q.total for q in quotes])
    dates = [q.delivery_date for q in quotes if q.delivery_date]
    return {"quotes": quotes, "rows": rows, "best_total": best_total, "soonest": min(dates) if dates else None}


def rfq_details(rq) -> dict:
    return {"quotations": _quotations(rq),
            "compare_url": url_for("purchase_compare.compare", rfq_id=rq.id)}


def quotation_details(q) -> dict:
    link = vendor_link(q) if q.hash else None  # the vendor's link, once it was sent one
    return {"compare_url": url_for("purchase_compare.compare", rfq_id=q.pur_request) if q.pur_request else None,
            "vendor_link": link}


class CompareView(StaffView):
    """/admin/purchase/compare/<rfq id>: the quotations of one RFQ side by side."""

    def is_visible(self):
        return False

    table = "PurchaseQuotation"

    @expose("/")
    def index(self):
        return redirect(url_for("pur_request.index_view"))

    @expose("/<int:rfq_id>")
    def compare(self, rfq_id):
        rq = db.session.get(PurchaseRequest, rfq_id)
        if rq is None or not sees(current_user, rq):
            abort(404)
        return self.render("admin/purchase_compare.html", rq=rq, cmp=comparison(rq), Decimal=Decimal,
                           status_of=PurchaseQuotationStatus, can_accept=can(current_user, "action:pur_estimates.accept"),
                           here=request.full_path.rstrip("?"))


def register_pages() -> None:
    """Purchasing's panels and amounts on its documents' pages (crm/core/pages.py)."""
    pages.panel(PurchaseRequest, "admin/purchase_request_extra.html", rfq_details)
    pages.panel(PurchaseQuotation, "admin/purchase_quotation_extra.html", quotation_details)
    pages.amount_left(VendorInvoice, left_to_pay)
