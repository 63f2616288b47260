"""Demo deliveries: delivery notes and a backorder."""
from __future__ import annotations

from decimal import Decimal

from crm.core.extensions import db
from crm.purchasing.actions.purchase_common import refresh_totals
from crm.purchasing.models import (
    PurchaseQuotation,
    PurchaseRequest,
)
from crm.warehouse.models import (
    GoodsDelivery,
    PackingList,
)
from crm.demo.base import Demo, dated
from crm.demo.clients import role_of


# --- deliveries and the backorder ---------------------------------------------------------------

DELIVERIES = (  # invoice, warehouse, day, approve, packing list (width, height, length cm, weight kg) or None
    ("dn_carpathia", "i_carpathia", "WH-BUC", -8, True, (60, 45, 80, "18.5")),
    ("dn_transilvania", "i_transilvania", "WH-CLJ", -3, False, None),
)


def deliveries(d: Demo) -> None:
    """Warehouse: a delivery note approved (FIFO) with its packing list, one blocked by short stock"""
    for key, invoice_key, warehouse, days, approve, parcel in DELIVERIES:
        invoice = d.docs[invoice_key]
        d.act(invoice, "create_delivery_note", role_of(d, invoice.sale_agent), d.at(days, 9),
              warehouse_id=d.warehouses[warehouse].warehouse_id)
        note = d.docs[key] = db.session.query(GoodsDelivery).filter_by(invoice_id=invoice.id).one()
        dated(note, date_c=d.day(days), date_add=d.day(days), staff_id=d.staff_id("Warehouse"))
        if approve:
            d.act(note, "approve", "Warehouse", d.at(days, 11))
        if parcel:
            width, height, length, weight = parcel
            d.act(note, "create_packing_list", "Warehouse", d.at(days, 15), width=width, height=height,
                  lenght=length, weight=weight)
            packing = d.docs["pl_" + note.goods_delivery_code] = \
                db.session.query(PackingList).filter_by(delivery_note_id=note.id).one()
            dated(packing, datecreated=d.at(days, 15))
            d.act(packing, "approve", "Warehouse", d.at(days, 16))


BACKORDER = dict(  # the short delivery note, and the purchasing that answers it
    note="dn_transilvania", days=-3, po_days=-1, delivery_in=5,
    quotes=(("tech", "698.00", True), ("euroit", "735.00", False)))  # vendor, unit price, accepted


def backorder(d: Demo) -> None:
    """Purchasing: the backorder RFQ of the short delivery, two vendor quotations, an approved purchase order"""
    spec = BACKORDER
    note, days = d.docs[spec["note"]], spec["days"]
    d.act(note, "create_backorder_rfq", "Warehouse", d.at(days, 12))
    request = d.docs["rfq_backorder"] = db.session.query(PurchaseRequest).filter_by(goods_delivery_id=note.id).one()
    dated(request, request_date=d.at(days, 12))
    d.act(request, "approve", "Purchasing", d.at(days, 13))
    vendors = [d.vendors[key] for key, _, _ in spec["quotes"]]
    d.act(request, "request_quotations", "Purchasing", d.at(days, 13), vendors=",".join(str(v.userid) for v in vendors))
    accepted = None
    for vendor, (_, price, won) in zip(vendors, spec["quotes"]):
        quote = db.session.query(PurchaseQuotation).filter_by(pur_request=request.id, vendor=vendor.userid).one()
        for line in quote.items:  # the prices the vendor quoted, typed in by purchasing
            line.unit_price = Decimal(price)
        refresh_totals(quote)
        dated(quote, date=d.day(days + 1), expirydate=d.day(days + 15), datecreated=d.at(days, 13),
               delivery_date=d.day(spec["po_days"] + spec["delivery_in"]),
               vendornote=f"Ofertă valabilă 14 zile, livrare în {spec['delivery_in']} zile lucrătoare.")
        accepted = quote if won else accepted
    db.session.commit()
    d.act(accepted, "accept", "Purchasing", d.at(spec["po_days"], 10))
    order = d.act(accepted, "create_purchase_order", "Purchasing", d.at(spec["po_days"], 11))
    dated(order, order_date=d.day(spec["po_days"]), datecreated=d.at(spec["po_days"], 11),
           terms=f"Livrare la {note.warehouse.warehouse_name}.")
    d.act(order, "approve", "Purchasing", d.at(spec["po_days"], 12))
    d.docs["po_backorder"] = order
