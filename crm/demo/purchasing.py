"""Demo purchasing: a replenishment from RFQ to goods receipt, and vendor invoices."""
from __future__ import annotations

from decimal import Decimal

from crm.core.extensions import db
from crm.core.models.base import money
from crm.purchasing.actions.purchase_common import refresh_totals
from crm.purchasing.actions.purchase_common import assign_number
from crm.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderDetail,
    VendorInvoice,
    VendorInvoiceDetail,
)
from crm.warehouse.models import (
    GoodsReceipt,
)
from crm.demo.base import Demo, dated, lines
from crm.demo.stock import put_away


# --- purchasing ---------------------------------------------------------------------------------

REPLENISHMENT = dict(  # a purchase order for a sales order's shortage, delivered and received
    key="po_toner", vendor="tech", warehouse="WH-BUC", estimate="e_carpathia", days=-25, received=-15,
    invoice_no="TD-26-004518",
    lines=(("TON-59A", 10, "409.00", -40, 700), ("CAB-C6", 2, "515.00", -60, None)))  # item, qty, price, made, expires


def _draft_receipt(order: PurchaseOrder) -> GoodsReceipt | None:
    return db.session.query(GoodsReceipt).filter_by(pr_order_id=order.id, approval=0).first()


def replenishment(d: Demo) -> None:
    """Purchasing: a purchase order approved, delivered and received in stock"""
    spec = REPLENISHMENT
    vendor, estimate, days = d.vendors[spec["vendor"]], d.docs[spec["estimate"]], spec["days"]
    order = PurchaseOrder(
        pur_order_name=f"Tonere HP 59A pentru {estimate.formatted_number} și stoc cablu", vendor=vendor.userid,
        order_date=d.day(days), delivery_date=d.day(spec["received"]), status=1, datecreated=d.at(days),
        buyer=d.staff_id("Purchasing"), addedfrom=d.staff_id("Purchasing"), sale_estimate=estimate.id,
        currency=d.currencies["RON"].id, terms="Livrare la depozitul București, plata la 30 de zile.",
        items=lines(PurchaseOrderDetail, d, [(code, qty, price) for code, qty, price, _, _ in spec["lines"]]))
    refresh_totals(order)
    db.session.add(order)
    db.session.flush()
    d.act(order, "approve", "Purchasing", d.at(days))
    d.docs[spec["key"]] = order
    received = spec["received"]
    if _draft_receipt(order) is None:  # (made on approval when auto_create_goods_received is on)
        d.act(order, "create_goods_receipt", "Warehouse", d.at(received, 8),
              warehouse_id=d.warehouses[spec["warehouse"]].warehouse_id)
    d.docs["nk_" + spec["key"]] = put_away(d, _draft_receipt(order), received, spec["invoice_no"],
                                            [(made, expires) for *_, made, expires in spec["lines"]])


VENDOR_INVOICES = (  # vendor, source document, vendor's number, day, due after, share paid, payment day
    ("tech", "po_toner", "TD-26-004518", -15, 30, "0.4", -5),
    ("office", "nk_office_recent", "ODS-0091273", -20, 30, "0", None),
)


def vendor_invoices(d: Demo) -> None:
    """Purchasing: vendor invoices, one from a purchase order partially paid, one typed in unpaid"""

    for vendor_key, source_key, vendor_number, days, due, share, paid_on in VENDOR_INVOICES:
        source = d.docs[source_key]
        if isinstance(source, PurchaseOrder):
            bill = d.act(source, "create_vendor_invoice", "Purchasing", d.at(days))
        else:  # a receipt without an order: the bill is typed from the receipt's lines
            codes = {item.id: code for code, item in d.items.items()}
            bill = VendorInvoice(vendor=d.vendors[vendor_key].userid, currency=d.currencies["RON"].id,
                                 payment_status="unpaid", items=lines(VendorInvoiceDetail, d, [
                                     (codes[line.commodity_code], line.quantities, line.unit_price)
                                     for line in source.items]))
            refresh_totals(bill)
            db.session.add(bill)
            db.session.flush()
            assign_number(bill)
        dated(bill, vendor_invoice_number=vendor_number, invoice_date=d.day(days), duedate=d.day(days + due),
               addedfrom=d.staff_id("Finance"), date_add=d.at(days))
        db.session.commit()
        paid = money(bill.total * Decimal(share))
        if paid:
            d.act(bill, "record_payment", "Finance", d.at(paid_on, 14), amount=paid, date=d.day(paid_on),
                  paymentmode=d.payment_modes["Bank transfer"].id, transactionid=f"OP {vendor_number}")
