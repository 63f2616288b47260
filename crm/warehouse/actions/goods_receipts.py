"""Goods receipt notes (tblgoods_receipt, prefix 'NK'): made by hand or from a purchase order;
approval puts the goods in stock, one ledger row per line, and counts them received on the PO."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from crm.core import events, options
from crm.core.extensions import db
from crm.core.numbering import format_number, take_next
from crm.core.registry import ActionError, ActionInvalid, action
from crm.warehouse.actions import stock
from crm.warehouse.actions.reservations import top_up
from crm.warehouse.models import GoodsReceipt, Warehouse, WarehouseApproval

events.register(GoodsReceipt, statuses={WarehouseApproval.APPROVED.value: "goods_receipt.approved"}, column="approval",
                described={"goods_receipt.approved": "A goods receipt was approved and its goods put in stock"})

ZERO = Decimal("0")


def receipt_code(receipt: GoodsReceipt) -> str:
    """Give the receipt its NK number if it has none (never inside a flush: it takes a counter row)."""
    if not receipt.goods_receipt_code:
        receipt.goods_receipt_code = format_number(options.get("goods_receipt_prefix") or "",
                                                   take_next("next_goods_receipt_number"))
    return receipt.goods_receipt_code


def name_of(receipt: GoodsReceipt) -> str:
    return f"Goods receipt {receipt.goods_receipt_code or f'#{receipt.id}'}"


# --- receiving -------------------------------------------------------------------------------

def default_warehouse_id() -> int | None:
    wanted = options.get("default_warehouse_id")
    if wanted and db.session.get(Warehouse, wanted) is not None:
        return wanted
    first = db.session.execute(select(Warehouse.warehouse_id).order_by(Warehouse.warehouse_id).limit(1)).scalar()
    return first


def warehouse_or_default(warehouse_id) -> int:
    wh = warehouse_id or default_warehouse_id()
    if wh is None or db.session.get(Warehouse, wh) is None:
        raise ActionError(f"Warehouse {warehouse_id or ''} does not exist; create one under Settings → Warehouses.",
                          field="warehouse_id")
    return wh


# --- approval ----------------------------------------------------------------------------------

def _draft(receipt) -> str | None:
    if receipt.approval != WarehouseApproval.DRAFT.value:
        return f"{name_of(receipt)} is {WarehouseApproval.label_of(receipt.approval)}, not a draft."
    return None


def validate_lines(receipt) -> None:
    """Every line needs an item, a warehouse and a positive quantity; with the option on, a lot
    number and an expiry date too. Errors name the line's field (``items[1].lot_number``)."""
    errors: dict[str, list[str]] = {}
    required = options.get("goods_receipt_require_lot_expiry")
    if not receipt.items:
        raise ActionError(f"{name_of(receipt)} has no lines.", field="items")
    for n, line in enumerate(receipt.items, start=1):
        label = f"line {n} ({line.commodity_name or line.commodity or 'no item'})"
        if line.commodity_code is None:
            errors[f"items[{n}].commodity_code"] = [f"{label}: choose the item received."]
        if not (line.warehouse_id or receipt.warehouse_id):
            errors[f"items[{n}].warehouse_id"] = [f"{label}: choose the warehouse it goes to."]
        if (line.quantities or ZERO) <= 0:
            errors[f"items[{n}].quantities"] = [f"{label}: the quantity must be positive."]
        if required and not (line.lot_number or "").strip():
            errors[f"items[{n}].lot_number"] = [f"{label}: the lot number is required."]
        if required and line.expiry_date is None:
            errors[f"items[{n}].expiry_date"] = [f"{label}: the expiry date is required."]
    if errors:
        raise ActionInvalid(errors)


def post_receipt(receipt) -> list[int]:
    """Put a receipt's lines in stock; returns the items received. (Purchasing counts them on the
    purchase order: a subscriber of goods_receipt.approved, crm/purchasing/actions/receiving.py.)"""
    validate_lines(receipt)
    tracked = [ln for ln in receipt.items if stock.is_tracked(stock.item_of(ln))]
    locked = stock.lock([(ln.warehouse_id or receipt.warehouse_id, ln.commodity_code) for ln in tracked],
                        all_rows=True)
    for line in tracked:
        wh = line.warehouse_id or receipt.warehouse_id
        stock.put(locked[(wh, line.commodity_code)], warehouse_id=wh, commodity_id=line.commodity_code,
                  quantity=line.quantities, status=stock.RECEIPT,
                  ref=stock.Ref("goods_receipt", receipt.id, line.id, price=line.unit_price),
                  lot_number=(line.lot_number or "").strip() or None, expiry_date=line.expiry_date,
                  date_manufacture=line.date_manufacture, purchase_price=line.unit_price)
    stock.write()
    return sorted({ln.commodity_code for ln in tracked})


@action(GoodsReceipt, "approve", "Approve (put in stock)", precondition=_draft, icon="fa-check",
        confirm="Approve this goods receipt and put its goods in stock?", creates=())  # stock lots: not new records to name
def approve(receipt, actor):
    receipt_code(receipt)
    items = post_receipt(receipt)
    receipt.approval = WarehouseApproval.APPROVED.value
    # cycle: actions.deliveries -> actions.goods_receipts
    from crm.warehouse.actions.deliveries import recheck_waiting  # delivery notes waiting for these items

    reserved = top_up({(ln.warehouse_id or receipt.warehouse_id, ln.commodity_code) for ln in receipt.items
                       if ln.commodity_code in items}, name_of(receipt), actor)
    ready = recheck_waiting(items, actor)
    extra = f"; reserved for {', '.join(reserved)}" if reserved else ""
    extra += f"; ready to deliver now: {', '.join(ready)}" if ready else ""
    return f"{name_of(receipt)} approved, {len(receipt.items)} line(s) in stock{extra}"


__all__ = ["approve", "post_receipt", "validate_lines"]

