"""Action forms a person fills: names instead of ids, the amount left to pay, and a message that
links what the action created; the API's answer carries the same ids and URLs."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from
from tests.sales.test_sales_support import TODAY, api, base_data, make_client, make_estimate, make_invoice, press
from tests.warehouse import warehouse_support as wh


@pytest.fixture
def ids(app):
    with app.app_context():
        ids = base_data()
        ids["client"] = make_client().userid
        return ids


def test_record_payment_opens_with_what_is_left_and_shows_the_balance(app, admin_client, ids):
    from crm.sales.models.clients import Client

    with app.app_context():
        inv_id = make_invoice(ids, db.session.get(Client, ids["client"])).id  # total 298.10
    press(admin_client, "invoices", "record_payment", inv_id,
          data={"amount": "100", "date": TODAY.isoformat(), "paymentmode": str(ids["cash"])})
    html = admin_client.get(f"/admin/invoices/run-action/record_payment/{inv_id}").get_data(as_text=True)
    assert re.search(r'name="amount"[^>]*value="198.10"', html) or re.search(r'value="198.10"[^>]*name="amount"', html)
    summary = re.search(r'data-testid="action-summary".*?</dl>', html, re.S).group(0)
    assert "Invoice total" in summary and "298.10 RON" in summary
    assert "Paid" in summary and "100.00 RON" in summary
    assert "Left to pay" in summary and "198.10 RON" in summary
    assert ">Cash<" in html and ">Bank transfer<" in html  # payment modes by name


def test_payment_message_links_the_payment(app, admin_client, ids):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import InvoicePayment

    with app.app_context():
        inv_id = make_invoice(ids, db.session.get(Client, ids["client"])).id
    html = press(admin_client, "invoices", "record_payment", inv_id,
                 data={"amount": "298.10", "paymentmode": str(ids["cash"])}).get_data(as_text=True)
    with app.app_context():
        pay_id = db.session.query(InvoicePayment).one().id
    assert "Payment of 298.10 RON recorded on INV-000001; Paid" in html
    assert f'href="/admin/payments/details/?id={pay_id}"' in html and 'data-testid="created-link"' in html


def test_conversion_names_and_links_the_invoice_in_the_grid_and_the_api(app, admin_client, ids):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice

    with app.app_context():
        client = db.session.get(Client, ids["client"])
        first, second = make_estimate(ids, client).id, make_estimate(ids, client).id
    html = press(admin_client, "estimates", "convert_to_invoice", first).get_data(as_text=True)
    with app.app_context():
        inv = db.session.query(Invoice).one()
        inv_id, number = inv.id, inv.formatted_number
    link = re.search(r'<a href="([^"]+)" class="alert-link" data-testid="created-link" data-resource="invoices">([^<]+)</a>', html)
    assert link and link.group(1) == f"/admin/invoices/details/?id={inv_id}" and link.group(2) == number
    assert admin_client.get(link.group(1)).status_code == 200

    r = api(admin_client, api_token(admin_client), "estimates", second, "convert_to_invoice")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    with app.app_context():
        new = db.session.query(Invoice).filter(Invoice.id != inv_id).one()
    invoices = [c for c in body["created"] if c["resource"] == "invoices"]
    assert invoices == [{"resource": "invoices", "id": new.id, "name": new.formatted_number,
                         "url": f"/admin/invoices/details/?id={new.id}", "api_url": f"/api/v1/invoices/{new.id}"}]
    assert body["id"] == new.id
    # the answer's URL is the record: no other read needed, and it is there
    assert admin_client.get(invoices[0]["api_url"], headers=api_token(admin_client)).status_code == 200


def test_openapi_describes_what_an_action_created(admin_client):
    spec = admin_client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    assert "created" in schemas["ActionResult"]["properties"]
    assert set(schemas["CreatedRecord"]["properties"]) == {"resource", "id", "name", "url", "api_url"}


def test_warehouse_is_picked_by_name_with_the_default_chosen(app, admin_client):
    from crm.core import options
    from crm.warehouse.models import GoodsReceipt

    with app.app_context():
        main = wh.warehouse("WH1", "Main warehouse")
        second = wh.warehouse("WH2", "Cluj depot")
        options.set("default_warehouse_id", second)
        db.session.commit()
        po_id = wh.purchase_order(wh.vendor(), [(wh.item(), "5", "60.00")])
    html = admin_client.get(f"/admin/purchase/purchase_order/run-action/create_goods_receipt/{po_id}").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="warehouse_id".*?</select>', html, re.S).group(0)
    assert ">Main warehouse<" in select or "Main warehouse" in select
    assert re.search(rf'<option selected value="{second}">|<option value="{second}" selected', select), select
    assert "id;" not in html  # no id typed by hand
    page = admin_client.get("/admin/purchase/purchase_order/").get_data(as_text=True)
    resp = admin_client.post(f"/admin/purchase/purchase_order/run-action/create_goods_receipt/{po_id}",
                             data={"csrf_token": csrf_from(page), "warehouse_id": str(main)}, follow_redirects=True)
    out = resp.get_data(as_text=True)
    with app.app_context():
        receipt = db.session.query(GoodsReceipt).one()
        assert receipt.warehouse_id == main
        assert f'/admin/warehouse/manage_purchase/details/?id={receipt.id}' in out
    bad = admin_client.post(f"/admin/purchase/purchase_order/run-action/create_goods_receipt/{po_id}",
                            data={"csrf_token": csrf_from(page), "warehouse_id": "999"})
    assert bad.status_code in (409, 422)


def test_large_tables_are_searched_while_typing(app, admin_client):
    from crm.core import pickers

    with app.app_context():
        for i in range(pickers.AJAX_ABOVE + 1):
            wh.warehouse(f"W{i:03d}", f"Depot {i:03d}")
        po_id = wh.purchase_order(wh.vendor(), [(wh.item(), "5", "60.00")])
    html = admin_client.get(f"/admin/purchase/purchase_order/run-action/create_goods_receipt/{po_id}").get_data(as_text=True)
    assert 'data-role="select2-ajax"' in html and 'data-url="/admin/pick/warehouse"' in html
    assert "Depot 000" in html  # the default, already chosen
    found = admin_client.get("/admin/pick/warehouse?query=Depot 04").get_json()
    assert [name for _id, name in found] == [f"Depot 04{i}" for i in range(10)][:len(found)] and found
