"""Packing lists: packed from an approved delivery note, approved (booking the AWB when Innoship is set), moved on."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import api_token
from tests.sales.test_sales_support import api, press
from tests.warehouse.warehouse_support import TODAY, client, invoice, item, receipt, warehouse


@pytest.fixture
def note(app, admin_client):
    """An approved delivery note of 3 pallet jacks."""
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        wh = warehouse()
        a = item()
        receipt(wh, [(a, "5", "L1", TODAY + timedelta(days=60), "70.00")], approve=True)
        inv = invoice(client(), [(a, "Pallet jack", "3", "100.00")])
    headers = api_token(admin_client)
    assert api(admin_client, headers, "invoices", inv, "create_delivery_note").status_code == 200
    with app.app_context():
        note_id = db.session.query(GoodsDelivery.id).scalar()
    assert api(admin_client, headers, "goods_delivery", note_id, "approve").status_code == 200
    return note_id


def test_pack_approve_and_move_on(app, admin_client, note):
    from crm.warehouse.models import GoodsDelivery, PackingList

    form = admin_client.get(f"/admin/warehouse/manage_delivery/run-action/create_packing_list/{note}")
    page = form.get_data(as_text=True)
    assert 'name="weight"' in page and 'name="lenght"' in page
    refused = press(admin_client, "warehouse/manage_delivery", "create_packing_list", note, page=page,
                    data={"weight": "0"})
    assert "The weight must be more than 0 kg." in refused.get_data(as_text=True)
    done = press(admin_client, "warehouse/manage_delivery", "create_packing_list", note, page=page,
                 data={"weight": "12.5", "width": "60", "height": "40", "lenght": "120"})
    assert "Packing list PL000001 created for Delivery note" in done.get_data(as_text=True)
    with app.app_context():
        pl = db.session.query(PackingList).one()
        assert (pl.weight, pl.volume, pl.approval, pl.delivery_status) == \
            (Decimal("12.500"), Decimal("0.288"), 0, "wh_ready_to_deliver")
        assert [(i.commodity_name, i.quantity, i.lot_number) for i in pl.items] == [("Pallet jack", 3, "L1,3")]
        assert pl.shipping_city == pl.client.shipping_city and pl.shipping_city  # the address travels with it
        assert db.session.get(GoodsDelivery, note).delivery_status == "ready_to_deliver"
        pl_id = pl.id
    again = api(admin_client, api_token(admin_client), "goods_delivery", note, "create_packing_list", weight="1")
    assert again.status_code == 409 and "already in packing lists" in again.get_json()["error"]
    assert "is not approved yet" in press(admin_client, "warehouse/manage_packing_list", "mark_in_transit",
                                          pl_id).get_data(as_text=True)
    assert "Packing list PL000001 approved" in press(admin_client, "warehouse/manage_packing_list", "approve",
                                                     pl_id).get_data(as_text=True)
    press(admin_client, "warehouse/manage_packing_list", "mark_in_transit", pl_id)
    with app.app_context():
        assert db.session.get(PackingList, pl_id).delivery_status == "wh_in_transit"
        assert db.session.get(GoodsDelivery, note).delivery_status == "delivery_in_progress"
    press(admin_client, "warehouse/manage_packing_list", "mark_delivered", pl_id)
    with app.app_context():
        assert db.session.get(PackingList, pl_id).delivery_status == "wh_delivered"
        assert db.session.get(GoodsDelivery, note).delivery_status == "delivered"
    r = api(admin_client, api_token(admin_client), "wh_packing_lists", pl_id, "mark_delivered")
    assert r.status_code == 409 and "already Delivered" in r.get_json()["error"]


def test_a_draft_delivery_note_is_not_packed(app, admin_client):
    from crm.warehouse.models import GoodsDelivery

    with app.app_context():
        a = item()
        warehouse()
        inv = invoice(client(), [(a, "Pallet jack", "1", "100.00")])
    api(admin_client, api_token(admin_client), "invoices", inv, "create_delivery_note")
    with app.app_context():
        note_id = db.session.query(GoodsDelivery.id).scalar()
    r = api(admin_client, api_token(admin_client), "goods_delivery", note_id, "create_packing_list", weight="2")
    assert r.status_code == 409 and "is not approved; approve it before packing" in r.get_json()["error"]
