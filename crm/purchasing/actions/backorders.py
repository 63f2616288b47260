"""Backorder: a delivery note short of stock asks purchasing for exactly what is missing (the
"Request the missing stock" button, or at once when the note is created short and the option
``warehouse_backorder_auto`` is on: a subscriber of ``delivery_note.short``).

The RFQ (tblpur_request + lines) links by real foreign keys to the delivery note, its invoice and
the sales order the invoice came from. When a goods receipt brings the goods in, the waiting note
is checked again and its owner notified (deliveries.recheck_waiting).
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from crm.catalog.models import Item
from crm.core import events, options
from crm.core.extensions import db
from crm.core.numbering import format_number, take_next
from crm.core.registry import ActionError, action
from crm.purchasing.actions.purchase_common import base_currency_id, item_request_line, refresh_totals
from crm.purchasing.models import PurchaseRequest, PurchaseRequestStatus
from crm.sales.models.documents import Estimate
from crm.warehouse.actions import reservations, stock
from crm.warehouse.actions.deliveries import name_of, needs
from crm.warehouse.models import GoodsDelivery, WarehouseApproval

ZERO = Decimal("0")
OPEN = (PurchaseRequestStatus.DRAFT.value, PurchaseRequestStatus.APPROVED.value)


def shortfall(note) -> dict[int, tuple[Decimal, Decimal]]:
    """item id -> (missing quantity, available) over the note's warehouses."""
    out: dict[int, tuple[Decimal, Decimal]] = {}
    order = reservations.order_of_note(note)
    for (wh, item), need in sorted(needs(note).items()):
        have = stock.available(wh, item, besides=order)
        if have < need:
            missing, seen = out.get(item, (ZERO, ZERO))
            out[item] = (missing + need - have, seen + have)
    return out


def open_rfq(note) -> PurchaseRequest | None:
    return db.session.execute(select(PurchaseRequest).where(
        PurchaseRequest.goods_delivery_id == note.id, PurchaseRequest.status.in_(OPEN))).scalars().first()


def _short_draft(note) -> str | None:
    # Evaluated for every row of the list: no query here (the open-RFQ check is in the action).
    if note.approval != WarehouseApproval.DRAFT.value:
        return f"{name_of(note)} is not a draft."
    if note.flag_export_warehouse != 0:
        return f"{name_of(note)} has the stock it needs."
    return None


@action(GoodsDelivery, "create_backorder_rfq", "Request the missing stock (RFQ)", precondition=_short_draft,
        icon="fa-shopping-cart")
def create_backorder_rfq(note, actor):
    rfq = open_rfq(note)
    if rfq is not None:
        raise ActionError(f"{name_of(note)} already has an open request for quotation, "
                          f"{rfq.pur_rq_code or f'#{rfq.id}'}.")
    return backorder(note, actor)


def _auto_backorder(name, note, actor, data) -> None:
    """warehouse_backorder_auto = 1: a note created short asks for its shortfall at once, and the
    action that created the note says so."""
    if name != "delivery_note.short" or not options.get("warehouse_backorder_auto") \
            or note.flag_export_warehouse or open_rfq(note):
        return
    events.say(backorder(note, actor))


def backorder(note, actor) -> str:
    missing = shortfall(note)
    if not missing:
        raise ActionError(f"{name_of(note)} is not short of stock; nothing to order.")
    estimate_id = None
    if note.invoice_id:
        estimate_id = db.session.execute(select(Estimate.id).where(Estimate.invoiceid == note.invoice_id)).scalar()
    code = format_number(options.get("pur_request_prefix") or "", take_next("next_pr_number"))
    rfq = PurchaseRequest(pur_rq_code=code, pur_rq_name=f"Backorder for {name_of(note)}",
                          rq_description=f"Stock missing to deliver {name_of(note)}"
                          + (f" (invoice {note.invoice})" if note.invoice else ""),
                          requester=getattr(actor, "staffid", None), status=PurchaseRequestStatus.DRAFT.value,
                          sale_invoice=note.invoice_id, sale_estimate=estimate_id, goods_delivery_id=note.id,
                          currency=base_currency_id())
    for item_id, (qty, have) in missing.items():
        rfq.items.append(item_request_line(db.session.get(Item, item_id), qty, have))
    refresh_totals(rfq)
    db.session.add(rfq)
    parts = ", ".join(f"{db.session.get(Item, i)} x {stock.qty(q)}" for i, (q, _) in missing.items())
    return f"Request for quotation {code} created for the shortfall: {parts}"


def register_stages(add) -> None:
    """Its stage of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("business_event", "backorders.request", _auto_backorder)
