"""Demo stock: opening receipts, corrections, counts and returns, through the warehouse actions."""
from __future__ import annotations

from decimal import Decimal

from crm.catalog.models import Item
from crm.core.extensions import db
from crm.core.totals import line_net, vat
from crm.warehouse.models import (
    GoodsReceipt,
    GoodsReceiptDetail,
    InventoryBalance,
    LossAdjustment,
    LossAdjustmentDetail,
    OrderReturn,
    OrderReturnDetail,
    PhysicalInventory,
    Warehouse,
)
from crm.warehouse.totals import goods_receipt as receipt_totals
from crm.demo.base import Demo


# --- stock -----------------------------------------------------------------------------------

def put_away(d: Demo, receipt: GoodsReceipt, days: int, invoice_no: str, lots) -> GoodsReceipt:
    """The warehouse writes each line's lot (``lots``: (made, expires) day offsets) on a draft
    receipt and approves it on day ``days``: the goods go in stock through the approve action."""
    receipt.date_c = receipt.date_add = d.day(days)
    receipt.invoice_no, receipt.addedfrom = invoice_no, d.staff_id("Warehouse")
    receipt.description = f"Recepție {receipt.supplier_name}, factura {invoice_no}"
    for line, (made, expires) in zip(receipt.items, lots):
        line.lot_number, line.date_manufacture = d.next_lot(), d.day(made)
        line.expiry_date = d.day(expires) if expires is not None else None
    d.act(receipt, "approve", "Warehouse", d.at(days, 9))
    return receipt


def opening_stock(d: Demo) -> None:
    """Stock: approved goods receipts with lots in both warehouses"""
    for key, vendor_key, warehouse_code, days, invoice_no, lines in RECEIPTS:
        vendor, warehouse = d.vendors[vendor_key], d.warehouses[warehouse_code]
        receipt = GoodsReceipt(supplier_code=vendor.userid, supplier_name=vendor.company, approval=0,
                               buyer_id=d.staff_id("Purchasing"), warehouse_id=warehouse.warehouse_id)
        for code, qty, _, _ in lines:
            item = d.items[code]
            receipt.items.append(GoodsReceiptDetail(
                commodity_code=item.id, commodity_name=item.commodity_name, warehouse_id=warehouse.warehouse_id,
                unit_id=item.unit_id, quantities=Decimal(qty), unit_price=item.purchase_price, tax=item.tax))
        receipt_totals(receipt)  # goods, their tax and the total from the lines (crm/warehouse/totals.py)
        db.session.add(receipt)
        d.docs[key] = put_away(d, receipt, days, invoice_no, [(made, expires) for _, _, made, expires in lines])


RECEIPTS = (  # key, vendor, warehouse, day, vendor invoice, lines: (item, qty, made day, expiry day or None)
    ("nk_tech_buc", "tech", "WH-BUC", -120, "TD-26-001245",
     (("LAP-5440", 10, -150, None), ("MON-P2425", 8, -140, None), ("TON-59A", 8, -200, 500),
      ("CAB-C6", 6, -160, None))),
    ("nk_office_buc", "office", "WH-BUC", -100, "ODS-0088412",
     (("PAP-A4", 200, -130, None), ("ETK-100", 60, -130, 600), ("CAF-1KG", 40, -345, 20),
      ("DEZ-5L", 30, -110, 250), ("KIT-ONB", 12, -120, None))),
    ("nk_tech_clj", "tech", "WH-CLJ", -90, "TD-26-001377",
     (("LAP-5440", 6, -140, None), ("MON-P2425", 6, -130, None), ("TON-59A", 2, -190, 480))),
    ("nk_office_clj", "office", "WH-CLJ", -85, "ODS-0088977",
     (("PAP-A4", 120, -120, None), ("CAF-1KG", 25, -60, 300), ("DEZ-5L", 10, -100, 260),
      ("KIT-ONB", 5, -110, None))),
    ("nk_office_recent", "office", "WH-BUC", -20, "ODS-0091273",
     (("ETK-100", 40, -45, 700), ("PAP-A4", 100, -30, None))),
)


# --- stock corrections and returns ---------------------------------------------------------------

LOSSES = (  # warehouse, item, change (counted − book), day, reason
    ("WH-BUC", "DEZ-5L", -2, -6, "Două bidoane fisurate la manipulare; produsul s-a scurs."),
)


STOCK_TAKE = dict(warehouse="WH-CLJ", days=-1, differences={"PAP-A4": -2}, not_counted=("KIT-ONB",))


def _first_lot(warehouse: Warehouse, item: Item) -> InventoryBalance:
    return db.session.query(InventoryBalance).filter(
        InventoryBalance.warehouse_id == warehouse.warehouse_id, InventoryBalance.commodity_id == item.id,
        InventoryBalance.inventory_number > 0).order_by(InventoryBalance.id).first()


def stock_corrections(d: Demo) -> None:
    """Warehouse: an approved loss and a stock take still being counted"""
    for warehouse_code, code, change, days, reason in LOSSES:
        warehouse, item = d.warehouses[warehouse_code], d.items[code]
        lot = _first_lot(warehouse, item)
        loss = LossAdjustment(type="loss" if change < 0 else "adjustment", addfrom=d.staff_id("Warehouse"),
                              reason=reason, time=d.at(days, 16), date_create=d.day(days), status=0,
                              warehouses=warehouse.warehouse_id)
        loss.items.append(LossAdjustmentDetail(
            items=item.id, unit=item.unit_id, current_number=lot.inventory_number, inventory_manage_id=lot.id,
            updates_number=lot.inventory_number + change, expiry_date=lot.expiry_date, lot_number=lot.lot_number))
        db.session.add(loss)
        db.session.flush()
        d.act(loss, "approve", "Warehouse", d.at(days, 16))
    spec = STOCK_TAKE
    warehouse = d.warehouses[spec["warehouse"]]
    count = PhysicalInventory(warehouse_id=warehouse.warehouse_id, date=d.day(spec["days"]), status=0,
                              addedfrom=d.staff_id("Warehouse"), datecreated=d.at(spec["days"], 8),
                              note=f"Inventar lunar {warehouse.warehouse_name}, numărătoare în curs.")
    db.session.add(count)
    db.session.flush()
    d.act(count, "fill", "Warehouse", d.at(spec["days"], 8))
    for line in count.items:  # what the counters wrote on the sheet so far
        code = line.commodity.commodity_code
        if code not in spec["not_counted"]:
            line.counted_quantity = line.book_quantity + spec["differences"].get(code, 0)
            line.difference = line.counted_quantity - line.book_quantity


RETURNS = (  # delivery note, item, quantity, day, reason
    ("dn_carpathia", "MON-P2425", 1, -2, "Monitor cu pixeli defecți; în verificare la service înainte de recepție."),
)


def client_returns(d: Demo) -> None:
    """Warehouse: a client return awaiting inspection"""
    for number, (note_key, code, qty, days, reason) in enumerate(RETURNS, 1):
        note = d.docs[note_key]
        item, qty = d.items[code], Decimal(qty)
        line = next(line for line in note.items if line.commodity_code == item.id)
        net = line_net(qty, line.unit_price)
        gross = net + vat(net, item.tax_rel.taxrate)
        doc = OrderReturn(order_return_number=f"RET-{number:06d}",
                          order_return_name=f"Retur {note.goods_delivery_code}, {note.customer_name}",
                          rel_type="sales_return_order", return_type="partially", company_id=note.customer_code,
                          company_name=note.customer_name, invoice_id=note.invoice_id, delivery_note_id=note.id,
                          warehouse_id=note.warehouse_id, date=d.day(days), approval=0, return_reason=reason,
                          currency=d.currencies["RON"].id, subtotal=net, total_amount=gross,
                          staff_id=d.staff_id("Warehouse"), datecreated=d.at(days, 13))
        doc.items.append(OrderReturnDetail(
            rel_type_detail_id=line.id, commodity_code=item.id, commodity_name=line.commodity_name, quantity=qty,
            unit_id=item.unit_id, unit_price=line.unit_price, purchase_price=item.purchase_price, sub_total=net,
            tax=item.tax, total_amount=gross, total_after_discount=net, lot_number=line.lot_number.split(",")[0],
            expiry_date=line.expiry_date, reason_return=reason))
        db.session.add(doc)
