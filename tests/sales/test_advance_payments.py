"""Advance payments: recorded on the client (grid button, API), shown on the client page and in the
API as available credit, applied to invoices as ordinary payments linked back to the advance."""
from __future__ import annotations

from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import api_token
from tests.sales.test_sales_support import TODAY, api, base_data, get, make_client, make_invoice, press


@pytest.fixture
def ids(app):
    with app.app_context():
        ids = base_data()
        ids["client"] = make_client().userid
        return ids


def _invoice(app, ids, **kw):
    from crm.sales.models.clients import Client

    with app.app_context():
        return make_invoice(ids, db.session.get(Client, ids["client"]), **kw).id  # total 298.10 RON


def _advance_in_grid(admin_client, client_id, **data):
    form = admin_client.get(f"/admin/clients/run-action/record_advance_payment/{client_id}").get_data(as_text=True)
    return press(admin_client, "clients", "record_advance_payment", client_id, page=form, data=data)


def test_record_in_grid_see_credit_apply_from_invoice_grid(app, admin_client, ids):
    from crm.sales.models.documents import Invoice, InvoicePayment

    page = admin_client.get("/admin/clients/").get_data(as_text=True)
    assert 'data-action="record_advance_payment"' in page
    resp = _advance_in_grid(admin_client, ids["client"], amount="500", paymentmode=str(ids["bank"]),
                            date=TODAY.isoformat(), transactionid="OP-77", note="Avans")
    html = resp.get_data(as_text=True)
    assert "Advance payment of 500.00 RON recorded for Nordic Trade SRL; available credit: 500.00 RON" in html
    details = admin_client.get(f"/admin/clients/details/?id={ids['client']}").get_data(as_text=True)
    assert 'data-testid="credit-RON">500.00 RON' in details and "OP-77" in details

    inv_id = _invoice(app, ids)
    page = admin_client.get("/admin/invoices/").get_data(as_text=True)
    assert 'data-action="apply_advance"' in page
    form = admin_client.get(f"/admin/invoices/run-action/apply_advance/{inv_id}").get_data(as_text=True)
    html = press(admin_client, "invoices", "apply_advance", inv_id, page=form, data={"amount": ""}) \
        .get_data(as_text=True)  # empty: as much as possible = min(500 credit, 298.10 left)
    assert "Advance credit of 298.10 RON applied to INV-000001; Paid; credit left: 201.90 RON" in html
    with app.app_context():
        inv = db.session.get(Invoice, inv_id)
        [pay] = inv.payments
        assert inv.status == 2
        assert (pay.amount, pay.paymentmode, pay.transactionid, pay.advance_payment_id is not None) == \
            (Decimal("298.10"), str(ids["bank"]), "OP-77", True)
        assert db.session.query(InvoicePayment).count() == 1
    details = admin_client.get(f"/admin/clients/details/?id={ids['client']}").get_data(as_text=True)
    assert 'data-testid="credit-RON">201.90 RON' in details
    # paid: the button is gone from that row
    page = admin_client.get("/admin/invoices/").get_data(as_text=True)
    assert 'data-action="apply_advance"' not in page


def test_api_credit_partial_application_and_refusals(app, ids):
    from crm.sales.models.documents import Invoice

    client = app.test_client()
    headers = api_token(client)
    assert client.get(f"/api/v1/clients/{ids['client']}", headers=headers).get_json()["available_credit"] == {}
    inv_id = _invoice(app, ids)
    r = api(client, headers, "invoices", inv_id, "apply_advance")
    assert r.status_code == 409
    assert r.get_json()["error"] == ("Client Nordic Trade SRL has no advance payment credit in RON; record one on "
                                     "the client first (Record advance payment).")
    r = api(client, headers, "clients", ids["client"], "record_advance_payment", amount="100",
            paymentmode=ids["cash"])
    assert r.status_code == 200, r.get_json()
    # another currency is another account
    r = api(client, headers, "clients", ids["client"], "record_advance_payment", amount="40", currency=ids["eur"],
            paymentmode=ids["bank"])
    assert r.status_code == 200
    body = client.get(f"/api/v1/clients/{ids['client']}", headers=headers).get_json()
    assert body["available_credit"] == {"EUR": "40.00", "RON": "100.00"}

    r = api(client, headers, "invoices", inv_id, "apply_advance", amount="150")
    assert r.status_code == 409 and r.get_json()["field"] == "amount"
    assert r.get_json()["error"] == "150.00 RON is more than the advance credit of client Nordic Trade SRL: 100.00 RON."
    r = api(client, headers, "invoices", inv_id, "apply_advance", amount="60")
    assert r.status_code == 200
    assert r.get_json()["message"] == ("Advance credit of 60.00 RON applied to INV-000001; Partially paid, "
                                       "238.10 RON left to pay; credit left: 40.00 RON")
    assert get(app, Invoice, inv_id).status == 3
    # a second advance; then the rest of the credit is more than what is left on a small invoice
    api(client, headers, "clients", ids["client"], "record_advance_payment", amount="500", paymentmode=ids["bank"])
    r = api(client, headers, "invoices", inv_id, "apply_advance", amount="300")
    assert r.status_code == 409 and r.get_json()["field"] == "amount"
    assert r.get_json()["error"] == "300.00 RON is more than what is left to pay on Invoice INV-000001: 238.10 RON."
    r = api(client, headers, "invoices", inv_id, "apply_advance")  # the rest: 40 from the first, 198.10 from the 2nd
    assert r.status_code == 200 and "applied to INV-000001; Paid; credit left: 301.90 RON" in r.get_json()["message"]
    with app.app_context():
        inv = db.session.get(Invoice, inv_id)
        parts = [(p.amount, p.advance.amount) for p in sorted(inv.payments, key=lambda p: p.id)]
        assert parts == [(Decimal("60.00"), Decimal("100.00")), (Decimal("40.00"), Decimal("100.00")),
                         (Decimal("198.10"), Decimal("500.00"))]
    body = client.get(f"/api/v1/clients/{ids['client']}", headers=headers).get_json()
    assert body["available_credit"] == {"EUR": "40.00", "RON": "301.90"}
    r = api(client, headers, "clients", ids["client"], "record_advance_payment", amount="0", paymentmode=ids["bank"])
    assert r.status_code == 422 and r.get_json()["field"] == "amount"


def test_list_pages_do_not_query_credit_per_row(app, admin_client, ids):
    from tests.conftest import QueryCounter

    with app.app_context():
        engine = db.engine
    for _ in range(3):
        _invoice(app, ids)
    client = app.test_client()
    headers = api_token(client)
    api(client, headers, "clients", ids["client"], "record_advance_payment", amount="10", paymentmode=ids["bank"])
    admin_client.get("/admin/invoices/")
    with QueryCounter(engine) as few:
        admin_client.get("/admin/invoices/?page_size=20")
    for _ in range(5):
        _invoice(app, ids)
    with QueryCounter(engine) as more:
        html = admin_client.get("/admin/invoices/?page_size=20").get_data(as_text=True)
    assert html.count('data-action="apply_advance"') == 8
    assert few.count == more.count


def test_finance_records_advances_warehouse_may_not(app, ids):
    from tests.conftest import make_staff

    with app.app_context():
        make_staff("fin@test.example", "Finance")
        make_staff("wh@test.example", "Warehouse")
    client = app.test_client()
    r = api(client, api_token(client, "fin@test.example", "pass-1234"), "clients", ids["client"],
            "record_advance_payment", amount="25", paymentmode=ids["bank"])
    assert r.status_code == 200, r.get_json()
    r = api(client, api_token(client, "wh@test.example", "pass-1234"), "clients", ids["client"],
            "record_advance_payment", amount="25", paymentmode=ids["bank"])
    assert r.status_code == 403 and "action:clients.record_advance_payment" in r.get_json()["error"]
