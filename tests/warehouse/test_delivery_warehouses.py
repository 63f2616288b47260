"""A delivery note draws on every warehouse holding the goods, in the order option
warehouse_delivery_order sets, and carries goods only (no services)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from
from tests.sales.test_sales_support import api, press, set_option
from tests.warehouse.warehouse_support import (
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
def stocked(app):
    """Gloves: 7 in the main warehouse (the default), 6 in the second; an invoice of 10 gloves, an
    installation (a service) and a line without a catalog item."""
    with app.app_context():
        main, second = warehouse("WH1", "Main warehouse"), warehouse("WH2", "Second warehouse")
        gloves, install = item("A-1", "Gloves", "9.00"), item("S-1", "Installation", "50.00", tracked=False)
        receipt(main, [(gloves, "7", "L1", None, "5.00")], approve=True)
        receipt(second, [(gloves, "6", "L2", None, "5.00")], approve=True)
        inv = invoice(client(), [(gloves, "Gloves", "10", "9.00"), (install, "Installation", "1", "50.00"),
                                 (None, "Transport", "1", "30.00")])
    return {"main": main, "second": second, "gloves": gloves, "install": install, "invoice": inv}


def _note_lines(app):
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        note = db.session.query(GoodsDelivery).one()
        return note.id, [(ln.commodity_code, ln.warehouse_id, D(ln.quantities)) for ln in note.items]


def _moves(app):
    from crm.warehouse.models import StockTransaction

    with app.app_context():
        return [(t.warehouse_id, D(t.quantity)) for t in db.session.query(StockTransaction)
                .filter_by(status=2).order_by(StockTransaction.id)]


def test_a_note_takes_what_the_default_warehouse_lacks_from_the_other_and_leaves_services_out(
        app, admin_client, stocked):
    s = stocked
    r = api(admin_client, api_token(admin_client), "invoices", s["invoice"], "create_delivery_note")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["message"] == "Delivery note XK000001 created"  # not short
    note_id, lines = _note_lines(app)
    assert lines == [(s["gloves"], s["main"], 7), (s["gloves"], s["second"], 3)]
    html = press(admin_client, "warehouse/manage_delivery", "approve", note_id).get_data(as_text=True)
    assert "Delivery note XK000001 approved\n" in html  # total: no "(partial ...)" after it
    assert _moves(app) == [(s["main"], -7), (s["second"], -3)]
    with app.app_context():
        from crm.sales.models.documents import ItemLine
        from crm.warehouse.models import GoodsDelivery

        assert on_hand(s["gloves"], s["main"]) == 0 and on_hand(s["gloves"], s["second"]) == 3
        assert db.session.get(GoodsDelivery, note_id).type_of_delivery == "total"
        assert db.session.query(ItemLine).filter_by(item_id=s["gloves"]).one().wh_delivered_quantity == 10
        ledger_matches_balances()
    pdf = admin_client.get(f"/admin/documents/delivery_note/{note_id}.pdf")
    assert pdf.status_code == 200
    # the invoice is delivered: nothing is left for another note (the service is not goods)
    r = api(admin_client, api_token(admin_client), "invoices", s["invoice"], "create_delivery_note")
    assert r.status_code == 409 and "already on a delivery note" in r.get_json()["error"]


def test_the_option_sets_which_warehouse_is_drawn_on_first(app, admin_client, stocked):
    s = stocked
    set_option(app, "warehouse_delivery_order", "WH2")
    r = api(admin_client, api_token(admin_client), "invoices", s["invoice"], "create_delivery_note")
    assert r.get_json()["message"] == "Delivery note XK000001 created", r.get_json()
    note_id, lines = _note_lines(app)
    assert lines == [(s["gloves"], s["second"], 6), (s["gloves"], s["main"], 4)]
    r = api(admin_client, api_token(admin_client), "goods_delivery", note_id, "approve")
    assert r.status_code == 200, r.get_json()
    assert _moves(app) == [(s["second"], -6), (s["main"], -4)]
    with app.app_context():
        assert on_hand(s["gloves"], s["main"]) == 3 and on_hand(s["gloves"], s["second"]) == 0
        ledger_matches_balances()


def test_a_chosen_warehouse_is_the_only_one_drawn_on(app, admin_client, stocked):
    s = stocked
    r = api(admin_client, api_token(admin_client), "invoices", s["invoice"], "create_delivery_note",
            warehouse_id=s["second"])
    assert "not enough stock: Gloves needs 10, 6 available" in r.get_json()["message"], r.get_json()
    _note_id, lines = _note_lines(app)
    assert lines == [(s["gloves"], s["second"], 10)]


def test_short_in_every_warehouse_the_rest_waits_in_the_first(app, admin_client, stocked):
    from crm.purchasing.models import PurchaseRequest

    s = stocked
    with app.app_context():
        from crm.sales.models.documents import ItemLine

        db.session.query(ItemLine).filter_by(item_id=s["gloves"]).one().qty = D("15")
        db.session.commit()
    r = api(admin_client, api_token(admin_client), "invoices", s["invoice"], "create_delivery_note")
    assert "not enough stock: Gloves needs 9, 7 available" in r.get_json()["message"], r.get_json()
    note_id, lines = _note_lines(app)
    assert lines == [(s["gloves"], s["main"], 9), (s["gloves"], s["second"], 6)]
    r = api(admin_client, api_token(admin_client), "goods_delivery", note_id, "create_backorder_rfq")
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        rfq = db.session.query(PurchaseRequest).one()
        assert [D(ln.quantity) for ln in rfq.items] == [2]  # exactly what no warehouse has


def test_an_unknown_warehouse_in_the_option_is_refused_naming_it(app, admin_client, stocked):
    page = admin_client.get("/admin/settings/").get_data(as_text=True)
    assert 'name="warehouse_delivery_order"' in page
    r = admin_client.post("/admin/settings/", data={"csrf_token": csrf_from(page),
                                                    "warehouse_delivery_order": "WH2, NOPE"})
    assert r.status_code == 422
    assert "warehouse_delivery_order: no warehouse has the id or code &#39;NOPE&#39;" in r.get_data(as_text=True)
    h = api_token(admin_client)
    r = admin_client.post("/api/v1/options", json={"name": "warehouse_delivery_order", "value": "NOPE"}, headers=h)
    assert r.status_code == 422 and r.get_json()["field"] == "value"
    r = admin_client.post("/api/v1/options", json={"name": "warehouse_delivery_order", "value": f"{stocked['second']}"},
                          headers=h)
    assert r.status_code == 201, r.get_json()


def test_without_the_option_the_default_warehouse_comes_first_then_the_others_by_name(app, admin_client):
    with app.app_context():
        zeta, alpha, main = warehouse("Z", "Zeta store"), warehouse("A", "Alpha store"), warehouse("M", "Main")
        gloves = item("A-1", "Gloves", "9.00")
        for wh in (zeta, alpha, main):
            receipt(wh, [(gloves, "2", None, None, "5.00")], approve=True)
        inv = invoice(client(), [(gloves, "Gloves", "5", "9.00")])
    set_option(app, "default_warehouse_id", str(main))
    r = api(admin_client, api_token(admin_client), "invoices", inv, "create_delivery_note")
    assert r.get_json()["message"] == "Delivery note XK000001 created", r.get_json()
    _note_id, lines = _note_lines(app)
    assert lines == [(gloves, main, 2), (gloves, alpha, 2), (gloves, zeta, 1)]
