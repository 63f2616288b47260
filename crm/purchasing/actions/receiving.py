"""Goods received against a purchase order: the draft goods receipt made from what the order still
has to deliver (the "Create goods receipt" button, or at once when the order is approved and
``auto_create_goods_received`` is on), and the order's lines counted as received when the warehouse
approves the receipt (a subscriber of goods_receipt.approved: the warehouse knows no purchase order)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from wtforms import Form
from wtforms.validators import Optional

from crm.core import options
from crm.core.extensions import db
from crm.core.pickers import RecordField
from crm.core.registry import ActionError, action
from crm.purchasing.models import PurchaseOrder, PurchaseOrderDeliveryStatus, PurchaseOrderDetail, PurchaseOrderStatus
from crm.warehouse.actions.goods_receipts import default_warehouse_id, warehouse_or_default, name_of, receipt_code
from crm.warehouse.models import GoodsReceipt, GoodsReceiptDetail, Warehouse, WarehouseApproval
from crm.warehouse.totals import goods_receipt as receipt_totals

ZERO = Decimal("0")


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
            tax=line.tax, pur_order_detail_id=line.id))
    if not receipt.items:
        return None
    receipt_totals(receipt)  # goods, their tax and the total, as at every door
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


@action(PurchaseOrder, "create_goods_receipt", "Create goods receipt", form=WarehouseForm,
        precondition=_po_receivable, icon="fa-truck")
def create_goods_receipt(po, actor, warehouse_id=None):
    receipt = receipt_from_po(po, warehouse_or_default(warehouse_id), actor)
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


# --- counted on the order ------------------------------------------------------------------------

def _count_received(name, receipt, actor, data) -> None:
    """An approved receipt's lines are received on their purchase order lines; the order is Partially
    delivered or Delivered (purchase_order.delivered then completes it)."""
    if name != "goods_receipt.approved":
        return
    for line in receipt.items:
        if line.pur_order_detail_id:
            po_line = db.session.get(PurchaseOrderDetail, line.pur_order_detail_id, with_for_update=True)
            po_line.wh_quantity_received = (po_line.wh_quantity_received or ZERO) + line.quantities
    po = db.session.get(PurchaseOrder, receipt.pr_order_id) if receipt.pr_order_id else None
    if po is not None:
        po.delivery_status = delivery_status_of(po)


def delivery_status_of(po) -> int:
    """All lines received → Delivered; some → Partially delivered; none → Not delivered."""
    lines = [ln for ln in po.items if (ln.quantity or ZERO) > 0]
    if lines and all((ln.wh_quantity_received or ZERO) >= ln.quantity for ln in lines):
        return PurchaseOrderDeliveryStatus.DELIVERED.value
    if any((ln.wh_quantity_received or ZERO) > 0 for ln in po.items):
        return PurchaseOrderDeliveryStatus.PARTIALLY_DELIVERED.value
    return PurchaseOrderDeliveryStatus.NOT_DELIVERED.value


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("business_event", "receiving.create", _auto_receipt)
    add("business_event", "receiving.count", _count_received)
