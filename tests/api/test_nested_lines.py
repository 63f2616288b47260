"""A document's lines sent as its ``items`` (PATCH /api/v1/<document>/<id>, the grid's line editor):
a line sent with its id is updated in place, keeping its id and what only the actions write on it
(delivered and received quantities, a count's book quantity and lot); a line without id is added;
a line left out is removed. What the warehouse already delivered or received stays: such a line is
not removed, nor its quantity set below it."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from, login
from tests.forms import form_of
from tests.sales.test_sales_support import api
from tests.warehouse import warehouse_support as ws

D = Decimal


def _sent_back(record: dict) -> list[dict]:
    """A document's items as GET shows them, ready to be sent back (labels are shown, not taken)."""
    return [{k: v for k, v in line.items() if not k.endswith("_label")} for line in record["items"]]


@pytest.fixture
def delivered(app):
    """An issued invoice of 10 gloves and an installation, 6 gloves delivered by an approved
    delivery note; returns (client, headers, ids)."""
    from crm.warehouse.models import GoodsDelivery

    client = app.test_client()
    h = api_token(client)
    with app.app_context():
        wh = ws.warehouse()
        gloves = ws.item("A-1", "Gloves")
        ws.receipt(wh, [(gloves, "6", "L1", None, "5.00")], approve=True)
        inv = ws.invoice(ws.client(), [(gloves, "Gloves", "10", "9.00"), (None, "Installation", "1", "50.00")])
    assert api(client, h, "invoices", inv, "create_delivery_note").status_code == 200
    record = client.get(f"/api/v1/invoices/{inv}", headers=h).get_json()
    gloves_line = record["items"][0]["id"]
    with app.app_context():
        note = db.session.query(GoodsDelivery).one().id
    r = client.patch(f"/api/v1/goods_delivery/{note}", headers=h, json={"items": [
        {"commodity_code": gloves, "quantities": "6", "warehouse_id": wh, "itemable_id": gloves_line}]})
    assert r.status_code == 200, r.get_json()
    r = api(client, h, "goods_delivery", note, "approve")
    assert r.status_code == 200, r.get_json()
    return client, h, {"invoice": inv, "note": note, "gloves": gloves, "wh": wh,
                       "lines": [ln["id"] for ln in record["items"]]}


def _invoice_lines(app, inv):
    from crm.sales.models.documents import Invoice

    with app.app_context():
        return [(ln.id, ln.description, ln.qty, ln.wh_delivered_quantity) for ln in db.session.get(Invoice, inv).items]


def test_an_invoice_line_sent_back_with_its_id_keeps_its_id_and_what_was_delivered(app, delivered):
    from crm.warehouse.models import GoodsDelivery, GoodsDeliveryDetail

    client, h, ids = delivered
    record = client.get(f"/api/v1/invoices/{ids['invoice']}", headers=h).get_json()
    assert record["items"][0]["wh_delivered_quantity"] == "6.000"
    items = _sent_back(record)
    items[0]["description"] = "Gloves, nitrile"
    r = client.patch(f"/api/v1/invoices/{ids['invoice']}", headers=h, json={"items": items})
    assert r.status_code == 200, r.get_json()
    assert [ln["id"] for ln in r.get_json()["items"]] == ids["lines"]
    assert r.get_json()["items"][0]["wh_delivered_quantity"] == "6.000"
    assert _invoice_lines(app, ids["invoice"]) == [
        (ids["lines"][0], "Gloves, nitrile", D("10"), D("6")), (ids["lines"][1], "Installation", D("1"), D("0"))]
    with app.app_context():  # the delivery note still names the line it delivered
        assert db.session.query(GoodsDeliveryDetail.itemable_id).scalar() == ids["lines"][0]
    # only the rest can be delivered: the goods do not leave twice
    with app.app_context():
        ws.receipt(ids["wh"], [(ids["gloves"], "10", "L2", None, "5.00")], approve=True)
    r = api(client, h, "invoices", ids["invoice"], "create_delivery_note")
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        second = db.session.query(GoodsDelivery).order_by(GoodsDelivery.id.desc()).first()
        assert [(ln.quantities, ln.itemable_id) for ln in second.items] == [(D("4"), ids["lines"][0])]
    # a line without id is added, a line left out (not delivered) is removed, the others kept
    items = _sent_back(client.get(f"/api/v1/invoices/{ids['invoice']}", headers=h).get_json())
    r = client.patch(f"/api/v1/invoices/{ids['invoice']}", headers=h, json={"items": [
        items[0], {"description": "Transport", "qty": "1", "rate": "20.00"}]})
    assert r.status_code == 200, r.get_json()
    lines = _invoice_lines(app, ids["invoice"])
    assert [ln[:2] for ln in lines][0] == (ids["lines"][0], "Gloves, nitrile") and lines[0][3] == D("6")
    assert [ln[1] for ln in lines] == ["Gloves, nitrile", "Transport"] and lines[1][0] not in ids["lines"]


def test_a_delivered_line_is_not_removed_nor_its_quantity_set_below_what_was_delivered(app, delivered):
    client, h, ids = delivered
    url = f"/api/v1/invoices/{ids['invoice']}"
    before = _invoice_lines(app, ids["invoice"])
    items = _sent_back(client.get(url, headers=h).get_json())
    r = client.patch(url, headers=h, json={"items": [items[1]]})
    assert r.status_code == 422 and r.get_json()["field"] == "items", r.get_json()
    assert "delivered" in r.get_json()["error"] and "Gloves" in r.get_json()["error"], r.get_json()
    r = client.patch(url, headers=h, json={"items": [{**items[0], "qty": "5"}, items[1]]})
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.qty", r.get_json()
    assert "6" in r.get_json()["error"] and "delivered" in r.get_json()["error"], r.get_json()
    # an action-owned value sent different from the stored one is refused, as before
    r = client.patch(url, headers=h, json={"items": [{**items[0], "wh_delivered_quantity": "0"}, items[1]]})
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.wh_delivered_quantity", r.get_json()
    # nothing half-written: the first line's change goes with the refusal of the second
    r = client.patch(url, headers=h, json={"items": [{**items[1], "description": "Changed"}, {**items[0], "qty": "1"}]})
    assert r.status_code == 422 and r.get_json()["field"] == "items.1.qty", r.get_json()
    assert _invoice_lines(app, ids["invoice"]) == before
    # down to what was delivered is fine
    r = client.patch(url, headers=h, json={"items": [{**items[0], "qty": "6"}, items[1]]})
    assert r.status_code == 200 and r.get_json()["items"][0]["qty"] == "6.000", r.get_json()


def test_a_line_id_that_is_not_one_of_the_documents_lines_is_refused(app, delivered):
    client, h, ids = delivered
    with app.app_context():
        other = ws.invoice(ws.client(), [(None, "Other", "1", "5.00")], number=2)
    other_line = client.get(f"/api/v1/invoices/{other}", headers=h).get_json()["items"][0]["id"]
    url = f"/api/v1/invoices/{ids['invoice']}"
    items = _sent_back(client.get(url, headers=h).get_json())
    before = _invoice_lines(app, ids["invoice"])
    for sent, field in (([items[0], items[1], {**items[1], "id": other_line}], "items.2.id"),
                        ([items[0], {**items[1], "id": 999999}], "items.1.id"),
                        ([items[0], items[1], items[1]], "items.2.id")):
        r = client.patch(url, headers=h, json={"items": sent})
        assert r.status_code == 422 and r.get_json()["field"] == field, r.get_json()
    assert _invoice_lines(app, ids["invoice"]) == before
    assert _invoice_lines(app, other) == [(other_line, "Other", D("1"), D("0"))]


def test_purchase_order_lines_keep_their_ids_and_what_was_received(app):
    from crm.purchasing.models import PurchaseOrder
    from crm.warehouse.models import GoodsReceipt, GoodsReceiptDetail

    client = app.test_client()
    h = api_token(client)
    with app.app_context():
        wh = ws.warehouse()
        a, b = ws.item("A-1", "Gloves"), ws.item("B-1", "Boots")
        po = ws.purchase_order(ws.vendor(), [(a, "10", "5.00"), (b, "4", "20.00")])
    assert api(client, h, "pur_orders", po, "create_goods_receipt", warehouse_id=wh).status_code == 200
    with app.app_context():
        gr = db.session.query(GoodsReceipt).one()
        gr.items[0].quantities = D("3")
        gr.warehouse_id = gr.warehouse_id or wh
        for ln in gr.items:
            ln.warehouse_id = ln.warehouse_id or wh
        db.session.commit()
        gr_id = gr.id
    assert api(client, h, "goods_receipt", gr_id, "approve").status_code == 200
    url = f"/api/v1/pur_orders/{po}"
    record = client.get(url, headers=h).get_json()
    line_ids = [ln["id"] for ln in record["items"]]
    assert [ln["wh_quantity_received"] for ln in record["items"]] == ["3.000", "4.000"]
    items = _sent_back(record)
    items[1]["unit_price"] = "19.00"
    r = client.patch(url, headers=h, json={"items": items})
    assert r.status_code == 200, r.get_json()
    assert [(ln["id"], ln["wh_quantity_received"]) for ln in r.get_json()["items"]] == list(zip(line_ids, ["3.000", "4.000"]))
    with app.app_context():
        assert sorted(db.session.scalars(db.select(GoodsReceiptDetail.pur_order_detail_id))) == sorted(line_ids)
        assert [ln.wh_quantity_received for ln in db.session.get(PurchaseOrder, po).items] == [D("3"), D("4")]
    r = client.patch(url, headers=h, json={"items": [{**items[0], "quantity": "2"}, items[1]]})
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.quantity", r.get_json()
    assert "received" in r.get_json()["error"], r.get_json()
    r = client.patch(url, headers=h, json={"items": [items[0]]})
    assert r.status_code == 422 and r.get_json()["field"] == "items" and "received" in r.get_json()["error"]


def test_a_stock_takes_lines_keep_their_ids_book_quantities_and_lots(app):
    from crm.warehouse.models import PhysicalInventory

    client = app.test_client()
    h = api_token(client)
    with app.app_context():
        wh = ws.warehouse()
        jack = ws.item("P-100", "Pallet jack")
        ws.receipt(wh, [(jack, "10", "L1", None, "60.00"), (jack, "5", "L2", None, "62.50")], approve=True)
    count = client.post("/api/v1/wh_physical_inventory", json={"warehouse_id": wh}, headers=h).get_json()["id"]
    assert api(client, h, "wh_physical_inventory", count, "fill", items="P-100").status_code == 200
    url = f"/api/v1/wh_physical_inventory/{count}"
    record = client.get(url, headers=h).get_json()
    sheet = [(ln["id"], ln["lot_number"], ln["book_quantity"], ln["inventory_manage_id"]) for ln in record["items"]]
    assert [s[2] for s in sheet] == ["10.000", "5.000"] and all(s[3] for s in sheet)
    items = _sent_back(record)
    items[0]["counted_quantity"] = "9"
    r = client.patch(url, headers=h, json={"note": "Aisle 3", "items": items})
    assert r.status_code == 200, r.get_json()
    after = [(ln["id"], ln["lot_number"], ln["book_quantity"], ln["inventory_manage_id"]) for ln in r.get_json()["items"]]
    assert after == sheet  # the printed count sheet's Line IDs still name these lines
    with app.app_context():
        lines = db.session.get(PhysicalInventory, count).items
        assert [(ln.id, ln.counted_quantity, ln.difference) for ln in lines] == [
            (sheet[0][0], D("9"), D("-1")), (sheet[1][0], None, D("0"))]


def test_an_approved_receipt_keeps_its_lines_sent_with_their_ids(app):
    from crm.warehouse.models import GoodsReceipt

    client = app.test_client()
    h = api_token(client)
    with app.app_context():
        wh, jack = ws.warehouse(), ws.item("P-100", "Pallet jack")
        rid = ws.receipt(wh, [(jack, "5", None, None, "10.00")], approve=True)
    url = f"/api/v1/goods_receipt/{rid}"
    items = _sent_back(client.get(url, headers=h).get_json())
    r = client.patch(url, headers=h, json={"items": [{**items[0], "quantities": "500"}]})
    assert r.status_code == 422 and r.get_json()["field"] == "items" and "Approved" in r.get_json()["error"], r.get_json()
    r = client.patch(url, headers=h, json={"items": items, "description": "Dock 2"})
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        receipt = db.session.get(GoodsReceipt, rid)
        assert [(ln.id, ln.quantities) for ln in receipt.items] == [(items[0]["id"], D("5"))]
        assert ws.on_hand(jack) == D("5")
        ws.ledger_matches_balances()


def _editor_post(admin, inv, lines):
    """The invoice's edit form as shown, with the line editor's lines replaced by ``lines``
    [(id or "", description, qty, rate)]."""
    page = admin.get(f"/admin/invoices/edit/?id={inv}").get_data(as_text=True)
    data = {k: v for k, v in form_of(page).items() if not k.startswith("line_editor-")}
    data["csrf_token"] = csrf_from(page)
    data["line_editor-present"] = "1"
    for i, (line_id, desc, qty, rate) in enumerate(lines):
        data.update({f"line_editor-{i}-id": str(line_id), f"line_editor-{i}-item_id": "",
                     f"line_editor-{i}-description": desc, f"line_editor-{i}-long_description": "",
                     f"line_editor-{i}-qty": qty, f"line_editor-{i}-rate": rate, f"line_editor-{i}-unit": ""})
    return admin.post(f"/admin/invoices/edit/?id={inv}", data=data, follow_redirects=True)


def test_the_line_editor_keeps_what_was_delivered(app, delivered):
    _, _, ids = delivered
    admin = app.test_client()
    login(admin)
    gloves, install = ids["lines"]
    page = admin.get(f"/admin/invoices/edit/?id={ids['invoice']}").get_data(as_text=True)
    assert sorted(int(x) for x in re.findall(r'name="line_editor-\d+-id" type="hidden" value="(\d+)"', page)
                  or re.findall(r'id="line_editor-\d+-id" name="line_editor-\d+-id" type="hidden" value="(\d+)"', page)
                  ) == sorted(ids["lines"])
    r = _editor_post(admin, ids["invoice"], [(gloves, "Gloves, nitrile", "10", "9.00"), (install, "Installation", "1", "50.00")])
    assert r.status_code == 200
    assert _invoice_lines(app, ids["invoice"]) == [
        (gloves, "Gloves, nitrile", D("10"), D("6")), (install, "Installation", D("1"), D("0"))]
    before = _invoice_lines(app, ids["invoice"])
    for lines, words in (([(install, "Installation", "1", "50.00")], "delivered"),
                         ([(gloves, "Gloves", "5", "9.00"), (install, "Installation", "1", "50.00")], "delivered")):
        r = _editor_post(admin, ids["invoice"], lines)
        assert words in r.get_data(as_text=True)
        assert _invoice_lines(app, ids["invoice"]) == before


def test_lines_sent_without_their_ids_do_not_reset_what_was_delivered(app, delivered):
    """A client that sends the lines without ids asks for new lines in place of the old ones: the
    delivered line cannot go, so it is refused and the invoice keeps its lines, their ids and what
    was delivered (it used to be rebuilt: new ids, delivered quantity back to 0, the delivery
    note's line pointing at nothing)."""
    from crm.warehouse.models import GoodsDeliveryDetail

    client, h, ids = delivered
    url = f"/api/v1/invoices/{ids['invoice']}"
    before = _invoice_lines(app, ids["invoice"])
    plain = [{"description": "Gloves, nitrile", "qty": "10", "rate": "9.00"},
             {"description": "Installation", "qty": "1", "rate": "50.00"}]
    r = client.patch(url, headers=h, json={"items": plain})
    assert r.status_code == 422 and r.get_json()["field"] == "items" and "delivered" in r.get_json()["error"], r.get_json()
    # sent as read without ids: the delivered quantity is not a new line's
    r = client.patch(url, headers=h, json={"items": [
        {k: v for k, v in ln.items() if k != "id"} for ln in _sent_back(client.get(url, headers=h).get_json())]})
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.wh_delivered_quantity", r.get_json()
    assert _invoice_lines(app, ids["invoice"]) == before
    with app.app_context():
        assert db.session.query(GoodsDeliveryDetail.itemable_id).scalar() == ids["lines"][0]


def test_a_document_with_delivered_lines_is_not_deleted_at_any_door(app, delivered):
    """What the warehouse delivered names the invoice's lines: the invoice is not deleted through
    the API or the grid while they stand (a delivery note's lines would point at nothing)."""
    from crm.sales.models.documents import Invoice

    client, h, ids = delivered
    r = client.delete(f"/api/v1/invoices/{ids['invoice']}", headers=h)
    assert r.status_code == 409, r.get_json()
    assert "delivered 6" in r.get_json()["error"] and "Gloves" in r.get_json()["error"], r.get_json()
    admin = app.test_client()
    login(admin)
    page = admin.get("/admin/invoices/").get_data(as_text=True)
    admin.post("/admin/invoices/delete/", data={"id": str(ids["invoice"]), "csrf_token": csrf_from(page),
                                                 "url": "/admin/invoices/"}, follow_redirects=True)
    with app.app_context():
        assert db.session.get(Invoice, ids["invoice"]) is not None
    assert _invoice_lines(app, ids["invoice"])[0][3] == D("6")


def test_the_grids_inline_line_forms_keep_what_was_received(app):
    """A purchase order's lines in its grid form (Flask-Admin's inline forms): a received line is
    not deleted there, nor its quantity set below what was received."""
    from crm.purchasing.models import PurchaseOrder

    client = app.test_client()
    h = api_token(client)
    with app.app_context():
        wh = ws.warehouse()
        gloves = ws.item("A-1", "Gloves")
        po = ws.purchase_order(ws.vendor(), [(gloves, "10", "5.00")])
    assert api(client, h, "pur_orders", po, "create_goods_receipt", warehouse_id=wh).status_code == 200
    from crm.warehouse.models import GoodsReceipt

    with app.app_context():
        gr = db.session.query(GoodsReceipt).one()
        gr.items[0].quantities = D("4")
        for ln in gr.items:
            ln.warehouse_id = ln.warehouse_id or wh
        db.session.commit()
        gr_id = gr.id
    assert api(client, h, "goods_receipt", gr_id, "approve").status_code == 200
    admin = app.test_client()
    login(admin)
    page = admin.get(f"/admin/purchase/purchase_order/edit/?id={po}").get_data(as_text=True)
    data = form_of(page)
    data["csrf_token"] = csrf_from(page)
    quantity = next(k for k in data if re.fullmatch(r"items-0-quantity", k))
    for change, words in (({quantity: "3"}, "received 4"), ({"del-items-0": "y"}, "received 4")):
        r = admin.post(f"/admin/purchase/purchase_order/edit/?id={po}", data={**data, **change})
        assert r.status_code == 422 and words in r.get_data(as_text=True), (change, r.status_code)
        with app.app_context():
            [line] = db.session.get(PurchaseOrder, po).items
            assert (line.quantity, line.wh_quantity_received) == (D("10"), D("4"))


def test_a_lines_amounts_are_computed_never_typed(app):
    """A line's amount, discount and tax are the server's, from its quantity, price, discount and tax:
    one sent different is refused naming it (never quietly replaced); the line as read passes."""
    client = app.test_client()
    h = api_token(client)
    with app.app_context():
        wh = ws.warehouse()
        gloves = ws.item("A-1", "Gloves")
        vendor = ws.vendor()
    line = {"item_code": gloves, "quantity": "4", "unit_price": "2.50"}
    for field, value in (("total", "999.00"), ("into_money", "1.00"), ("tax_value", "5.00")):
        r = client.post("/api/v1/pur_orders", headers=h, json={"vendor": vendor, "items": [{**line, field: value}]})
        assert r.status_code == 422 and r.get_json()["field"] == f"items.0.{field}", r.get_json()
        assert "computed by the server from the line's quantity" in r.get_json()["error"], r.get_json()
    r = client.post("/api/v1/goods_receipt", headers=h, json={"warehouse_id": wh, "items": [
        {"commodity_code": gloves, "quantities": "2", "unit_price": "3", "goods_money": "60.00"}]})
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.goods_money", r.get_json()
    made = client.post("/api/v1/pur_orders", headers=h, json={"vendor": vendor, "items": [line]}).get_json()
    assert (made["items"][0]["into_money"], made["items"][0]["total"]) == ("10.00", "10.00"), made["items"]
    items = _sent_back(made)
    r = client.patch(f"/api/v1/pur_orders/{made['id']}", headers=h, json={"items": [{**items[0], "quantity": "5"}]})
    assert r.status_code == 200 and r.get_json()["items"][0]["total"] == "12.50", r.get_json()
