"""Purchase orders (tblpur_orders): approve (fires "purchase_order.approved", which the warehouse
uses to create the goods receipt), reject, cancel (refused once goods were received), send to the
vendor with the PDF and a portal link, bill it with a vendor invoice.

status: 1 Draft, 2 Approved (confirmed to the vendor), 3 Rejected, 4 Canceled.
order_status: 1 Not started → 2 In progress (approved) → 3 Completed (all delivered).
delivery_status: 0 Not delivered … 1 Delivered, kept by goods receipts.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm.attributes import set_committed_value

from crm.core import events
from crm.core.extensions import db
from crm.core.registry import ActionError, action
from crm.purchasing.actions.purchase_common import assign_number, copy_lines, refresh_totals, refuse, vendor_email
from crm.purchasing.actions.vendor_mail import email_vendor, queued_note, vendor_link
from crm.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderDeliveryStatus,
    PurchaseOrderProgress,
    PurchaseOrderStatus,
    VendorInvoice,
    VendorInvoiceDetail,
)
from crm.warehouse.models import GoodsReceipt, WarehouseApproval

S = PurchaseOrderStatus

events.register(PurchaseOrder, statuses={S.APPROVED.value: "purchase_order.approved"},
                described={"purchase_order.approved": "A purchase order was approved"})
events.register(PurchaseOrder, statuses={PurchaseOrderDeliveryStatus.DELIVERED.value: "purchase_order.delivered"},
                column="delivery_status",
                described={"purchase_order.delivered": "All goods of a purchase order were received",
                           "purchase_order.sent": "A purchase order was emailed to its vendor"})


def name(po: PurchaseOrder) -> str:
    return f"Purchase order {po}"


def _label(po) -> str:
    return S.label_of(po.status)


def _approvable(po) -> str | None:
    if po.status != S.DRAFT.value:
        return f"{name(po)} is {_label(po)}; only a draft purchase order can be approved."
    if po.vendor is None:
        return f"{name(po)} has no vendor; choose the vendor first."
    return None


@action(PurchaseOrder, "approve", "Approve", precondition=_approvable, icon="fa-check")
def approve(po: PurchaseOrder, actor):
    if not po.items:
        raise ActionError(f"{name(po)} has no lines; add what to order first.")
    for line in po.items:
        if not line.quantity or line.quantity <= 0:
            raise ActionError(f"{name(po)}: the line “{line}” has no quantity.", field="quantity")
    assign_number(po)
    refresh_totals(po)
    po.status = S.APPROVED.value  # the session listener announces "purchase_order.approved"
    if po.order_status == PurchaseOrderProgress.NOT_STARTED.value:
        po.order_status = PurchaseOrderProgress.IN_PROGRESS.value
    return f"{name(po)} approved"


@action(PurchaseOrder, "reject", "Reject", destructive=True, confirm="Reject this purchase order?", icon="fa-times",
        precondition=lambda po: None if po.status == S.DRAFT.value else
        f"{name(po)} is {_label(po)}; only a draft purchase order can be rejected.")
def reject(po: PurchaseOrder, actor):
    po.status = S.REJECTED.value
    return f"{name(po)} rejected"


def received(po) -> Decimal:
    return sum((Decimal(ln.wh_quantity_received or 0) for ln in po.items), Decimal(0))


def approved_receipts(po) -> list[GoodsReceipt]:
    return (db.session.query(GoodsReceipt)
            .filter(GoodsReceipt.pr_order_id == po.id, GoodsReceipt.approval == WarehouseApproval.APPROVED.value)
            .all())


def _cancellable(po) -> str | None:
    if po.status in (S.CANCELED.value, S.REJECTED.value):
        return f"{name(po)} is already {_label(po)}."
    return None


def _nothing_received(po) -> str | None:
    receipts = approved_receipts(po)
    if received(po) > 0 or receipts:
        which = f" (goods receipt {', '.join(r.goods_receipt_code or f'#{r.id}' for r in receipts)})" if receipts else ""
        return (f"{name(po)} cannot be canceled: goods were already received{which}. Return the goods to the "
                "vendor or adjust the stock instead.")
    return None


@action(PurchaseOrder, "cancel", "Cancel", precondition=_cancellable, destructive=True,
        confirm="Cancel this purchase order?", icon="fa-ban")
def cancel(po: PurchaseOrder, actor):
    refuse(_nothing_received(po))
    po.status = S.CANCELED.value
    drafts = (db.session.query(GoodsReceipt)
              .filter(GoodsReceipt.pr_order_id == po.id, GoodsReceipt.approval == WarehouseApproval.DRAFT.value).all())
    for receipt in drafts:  # receipts waiting for goods that will not come
        receipt.approval = WarehouseApproval.REJECTED.value
    return f"{name(po)} canceled" + (f"; {len(drafts)} draft goods receipt(s) rejected" if drafts else "")


@action(PurchaseOrder, "send", "Send to vendor", icon="fa-envelope",
        precondition=lambda po: None if po.status == S.APPROVED.value else
        f"{name(po)} is {_label(po)}; approve it before sending it to the vendor.")
def send(po: PurchaseOrder, actor):
    vendor_email(po.vendor_rel)
    email = email_vendor(po.vendor_rel, po, actor, "purchase-order-to-vendor", vendor_link(po),
                         "View the purchase order", "pur_order")
    events.emit("purchase_order.sent", po, actor)
    return f"{name(po)} sent to {po.vendor_rel.company} ({email}){queued_note()}"


def invoices_of(po) -> list[VendorInvoice]:
    return db.session.query(VendorInvoice).filter(VendorInvoice.pur_order == po.id).order_by(VendorInvoice.id).all()


def _approved(po) -> str | None:
    if po.status != S.APPROVED.value:
        return f"{name(po)} is {_label(po)}; only an approved purchase order is billed."
    return None


def _not_billed(po) -> str | None:
    existing = invoices_of(po)
    if existing:
        return (f"{name(po)} already has vendor invoice {', '.join(str(i) for i in existing)}; record a further "
                "bill as a manual vendor invoice.")
    return None


@action(PurchaseOrder, "create_vendor_invoice", "Create vendor invoice", precondition=_approved,
        icon="fa-file-text-o")
def create_vendor_invoice(po: PurchaseOrder, actor):
    """The vendor's bill for this order: its lines, prices and totals copied, unpaid."""
    refuse(_not_billed(po))
    inv = VendorInvoice(vendor=po.vendor, pur_order=po.id, currency=po.currency, terms=po.terms,
                        addedfrom=getattr(actor, "staffid", None), discount_total=po.discount_total,
                        payment_status="unpaid", items=copy_lines(po.items, VendorInvoiceDetail))
    refresh_totals(inv)
    db.session.add(inv)
    db.session.flush()
    assign_number(inv)
    return inv


def _complete_when_delivered(name_, obj, actor, data):
    """All goods received: the order is Completed (a receipt's approval sets delivery_status)."""
    if name_ == "purchase_order.delivered" and obj.status == S.APPROVED.value:
        # Announced after a flush, when changes to flushed rows would be forgotten: write it directly.
        done = PurchaseOrderProgress.COMPLETED.value
        table = PurchaseOrder.__table__
        db.session.connection().execute(table.update().where(table.c.id == obj.id).values(order_status=done))
        set_committed_value(obj, "order_status", done)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("business_event", "purchase_orders.complete", _complete_when_delivered)
