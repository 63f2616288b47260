"""Business events fire once per real change, whichever door it came through, and name the actor."""
from __future__ import annotations

import pytest

from crm.core import events
from crm.core.extensions import db
from tests.sales.test_sales_support import TODAY, base_data, make_client, make_invoice, press


@pytest.fixture
def heard():
    seen = []

    def listener(name, obj, actor, data):
        seen.append((name, type(obj).__name__, getattr(actor, "email", None)))

    events.subscribe(listener)
    yield seen
    events._subscribers.remove(listener)


def test_payments_announce_recorded_then_paid(app, admin_client, heard):
    from crm.sales.models.clients import Client

    with app.app_context():
        ids = base_data()
        client = db.session.get(Client, make_client().userid)
        inv_id = make_invoice(ids, client).id  # total 298.10
    assert ("invoice.created", "Invoice", None) in heard
    heard.clear()
    for amount in ("100", "198.10"):
        form = admin_client.get(f"/admin/invoices/run-action/record_payment/{inv_id}").get_data(as_text=True)
        press(admin_client, "invoices", "record_payment", inv_id, page=form,
              data={"amount": amount, "date": TODAY.isoformat(), "paymentmode": str(ids["cash"])})
    assert [h[0] for h in heard] == ["payment.recorded", "payment.recorded", "invoice.paid"]
    assert {h[2] for h in heard} == {"admin@test.example"}


def test_refused_change_announces_nothing(app, admin_client, heard):
    from crm.sales.models.clients import Client

    with app.app_context():
        ids = base_data()
        inv_id = make_invoice(ids, db.session.get(Client, make_client().userid)).id
    heard.clear()
    form = admin_client.get(f"/admin/invoices/run-action/record_payment/{inv_id}").get_data(as_text=True)
    press(admin_client, "invoices", "record_payment", inv_id, page=form,
          data={"amount": "5000", "date": TODAY.isoformat(), "paymentmode": str(ids["cash"])})
    assert heard == []


def test_api_created_lead_is_announced(app, client, heard):
    from tests.conftest import api_token

    resp = client.post("/api/v1/leads", json={"name": "Ana Pop", "email": "ana@example.com"},
                       headers=api_token(client))
    assert resp.status_code == 201, resp.get_json()
    assert heard == [("lead.created", "Lead", "admin@test.example")]


def test_unknown_event_is_refused():
    with pytest.raises(KeyError):
        events.emit("lead.exploded", object())
