"""Reservation of stock by accepted sales orders (option warehouse_reserve_on_accept), through the grid
buttons, the API, the portal and the item page a person uses."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, at_once
from tests.sales.test_sales_support import api, press, set_option
from tests.warehouse.warehouse_support import (
    TODAY,
    client,
    invoice,
    item,
    ledger_matches_balances,
    on_hand,
    receipt,
    warehouse,
)

D = Decimal


@pytest.fixture
def shop(app):
    """A warehouse with 10 pallet jacks, a customer; reservation on."""
    with app.app_context():
        wh = warehouse()
        a = item()
        receipt(wh, [(a, "10", "L1", None, "60.00")], approve=True)
        buyer = client()
    set_option(app, "warehouse_reserve_on_accept", True)
    return {"wh": wh, "item": a, "client": buyer}


def order(app, client_id, lines, status=2):
    """A numbered sales order (Sent unless said otherwise); lines: [(item_id, qty)]."""
    from crm.core.totals import refresh
    from crm.core import numbering
    from crm.sales.models.documents import Estimate, ItemLine

    with app.app_context():
        e = Estimate(clientid=client_id, date=TODAY, expirydate=TODAY + timedelta(days=10), status=status)
        for n, (item_id, q) in enumerate(lines, start=1):
            e.items.append(ItemLine(item_id=item_id, description="Pallet jack", qty=D(q), rate=D("100.00"),
                                    item_order=n))
        refresh(e)
        db.session.add(e)
        db.session.flush()
        numbering.assign(e)
        db.session.commit()
        return e.id


def per_warehouse(admin_client, item_id) -> list[list[str]]:
    """The item page's stock-per-warehouse table: header then rows, as the cells read."""
    page = admin_client.get(f"/admin/warehouse/commodity_list/details/?id={item_id}").get_data(as_text=True)
    table = re.search(r'data-testid="stock-per-warehouse">(.*?)</table>', page, re.S).group(1)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]


def note_of(app, invoice_id) -> dict:
    """The invoice's latest delivery note as its stock check left it."""
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        note = db.session.query(GoodsDelivery).filter_by(invoice_id=invoice_id).order_by(GoodsDelivery.id.desc()) \
            .first()
        return {"id": note.id, "ok": note.flag_export_warehouse == 1,
                "available": [ln.available_quantity for ln in note.items],
                "lines": [(ln.id, ln.itemable_id) for ln in note.items]}


def holds(app, estimate_id) -> list[tuple]:
    from crm.warehouse.models import StockReservation

    with app.app_context():
        return [(r.quantity, r.delivered, r.status) for r in db.session.query(StockReservation)
                .filter_by(estimate_id=estimate_id).order_by(StockReservation.id)]


def test_accepting_reserves_other_deliveries_are_refused_and_its_own_consumes(app, admin_client, shop):
    from crm.sales.models.documents import Estimate

    a = shop["item"]
    eid = order(app, shop["client"], [(a, "6")])
    html = press(admin_client, "estimates", "accept", eid).get_data(as_text=True)
    assert "Sales order EST-000001 marked Accepted. Stock reserved: 6 P-100 Pallet jack" in html
    assert per_warehouse(admin_client, a) == [["Warehouse", "On hand", "Reserved", "Available"],
                                              ["Main warehouse", "10", "6", "4"]]
    headers = api_token(admin_client)
    listed = admin_client.get(f"/api/v1/stock_reservations?estimate_id={eid}", headers=headers).get_json()
    [row] = listed
    assert (row["commodity_id"], row["warehouse_id"], D(row["quantity"]), row["status_label"]) == \
        (a, shop["wh"], 6, "Reserved")
    grid = admin_client.get(f"/admin/warehouse/reservations/?commodity_id={a}").get_data(as_text=True)
    assert "EST-000001" in grid and "Reserved" in grid

    # An invoice of another customer order: its note sees 4 available, not 10, and is refused.
    with app.app_context():
        other = invoice(shop["client"], [(a, "Pallet jack", "5", "100.00")], number=50)
    r = api(admin_client, headers, "invoices", other, "create_delivery_note")
    assert "not enough stock: Pallet jack needs 5, 4 available" in r.get_json()["message"]
    other_note = note_of(app, other)
    assert other_note["available"] == [4]
    r = api(admin_client, headers, "goods_delivery", other_note["id"], "approve")
    assert r.status_code == 409
    assert r.get_json()["error"] == ("Not enough stock to approve Delivery note XK000001 after the reservations of "
                                     "other sales orders: Pallet jack in Main warehouse: needed 5, available 4.")
    assert on_hand_of(app, a) == 10

    # The order's own invoice and note: its reservation counts as available, and approval consumes it.
    html = press(admin_client, "estimates", "convert_to_invoice", eid).get_data(as_text=True)
    assert "Invoice INV-000001 created from sales order EST-000001" in html
    with app.app_context():
        inv = db.session.get(Estimate, eid).invoiceid
    api(admin_client, headers, "invoices", inv, "create_delivery_note")
    own = note_of(app, inv)
    assert own["ok"] and own["available"] == [10]
    r = api(admin_client, headers, "goods_delivery", own["id"], "approve")
    assert r.status_code == 200, r.get_json()
    assert holds(app, eid) == [(6, 6, 2)]  # delivered
    assert per_warehouse(admin_client, a)[1] == ["Main warehouse", "4", "0", "4"]
    # the other note now sees the 4 left, free of any reservation
    r = api(admin_client, headers, "goods_delivery", other_note["id"], "check_stock")
    assert r.get_json()["message"] == "Delivery note XK000001: not enough stock: Pallet jack needs 5, 4 available"
    with app.app_context():
        ledger_matches_balances()


def on_hand_of(app, item_id):
    with app.app_context():
        return on_hand(item_id)


def test_partial_delivery_consumes_part_and_a_short_order_reserves_what_there_is(app, admin_client, shop):
    a = shop["item"]
    headers = api_token(admin_client)
    first, second = order(app, shop["client"], [(a, "7")]), order(app, shop["client"], [(a, "5")])
    r = api(admin_client, headers, "estimates", first, "accept")
    assert r.get_json()["message"].endswith("Stock reserved: 7 P-100 Pallet jack")
    # only 3 left free: the second order is accepted and says what it could not reserve
    r = api(admin_client, headers, "estimates", second, "accept")
    assert r.status_code == 200
    assert r.get_json()["message"] == ("Sales order EST-000002 marked Accepted. "
                                       "Stock reserved: 3 of 5 P-100 Pallet jack (2 not in stock, reserved when it comes in)")
    assert per_warehouse(admin_client, a)[1] == ["Main warehouse", "10", "10", "0"]
    with app.app_context():
        from crm.sales.models.clients import SalesActivity

        assert "Stock reserved: 3 of 5 P-100 Pallet jack (2 not in stock, reserved when it comes in)" in \
            [s.description for s in db.session.query(SalesActivity).filter_by(rel_id=second)]
    # the first order is delivered in two notes: the first note for 4 consumes 4 of its 7
    api(admin_client, headers, "estimates", first, "convert_to_invoice")
    from crm.sales.models.documents import Estimate
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        inv = db.session.get(Estimate, first).invoiceid
    api(admin_client, headers, "invoices", inv, "create_delivery_note")
    note = note_of(app, inv)
    [(_, inv_line)] = note["lines"]
    r = admin_client.patch(f"/api/v1/goods_delivery/{note['id']}", headers=headers, json={"items": [
        {"commodity_code": a, "quantities": "4", "warehouse_id": shop["wh"],
         "itemable_id": inv_line}]})
    assert r.status_code == 200, r.get_json()
    r = api(admin_client, headers, "goods_delivery", note["id"], "approve")
    assert r.status_code == 200, r.get_json()
    assert holds(app, first) == [(7, 4, 1)]
    assert per_warehouse(admin_client, a)[1] == ["Main warehouse", "6", "6", "0"]
    with app.app_context():
        assert db.session.get(GoodsDelivery, note["id"]).approval == 1


def test_a_short_order_waits_and_reserves_the_next_receipt_before_anyone_else(app, admin_client, shop):
    from crm.sales.models.clients import SalesActivity
    from crm.sales.models.documents import Estimate

    a, wh = shop["item"], shop["wh"]
    headers = api_token(admin_client)
    first, second, third = (order(app, shop["client"], [(a, q)]) for q in ("7", "5", "4"))
    api(admin_client, headers, "estimates", first, "accept")
    api(admin_client, headers, "estimates", second, "accept")  # 3 in stock, 2 waiting
    assert holds(app, second) == [(3, 0, 1), (2, 0, 4)]
    grid = admin_client.get(f"/admin/warehouse/reservations/?estimate_id={second}").get_data(as_text=True)
    assert "Waiting for stock" in grid
    r = api(admin_client, headers, "estimates", third, "accept")  # nothing left: all 4 wait, after the second
    assert r.get_json()["message"].endswith("Stock reserved: 0 of 4 P-100 Pallet jack (4 not in stock, "
                                            "reserved when it comes in)")

    # 5 come in: the second order takes its 2 first, the third the 3 left; nothing free for others
    with app.app_context():
        gr = receipt(wh, [(a, "5", "L2", None, "60.00")])
    html = press(admin_client, "warehouse/manage_purchase", "approve", gr).get_data(as_text=True)
    assert ("in stock; reserved for EST-000002 (2 P-100 Pallet jack), EST-000003 (3 P-100 Pallet jack)"
            in " ".join(html.split()))
    assert holds(app, second) == [(3, 0, 1), (2, 0, 1)]
    assert holds(app, third) == [(1, 0, 4), (3, 0, 1)]
    assert per_warehouse(admin_client, a)[1] == ["Main warehouse", "15", "15", "0"]
    with app.app_context():
        said = [s.description for s in db.session.query(SalesActivity).filter_by(rel_id=third)]
        assert any(d.startswith("Stock reserved on receipt of ") and d.endswith(": 3 P-100 Pallet jack")
                   for d in said), said

    # delivered from free stock (a receipt while the option was off): what waited is no longer wanted
    set_option(app, "warehouse_reserve_on_accept", False)
    with app.app_context():
        receipt(wh, [(a, "1", "L3", None, "60.00")], approve=True)
    set_option(app, "warehouse_reserve_on_accept", True)
    api(admin_client, headers, "estimates", third, "convert_to_invoice")
    with app.app_context():
        inv = db.session.get(Estimate, third).invoiceid
    api(admin_client, headers, "invoices", inv, "create_delivery_note")
    r = api(admin_client, headers, "goods_delivery", note_of(app, inv)["id"], "approve")
    assert r.status_code == 200, r.get_json()
    assert holds(app, third) == [(3, 3, 2)]  # the waiting row is gone
    # declining releases what waits too
    fourth = order(app, shop["client"], [(a, "2")])
    api(admin_client, headers, "estimates", fourth, "accept")
    assert holds(app, fourth) == [(2, 0, 4)]
    api(admin_client, headers, "estimates", fourth, "decline")
    assert holds(app, fourth) == [(2, 0, 3)]
    with app.app_context():
        ledger_matches_balances()


def test_decline_portal_acceptance_and_cancelled_invoice_release(app, admin_client, shop):
    from crm.sales.actions.estimates import client_accept
    from crm.sales.models.documents import Estimate, Invoice

    a = shop["item"]
    headers = api_token(admin_client)
    declined = order(app, shop["client"], [(a, "4")])
    api(admin_client, headers, "estimates", declined, "accept")
    assert per_warehouse(admin_client, a)[1] == ["Main warehouse", "10", "4", "6"]
    html = press(admin_client, "estimates", "decline", declined).get_data(as_text=True)
    assert "marked Declined" in html
    assert holds(app, declined) == [(4, 0, 3)]  # released
    assert per_warehouse(admin_client, a)[1] == ["Main warehouse", "10", "0", "10"]

    # the client accepts in the portal (converted to an invoice by default): reserved the same way
    portal = order(app, shop["client"], [(a, "8")])
    with app.app_context():
        inv = client_accept(db.session.get(Estimate, portal), "Bogdan", "Buyer", "buyer@nordic.ro", None, "10.0.0.1")
        inv_id = inv.id
    assert holds(app, portal) == [(8, 0, 1)]
    assert per_warehouse(admin_client, a)[1] == ["Main warehouse", "10", "8", "2"]
    r = api(admin_client, headers, "invoices", inv_id, "mark_cancelled")
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        assert db.session.get(Invoice, inv_id).status == 5
    assert holds(app, portal) == [(8, 0, 3)]
    assert per_warehouse(admin_client, a)[1] == ["Main warehouse", "10", "0", "10"]


def test_reservations_split_over_warehouses_default_first(app, admin_client, shop):
    a = shop["item"]
    with app.app_context():
        second_wh = warehouse("WH2", "Cluj depot")
        receipt(second_wh, [(a, "5", "C1", None, "60.00")], approve=True)
    set_option(app, "default_warehouse_id", second_wh)
    eid = order(app, shop["client"], [(a, "8")])
    api(admin_client, api_token(admin_client), "estimates", eid, "accept")
    assert per_warehouse(admin_client, a) == [["Warehouse", "On hand", "Reserved", "Available"],
                                              ["Main warehouse", "10", "3", "7"],
                                              ["Cluj depot", "5", "5", "0"]]


def test_option_off_reserves_nothing(app, admin_client, shop):
    from crm.warehouse.models import StockReservation

    set_option(app, "warehouse_reserve_on_accept", False)
    a = shop["item"]
    headers = api_token(admin_client)
    eid = order(app, shop["client"], [(a, "6")])
    r = api(admin_client, headers, "estimates", eid, "accept")
    assert r.get_json()["message"] == "Sales order EST-000001 marked Accepted"
    with app.app_context():
        assert db.session.query(StockReservation).count() == 0
    assert per_warehouse(admin_client, a) == [["Warehouse", "On hand", "Available"], ["Main warehouse", "10", "10"]]
    # another delivery takes all ten, as the seed documents (nothing reserved)
    with app.app_context():
        other = invoice(shop["client"], [(a, "Pallet jack", "10", "100.00")], number=50)
    r = api(admin_client, headers, "invoices", other, "create_delivery_note")
    assert r.get_json()["message"] == "Delivery note XK000001 created"
    r = api(admin_client, headers, "goods_delivery", note_of(app, other)["id"], "approve")
    assert r.status_code == 200, r.get_json()
    assert on_hand_of(app, a) == 0


def test_two_concurrent_acceptances_never_promise_the_same_units(app):
    """Two real sessions accept two orders of 4 with 5 in stock: one gets 4, the other the last 1."""
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Estimate
    from crm.warehouse.models import StockReservation

    with app.app_context():
        wh, a, buyer = warehouse(), item(), client()
        receipt(wh, [(a, "5", "L1", None, "60.00")], approve=True)
        admin_id = db.session.query(Staff.staffid).filter_by(admin=True).scalar()
    set_option(app, "warehouse_reserve_on_accept", True)
    orders = [order(app, buyer, [(a, "4")]) for _ in range(2)]
    def accept(eid, ready):
        staff = db.session.get(Staff, admin_id)
        ready()
        return run(Estimate, eid, "accept", staff)

    results, errors = at_once(app, accept, orders)
    assert errors == {}
    said = sorted(m.split(". ", 1)[1] for m in results.values())
    assert said == ["Stock reserved: 1 of 4 P-100 Pallet jack (3 not in stock, reserved when it comes in)", "Stock reserved: 4 P-100 Pallet jack"]
    with app.app_context():
        held = [r.quantity for r in db.session.query(StockReservation).filter_by(status=1)
                .order_by(StockReservation.quantity)]
        assert held == [1, 4] and sum(held) == on_hand(a) == 5
        assert [r.quantity for r in db.session.query(StockReservation).filter_by(status=4)] == [3]  # waits


def test_stock_vs_minimum_counts_what_is_promised(app, admin_client, shop):
    from crm.warehouse.models import MinimumStock

    a = shop["item"]
    with app.app_context():
        db.session.add(MinimumStock(commodity_id=a, inventory_number_min=D("5"), inventory_number_max=D("20")))
        db.session.commit()
    assert "0 item(s) below their minimum" in admin_client.get("/admin/warehouse/reports/minimum").get_data(as_text=True)
    api(admin_client, api_token(admin_client), "estimates", order(app, shop["client"], [(a, "6")]), "accept")
    html = admin_client.get("/admin/warehouse/reports/minimum").get_data(as_text=True)
    assert "1 item(s) below their minimum" in html and "<th class=\"text-right\">Reserved</th>" in html
    csv = admin_client.get("/admin/warehouse/reports/minimum?export=csv").get_data(as_text=True).splitlines()
    assert csv[0] == "item id,code,name,on hand,minimum,maximum,short,reserved,available"
    assert [D(v) for v in csv[1].split(",")[3:]] == [10, 5, 20, 1, 6, 4]


def test_replenishment_plans_on_what_is_not_promised(app, admin_client, shop):
    from crm.catalog.models import Item
    from crm.purchasing.models import PurchaseRequest, Vendor
    from crm.warehouse.models import MinimumStock

    a = shop["item"]
    with app.app_context():
        vendor = Vendor(company="Furnizor SRL")
        db.session.add(vendor)
        db.session.flush()
        db.session.get(Item, a).preferred_vendor = vendor.userid
        db.session.add(MinimumStock(commodity_id=a, inventory_number_min=D("5"), inventory_number_max=D("20")))
        db.session.commit()
    set_option(app, "purchase_auto_replenishment", True)
    api(admin_client, api_token(admin_client), "estimates", order(app, shop["client"], [(a, "6")]), "accept")

    result = app.test_cli_runner().invoke(args=["crm", "cron", "replenish_stock"])

    assert result.exit_code == 0, result.output
    with app.app_context():
        [rfq] = db.session.query(PurchaseRequest).all()
        # 10 on hand, 6 promised: 4 available, below the minimum of 5; up to the maximum: 20 - 4
        assert [(ln.item_code, ln.quantity) for ln in rfq.items] == [(a, D("16"))]


def test_editing_an_accepted_orders_lines_reserves_the_new_quantities(app, admin_client, shop):
    a = shop["item"]
    headers = api_token(admin_client)
    eid = order(app, shop["client"], [(a, "6")])
    api(admin_client, headers, "estimates", eid, "accept")
    r = admin_client.patch(f"/api/v1/estimates/{eid}", headers=headers, json={
        "items": [{"item_id": a, "description": "Pallet jack", "qty": "8", "rate": "100.00"}]})
    assert r.status_code == 200, r.get_json()
    assert holds(app, eid) == [(6, 0, 3), (8, 0, 1)]  # the old hold released, the new quantity held
    assert per_warehouse(admin_client, a)[1] == ["Main warehouse", "10", "8", "2"]
    with app.app_context():
        from crm.sales.models.clients import SalesActivity

        said = [s.description for s in db.session.query(SalesActivity).filter_by(rel_id=eid)]
        assert any(d.startswith("Lines changed: stock reserved again. Stock reserved: 8 P-100 Pallet jack")
                   for d in said), said
    # part delivered, then the order cut to 5: only what is still to deliver is held
    api(admin_client, headers, "estimates", eid, "convert_to_invoice")
    from crm.sales.models.documents import Estimate

    with app.app_context():
        inv = db.session.get(Estimate, eid).invoiceid
    api(admin_client, headers, "invoices", inv, "create_delivery_note")
    note = note_of(app, inv)
    [(_, inv_line)] = note["lines"]
    admin_client.patch(f"/api/v1/goods_delivery/{note['id']}", headers=headers, json={"items": [
        {"commodity_code": a, "quantities": "3", "warehouse_id": shop["wh"], "itemable_id": inv_line}]})
    assert api(admin_client, headers, "goods_delivery", note["id"], "approve").status_code == 200
    r = admin_client.patch(f"/api/v1/estimates/{eid}", headers=headers, json={
        "items": [{"item_id": a, "description": "Pallet jack", "qty": "5", "rate": "100.00"}]})
    assert r.status_code == 200, r.get_json()
    assert [h for h in holds(app, eid) if h[2] == 1] == [(2, 0, 1)]
    assert per_warehouse(admin_client, a)[1] == ["Main warehouse", "7", "2", "5"]


def test_an_order_cannot_be_entered_already_accepted_and_holds_stock_once_accepted(app, admin_client, shop):
    """A sales order entered through the API asking for Accepted is refused (only the accept action
    accepts) and holds nothing; entered as a draft and accepted with the action, it holds its stock."""
    headers = api_token(admin_client)

    def post(qty, **extra):
        return admin_client.post("/api/v1/estimates", headers=headers, json={
            "clientid": shop["client"], "date": str(TODAY), **extra,
            "items": [{"item_id": shop["item"], "description": "Pallet jack", "qty": qty, "rate": "100.00"}]})

    r = post("3", status=4)
    assert r.status_code == 422 and r.get_json()["field"] == "status" and "accept" in r.get_json()["error"]
    accepted, draft = post("3").get_json()["id"], post("2").get_json()["id"]
    from crm.sales.models.documents import Estimate

    with app.app_context():  # emailed to the client (the send action needs a contact to mail)
        db.session.get(Estimate, accepted).status = 2
        db.session.commit()
    r = admin_client.post(f"/api/v1/estimates/{accepted}/actions/accept", headers=headers)
    assert r.status_code == 200, r.get_json()
    assert holds(app, accepted) == [(3, 0, 1)]
    assert holds(app, draft) == []
    assert per_warehouse(admin_client, shop["item"])[1] == ["Main warehouse", "10", "3", "7"]  # on hand, reserved, available
