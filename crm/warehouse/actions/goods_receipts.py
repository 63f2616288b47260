"""Goods receipt notes (tblgoods_receipt, prefix 'NK'): made by hand or from a purchase order;
approval puts the goods in stock, one ledger row per line, and counts them received on the PO."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from wtforms import Form
from wtforms.validators import Optional

from crm.core import options
from crm.core.extensions import db
from crm.core.numbering import format_number, take_next
from crm.core.pickers import RecordField
from crm.core.registry import ActionError, ActionInvalid, action
from crm.core.totals import line_net
from crm.purchasing.models import PurchaseOrder, PurchaseOrderDeliveryStatus, PurchaseOrderDetail, PurchaseOrderStatus
from crm.warehouse.actions import stock
from crm.warehouse.actions.reservations import top_up
from crm.warehouse.models import GoodsReceipt, GoodsReceiptDetail, Warehouse, WarehouseApproval

ZERO = Decimal("0")


def receipt_code(receipt: GoodsReceipt) -> str:
    """Give the receipt its NK number if it has none (never inside a flush: it takes a counter row)."""
    if not receipt.goods_receipt_code:
        receipt.goods_receipt_code = format_number(options.get("goods_receipt_prefix") or "",
                                                   take_next("next_goods_receipt_number"))
    return receipt.goods_receipt_code


def name_of(receipt: GoodsReceipt) -> str:
    return f"Goods receipt {receipt.goods_receipt_code or f'#{receipt.id}'}"


# --- from a purchase order ---------------------------------------------------------------------

def _pending_on_drafts(po_line_ids) -> dict[int, Decimal]:
    """Quantities of PO lines already on draft receipts (so a second receipt does not repeat them)."""
    if not po_line_ids:
        return {}
    rows = db.session.execute(
        select(GoodsReceiptDetail.pur_order_detail_id, func.sum(GoodsReceiptDetail.quantities))
        .join(GoodsReceipt, GoodsReceipt.id == GoodsReceiptDetail.goods_receipt_id)
        .where(GoodsReceipt.approval == WarehouseApproval.DRAFT.value,
               GoodsReceiptDetail.pur_order_detail_id.in_(po_line_ids))
        .group_by(GoodsReceiptDetail.pur_order_detail_id)).all()
    return {k: v or ZERO for k, v in rows}


def default_warehouse_id() -> int | None:
    wanted = options.get("default_warehouse_id")
    if wanted and db.session.get(Warehouse, wanted) is not None:
        return wanted
    first = db.session.execute(select(Warehouse.warehouse_id).order_by(Warehouse.warehouse_id).limit(1)).scalar()
    return first


def receipt_from_po(po: PurchaseOrder, warehouse_id: int | None, actor=None) -> GoodsReceipt | None:
    """A draft receipt with what the PO still has to deliver; None when nothing is left."""
    pending = _pending_on_drafts([line.id for line in po.items if line.id])
    receipt = GoodsReceipt(pr_order_id=po.id, supplier_code=po.vendor,
                           supplier_name=po.vendor_rel.company if po.vendor_rel else None,
                           buyer_id=po.buyer, warehouse_id=warehouse_id, date_c=date.today(), date_add=date.today(),
                           description=f"Received from {po}", addedfrom=getattr(actor, "staffid", None),
                           approval=WarehouseApproval.DRAFT.value)
    for line in po.items:
        left = (line.quantity or ZERO) - (line.wh_quantity_received or ZERO) - pending.get(line.id, ZERO)
        if left <= 0 or line.item_code is None:
            continue
        item = line.item
        receipt.items.append(GoodsReceiptDetail(
            commodity_code=line.item_code, commodity_name=(item.commodity_name or item.description) if item else None,
            warehouse_id=warehouse_id, unit_id=line.unit_id, quantities=left, unit_price=line.unit_price or ZERO,
            tax=line.tax, goods_money=line_net(left, line.unit_price),
            pur_order_detail_id=line.id))
    if not receipt.items:
        return None
    receipt.total_goods_money = sum((i.goods_money for i in receipt.items), ZERO)
    receipt.total_money = receipt.value_of_inventory = receipt.total_goods_money
    db.session.add(receipt)
    return receipt


class WarehouseForm(Form):
    warehouse_id = RecordField("Warehouse", model=Warehouse, default=lambda: default_warehouse_id(),
                               validators=[Optional()], description="Empty: the default warehouse.")


def _po_receivable(po) -> str | None:
    if po.status != PurchaseOrderStatus.APPROVED.value:
        return f"Purchase order {po} is not approved; goods are received against approved orders only."
    if po.delivery_status == PurchaseOrderDeliveryStatus.DELIVERED.value:
        return f"Purchase order {po} is already delivered in full."
    return None


def _warehouse(warehouse_id) -> int:
    wh = warehouse_id or default_warehouse_id()
    if wh is None or db.session.get(Warehouse, wh) is None:
        raise ActionError(f"Warehouse {warehouse_id or ''} does not exist; create one under Settings → Warehouses.",
                          field="warehouse_id")
    return wh


@action(PurchaseOrder, "create_goods_receipt", "Create goods receipt", form=WarehouseForm,
        precondition=_po_receivable, icon="fa-truck")
def create_goods_receipt(po, actor, warehouse_id=None):
    receipt = receipt_from_po(po, _warehouse(warehouse_id), actor)
    if receipt is None:
        raise ActionError(f"Every line of purchase order {po} is already received or on a draft goods receipt.")
    receipt_code(receipt)
    return f"{name_of(receipt)} created"


def _auto_receipt(name, obj, actor, data):
    """auto_create_goods_received = 1: an approved PO gets its draft receipt at once."""
    if name != "purchase_order.approved" or not options.get("auto_create_goods_received"):
        return
    # Inside a flush: no counter row is taken here; the receipt is numbered when approved.
    receipt_from_po(obj, default_warehouse_id(), actor)


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
    """Put a receipt's lines in stock and count them on the PO; returns the items received."""
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
    po_lines = [ln for ln in receipt.items if ln.pur_order_detail_id]
    for line in po_lines:
        po_line = db.session.get(PurchaseOrderDetail, line.pur_order_detail_id, with_for_update=True)
        po_line.wh_quantity_received = (po_line.wh_quantity_received or ZERO) + line.quantities
    po = db.session.get(PurchaseOrder, receipt.pr_order_id) if receipt.pr_order_id else None
    if po is not None:
        po.delivery_status = delivery_status_of(po)
    return sorted({ln.commodity_code for ln in tracked})


def delivery_status_of(po) -> int:
    """All lines received → Delivered; some → Partially delivered; none → Not delivered."""
    lines = [ln for ln in po.items if (ln.quantity or ZERO) > 0]
    if lines and all((ln.wh_quantity_received or ZERO) >= ln.quantity for ln in lines):
        return PurchaseOrderDeliveryStatus.DELIVERED.value
    if any((ln.wh_quantity_received or ZERO) > 0 for ln in po.items):
        return PurchaseOrderDeliveryStatus.PARTIALLY_DELIVERED.value
    return PurchaseOrderDeliveryStatus.NOT_DELIVERED.value


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


__all__ = ["approve", "create_goods_receipt", "post_receipt", "receipt_from_po", "validate_lines"]


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("business_event", "goods_receipts.create", _auto_receipt)
