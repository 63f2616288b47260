"""Vendor quotations (tblpur_estimates): accept one (the others of its RFQ are rejected in the same
transaction), reject, turn the accepted one into a purchase order; the vendor's own answer from the
portal (prices per line and a delivery date).

Statuses: 1 Pending (received, not yet evaluated), 2 Accepted (the winning quote), 3 Rejected,
4 Canceled.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.exc import DBAPIError

from crm.core import events
from crm.core.activity import log_activity
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.registry import ActionError, action
from crm.purchasing.actions.purchase_common import assign_number, copy_lines, refresh_totals, refuse
from crm.purchasing.actions.vendor_mail import notify_buyer
from crm.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderDetail,
    PurchaseOrderStatus,
    PurchaseQuotation,
    PurchaseQuotationStatus,
    PurchaseRequestStatus,
)

Q = PurchaseQuotationStatus

events.register(PurchaseQuotation, statuses={Q.ACCEPTED.value: "pur_quotation.accepted"},
                described={"pur_quotation.accepted": "A vendor quotation was accepted",
                           "pur_quotation.answered": "A vendor entered its prices through the vendor portal"})


def name(q: PurchaseQuotation) -> str:
    return f"Quotation {q}" + (f" from {q.vendor_rel.company}" if q.vendor_rel is not None else "")


def orders_of(q) -> list[PurchaseOrder]:
    return (db.session.query(PurchaseOrder)
            .filter(PurchaseOrder.estimate == q.id,
                    PurchaseOrder.status.notin_([PurchaseOrderStatus.CANCELED.value,
                                                 PurchaseOrderStatus.REJECTED.value])).all())


def siblings(q) -> list[PurchaseQuotation]:
    if q.pur_request is None:
        return []
    return (db.session.query(PurchaseQuotation)
            .filter(PurchaseQuotation.pur_request == q.pur_request, PurchaseQuotation.id != q.id)
            .with_for_update().order_by(PurchaseQuotation.id).all())


def _pending(q) -> str | None:
    if q.status != Q.PENDING.value:
        return f"Quotation {q} is {Q.label_of(q.status)}; only a pending quotation can be accepted."
    return None


def _acceptable(q) -> str | None:
    if q.pur_request_rel is not None and q.pur_request_rel.status != PurchaseRequestStatus.APPROVED.value:
        return (f"Its {q.pur_request_rel} is {PurchaseRequestStatus.label_of(q.pur_request_rel.status)}; "
                "quotations of an approved RFQ only can be accepted.")
    if not q.items or not q.total:
        return f"{name(q)} has no prices yet; enter the vendor's prices first."
    return None


@action(PurchaseQuotation, "accept", "Accept", precondition=_pending, icon="fa-trophy",
        confirm="Accept this quotation? The other quotations of its RFQ are rejected.")
def accept(q: PurchaseQuotation, actor):
    refuse(_acceptable(q))
    rejected, rfq = [], str(q.pur_request_rel)  # named now: after a deadlock the session cannot load it
    try:
        others = siblings(q)
    except DBAPIError:
        # Two quotations of one RFQ accepted at the same moment: each holds its own row and waits for
        # the other's; the database picks this one to give way (a deadlock), the other goes through.
        raise ActionError(f"Another quotation of {rfq} was being accepted at the same moment; "
                          "reload the page to see which one won.") from None
    for other in others:
        if other.status == Q.ACCEPTED.value and orders_of(other):
            raise ActionError(f"{name(other)} was already accepted and has purchase order "
                              f"{', '.join(str(o) for o in orders_of(other))}; cancel that order first.")
        if other.status in (Q.PENDING.value, Q.ACCEPTED.value):
            other.status = Q.REJECTED.value
            rejected.append(str(other))
    q.status = Q.ACCEPTED.value
    return f"{name(q)} accepted" + (f"; rejected {', '.join(rejected)}" if rejected else "")


@action(PurchaseQuotation, "reject", "Reject", destructive=True, confirm="Reject this quotation?", icon="fa-times",
        precondition=lambda q: None if q.status == Q.PENDING.value else
        f"Quotation {q} is {Q.label_of(q.status)}; only a pending quotation can be rejected.")
def reject(q: PurchaseQuotation, actor):
    q.status = Q.REJECTED.value
    return f"{name(q)} rejected"


def _accepted(q) -> str | None:
    if q.status != Q.ACCEPTED.value:
        return f"Quotation {q} is {Q.label_of(q.status)}; accept it before creating its purchase order."
    return None


def _convertible(q) -> str | None:
    orders = orders_of(q)
    if orders:
        return f"{name(q)} already has purchase order {', '.join(str(o) for o in orders)}."
    return None


@action(PurchaseQuotation, "create_purchase_order", "Create purchase order", precondition=_accepted,
        icon="fa-shopping-cart")
def create_purchase_order(q: PurchaseQuotation, actor):
    """A Draft purchase order to the quotation's vendor, its lines and prices copied, linked back."""
    refuse(_convertible(q))
    rq = q.pur_request_rel
    po = PurchaseOrder(pur_order_name=(rq.pur_rq_name if rq is not None else None) or f"From {q}",
                       vendor=q.vendor, estimate=q.id, pur_request=q.pur_request, currency=q.currency,
                       delivery_date=q.delivery_date, terms=q.terms, buyer=q.buyer or getattr(actor, "staffid", None),
                       addedfrom=getattr(actor, "staffid", None), discount_percent=q.discount_percent,
                       sale_invoice=rq.sale_invoice if rq is not None else None,
                       sale_estimate=rq.sale_estimate if rq is not None else None,
                       status=PurchaseOrderStatus.DRAFT.value, items=copy_lines(q.items, PurchaseOrderDetail))
    refresh_totals(po)
    db.session.add(po)
    db.session.flush()
    assign_number(po)
    return po


# --- the vendor, from the portal ----------------------------------------------------------------

def open_to_vendor(q: PurchaseQuotation) -> str | None:
    """Why the vendor can no longer change its prices, or None."""
    if q.status != Q.PENDING.value:
        return f"This quotation is {Q.label_of(q.status).lower()}; it can no longer be changed."
    if q.pur_request_rel is not None and q.pur_request_rel.status != PurchaseRequestStatus.APPROVED.value:
        return "This request for quotation is closed."
    return None


def vendor_answer(q: PurchaseQuotation, prices: dict[int, Decimal], delivery_date: date | None,
                  note: str | None, ip: str | None) -> None:
    """Store the vendor's unit price per line and its delivery date, recompute totals, commit.

    ``prices`` maps each line id of the quotation to a price ≥ 0 (the caller validated the input)."""
    refusal = open_to_vendor(q)
    if refusal:
        raise ActionError(refusal)
    for line in q.items:
        if line.id not in prices:
            raise ActionError(f"Enter a unit price for “{line}”.", field=f"price_{line.id}")
        line.unit_price = money(prices[line.id])
    q.delivery_date, q.vendornote = delivery_date, note or q.vendornote
    q.date = date.today()
    refresh_totals(q)
    log_activity(None, f"{q.vendor_rel.company if q.vendor_rel else 'The vendor'} entered prices for quotation {q} "
                       f"from the vendor portal (total {q.total})" + (f", IP {ip}" if ip else ""),
                 rel_type="pur_estimates", rel_id=q.id)
    events.emit("pur_quotation.answered", q)
    notify_buyer(q)
    db.session.commit()
