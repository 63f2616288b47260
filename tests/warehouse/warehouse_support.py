"""Builders for the warehouse tests (no tests here): warehouses, stock-tracked items, approved
purchase orders, invoices selling catalog items, and a stock reader."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from crm.core.extensions import db

TODAY = date.today()


def warehouse(code="WH1", name="Main warehouse"):
    from crm.warehouse.models import Warehouse

    wh = Warehouse(warehouse_code=code, warehouse_name=name)
    db.session.add(wh)
    db.session.commit()
    return wh.warehouse_id


def item(code="P-100", name="Pallet jack", rate="100.00", tracked=True):
    from crm.catalog.models import Item

    it = Item(description=name, commodity_code=code, commodity_name=name, rate=Decimal(rate),
              purchase_price=Decimal("60.00"), without_checking_warehouse=not tracked)
    db.session.add(it)
    db.session.commit()
    return it.id


def vendor(name="Supplier SRL"):
    from crm.purchasing.models import Vendor

    v = Vendor(company=name)
    db.session.add(v)
    db.session.commit()
    return v.userid


def purchase_order(vendor_id, lines, status=2):
    """lines: [(item_id, quantity, unit_price)]; approved (2) unless said otherwise."""
    from crm.purchasing.models import PurchaseOrder, PurchaseOrderDetail

    po = PurchaseOrder(pur_order_name="Restock", pur_order_number=f"#PO-{vendor_id}", vendor=vendor_id, status=status)
    for item_id, q, price in lines:
        po.items.append(PurchaseOrderDetail(item_code=item_id, quantity=Decimal(q), unit_price=Decimal(price)))
    db.session.add(po)
    db.session.commit()
    return po.id


def client():
    from crm.sales.models.clients import Client

    c = Client(company="Nordic Trade SRL", shipping_street="Depozit 7", shipping_city="Codlea")
    db.session.add(c)
    db.session.commit()
    return c.userid


def invoice(client_id, lines, status=1, number=1):
    """lines: [(item_id or None, description, qty, rate)]."""
    from crm.sales.models.documents import Invoice, ItemLine

    inv = Invoice(clientid=client_id, date=TODAY, duedate=TODAY + timedelta(days=30), status=status,
                  number=number, prefix="INV-", formatted_number=f"INV-{number:06d}")
    for n, (item_id, desc, q, rate) in enumerate(lines, start=1):
        inv.items.append(ItemLine(item_id=item_id, description=desc, qty=Decimal(q), rate=Decimal(rate), item_order=n))
    db.session.add(inv)
    db.session.commit()
    return inv.id


def receipt(warehouse_id, lines, approve=False, actor=None):
    """A manual goods receipt; lines: [(item_id, quantity, lot, expiry, price)]."""
    from crm.warehouse.models import GoodsReceipt, GoodsReceiptDetail

    gr = GoodsReceipt(warehouse_id=warehouse_id)
    for item_id, q, lot, expiry, price in lines:
        gr.items.append(GoodsReceiptDetail(commodity_code=item_id, warehouse_id=warehouse_id, quantities=Decimal(q),
                                           lot_number=lot, expiry_date=expiry, unit_price=Decimal(price)))
    db.session.add(gr)
    db.session.commit()
    if approve:
        from crm.core.models.settings import Staff
        from crm.core.registry import run
        from crm.warehouse.models import GoodsReceipt as GR

        run(GR, gr.id, "approve", actor or db.session.query(Staff).filter_by(admin=True).first())
    return gr.id


def on_hand(item_id, warehouse_id=None):
    from crm.warehouse.models import InventoryBalance

    q = select(func.coalesce(func.sum(InventoryBalance.inventory_number), 0)).where(
        InventoryBalance.commodity_id == item_id)
    if warehouse_id is not None:
        q = q.where(InventoryBalance.warehouse_id == warehouse_id)
    db.session.expire_all()
    return Decimal(db.session.execute(q).scalar())


def lots(item_id):
    """{lot: quantity} of an item."""
    from crm.warehouse.models import InventoryBalance

    db.session.expire_all()
    return {r.lot_number: r.inventory_number for r in db.session.query(InventoryBalance)
            .filter_by(commodity_id=item_id).order_by(InventoryBalance.id)}


def ledger_matches_balances():
    from crm.warehouse.actions import stock

    ledger, balances = stock.ledger_sums(), stock.balance_sums()
    assert {k: Decimal(v) for k, v in ledger.items()} == {k: Decimal(v) for k, v in balances.items()}
    assert all(Decimal(v) >= 0 for v in balances.values())
