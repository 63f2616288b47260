"""Replenishment at minimum stock: the quantity rule, and the job through `crm cron`."""
from __future__ import annotations

from decimal import Decimal

import pytest

from crm.core.extensions import db
from crm.purchasing.actions.replenishment import replenishment_quantity
from tests.sales.test_sales_support import set_option

D = Decimal


@pytest.mark.parametrize("on_hand, minimum, maximum, on_order, expected", [
    (D(3), D(5), D(20), D(0), D(17)),   # below minimum: up to the maximum
    (D(5), D(5), D(20), D(0), D(0)),    # at the minimum: nothing
    (D(9), D(5), D(20), D(0), D(0)),    # above
    (D(3), D(5), D(20), D(10), D(7)),   # what is on order counts
    (D(3), D(5), D(20), D(30), D(0)),   # already more than enough on order: never negative
    (D(0), D(1), D(0), D(0), D(0)),     # no maximum set: nothing to aim for
    (D(-2), D(0.5), D(4.25), D(0.75), D("5.50")),  # quantities with decimals, a negative balance
    (None, D(2), D(6), None, D(6)),     # an item never stocked
])
def test_replenishment_quantity(on_hand, minimum, maximum, on_order, expected):
    assert replenishment_quantity(on_hand, minimum, maximum, on_order) == expected


@pytest.fixture
def stock(app):
    """Three items below minimum (two from Alfa, one without a preferred vendor), one above."""
    from crm.catalog.models import Item
    from crm.purchasing.models import PurchaseOrder, PurchaseOrderDetail, Vendor
    from crm.warehouse.models import InventoryBalance, MinimumStock, Warehouse

    with app.app_context():
        alfa, beta = Vendor(company="Alfa SRL"), Vendor(company="Beta SA")
        wh1, wh2 = Warehouse(warehouse_code="W1", warehouse_name="Main"), Warehouse(warehouse_code="W2",
                                                                                   warehouse_name="Second")
        db.session.add_all([alfa, beta, wh1, wh2])
        db.session.flush()
        items = {}
        for code, vendor in (("A", alfa), ("B", alfa), ("C", None), ("D", beta)):
            items[code] = Item(description=f"Item {code}", commodity_code=code, preferred_vendor=vendor and vendor.userid,
                               purchase_price=D("10"))
        db.session.add_all(items.values())
        db.session.flush()
        limits = {"A": (10, 50), "B": (5, 20), "C": (4, 8), "D": (2, 10)}
        for code, (lo, hi) in limits.items():
            db.session.add(MinimumStock(commodity_id=items[code].id, inventory_number_min=D(lo),
                                        inventory_number_max=D(hi)))
        # A: 3 + 4 on hand in two warehouses, two lots; B: 1; C: none; D: 7 (above minimum)
        for code, wh, qty in (("A", wh1, 3), ("A", wh2, 4), ("B", wh1, 1), ("D", wh1, 7)):
            db.session.add(InventoryBalance(warehouse_id=wh.warehouse_id, commodity_id=items[code].id,
                                            inventory_number=D(qty)))
        # A: 20 ordered, 5 already received → 15 on order; a canceled order does not count.
        db.session.add(PurchaseOrder(pur_order_name="open", vendor=alfa.userid, status=2, items=[
            PurchaseOrderDetail(item_code=items["A"].id, quantity=D(20), wh_quantity_received=D(5))]))
        db.session.add(PurchaseOrder(pur_order_name="canceled", vendor=alfa.userid, status=4, items=[
            PurchaseOrderDetail(item_code=items["B"].id, quantity=D(100))]))
        db.session.commit()
        return {code: item.id for code, item in items.items()} | {"alfa": alfa.userid}


def _requests(app):
    from crm.purchasing.models import PurchaseRequest

    with app.app_context():
        return [(r.pur_rq_code, r.send_to_vendors, r.status,
                 sorted((ln.item_code, ln.quantity) for ln in r.items))
                for r in db.session.query(PurchaseRequest).order_by(PurchaseRequest.id)]


def _cron(app):
    result = app.test_cli_runner().invoke(args=["crm", "cron", "replenish_stock"])
    assert result.exit_code == 0, result.output
    return result.output


def test_replenishment_is_off_by_default(app, stock):
    assert "Replenishment is off" in _cron(app)
    assert _requests(app) == []


def test_replenishment_creates_one_rfq_per_preferred_vendor_and_never_twice(app, stock):
    from crm.purchasing.models import PurchaseRequest

    set_option(app, "purchase_auto_replenishment", "1")
    assert "2 replenishment RFQ(s) created: #PR000001, #PR000002" in _cron(app)
    assert _requests(app) == [
        # Alfa: A = 50 − 7 − 15 = 28, B = 20 − 1 = 19
        ("#PR000001", str(stock["alfa"]), 1, [(stock["A"], D("28.000")), (stock["B"], D("19.000"))]),
        # no preferred vendor: C = 8 − 0
        ("#PR000002", None, 1, [(stock["C"], D("8.000"))]),
    ]
    with app.app_context():
        rq = db.session.query(PurchaseRequest).first()
        assert "on hand 7, minimum 10, maximum 50, on order 15 → request 28" in rq.rq_description
        assert rq.total == D("470.00")  # 47 × 10 at the purchase price
    # While those RFQs are open, the job asks for nothing more.
    assert "0 replenishment RFQ(s) created" in _cron(app)
    # Once one is rejected, its items are asked for again.
    with app.app_context():
        db.session.query(PurchaseRequest).filter_by(pur_rq_code="#PR000002").one().status = 3
        db.session.commit()
    assert "1 replenishment RFQ(s) created: #PR000003" in _cron(app)
