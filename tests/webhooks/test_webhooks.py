"""Outgoing webhooks: a signed POST per event to a real receiver on loopback, sent only for
committed changes, retried with backoff, never delivered twice; the admin screen and its actions."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from
from tests.core.test_jobs import _work, needs_redis, redis_app  # noqa: F401
from tests.sales.test_sales_support import TODAY, base_data, make_client, make_invoice, press
from tests.webhook_receiver import Receiver, serve

SECRET = "s3cret-for-the-receiver-0123456789"


@pytest.fixture(autouse=True)
def _private_receivers_allowed(monkeypatch):
    """The receivers here listen on loopback, which production refuses by default (tested below)."""
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "1")


@pytest.fixture
def receiver():
    rec = Receiver(SECRET)
    with serve(rec) as url:
        rec.url = url
        yield rec


def make_hook(app, url, events="lead.created", active=True):
    from crm.webhooks.models import Webhook

    with app.app_context():
        hook = Webhook(name="Zapier", url=url, secret=SECRET, events=events, active=active)
        db.session.add(hook)
        db.session.commit()
        return hook.id


def deliveries(app, **filters):
    from crm.webhooks.models import WebhookDelivery

    with app.app_context():
        rows = db.session.query(WebhookDelivery).filter_by(**filters).order_by(WebhookDelivery.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def test_api_created_lead_is_posted_signed_with_the_api_representation(app, client, receiver):
    make_hook(app, receiver.url, "lead.created,invoice.paid")
    headers = api_token(client)
    resp = client.post("/api/v1/leads", json={"name": "Ana Pop", "email": "ana@example.com"}, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    lead_id = resp.get_json()["id"]

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got["signed"] and got["path"] == "/hooks/crm"
    assert got["headers"]["X-Crm-Event"] == "lead.created"
    assert got["body"]["event"] == "lead.created" and got["body"]["occurred_at"].endswith("Z")
    assert got["body"]["id"] == got["headers"]["X-Crm-Delivery"]
    assert got["body"]["data"] == client.get(f"/api/v1/leads/{lead_id}", headers=headers).get_json()
    [row] = deliveries(app)
    assert (row.status, row.attempts, row.response_code, row.rel_type, row.rel_id) == \
        ("delivered", 1, 200, "leads", lead_id)
    assert row.delivered_at is not None and row.uuid == got["body"]["id"]


def test_a_failing_receiver_is_retried_with_backoff_and_delivered_once(app, client, receiver):
    from crm.webhooks import retry_webhook_deliveries

    make_hook(app, receiver.url)
    receiver.answers = [500]
    resp = client.post("/api/v1/leads", json={"name": "Ion Ionescu"}, headers=api_token(client))
    assert resp.status_code == 201
    [row] = deliveries(app)
    assert (row.status, row.attempts, row.response_code) == ("pending", 1, 500)
    assert "HTTP 500" in row.last_error
    assert row.next_attempt_at > datetime.utcnow() + timedelta(seconds=50)  # the first backoff: a minute

    with app.app_context():
        assert "0 due" in retry_webhook_deliveries()  # not due yet: nothing posted
    assert len(receiver.received) == 1
    later = datetime.utcnow() + timedelta(minutes=2)
    with app.app_context():
        retry_webhook_deliveries(now=later)
        retry_webhook_deliveries(now=later + timedelta(hours=1))  # a delivered one is not posted again
    assert [r["answered"] for r in receiver.received] == [500, 200]
    assert all(r["signed"] for r in receiver.received)
    assert receiver.received[0]["body"] == receiver.received[1]["body"]  # same delivery, same body
    [row] = deliveries(app)
    assert (row.status, row.attempts, row.response_code, row.last_error) == ("delivered", 2, 200, None)


def test_unreachable_receiver_fails_after_the_attempts_allowed(app, client):
    from crm.core import options
    from crm.webhooks import retry_webhook_deliveries

    with app.app_context():
        options.set("webhook_max_attempts", 3)
        db.session.commit()
    with serve(Receiver(SECRET)) as url:
        pass  # the port is closed again: connection refused
    make_hook(app, url)
    assert client.post("/api/v1/leads", json={"name": "Nobody Home"}, headers=api_token(client)).status_code == 201
    moment = datetime.utcnow()
    for hours in (1, 2, 3, 4):
        with app.app_context():
            retry_webhook_deliveries(now=moment + timedelta(hours=hours))
    [row] = deliveries(app)
    assert (row.status, row.attempts, row.response_code) == ("failed", 3, None)
    assert "ConnectionError" in row.last_error


def test_a_refused_change_sends_nothing(app, admin_client, receiver):
    from crm.sales.models.clients import Client

    make_hook(app, receiver.url, "payment.recorded,invoice.paid")
    with app.app_context():
        ids = base_data()
        inv_id = make_invoice(ids, db.session.get(Client, make_client().userid)).id
    form = admin_client.get(f"/admin/invoices/run-action/record_payment/{inv_id}").get_data(as_text=True)
    resp = press(admin_client, "invoices", "record_payment", inv_id, page=form,
                 data={"amount": "5000", "date": TODAY.isoformat(), "paymentmode": str(ids["cash"])})
    assert resp.status_code == 409
    assert deliveries(app) == [] and receiver.received == []
    # the same payment within what is due goes out: recorded, then paid
    press(admin_client, "invoices", "record_payment", inv_id, page=form,
          data={"amount": "298.10", "date": TODAY.isoformat(), "paymentmode": str(ids["cash"])})
    assert [r["body"]["event"] for r in receiver.received] == ["payment.recorded", "invoice.paid"]
    assert receiver.received[1]["body"]["data"]["status"] == 2


def test_a_rolled_back_change_sends_nothing(app, receiver):
    from crm.core import events
    from crm.sales.models.clients import Lead

    written = []

    def fails_after_the_webhook_wrote(name, obj, actor, data):  # subscribed after the webhook one
        from crm.webhooks.models import WebhookDelivery

        written.append(db.session.query(WebhookDelivery).count())
        raise RuntimeError("a later step of the same commit fails")

    make_hook(app, receiver.url)
    events.subscribe(fails_after_the_webhook_wrote)
    try:
        with app.app_context():
            db.session.add(Lead(name="Never saved"))
            with pytest.raises(RuntimeError):
                db.session.commit()  # the event fires and a delivery row is written ...
            db.session.rollback()  # ... and both go
    finally:
        events._subscribers.remove(fails_after_the_webhook_wrote)
    assert written == [1]
    assert deliveries(app) == [] and receiver.received == []


def test_inactive_webhook_and_unchosen_events_send_nothing(app, client, receiver):
    make_hook(app, receiver.url, active=False)
    make_hook(app, receiver.url, "invoice.paid")
    assert client.post("/api/v1/leads", json={"name": "Quiet Lead"}, headers=api_token(client)).status_code == 201
    assert deliveries(app) == [] and receiver.received == []


def test_proposal_accepted_in_the_portal_posts_what_the_api_returns(app, client, receiver):
    from crm.sales.models.documents import Proposal
    from tests.core.test_pdf_documents import build_sales_documents
    from tests.sales.test_portal import SIGNER, png_data_url, post_form

    with app.app_context():
        ids = build_sales_documents()
        p = db.session.get(Proposal, ids["proposal"])
        p.status, p.open_till, p.hash = 4, TODAY + timedelta(days=7), secrets.token_hex(16)
        db.session.commit()
        url = f"/portal/proposal/{p.id}/{p.hash}"
    make_hook(app, receiver.url, "proposal.viewed,proposal.accepted")
    resp = post_form(client, url, {"_action": "accept", **SIGNER, "signature": png_data_url()})
    assert resp.status_code == 302
    assert [r["body"]["event"] for r in receiver.received] == ["proposal.viewed", "proposal.accepted"]
    accepted = receiver.received[1]["body"]["data"]
    api = client.get(f"/api/v1/proposals/{ids['proposal']}", headers=api_token(client)).get_json()
    assert accepted == api and accepted["status"] == 3 and accepted["items"]


# --- the admin screen ------------------------------------------------------------------------

def test_admin_creates_a_webhook_with_events_chosen_from_the_list(app, admin_client, receiver):
    from crm.core import events
    from crm.webhooks.models import Webhook

    page = admin_client.get("/admin/webhooks/new/").get_data(as_text=True)
    for name in events.EVENTS:  # every event, including those other modules registered
        assert f'value="{name}"' in page
    assert 'name="events" required' not in page  # a browser would demand every box
    none_chosen = admin_client.post("/admin/webhooks/new/", data={
        "csrf_token": csrf_from(page), "name": "Accounting", "url": receiver.url, "active": "y"})
    assert none_chosen.status_code == 422 and "Choose at least one event to send." in none_chosen.get_data(as_text=True)
    resp = admin_client.post("/admin/webhooks/new/", data={
        "csrf_token": csrf_from(page), "name": "Accounting", "url": receiver.url,
        "events": ["lead.created", "proposal.accepted"], "active": "y"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    with app.app_context():
        hook = db.session.query(Webhook).one()
        assert hook.event_list == ["lead.created", "proposal.accepted"] and len(hook.secret) >= 32
        assert hook.added_by.email == "admin@test.example"
        hook_id = hook.id
    edit = admin_client.get(f"/admin/webhooks/edit/?id={hook_id}").get_data(as_text=True)
    checked = re.findall(r'<input checked id="events-\d+" name="events" type="checkbox" value="([^"]+)"', edit)
    assert checked == ["lead.created", "proposal.accepted"]


@pytest.mark.parametrize("url, message, api_message", [
    ("ftp://example.com/x", "must start with https://", None),
    ("https:///nohost", "is not a web address with a host name", None),
    ("https://example.com:http/x", "has a port that is not a number", None),
    ("", "This field is required.", "enter the receiver's address"),
])
def test_a_bad_url_is_refused_naming_the_field(app, admin_client, client, url, message, api_message):
    from crm.webhooks.models import Webhook

    page = admin_client.get("/admin/webhooks/new/").get_data(as_text=True)
    resp = admin_client.post("/admin/webhooks/new/", data={
        "csrf_token": csrf_from(page), "name": "Broken", "url": url, "events": ["lead.created"], "active": "y"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in html
    api = client.post("/api/v1/webhooks", json={"name": "Broken", "url": url, "events": "lead.created"},
                      headers=api_token(client))
    assert api.status_code == 422 and api.get_json()["field"] == "url"
    assert (api_message or message) in api.get_json()["error"]
    bad_event = client.post("/api/v1/webhooks", json={"name": "x", "url": "https://example.com/h",
                                                       "events": "lead.exploded"}, headers=api_token(client))
    assert bad_event.status_code == 422 and bad_event.get_json()["field"] == "events"
    with app.app_context():
        assert db.session.query(Webhook).count() == 0


def test_send_test_and_redeliver(app, admin_client, receiver):
    hook_id = make_hook(app, receiver.url, active=False)
    receiver.answers = [503]
    press(admin_client, "webhooks", "send_test", hook_id)
    [got] = receiver.received
    assert got["signed"] and got["body"]["event"] == "webhook.test" and got["body"]["data"]["webhook"] == hook_id
    [row] = deliveries(app)
    assert row.status == "pending" and row.response_code == 503
    page = press(admin_client, "webhooks/deliveries", "redeliver", row.id).get_data(as_text=True)
    assert "queued again" in page
    assert [r["answered"] for r in receiver.received] == [503, 200]
    assert receiver.received[1]["headers"]["X-Crm-Delivery"] == row.uuid
    [row] = deliveries(app)
    assert row.status == "delivered"
    again = press(admin_client, "webhooks/deliveries", "redeliver", row.id).get_data(as_text=True)
    assert "it is not sent twice" in again and len(receiver.received) == 2


@needs_redis
def test_on_redis_the_workers_post_and_retry(redis_app, client, receiver):
    from crm.core.jobs.runner import queue
    from crm.webhooks import retry_webhook_deliveries

    app = redis_app
    make_hook(app, receiver.url)
    receiver.answers = [502]
    assert client.post("/api/v1/leads", json={"name": "Via Redis"}, headers=api_token(client)).status_code == 201
    assert receiver.received == []  # queued for a worker, not posted in the request
    _work(app)
    assert [r["answered"] for r in receiver.received] == [502]
    with app.app_context():
        assert "1 due webhook delivery queued" in retry_webhook_deliveries(now=datetime.utcnow() + timedelta(hours=1))
        assert queue().count == 1
    _work(app)
    assert [r["answered"] for r in receiver.received] == [502, 200] and all(r["signed"] for r in receiver.received)
    [row] = deliveries(app)
    assert (row.status, row.attempts) == ("delivered", 2)


def test_a_receiver_on_a_private_address_is_refused_by_default(app, client, receiver, monkeypatch):
    monkeypatch.delenv("WEBHOOK_ALLOW_PRIVATE_ADDRESSES")
    make_hook(app, receiver.url)

    assert client.post("/api/v1/leads", json={"name": "Ana"}, headers=api_token(client)).status_code == 201

    [row] = deliveries(app)
    assert row.status == "failed" and row.next_attempt_at is None  # a setting to change: not retried
    assert "127.0.0.1, which is not a public address" in row.last_error
    assert receiver.received == []


@pytest.mark.parametrize("url, refused", [
    ("https://8.8.8.8/hooks", False),
    ("http://169.254.169.254/latest/meta-data", True),  # a cloud's metadata service
    ("http://10.1.2.3:8080/x", True),
    ("http://[::1]:9/x", True),
    ("http://localhost:9/x", True),
])
def test_which_destinations_are_private(app, ctx, monkeypatch, url, refused):
    from crm.webhooks.delivery import destination_refusal

    monkeypatch.delenv("WEBHOOK_ALLOW_PRIVATE_ADDRESSES")
    assert (destination_refusal(url) is not None) == refused
