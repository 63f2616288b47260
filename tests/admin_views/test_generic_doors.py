"""The generic doors (the grid's forms, POST/PATCH/PUT/DELETE /api/v1/...) never write what only an
action may write: statuses, numbers, signatures, sent flags, totals, payments, creator and creation
time; an issued invoice with payments or at ANAF keeps its content."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.api.test_api import client, h  # noqa: F401 - the API client and its token
from tests.conftest import api_token, csrf_from, login, make_role, make_staff

DRAFT, UNPAID, PAID = 6, 1, 2


@pytest.fixture
def setup(app):
    """A client, the default currency and a payment mode; returns (client id, payment mode id)."""
    from crm.catalog.models import Currency, PaymentMode
    from crm.sales.models.clients import Client

    with app.app_context():
        db.session.add_all([Client(company="Omega SRL"), Currency(name="RON", symbol="lei", isdefault=True),
                            PaymentMode(name="Bank")])
        db.session.commit()
        return db.session.query(Client.userid).scalar(), db.session.query(PaymentMode.id).scalar()


def _invoice(client, h, cid, lines=(("Audit", "1", "100.00"),)):
    r = client.post("/api/v1/invoices", headers=h, json={
        "clientid": cid, "date": "2026-11-01", "duedate": "2099-01-01",
        "items": [{"description": d, "qty": q, "rate": r} for d, q, r in lines]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _act(client, h, resource, obj_id, name, **params):
    return client.post(f"/api/v1/{resource}/{obj_id}/actions/{name}", headers=h, json=params)


def test_an_invoice_entered_through_the_api_is_a_draft_and_takes_no_number(client, h, setup):
    cid, _ = setup
    r = client.post("/api/v1/invoices", headers=h, json={"clientid": cid, "date": "2026-11-01", "status": UNPAID,
                                                         "items": [{"description": "Audit", "rate": "10"}]})
    assert r.status_code == 422
    body = r.get_json()
    assert body["field"] == "status" and "issue" in body["error"] and "/actions/" in body["error"]
    r = client.post("/api/v1/invoices", headers=h, json={"clientid": cid, "date": "2026-11-01",
                                                         "number": 7, "formatted_number": "INV-000007"})
    assert r.status_code == 422 and r.get_json()["field"] == "number"
    inv = _invoice(client, h, cid)
    assert inv["status"] == DRAFT and inv["number"] is None
    # the action issues it and gives it the first number of the series
    assert _act(client, h, "invoices", inv["id"], "issue").status_code == 200
    assert client.get(f"/api/v1/invoices/{inv['id']}", headers=h).get_json()["number"] == 1


def test_statuses_and_signatures_are_changed_only_by_actions(client, h, setup, app):
    from crm.sales.models.documents import Contract, Estimate, Proposal

    cid, _ = setup
    with app.app_context():
        p = Proposal(subject="Fit-out", date=date.today(), rel_type="customer", rel_id=cid)
        e = Estimate(clientid=cid, date=date.today())
        c = Contract(subject="Support", client=cid)
        db.session.add_all([p, e, c])
        db.session.commit()
        pid, eid, kid = p.id, e.id, c.id
    attempts = [
        ("proposals", pid, {"status": 3, "acceptance_firstname": "Forged"}, "status", "accept"),
        ("proposals", pid, {"acceptance_firstname": "Forged"}, "acceptance_firstname", "accept"),
        ("estimates", eid, {"status": 4}, "status", "accept"),
        ("contracts", kid, {"signed": True}, "signed", "mark_signed"),
        ("contracts", kid, {"signature": "../secret_key"}, "signature", "mark_signed"),
        ("contracts", kid, {"marked_as_signed": True}, "marked_as_signed", "mark_signed"),
    ]
    for resource, obj_id, payload, field, action_name in attempts:
        r = client.patch(f"/api/v1/{resource}/{obj_id}", headers=h, json=payload)
        assert r.status_code == 422, (resource, payload, r.get_json())
        assert r.get_json()["field"] == field and action_name in r.get_json()["error"], r.get_json()
    with app.app_context():
        assert db.session.get(Proposal, pid).status == 6 and db.session.get(Proposal, pid).acceptance_firstname is None
        assert db.session.get(Estimate, eid).status == 1
        c = db.session.get(Contract, kid)
        assert not c.signed and c.signature is None


def test_a_record_read_and_sent_back_unchanged_is_accepted(client, h, setup):
    """A client that GETs a record, edits one field and PUTs it all back is not refused for the
    action-owned values it echoes."""
    cid, _ = setup
    inv = _invoice(client, h, cid)
    body = client.get(f"/api/v1/invoices/{inv['id']}", headers=h).get_json()
    for key in [k for k in body if k.endswith("_label") or k in ("id", "items", "custom_fields")]:
        body.pop(key)
    body["adminnote"] = "call before due date"
    r = client.put(f"/api/v1/invoices/{inv['id']}", headers=h, json=body)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["adminnote"] == "call before due date"
    r = client.patch(f"/api/v1/invoices/{inv['id']}", headers=h, json={"total": "5.00"})
    assert r.status_code == 422 and r.get_json()["field"] == "total" and "lines" in r.get_json()["error"]


def test_the_openapi_document_shows_action_owned_columns_read_only(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    invoice = spec["components"]["schemas"]["Invoice"]["properties"]
    for key in ("status", "number", "formatted_number", "total", "addedfrom", "datecreated", "sent",
                "efactura_status"):
        assert invoice[key].get("readOnly") is True, key
    assert "readOnly" not in invoice["clientnote"]
    contract = spec["components"]["schemas"]["Contract"]["properties"]
    assert contract["signature"]["readOnly"] and contract["signed"]["readOnly"]


def test_a_paid_invoice_keeps_its_client_lines_and_total(client, h, setup, app):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice

    cid, mode = setup
    with app.app_context():
        other = Client(company="Elsewhere SRL")
        db.session.add(other)
        db.session.commit()
        other_id = other.userid
    inv = _invoice(client, h, cid, [("Audit", "2", "100.00")])
    assert _act(client, h, "invoices", inv["id"], "issue").status_code == 200
    r = _act(client, h, "invoices", inv["id"], "record_payment", amount="200.00", paymentmode=mode)
    assert r.status_code == 200, r.get_json()
    for payload, field in (({"clientid": other_id}, "clientid"),
                           ({"items": [{"description": "Audit", "qty": "1", "rate": "10.00"}]}, "items"),
                           ({"discount_percent": "50", "discount_type": "before_tax"}, "discount_percent"),
                           ({"adjustment": "-100.00"}, "adjustment")):
        r = client.patch(f"/api/v1/invoices/{inv['id']}", headers=h, json=payload)
        assert r.status_code == 422, (payload, r.get_json())
        err = r.get_json()
        assert err["field"] == field and "has payments" in err["error"] and "credit note" in err["error"]
    # what may still change: notes
    r = client.patch(f"/api/v1/invoices/{inv['id']}", headers=h, json={"adminnote": "paid by transfer"})
    assert r.status_code == 200, r.get_json()
    # the same lines sent back are not a change
    same = [{"description": "Audit", "qty": "2", "rate": "100.00"}]
    assert client.patch(f"/api/v1/invoices/{inv['id']}", headers=h, json={"items": same}).status_code == 200
    # nor may it be deleted
    r = client.delete(f"/api/v1/invoices/{inv['id']}", headers=h)
    assert r.status_code == 409 and "credit note" in r.get_json()["error"]
    with app.app_context():
        row = db.session.get(Invoice, inv["id"])
        assert row.clientid == cid and row.total == Decimal("200.00") and row.status == PAID
    # the grid's form: the line editor's change is refused with the same reason
    admin = app.test_client()
    login(admin)
    page = admin.get(f"/admin/invoices/edit/?id={inv['id']}").get_data(as_text=True)
    html = admin.post(f"/admin/invoices/edit/?id={inv['id']}", follow_redirects=True,
                      data={"csrf_token": csrf_from(page), "client": str(other_id), "date": "2026-11-01"}
                      ).get_data(as_text=True)
    assert "has payments" in html
    with app.app_context():
        assert db.session.get(Invoice, inv["id"]).clientid == cid


def test_an_invoice_sent_to_anaf_keeps_its_legal_content(client, h, setup, app):
    from crm.sales.models.documents import Invoice

    cid, _ = setup
    inv = _invoice(client, h, cid)
    with app.app_context():
        row = db.session.get(Invoice, inv["id"])
        row.efactura_status = "awaiting_validation"
        db.session.commit()
    for payload, field in (({"date": "2026-11-02"}, "date"), ({"billing_street": "Str. Noua 1"}, "billing_street"),
                           ({"items": [{"description": "Audit", "qty": "1", "rate": "150.00"}]}, "items")):
        r = client.patch(f"/api/v1/invoices/{inv['id']}", headers=h, json=payload)
        assert r.status_code == 422 and r.get_json()["field"] == field, r.get_json()
        assert "ANAF" in r.get_json()["error"]
    r = client.patch(f"/api/v1/invoices/{inv['id']}", headers=h, json={"efactura_status": "not_sent"})
    assert r.status_code == 422 and r.get_json()["field"] == "efactura_status"
    assert client.patch(f"/api/v1/invoices/{inv['id']}", headers=h, json={"adminnote": "x"}).status_code == 200


def test_payments_are_recorded_and_reversed_only_by_actions(client, h, setup, app):
    from crm.sales.models.clients import SalesActivity
    from crm.sales.models.documents import Invoice, InvoicePayment

    cid, mode = setup
    inv = _invoice(client, h, cid)
    assert _act(client, h, "invoices", inv["id"], "issue").status_code == 200
    r = client.post("/api/v1/invoicepaymentrecords", headers=h,
                    json={"invoiceid": inv["id"], "amount": "1000000.00", "date": "2026-11-05"})
    assert r.status_code == 405
    assert _act(client, h, "invoices", inv["id"], "record_payment", amount="40.00", paymentmode=mode).status_code == 200
    with app.app_context():
        pay_id = db.session.query(InvoicePayment.id).scalar()
    assert client.patch(f"/api/v1/invoicepaymentrecords/{pay_id}", headers=h, json={"amount": "1.00"}).status_code == 405
    assert client.delete(f"/api/v1/invoicepaymentrecords/{pay_id}", headers=h).status_code == 405
    # the grid offers no form for a payment
    admin = app.test_client()
    login(admin)
    assert admin.get("/admin/payments/new/").status_code in (302, 403, 404)
    r = admin.post("/admin/payments/new/", data={"invoice": str(inv["id"]), "amount": "777777"})
    assert r.status_code in (302, 403, 404)
    with app.app_context():
        assert db.session.query(InvoicePayment).count() == 1
    # reversing it: the invoice owes the amount again and its history says so
    r = _act(client, h, "invoicepaymentrecords", pay_id, "reverse_payment")
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        assert db.session.query(InvoicePayment).count() == 0
        assert db.session.get(Invoice, inv["id"]).status == UNPAID
        lines = [a.description for a in db.session.query(SalesActivity).filter_by(rel_id=inv["id"])]
        assert any("reversed" in line for line in lines), lines


def test_creator_and_creation_time_come_from_the_server(client, h, app):
    from crm.core.models.settings import Staff
    from crm.sales.models.clients import Lead

    with app.app_context():
        other = make_staff("other@test.example")
        other_id = other.staffid
        me = db.session.query(Staff).filter_by(email="admin@test.example").one().staffid
    r = client.post("/api/v1/leads", headers=h, json={"name": "Ana", "addedfrom": other_id})
    assert r.status_code == 422 and r.get_json()["field"] == "addedfrom" and "server" in r.get_json()["error"]
    r = client.post("/api/v1/leads", headers=h, json={"name": "Ana", "dateadded": "2001-01-01T00:00:00"})
    assert r.status_code == 422 and r.get_json()["field"] == "dateadded"
    r = client.post("/api/v1/leads", headers=h, json={"name": "Ana"})
    assert r.status_code == 201
    lead = r.get_json()
    assert lead["addedfrom"] == me and lead["dateadded"][:4] >= "2026"
    r = client.patch(f"/api/v1/leads/{lead['id']}", headers=h, json={"addedfrom": other_id})
    assert r.status_code == 422
    # the grid's create form: the signed-in staff member is the creator, whatever the form says
    other_client = app.test_client()
    login(other_client, "other@test.example", "pass-1234")
    admin = app.test_client()
    login(admin)
    page = admin.get("/admin/leads/new/").get_data(as_text=True)
    assert 'name="addedfrom"' not in page and 'name="dateadded"' not in page
    r = admin.post("/admin/leads/new/", data={"csrf_token": csrf_from(page), "name": "Bogdan",
                                              "addedfrom": str(other_id), "dateadded": "2001-01-01 00:00:00"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with app.app_context():
        row = db.session.query(Lead).filter_by(name="Bogdan").one()
        assert row.addedfrom == me and row.dateadded.year >= 2026


def test_the_grid_form_leaves_action_owned_columns_out(app, setup):
    admin = app.test_client()
    login(admin)
    page = admin.get("/admin/invoices/new/").get_data(as_text=True)
    for key in ("status", "number", "formatted_number", "total", "subtotal", "sent", "efactura_status", "hash",
                "addedfrom", "datecreated"):
        assert f'name="{key}"' not in page, key
    page = admin.get("/admin/contracts/new/").get_data(as_text=True)
    for key in ("signed", "signature", "marked_as_signed", "acceptance_firstname"):
        assert f'name="{key}"' not in page, key


def _client_with_addresses(app) -> int:
    from crm.sales.models.clients import Client

    with app.app_context():
        c = Client(company="Delta Trans SRL", address="Str. Veche 1", city="Cluj-Napoca",
                   billing_street="Bd. Eroilor 10", billing_city="Cluj-Napoca", billing_state="Cluj",
                   billing_zip="400129", billing_country="RO", shipping_street="Str. Fabricii 5",
                   shipping_city="Turda", shipping_state="Cluj", shipping_zip="401106", shipping_country="RO")
        db.session.add(c)
        db.session.commit()
        return c.userid


def test_an_invoice_entered_by_hand_takes_its_due_date_and_addresses(app, client, h, setup):
    from datetime import timedelta

    from crm.core import options
    from crm.sales.models.documents import Invoice

    cid = _client_with_addresses(app)
    with app.app_context():
        options.set("invoice_due_after", 15)
        db.session.commit()
    issued_on = date.today() - timedelta(days=40)
    r = client.post("/api/v1/invoices", headers=h, json={
        "clientid": cid, "date": str(issued_on), "items": [{"description": "Audit", "qty": "1", "rate": "100.00"}]})
    assert r.status_code == 201, r.get_json()
    inv = r.get_json()
    assert inv["duedate"] == str(issued_on + timedelta(days=15))
    assert (inv["billing_street"], inv["billing_city"], inv["billing_zip"]) == ("Bd. Eroilor 10", "Cluj-Napoca", "400129")
    assert (inv["shipping_street"], inv["shipping_city"], inv["include_shipping"]) == ("Str. Fabricii 5", "Turda", True)
    # issued, unpaid and past its due date: overdue
    assert _act(client, h, "invoices", inv["id"], "issue").status_code == 200
    assert client.get(f"/api/v1/invoices/{inv['id']}", headers=h).get_json()["status"] == 4
    # what the person gives is kept: their due date, their billing address (not mixed with the client's)
    r = client.post("/api/v1/invoices", headers=h, json={
        "clientid": cid, "date": str(issued_on), "duedate": "2099-01-01", "billing_street": "Calea Victoriei 2"})
    body = r.get_json()
    assert (body["duedate"], body["billing_street"], body["billing_city"]) == ("2099-01-01", "Calea Victoriei 2", None)
    assert body["shipping_street"] == "Str. Fabricii 5"
    # the grid's form: the same defaults
    admin = app.test_client()
    login(admin)
    page = admin.get("/admin/invoices/new/").get_data(as_text=True)
    r = admin.post("/admin/invoices/new/", data={"csrf_token": csrf_from(page), "client": str(cid),
                                                 "date": f"{issued_on:%Y-%m-%d}"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with app.app_context():
        made = db.session.query(Invoice).order_by(Invoice.id.desc()).first()
        assert made.duedate == issued_on + timedelta(days=15)
        assert (made.billing_street, made.shipping_city) == ("Bd. Eroilor 10", "Turda")


def test_what_was_delivered_or_received_of_a_line_is_counted_by_the_warehouse_never_entered(client, h, setup):
    """A line's delivered quantity (approved delivery notes) and a purchase order line's received
    quantity (approved goods receipts) are refused at the API; a line sent back as read passes."""
    cid, _ = setup
    line = {"description": "Audit", "qty": "2", "rate": "10"}
    r = client.post("/api/v1/invoices", headers=h, json={"clientid": cid, "date": "2026-11-01", "duedate": "2099-01-01",
                                                         "items": [{**line, "wh_delivered_quantity": "2"}]})
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.wh_delivered_quantity", r.get_json()
    assert r.get_json()["error"] == ("items.0.wh_delivered_quantity: written only by approving "
                                      "a delivery note of the invoice.")
    inv = _invoice(client, h, cid)
    read = {k: v for k, v in inv["items"][0].items() if k not in ("id", "rel_id", "rel_type", "taxes")}
    r = client.patch(f"/api/v1/invoices/{inv['id']}", headers=h, json={"items": [{**read, "wh_delivered_quantity": "1"}]})
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.wh_delivered_quantity"
    r = client.patch(f"/api/v1/invoices/{inv['id']}", headers=h, json={"items": [read]})  # as read: "0.000"
    assert r.status_code == 200 and r.get_json()["items"][0]["wh_delivered_quantity"] == "0.000"

    vendor = client.post("/api/v1/pur_vendor", json={"company": "Vendor SRL"}, headers=h).get_json()["userid"]
    r = client.post("/api/v1/pur_orders", headers=h, json={
        "vendor": vendor, "pur_order_name": "Pallets",
        "items": [{"quantity": "5", "unit_price": "3", "wh_quantity_received": "5"}]})
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.wh_quantity_received", r.get_json()
    assert "approving a goods receipt of the order" in r.get_json()["error"]


def test_a_documents_lines_are_written_only_with_their_document(client, h, setup, app):
    """A line (or a line's tax) has no door of its own: added, changed or removed at
    /api/v1/itemable, /api/v1/item_tax, /api/v1/pur_order_detail... or at its grid, it would escape
    its document's rules (a paid invoice keeps its lines, totals come from the lines)."""
    from crm.purchasing.models import PurchaseOrderDetail
    from crm.sales.models.documents import Invoice, ItemLine, ItemTax

    cid, mode = setup
    inv = _invoice(client, h, cid)
    assert _act(client, h, "invoices", inv["id"], "issue").status_code == 200
    assert _act(client, h, "invoices", inv["id"], "record_payment", amount="100.00", paymentmode=mode).status_code == 200
    line_id = inv["items"][0]["id"]
    for method, url, payload in (
            ("post", "/api/v1/itemable", {"rel_id": inv["id"], "rel_type": "invoice", "description": "Extra",
                                          "qty": "1", "rate": "999"}),
            ("patch", f"/api/v1/itemable/{line_id}", {"rate": "1"}),
            ("put", f"/api/v1/itemable/{line_id}", {"rate": "1"}),
            ("delete", f"/api/v1/itemable/{line_id}", None),
            ("post", "/api/v1/item_tax", {"itemid": line_id, "rel_id": inv["id"], "rel_type": "invoice",
                                          "taxrate": "19", "taxname": "VAT"})):
        r = getattr(client, method)(url, headers=h, json=payload)
        assert r.status_code == 405, (method, url, r.get_json())
        assert "/api/v1/invoices/<id>" in r.get_json()["error"] and "items" in r.get_json()["error"], r.get_json()
    vendor = client.post("/api/v1/pur_vendor", json={"company": "Vendor SRL"}, headers=h).get_json()["userid"]
    po = client.post("/api/v1/pur_orders", headers=h, json={
        "vendor": vendor, "pur_order_name": "Pallets", "items": [{"quantity": "5", "unit_price": "3"}]}).get_json()
    r = client.patch(f"/api/v1/pur_order_detail/{po['items'][0]['id']}", headers=h, json={"quantity": "500"})
    assert r.status_code == 405 and "/api/v1/pur_orders/<id>" in r.get_json()["error"]
    # the spec offers no such door either
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/itemable"]) == {"get"}
    assert set(paths["/api/v1/itemable/{obj_id}"]) - {"parameters"} == {"get"}
    # the grid: no form of its own for a line
    admin = app.test_client()
    login(admin)
    token = csrf_from(admin.get("/admin/invoices/").get_data(as_text=True))
    assert admin.get("/admin/itemable/new/").status_code in (302, 403, 404)
    for url, data in (("/admin/itemable/new/", {"rel_id": str(inv["id"]), "rel_type": "invoice", "description": "Extra",
                                                "qty": "1", "rate": "999"}),
                      (f"/admin/itemable/edit/?id={line_id}", {"description": "Audit", "qty": "1", "rate": "1"}),
                      ("/admin/itemable/delete/", {"id": str(line_id)})):
        r = admin.post(url, data={"csrf_token": token, **data})
        assert r.status_code in (302, 403, 404), url
    # the CLI's record commands, the API's path
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "record", "set", "itemable", str(line_id), "rate=1"])
    assert result.exit_code == 1 and "lines of a document" in result.output, result.output
    with app.app_context():
        row = db.session.get(Invoice, inv["id"])
        assert [(ln.description, ln.rate) for ln in row.items] == [("Audit", Decimal("100.0000"))]
        assert row.total == Decimal("100.00") and db.session.query(ItemTax).count() == 0
        assert db.session.query(ItemLine).count() == 1
        assert db.session.get(PurchaseOrderDetail, po["items"][0]["id"]).quantity == Decimal("5.000")
    # through its document, as before
    r = client.patch(f"/api/v1/pur_orders/{po['id']}", headers=h, json={"items": [{"quantity": "6", "unit_price": "3"}]})
    assert r.status_code == 200 and r.get_json()["items"][0]["quantity"] == "6.000"


def test_stock_balances_are_written_only_by_the_stock_ledger(client, h, app):
    """A balance is the sum of its ledger rows: no door sets one (receipts, deliveries, adjustments
    and counts move stock through their actions)."""
    from crm.catalog.models import Item
    from crm.warehouse.models import InventoryBalance, StockTransaction, Warehouse

    with app.app_context():
        db.session.add_all([Warehouse(warehouse_code="WH1", warehouse_name="Main"), Item(description="Bolt")])
        db.session.commit()
        wh, item = db.session.query(Warehouse.warehouse_id).scalar(), db.session.query(Item.id).scalar()
        db.session.add(InventoryBalance(warehouse_id=wh, commodity_id=item, inventory_number=Decimal("0")))
        db.session.commit()
        lot = db.session.query(InventoryBalance.id).scalar()
    r = client.post("/api/v1/inventory_manage", headers=h, json={"warehouse_id": wh, "commodity_id": item,
                                                                 "inventory_number": "1000"})
    assert r.status_code == 405 and "read-only" in r.get_json()["error"]
    assert client.patch(f"/api/v1/inventory_manage/{lot}", headers=h, json={"inventory_number": "5"}).status_code == 405
    assert client.delete(f"/api/v1/inventory_manage/{lot}", headers=h).status_code == 405
    admin = app.test_client()
    login(admin)
    assert admin.get("/admin/warehouse/inventory_manage/new/").status_code in (302, 403, 404)
    token = csrf_from(admin.get("/admin/warehouse/inventory_manage/").get_data(as_text=True))
    r = admin.post(f"/admin/warehouse/inventory_manage/edit/?id={lot}",
                   data={"csrf_token": token, "warehouse": str(wh), "commodity": str(item), "inventory_number": "7"})
    assert r.status_code in (302, 403, 404)
    with app.app_context():
        assert db.session.query(InventoryBalance).count() == 1
        assert db.session.get(InventoryBalance, lot).inventory_number == 0
        assert db.session.query(StockTransaction).count() == 0


def test_numbers_sent_flags_and_ids_from_outside_are_refused_naming_the_field(client, h, setup, app):
    """A document's number comes from its series (two documents never share one), a reminder or a
    goal is told once (the job's flag), an e-Factura download id is ANAF's, a last login the server's."""
    cid, _ = setup
    vendor = client.post("/api/v1/pur_vendor", json={"company": "Vendor SRL"}, headers=h).get_json()["userid"]
    me = client.get("/api/v1/staff", headers=h).get_json()[0]["staffid"]
    attempts = [
        ("/api/v1/goods_delivery", {"customer_code": cid, "goods_delivery_code": "XK000001"}, "goods_delivery_code"),
        ("/api/v1/goods_receipt", {"goods_receipt_code": "NK000001"}, "goods_receipt_code"),
        ("/api/v1/wh_packing_lists", {"clientid": cid, "packing_list_number": "PL000001"}, "packing_list_number"),
        ("/api/v1/pur_request", {"pur_rq_name": "Bolts", "pur_rq_code": "#PR000001"}, "pur_rq_code"),
        ("/api/v1/pur_orders", {"vendor": vendor, "pur_order_name": "Bolts", "pur_order_number": "#PO000001"},
         "pur_order_number"),
        ("/api/v1/pur_estimates", {"vendor": vendor, "prefix": "FAKE-"}, "prefix"),
        ("/api/v1/pur_invoices", {"vendor": vendor, "invoice_number": "#PI000001"}, "invoice_number"),
        ("/api/v1/pur_invoices", {"vendor": vendor, "efactura_download_id": "3001234567"}, "efactura_download_id"),
        ("/api/v1/reminders", {"description": "Call back", "date": "2026-01-01T09:00:00", "rel_id": cid,
                               "rel_type": "customer", "staff": me, "isnotified": True}, "isnotified"),
        ("/api/v1/goals", {"subject": "Q4", "start_date": "2026-10-01", "end_date": "2026-12-31",
                           "achievement": 10, "goal_type": 1, "notified": True}, "notified"),
    ]
    for url, payload, field in attempts:
        r = client.post(url, headers=h, json=payload)
        assert r.status_code == 422, (url, r.get_json())
        assert r.get_json()["field"] == field and r.get_json()["error"].startswith(f"{field}: "), r.get_json()
    r = client.patch(f"/api/v1/staff/{me}", headers=h, json={"last_login": "2001-01-01T00:00:00"})
    assert r.status_code == 422 and r.get_json()["field"] == "last_login"
    # left out, the series gives the number
    r = client.post("/api/v1/pur_orders", headers=h, json={"vendor": vendor, "pur_order_name": "Bolts"})
    assert r.status_code == 201 and r.get_json()["pur_order_number"], r.get_json()
    # and the grid's forms do not offer them
    admin = app.test_client()
    login(admin)
    for url, key in (("/admin/warehouse/manage_delivery/new/", "goods_delivery_code"),
                     ("/admin/warehouse/manage_purchase/new/", "goods_receipt_code"),
                     ("/admin/purchase/purchase_order/new/", "pur_order_number"),
                     ("/admin/purchase/purchase_request/new/", "pur_rq_code"),
                     ("/admin/purchase/myinvoices/new/", "invoice_number")):
        page = admin.get(url)
        assert page.status_code == 200 and f'name="{key}"' not in page.get_data(as_text=True), url


def _staff_with(app, email, permissions, role_name=None):
    """A staff member of a role of their own holding exactly ``permissions``; returns (id, API headers)."""
    with app.app_context():
        role = make_role(role_name or f"Role of {email}", permissions)
        staff = make_staff(email)
        staff.role = role.roleid
        db.session.commit()
        staff_id = staff.staffid
    return staff_id, api_token(app.test_client(), email, "pass-1234")


def test_a_note_or_reminder_is_attached_only_to_a_record_its_author_sees(client, app, setup):
    """A note, a reminder (any row with rel_type + rel_id) points at a record that exists, of a table the
    staff member may view and, with "view own", one of their own: at the API, the grid and the CLI."""
    from crm.sales.models.clients import Lead, Note, Reminder

    cid, _ = setup
    sdr, mine = _staff_with(app, "sdr2@test.example", {"leads.view_own", "leads.create", "leads.edit"})
    with app.app_context():
        other = make_staff("colleague@test.example")
        own_lead = Lead(name="Mine", assigned=sdr)
        their_lead = Lead(name="Theirs", assigned=other.staffid)
        db.session.add_all([own_lead, their_lead])
        db.session.commit()
        own_id, their_id = own_lead.id, their_lead.id
    when = "2026-12-01T09:00:00"
    attempts = [  # (resource, payload, status, field)
        ("notes", {"rel_type": "customer", "rel_id": cid, "description": "Peek"}, 403, "rel_id"),
        ("reminders", {"rel_type": "customer", "rel_id": cid, "date": when, "staff": sdr}, 403, "rel_id"),
        ("notes", {"rel_type": "lead", "rel_id": their_id, "description": "Peek"}, 422, "rel_id"),
        ("reminders", {"rel_type": "lead", "rel_id": their_id, "date": when, "staff": sdr}, 422, "rel_id"),
        ("notes", {"rel_type": "lead", "rel_id": 987654, "description": "Nowhere"}, 422, "rel_id"),
        ("notes", {"rel_type": "spaceship", "rel_id": own_id, "description": "Nowhere"}, 422, "rel_type"),
    ]
    for resource, payload, status, field in attempts:
        r = client.post(f"/api/v1/{resource}", headers=mine, json=payload)
        assert r.status_code == status, (resource, payload, r.get_json())
        assert r.get_json()["field"] == field and r.get_json()["error"].startswith(f"{field}: "), r.get_json()
    assert "no leads with id" in client.post("/api/v1/notes", headers=mine, json=attempts[2][1]).get_json()["error"]
    # on their own lead: written
    r = client.post("/api/v1/notes", headers=mine, json={"rel_type": "lead", "rel_id": own_id, "description": "Called"})
    assert r.status_code == 201, r.get_json()
    note_id = r.get_json()["id"]
    r = client.post("/api/v1/reminders", headers=mine, json={"rel_type": "leads", "rel_id": own_id, "date": when,
                                                             "staff": sdr})
    assert r.status_code == 201, r.get_json()
    # nor moved onto another's record
    r = client.patch(f"/api/v1/notes/{note_id}", headers=mine, json={"rel_id": their_id})
    assert r.status_code == 422 and r.get_json()["field"] == "rel_id"
    r = client.patch(f"/api/v1/notes/{note_id}", headers=mine, json={"description": "Called back"})
    assert r.status_code == 200, r.get_json()
    # the grid's form and the CLI refuse it the same way
    grid = app.test_client()
    login(grid, "sdr2@test.example", "pass-1234")
    page = grid.get("/admin/notes/new/")
    assert page.status_code == 200
    r = grid.post("/admin/notes/new/", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                             "rel_type": "customer", "rel_id": str(cid), "description": "Peek"})
    assert r.status_code == 422 and "rel_id" in r.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["crm", "record", "create", "notes", "rel_type=lead",
                                                f"rel_id={their_id}", "description=Peek",
                                                "--as", "sdr2@test.example"])
    assert result.exit_code == 1 and "rel_id: no leads with id" in result.output, result.output
    with app.app_context():
        notes = [(n.rel_type, n.rel_id, n.description) for n in db.session.query(Note)]
        assert notes == [("lead", own_id, "Called back")]
        assert [(x.rel_type, x.rel_id) for x in db.session.query(Reminder)] == [("leads", own_id)]


def test_creators_not_named_addedfrom_come_from_the_server(client, h, app, setup):
    """A loss adjustment's addfrom and a reminder's creator: the signed-in staff member, never a request's."""
    from crm.warehouse.models import LossAdjustment

    cid, _ = setup
    with app.app_context():
        other = make_staff("other@test.example").staffid
    me = client.get("/api/v1/staff?email=admin@test.example", headers=h).get_json()[0]["staffid"]
    reminder = {"rel_type": "customer", "rel_id": cid, "date": "2026-12-01T09:00:00", "staff": other}
    for url, payload, field in (("/api/v1/wh_loss_adjustment", {"type": "loss", "addfrom": other}, "addfrom"),
                                ("/api/v1/wh_loss_adjustment", {"type": "loss", "date_create": "2020-01-01"},
                                 "date_create"),
                                ("/api/v1/reminders", {**reminder, "creator": other}, "creator")):
        r = client.post(url, headers=h, json=payload)
        assert r.status_code == 422 and r.get_json()["field"] == field and "server" in r.get_json()["error"], r.get_json()
    loss = client.post("/api/v1/wh_loss_adjustment", headers=h, json={"type": "loss"}).get_json()
    made = client.post("/api/v1/reminders", headers=h, json=reminder).get_json()
    assert loss["addfrom"] == me and made["creator"] == me and made["staff"] == other  # whom to remind is chosen
    assert loss["date_create"] == date.today().isoformat()
    r = client.patch(f"/api/v1/reminders/{made['id']}", headers=h, json={"creator": other})
    assert r.status_code == 422 and r.get_json()["field"] == "creator"
    admin = app.test_client()
    login(admin)
    page = admin.get("/admin/warehouse/loss_adjustment/new/").get_data(as_text=True)
    assert 'name="addfrom"' not in page and 'name="added_by"' not in page
    with app.app_context():
        assert db.session.get(LossAdjustment, loss["id"]).addfrom == me


def test_links_a_conversion_or_a_web_form_sets_are_refused_naming_the_field(client, h, app):
    from crm.sales.models.clients import Client, Lead

    lead = client.post("/api/v1/leads", headers=h, json={"name": "Ana"}).get_json()
    r = client.post("/api/v1/clients", headers=h, json={"company": "Forged SRL", "leadid": lead["id"]})
    assert r.status_code == 422 and r.get_json()["field"] == "leadid" and "convert" in r.get_json()["error"], r.get_json()
    r = client.patch(f"/api/v1/leads/{lead['id']}", headers=h, json={"from_form_id": 3})
    assert r.status_code == 422 and r.get_json()["field"] == "from_form_id" and "web form" in r.get_json()["error"]
    with app.app_context():
        assert db.session.query(Client).count() == 0 and db.session.get(Lead, lead["id"]).from_form_id is None


def test_custom_field_values_are_written_only_with_their_record(client, h, app):
    """tblcustomfieldsvalues has no door of its own: a value is written with its record (its form, the
    custom_fields of its API), which checks the record's permissions and the field's type."""
    from crm.core.models.settings import CustomField, CustomFieldValue
    from crm.sales.models.clients import Lead

    with app.app_context():
        field = CustomField(fieldto="leads", name="Budget", slug="budget", type="input")
        lead = Lead(name="Ana")
        db.session.add_all([field, lead])
        db.session.flush()
        db.session.add(CustomFieldValue(relid=lead.id, fieldid=field.id, fieldto="leads", value="100"))
        db.session.commit()
        field_id, lead_id = field.id, lead.id
        value_id = db.session.query(CustomFieldValue.id).scalar()
    # a settings administrator with no permission on leads, and the administrator alike
    _, settings_only = _staff_with(app, "settings@test.example", {"settings.view", "settings.create", "settings.edit",
                                                                   "settings.delete"})
    for headers in (settings_only, h):
        r = client.post("/api/v1/customfieldsvalues", headers=headers,
                        json={"relid": lead_id, "fieldid": field_id, "fieldto": "leads", "value": "999999"})
        assert r.status_code == 405 and "custom_fields" in r.get_json()["error"], r.get_json()
        assert client.patch(f"/api/v1/customfieldsvalues/{value_id}", headers=headers,
                            json={"value": "1"}).status_code == 405
        assert client.delete(f"/api/v1/customfieldsvalues/{value_id}", headers=headers).status_code == 405
    admin = app.test_client()
    login(admin)
    assert admin.get("/admin/customfieldsvalues/new/").status_code in (302, 403, 404)
    # with its record, as before
    r = client.patch(f"/api/v1/leads/{lead_id}", headers=h, json={"custom_fields": {"budget": "250"}})
    assert r.status_code == 200 and r.get_json()["custom_fields"]["budget"] == "250", r.get_json()
    with app.app_context():
        assert [v.value for v in db.session.query(CustomFieldValue)] == ["250"]


def test_a_warehouse_documents_totals_are_computed_from_its_lines(client, h, app, setup):
    """A goods receipt, delivery note, packing list or client return entered by hand: its totals are the
    sum of its lines (a typed total that disagrees is refused naming it), as an invoice's are."""
    from crm.catalog.models import Tax
    from crm.warehouse.models import GoodsDelivery, GoodsReceipt, OrderReturn, PackingList

    cid, _ = setup
    with app.app_context():
        db.session.add(Tax(name="VAT", taxrate=Decimal("19")))
        db.session.commit()
        vat_id = db.session.query(Tax.id).scalar()
    receipt_lines = [{"quantities": "2", "unit_price": "10.005", "tax": vat_id}, {"quantities": "1", "unit_price": "5"}]
    delivery_lines = [{"quantities": "3", "unit_price": "10", "discount": "10"}, {"quantities": "1", "unit_price": "7"}]
    packing_lines = [{"quantity": "2", "unit_price": "10", "discount": "50"}]
    return_lines = [{"quantity": "2", "unit_price": "100", "tax": vat_id}]
    cases = [  # resource, body, typed total, expected totals
        ("goods_receipt", {"items": receipt_lines}, "total_money",
         {"total_goods_money": "25.01", "value_of_inventory": "25.01", "total_tax_money": "3.80", "total_money": "28.81"}),
        ("goods_delivery", {"customer_code": cid, "shipping_fee": "4.00", "items": delivery_lines}, "sub_total",
         {"sub_total": "37.00", "total_discount": "3.00", "after_discount": "34.00", "total_money": "38.00"}),
        ("wh_packing_lists", {"clientid": cid, "items": packing_lines}, "total_amount",
         {"subtotal": "20.00", "discount_total": "10.00", "total_after_discount": "10.00", "total_amount": "10.00"}),
        ("wh_order_returns", {"company_id": cid, "items": return_lines}, "total_amount",
         {"subtotal": "200.00", "total_amount": "238.00"}),
    ]
    for resource, body, typed, expected in cases:
        r = client.post(f"/api/v1/{resource}", headers=h, json={**body, typed: "1000000.00"})
        assert r.status_code == 422, (resource, r.get_json())
        assert r.get_json()["field"] == typed and "lines" in r.get_json()["error"], r.get_json()
        r = client.post(f"/api/v1/{resource}", headers=h, json=body)
        assert r.status_code == 201, (resource, r.get_json())
        assert {k: r.get_json()[k] for k in expected} == expected, resource
        # a line's amount sent with it is the line's, recomputed
        doc_id = r.get_json()["id"]
        lines = [{**line, "quantities" if "quantities" in line else "quantity": "1"} for line in body["items"]]
        r = client.patch(f"/api/v1/{resource}/{doc_id}", headers=h, json={"items": lines})
        assert r.status_code == 200, r.get_json()
        assert r.get_json()[typed] != expected[typed], resource
    with app.app_context():
        assert [d.total_money for d in db.session.query(GoodsReceipt)] == [Decimal("16.91")]  # 10.01 + 5.00 + 1.90 tax
        assert db.session.query(GoodsDelivery).one().total_money == Decimal("20.00")  # 9.00 + 7.00 + fee 4.00
        assert db.session.query(PackingList).one().total_amount == Decimal("5.00")
        assert db.session.query(OrderReturn).one().total_amount == Decimal("119.00")
    # the grid's forms do not offer them
    admin = app.test_client()
    login(admin)
    page = admin.get("/admin/warehouse/manage_purchase/new/").get_data(as_text=True)
    assert 'name="total_money"' not in page and 'name="value_of_inventory"' not in page
    # a receipt made from a purchase order by its action adds up the same way: its lines' tax included
    from crm.purchasing.models import PurchaseOrder
    from tests.warehouse.warehouse_support import item, purchase_order, vendor, warehouse

    with app.app_context():
        warehouse()
        po_id = purchase_order(vendor(), [(item("A-1", "Gloves"), "10", "5.00")])
        db.session.get(PurchaseOrder, po_id).items[0].tax = vat_id
        db.session.commit()
    assert _act(client, h, "pur_orders", po_id, "create_goods_receipt").status_code == 200
    with app.app_context():
        made = db.session.query(GoodsReceipt).filter_by(pr_order_id=po_id).one()
        assert (made.total_goods_money, made.total_tax_money, made.total_money) == (
            Decimal("50.00"), Decimal("9.50"), Decimal("59.50"))
