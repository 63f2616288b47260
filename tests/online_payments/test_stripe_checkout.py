"""Pay online with Stripe Checkout, walked end to end over HTTP: the portal's button creates a
Checkout Session in the Stripe sandbox (crm/online_payments/sandbox.py) through the ``stripe`` library, the
client pays on the sandbox's page, the sandbox posts the signed event to /webhooks/stripe, and the
invoice is paid once — however often the event arrives."""
from __future__ import annotations

import json
import re
import threading
from decimal import Decimal

import pytest
import requests
from werkzeug.serving import make_server

from crm.core.extensions import db
from crm.online_payments.sandbox import StripeSandbox, serve, sign
from tests.conftest import api_token
from tests.sales.test_sales_support import api, base_data, get, make_client, make_invoice, set_option

KEY, WHSEC = "sk_test_crmconnect", "whsec_test_secret"


@pytest.fixture(autouse=True)
def _env(app, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.setitem(app.config, "SMTP_URL", None)


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def sandbox(app, live_url):
    box = StripeSandbox(KEY, WHSEC, f"{live_url}/webhooks/stripe")
    server, url = serve(box)
    for name, value in (("stripe_secret_key", KEY), ("stripe_publishable_key", "pk_test_crmconnect"),
                        ("stripe_webhook_secret", WHSEC), ("stripe_api_base", url)):
        set_option(app, name, value)
    box.url = url
    yield box
    server.shutdown()


@pytest.fixture
def ids(app):
    with app.app_context():
        ids = base_data()
        client = make_client()
        inv = make_invoice(ids, client)  # 298.10 RON, unpaid, no payment-mode restriction
        inv.hash = "c" * 32
        db.session.commit()
        ids.update(client=client.userid, invoice=inv.id)
        return ids


def _portal(live_url, ids):
    return f"{live_url}/portal/invoice/{ids['invoice']}/{'c' * 32}"


def _csrf(html):
    from tests.conftest import csrf_from

    return csrf_from(html)


def _payments(app):
    from crm.sales.models.documents import InvoicePayment

    with app.app_context():
        rows = db.session.query(InvoicePayment).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def _checkout(live_url, ids, browser=None):
    """Press Pay online in the portal; returns (browser, the sandbox checkout URL)."""
    browser = browser or requests.Session()
    page = browser.get(_portal(live_url, ids))
    assert 'data-testid="pay-online"' in page.text
    resp = browser.post(f"{_portal(live_url, ids)}/pay", data={"csrf_token": _csrf(page.text)}, allow_redirects=False)
    assert resp.status_code == 303, resp.text[:500]
    return browser, resp.headers["Location"]


def test_pay_online_end_to_end(app, live_url, sandbox, ids):
    from crm.catalog.models import PaymentMode
    from crm.sales.models.documents import Invoice
    from crm.sales.models.payments import PaymentGatewayEvent

    browser, checkout = _checkout(live_url, ids)
    assert checkout.startswith(f"{sandbox.url}/pay/cs_test_")
    [session] = sandbox.sessions.values()
    assert (session["amount_total"], session["currency"], session["mode"]) == (29810, "ron", "payment")
    assert session["metadata"] == {"invoice_id": str(ids["invoice"])}
    assert session["client_reference_id"] == f"invoice-{ids['invoice']}"
    assert session["customer_email"] == "buyer@nordic.ro"
    assert session["success_url"].startswith(f"{_portal(live_url, ids)}/paid")
    assert session["cancel_url"] == f"{_portal(live_url, ids)}/pay-cancelled"
    # the library read the session back from the sandbox in Stripe's shape
    from crm.online_payments import stripe as gateway

    with app.app_context():
        assert gateway.client().v1.checkout.sessions.retrieve(session["id"]).amount_total == 29810

    page = browser.get(checkout)
    assert "298.10 RON" in page.text
    done = browser.post(checkout)  # Pay → webhook → back to the portal
    assert done.url.startswith(_portal(live_url, ids))
    assert "your payment was received" in done.text
    assert re.search(r'data-testid="status">Status:\s*<span class="badge badge-success">Paid', done.text)
    [event] = sandbox.events
    assert event["status"] == 200 and event["event"]["type"] == "checkout.session.completed"

    [payment] = _payments(app)
    intent = sandbox.sessions[session["id"]]["payment_intent"]
    assert (payment.amount, payment.transactionid, payment.invoiceid) == (Decimal("298.10"), intent, ids["invoice"])
    with app.app_context():
        mode = db.session.query(PaymentMode).filter_by(name="Stripe").one()
        assert payment.paymentmode == str(mode.id)
        assert db.session.query(PaymentGatewayEvent).one().paymentid == payment.id
    assert get(app, Invoice, ids["invoice"]).status == 2
    # no button on a paid invoice
    assert 'data-testid="pay-online"' not in browser.get(_portal(live_url, ids)).text

    # Stripe redelivers the event: still one payment
    assert sandbox.redeliver(event["event"]["id"]) == 200
    # two deliveries racing each other, and another event about the same payment
    threads = [threading.Thread(target=sandbox.redeliver, args=(event["event"]["id"],)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    sandbox.send_event("checkout.session.async_payment_succeeded", dict(sandbox.sessions[session["id"]]))
    assert len(_payments(app)) == 1


def test_bad_signature_is_refused_and_nothing_recorded(app, live_url, sandbox, ids):
    from crm.sales.models.payments import PaymentGatewayEvent

    session = {"id": "cs_test_forged", "object": "checkout.session", "payment_status": "paid", "status": "complete",
               "amount_total": 29810, "currency": "ron", "payment_intent": "pi_forged",
               "metadata": {"invoice_id": str(ids["invoice"])}}
    payload = json.dumps({"id": "evt_forged", "object": "event", "type": "checkout.session.completed",
                          "data": {"object": session}}).encode()
    url = f"{live_url}/webhooks/stripe"
    for header in (sign(payload, "whsec_wrong"), "t=1,v1=deadbeef", None):
        resp = requests.post(url, data=payload, headers={"Stripe-Signature": header} if header else {})
        assert resp.status_code == 400 and "Invalid Stripe webhook" in resp.json()["error"]
    # a payload changed after signing
    signature = sign(payload, WHSEC)
    resp = requests.post(url, data=payload.replace(b"29810", b"99999"), headers={"Stripe-Signature": signature})
    assert resp.status_code == 400
    assert not _payments(app)
    with app.app_context():
        assert db.session.query(PaymentGatewayEvent).count() == 0
    # the same payload, correctly signed, is accepted (the route itself is not what refused it)
    resp = requests.post(url, data=payload, headers={"Stripe-Signature": signature})
    assert resp.status_code == 200 and len(_payments(app)) == 1


def test_no_button_when_stripe_is_not_configured_or_not_allowed(app, live_url, ids):
    from crm.sales.models.documents import Invoice

    page = requests.get(_portal(live_url, ids)).text
    assert 'data-testid="download-pdf"' in page and 'data-testid="pay-online"' not in page
    browser = requests.Session()  # posting anyway (a stale page): refused with the reason
    token = _csrf(browser.get(f"{live_url}/login").text)
    resp = browser.post(f"{_portal(live_url, ids)}/pay", data={"csrf_token": token}, allow_redirects=False)
    assert resp.status_code == 409 and "Online payment is not available: Online payment is not set up." in resp.text
    # configured, but the invoice allows bank transfer only
    set_option(app, "stripe_secret_key", KEY)
    set_option(app, "stripe_webhook_secret", WHSEC)
    assert 'data-testid="pay-online"' in requests.get(_portal(live_url, ids)).text
    with app.app_context():
        db.session.get(Invoice, ids["invoice"]).allowed_payment_modes = json.dumps([ids["bank"]])
        db.session.commit()
    assert 'data-testid="pay-online"' not in requests.get(_portal(live_url, ids)).text
    with app.app_context():
        db.session.get(Invoice, ids["invoice"]).allowed_payment_modes = json.dumps([ids["bank"], "stripe"])
        db.session.commit()
    assert 'data-testid="pay-online"' in requests.get(_portal(live_url, ids)).text


def test_provider_errors_and_overpayment(app, live_url, sandbox, ids):
    from crm.sales.models.clients import SalesActivity
    from crm.sales.models.documents import Invoice
    from crm.sales.models.payments import GatewayEventStatus, PaymentGatewayEvent

    # a wrong secret key: the sandbox answers 401 like Stripe; the client is told, nothing breaks
    set_option(app, "stripe_secret_key", "sk_test_wrong")
    browser = requests.Session()
    html = browser.get(_portal(live_url, ids)).text
    resp = browser.post(f"{_portal(live_url, ids)}/pay", data={"csrf_token": _csrf(html)})
    assert resp.status_code == 502 and "Online payment is not available right now" in resp.text
    set_option(app, "stripe_secret_key", KEY)

    # the client opens checkout for 298.10; meanwhile staff record a bank payment of 100
    browser, checkout = _checkout(live_url, ids)
    r = api(app.test_client(), api_token(app.test_client()), "invoices", ids["invoice"], "record_payment",
            amount="100", paymentmode=ids["bank"])
    assert r.status_code == 200
    browser.post(checkout)
    [event] = sandbox.events
    assert event["status"] == 200  # answered, so Stripe stops retrying; the money is flagged for staff
    assert [p.amount for p in _payments(app)] == [Decimal("100.00")]
    with app.app_context():
        row = db.session.query(PaymentGatewayEvent).one()
        assert row.status == GatewayEventStatus.REFUSED.value
        assert "more than what is left to pay on Invoice INV-000001: 198.10 RON" in row.note
        notes = [a.description for a in db.session.query(SalesActivity).filter_by(rel_type="invoice")]
        assert any("NOT recorded" in n and "Refund it in Stripe" in n for n in notes)
    assert get(app, Invoice, ids["invoice"]).status == 3


def test_two_first_deliveries_racing_record_one_payment(app, live_url, sandbox, ids):
    """The same event delivered twice at the same moment, before either was recorded."""
    from crm.sales.models.documents import Invoice
    from crm.sales.models.payments import PaymentGatewayEvent

    session = {"id": "cs_test_race", "object": "checkout.session", "payment_status": "paid", "status": "complete",
               "amount_total": 10000, "currency": "ron", "payment_intent": "pi_race",
               "metadata": {"invoice_id": str(ids["invoice"])}}
    payload = json.dumps({"id": "evt_race", "object": "event", "type": "checkout.session.completed",
                          "data": {"object": session}}).encode()
    barrier, answers = threading.Barrier(4), []

    def deliver():
        barrier.wait()
        answers.append(requests.post(f"{live_url}/webhooks/stripe", data=payload,
                                     headers={"Stripe-Signature": sign(payload, WHSEC)}, timeout=60))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [a.status_code for a in answers] == [200] * 4
    outcomes = sorted(a.json()["outcome"].split(":")[0] for a in answers)
    assert outcomes == ["Payment of 100.00 RON recorded on INV-000001; Partially paid, 198.10 RON left to pay",
                        "already recorded", "already recorded", "already recorded"]
    [payment] = _payments(app)
    assert (payment.amount, payment.transactionid) == (Decimal("100.00"), "pi_race")
    assert get(app, Invoice, ids["invoice"]).status == 3
    with app.app_context():
        assert db.session.query(PaymentGatewayEvent).count() == 1
