"""Replenishment at minimum stock (option ``purchase_auto_replenishment``, off by default: the seed
documents the minimum as informational only).

A periodic job finds the items whose stock on hand (Σ tblinventory_manage.inventory_number over all
warehouses; less what accepted sales orders hold when the reservation option is on) is below their minimum (tblinventory_commodity_min) and creates draft RFQs for
max − on hand − already on order (open purchase-order lines not yet received), one RFQ per
preferred vendor (tblitems.preferred_vendor). An item that is already on an open RFQ (draft or
approved, not yet turned into a purchase order) is left alone, so the job never asks twice.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func

from crm.catalog.models import Item
from crm.core import options
from crm.core.activity import log_activity
from crm.core.extensions import db
from crm.purchasing.actions.purchase_common import assign_number, base_currency_id, item_request_line, refresh_totals
from crm.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderDetail,
    PurchaseOrderStatus,
    PurchaseRequest,
    PurchaseRequestDetail,
    PurchaseRequestStatus,
    Vendor,
)
from crm.warehouse.actions import reservations
from crm.warehouse.models import InventoryBalance, MinimumStock

ZERO = Decimal(0)


def replenishment_quantity(on_hand, minimum, maximum, on_order) -> Decimal:
    """How much to request: nothing unless on hand is below the minimum; then up to the maximum,
    counting what is already on order; never negative."""
    on_hand, minimum, maximum, on_order = (Decimal(v or 0) for v in (on_hand, minimum, maximum, on_order))
    if on_hand >= minimum:
        return ZERO
    return max(maximum - on_hand - on_order, ZERO)


@dataclass
class Shortage:
    item: object
    on_hand: Decimal
    minimum: Decimal
    maximum: Decimal
    on_order: Decimal
    quantity: Decimal


def on_hand_by_item() -> dict[int, Decimal]:
    """Stock per item, all warehouses; with reservations on, what is not promised to a sales order
    (what is promised will leave: planning on it would order too late)."""
    rows = db.session.query(InventoryBalance.commodity_id, func.sum(InventoryBalance.inventory_number)) \
        .group_by(InventoryBalance.commodity_id)
    stock = {item: Decimal(total or 0) for item, total in rows}
    if reservations.on():
        held = reservations.held_per_item()
        for item, qty in db.session.query(held.c.commodity_id, held.c.qty):
            stock[item] = stock.get(item, ZERO) - Decimal(qty or 0)
    return stock


def on_order_by_item() -> dict[int, Decimal]:
    """Ordered but not yet received, on purchase orders that are neither rejected nor canceled."""
    open_ = [PurchaseOrderStatus.DRAFT.value, PurchaseOrderStatus.APPROVED.value]
    rows = (db.session.query(PurchaseOrderDetail.item_code,
                             func.sum(PurchaseOrderDetail.quantity - PurchaseOrderDetail.wh_quantity_received))
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderDetail.pur_order)
            .filter(PurchaseOrder.status.in_(open_), PurchaseOrderDetail.item_code.isnot(None),
                    PurchaseOrderDetail.quantity > PurchaseOrderDetail.wh_quantity_received)
            .group_by(PurchaseOrderDetail.item_code))
    return {item: Decimal(qty or 0) for item, qty in rows}


def items_on_open_requests() -> set[int]:
    """Items on a draft or approved RFQ that has no live purchase order yet."""
    has_order = (db.session.query(PurchaseOrder.id)
                 .filter(PurchaseOrder.pur_request == PurchaseRequest.id,
                         PurchaseOrder.status.notin_([PurchaseOrderStatus.CANCELED.value,
                                                      PurchaseOrderStatus.REJECTED.value])).exists())
    rows = (db.session.query(PurchaseRequestDetail.item_code)
            .join(PurchaseRequest, PurchaseRequest.id == PurchaseRequestDetail.pur_request)
            .filter(PurchaseRequest.status.in_([PurchaseRequestStatus.DRAFT.value,
                                                PurchaseRequestStatus.APPROVED.value]),
                    PurchaseRequestDetail.item_code.isnot(None), ~has_order).distinct())
    return {item for (item,) in rows}


def shortages() -> list[Shortage]:
    limits = (db.session.query(MinimumStock.commodity_id, func.max(MinimumStock.inventory_number_min),
                               func.max(MinimumStock.inventory_number_max))
              .join(Item, Item.id == MinimumStock.commodity_id)
              .filter(Item.active.is_(True), Item.without_checking_warehouse.isnot(True))
              .group_by(MinimumStock.commodity_id).all())
    if not limits:
        return []
    on_hand, on_order, asked = on_hand_by_item(), on_order_by_item(), items_on_open_requests()
    out = []
    for item_id, minimum, maximum in limits:
        if item_id in asked:
            continue
        qty = replenishment_quantity(on_hand.get(item_id), minimum, maximum, on_order.get(item_id))
        if qty > 0:
            out.append(Shortage(db.session.get(Item, item_id), on_hand.get(item_id, ZERO), Decimal(minimum or 0),
                                Decimal(maximum or 0), on_order.get(item_id, ZERO), qty))
    return out


def create_replenishment_requests(today: date | None = None) -> list:
    """Draft RFQs for today's shortages, one per preferred vendor. The caller commits."""
    today = today or date.today()
    by_vendor: dict[int | None, list[Shortage]] = defaultdict(list)
    for s in shortages():
        by_vendor[s.item.preferred_vendor].append(s)
    made = []
    for vendor_id, group in sorted(by_vendor.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        vendor = db.session.get(Vendor, vendor_id) if vendor_id else None
        lines = [item_request_line(s.item, s.quantity, s.on_hand) for s in group]
        why = "\n".join(f"{s.item}: on hand {s.on_hand.normalize():f}, minimum {s.minimum.normalize():f}, "
                        f"maximum {s.maximum.normalize():f}, on order {s.on_order.normalize():f} → request "
                        f"{s.quantity.normalize():f}" for s in group)
        rq = PurchaseRequest(pur_rq_name=f"Replenishment {today:%Y-%m-%d}" + (f" – {vendor.company}" if vendor else ""),
                             rq_description=f"Created by the replenishment job: below minimum stock.\n{why}",
                             send_to_vendors=str(vendor_id) if vendor_id else None, items=lines,
                             currency=base_currency_id())
        refresh_totals(rq)
        db.session.add(rq)
        db.session.flush()
        assign_number(rq)
        log_activity(None, f"Replenishment: {rq} created for {len(group)} item(s) below minimum stock",
                     rel_type="pur_request", rel_id=rq.id)
        made.append(rq)
    return made


def run_replenishment() -> str:
    if not options.get("purchase_auto_replenishment"):
        return "Replenishment is off (option purchase_auto_replenishment)"
    made = create_replenishment_requests()
    db.session.commit()
    return f"{len(made)} replenishment RFQ(s) created" + (f": {', '.join(str(r) for r in made)}" if made else "")
