"""Facebook Lead Ads: the webhook's challenge and signature, fetching each lead from the Graph API
(the sandbox on loopback), mapping, one lead per leadgen id whatever happens, retries, the screen."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest
from werkzeug.serving import make_server

from crm.core import events
from crm.core.extensions import db
from tests.conftest import csrf_from
from tests.core.test_jobs import _work, needs_redis, redis_app  # noqa: F401  (redis_app is a fixture)

URL = "/webhooks/facebook/leads"
SETTINGS = "/admin/facebookleadsintegration/"
TOKEN, SECRET, VERIFY = "page-token-123", "app-secret-456", "verify-789"

PERSON = [
    {"name": "first_name", "values": ["Ion"]},
    {"name": "last_name", "values": ["Popescu"]},
    {"name": "email", "values": ["ion.popescu@exemplu.ro"]},
    {"name": "phone_number", "values": ["+40721000111"]},
    {"name": "company_name", "values": ["Popescu Logistic SRL"]},
    {"name": "job_title", "values": ["Director achiziții"]},
    {"name": "city", "values": ["Cluj-Napoca"]},
    {"name": "country", "values": ["RO"]},
    {"name": "cate_laptopuri_doriti?", "values": ["25"]},
]


@pytest.fixture
def statuses(app):
    """The default pipeline's first status, and the status Facebook leads are set to get."""
    from crm.sales.models.clients import LeadStatus, Pipeline

    with app.app_context():
        p = Pipeline(name="Direct", isdefault=True)
        db.session.add(p)
        db.session.flush()
        first, fb = LeadStatus(name="New", statusorder=0, pipeline=p.id), LeadStatus(name="Ads", statusorder=1,
                                                                                      pipeline=p.id)
        db.session.add_all([first, fb])
        db.session.commit()
        return {"first": first.id, "facebook": fb.id}


@pytest.fixture
def sandbox(app, statuses):
    from crm.capture.facebook_sandbox import FacebookSandbox
    from crm.core import options

    box = FacebookSandbox(TOKEN, SECRET)
    box.timeout_seconds = 1.5
    box.start()
    app.config["FACEBOOK_GRAPH_TIMEOUT"] = 0.5
    with app.app_context():
        for name, value in {"facebook_app_secret": SECRET, "facebook_verify_token": VERIFY,
                            "facebook_page_access_token": TOKEN, "facebook_graph_url": box.url}.items():
            options.set(name, value)
        db.session.commit()
    yield box
    box.stop()
    app.config.pop("FACEBOOK_GRAPH_TIMEOUT", None)


def _post(client, body: bytes, signature: str | None):
    headers = {"X-Hub-Signature-256": signature} if signature is not None else {}
    return client.post(URL, data=body, headers=headers, content_type="application/json")


def deliver(client, box, *lead_ids):
    body = box.webhook_body(*lead_ids)
    return _post(client, body, box.sign(body))


def _rows(app):
    from crm.capture.facebook_models import FacebookLead

    with app.app_context():
        rows = db.session.query(FacebookLead).order_by(FacebookLead.id).all()
        db.session.expunge_all()
        return rows


def _leads(app):
    from crm.sales.models.clients import Lead

    with app.app_context():
        rows = db.session.query(Lead).order_by(Lead.id).all()
        db.session.expunge_all()
        return rows


def _make_due(app):
    from crm.capture.facebook_models import FacebookLead

    with app.app_context():
        db.session.query(FacebookLead).update({"next_attempt_at": datetime.utcnow() - timedelta(seconds=1)})
        db.session.commit()


def _run(app, func, *args):
    with app.app_context():
        return func(*args)


# --- the verification challenge ---------------------------------------------------------------

def test_challenge_is_echoed_only_for_our_verify_token(app, sandbox):
    client = app.test_client()
    ok = client.get(URL, query_string={"hub.mode": "subscribe", "hub.verify_token": VERIFY,
                                       "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"
    assert ok.mimetype == "text/plain"
    wrong = client.get(URL, query_string={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert wrong.status_code == 403
    assert "hub.verify_token does not match facebook_verify_token" in wrong.get_data(as_text=True)
    mode = client.get(URL, query_string={"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"})
    assert mode.status_code == 403 and "hub.mode" in mode.get_data(as_text=True)


def test_challenge_is_refused_while_no_verify_token_is_set(app, statuses):
    resp = app.test_client().get(URL, query_string={"hub.mode": "subscribe", "hub.verify_token": "",
                                                    "hub.challenge": "5"})
    assert resp.status_code == 403 and "set facebook_verify_token" in resp.get_data(as_text=True)


# --- the signature --------------------------------------------------------------------------------

def test_bad_or_missing_signature_is_refused_and_nothing_is_stored(app, sandbox):
    from crm.capture.facebook_client import signature

    client = app.test_client()
    lead_id = sandbox.add_lead(PERSON)
    body = sandbox.webhook_body(lead_id)
    for sig in (None, "", signature("another-secret", body), "sha1=" + "0" * 40,
                sandbox.sign(body).upper().replace("SHA256", "sha256")):
        resp = _post(client, body, sig)
        assert resp.status_code == 403, sig
        assert resp.get_json()["field"] == "X-Hub-Signature-256"
    tampered = body.replace(lead_id.encode(), b"999")
    assert _post(client, tampered, sandbox.sign(body)).status_code == 403
    assert _rows(app) == [] and _leads(app) == [] and sandbox.reads == 0


# --- fetching, mapping ------------------------------------------------------------------------------

def test_signed_delivery_creates_the_lead_with_mapped_fields(app, sandbox, statuses, admin):
    from crm.core import options
    from crm.core.models.settings import Staff
    from crm.sales.models.clients import LeadActivityLog, LeadSource

    with app.app_context():
        options.set("facebook_lead_status", statuses["facebook"])
        options.set("facebook_lead_assigned", admin.staffid)
        db.session.commit()
        admin_id = db.session.query(Staff.staffid).filter_by(email=admin.email).scalar()
    heard = []

    def listener(name, obj, actor, data):
        heard.append((name, getattr(obj, "email", None)))

    events.subscribe(listener)
    try:
        lead_id = sandbox.add_lead(PERSON)
        resp = deliver(app.test_client(), sandbox, lead_id)
    finally:
        events._subscribers.remove(listener)
    assert resp.status_code == 200 and resp.get_json() == {"received": 1, "duplicates": 0}
    [lead] = _leads(app)
    assert (lead.name, lead.email, lead.phonenumber, lead.company, lead.title, lead.city, lead.country) == (
        "Ion Popescu", "ion.popescu@exemplu.ro", "+40721000111", "Popescu Logistic SRL", "Director achiziții",
        "Cluj-Napoca", "RO")
    assert "cate laptopuri doriti?: 25" in lead.description  # an unmapped question is kept
    assert (lead.status, lead.assigned) == (statuses["facebook"], admin_id)
    assert ("lead.created", "ion.popescu@exemplu.ro") in heard
    with app.app_context():
        assert db.session.get(LeadSource, lead.source).name == "Facebook Lead Ads"
        log = db.session.query(LeadActivityLog).filter_by(leadid=lead.id).one()
        assert log.description.startswith("Lead captured: Facebook Lead Ads")
        assert json.loads(log.additional_data)["leadgen_id"] == lead_id
    [row] = _rows(app)
    assert (row.leadgen_id, row.status, row.leadid, row.attempts) == (lead_id, "fetched", lead.id, 1)


def test_the_mapping_setting_decides_where_fields_go(app, sandbox, statuses):
    from crm.core import options

    with app.app_context():
        options.set("facebook_field_mapping", json.dumps({"full_name": "name", "email": "email",
                                                          "cate_laptopuri_doriti?": "description"}))
        db.session.commit()
    lead_id = sandbox.add_lead([{"name": "full_name", "values": ["Maria Ionescu"]},
                                {"name": "email", "values": ["maria@exemplu.ro"]},
                                {"name": "cate_laptopuri_doriti?", "values": ["10"]},
                                {"name": "city", "values": ["Iași"]}])
    assert deliver(app.test_client(), sandbox, lead_id).status_code == 200
    [lead] = _leads(app)
    assert (lead.name, lead.email, lead.city, lead.status) == ("Maria Ionescu", "maria@exemplu.ro", None,
                                                               statuses["first"])
    assert lead.description == "10\n\ncity: Iași"


def test_map_fields_joins_names_and_keeps_the_first_email():
    from crm.capture.facebook import DEFAULT_MAPPING, lead_values

    values = lead_values("77", [{"name": "first_name", "values": ["Ana"]}, {"name": "last_name", "values": ["Pop"]},
                                {"name": "work_email", "values": ["ana@firma.ro"]},
                                {"name": "email", "values": ["ana@gmail.com"]},
                                {"name": "Budget", "values": ["5000", "EUR"]},
                                {"name": "zip_code", "values": ["4000001234567890"]}], DEFAULT_MAPPING)
    assert values["name"] == "Ana Pop" and values["email"] == "ana@firma.ro"
    assert values["description"] == "Budget: 5000, EUR" and values["zip"] == "400000123456789"
    assert lead_values("78", [{"name": "phone_number", "values": ["+40 1"]}], DEFAULT_MAPPING)["name"] == "+40 1"
    assert lead_values("79", [], DEFAULT_MAPPING)["name"] == "Facebook lead 79"


# --- never twice --------------------------------------------------------------------------------

def test_same_delivery_twice_and_two_entries_with_one_id_make_one_lead(app, sandbox):
    client = app.test_client()
    first, second = sandbox.add_lead(PERSON), sandbox.add_lead(PERSON)
    assert deliver(client, sandbox, first).get_json() == {"received": 1, "duplicates": 0}
    assert deliver(client, sandbox, first).get_json() == {"received": 0, "duplicates": 1}
    # Facebook may announce a lead under two page entries (e.g. a page and its Instagram account).
    payload = json.loads(sandbox.webhook_body(second))
    payload["entry"].append(dict(payload["entry"][0], id="999000111"))
    body = json.dumps(payload).encode()
    assert _post(client, body, sandbox.sign(body)).get_json() == {"received": 1, "duplicates": 1}
    assert len(_leads(app)) == 2 and len(_rows(app)) == 2 and sandbox.reads == 2


def test_two_workers_fetching_the_same_lead_make_one_lead(app, sandbox):
    from crm.capture.facebook import fetch_facebook_lead
    from crm.capture.facebook_models import FacebookLead

    lead_id = sandbox.add_lead(PERSON)
    with app.app_context():
        row = FacebookLead(leadgen_id=lead_id, status="failed", next_attempt_at=datetime.utcnow())
        db.session.add(row)
        db.session.commit()
        row_id = row.id
    sandbox.fail_next("slow", "slow")
    start = threading.Barrier(2)
    results = []

    def worker():
        start.wait()
        results.append(_run(app, fetch_facebook_lead, row_id))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(_leads(app)) == 1, results
    assert sum("already done or being fetched" in r for r in results) == 1
    assert _rows(app)[0].status == "fetched"


def test_a_worker_whose_claim_was_taken_over_writes_nothing(app, sandbox, monkeypatch):
    """A worker that stalled past its lease finds its row taken over and drops its lead."""
    from crm.capture import facebook as capture
    from crm.capture.facebook_models import FacebookLead

    lead_id = sandbox.add_lead(PERSON)
    with app.app_context():
        db.session.add(FacebookLead(leadgen_id=lead_id, status="received"))
        db.session.commit()
    real_fetch = capture.graph.fetch_lead

    def stalled_fetch(leadgen_id, **kw):
        lead = real_fetch(leadgen_id, **kw)
        with app.app_context():  # meanwhile another worker reclaimed the row
            db.session.query(FacebookLead).update({"claim": "another-worker"})
            db.session.commit()
        return lead

    monkeypatch.setattr(capture.graph, "fetch_lead", stalled_fetch)
    result = _run(app, capture.fetch_facebook_lead, _rows(app)[0].id)
    assert "taken over" in result and _leads(app) == []


def test_a_dead_workers_claim_expires_and_the_lead_is_fetched(app, sandbox):
    from crm.capture.facebook import retry_facebook_leads
    from crm.capture.facebook_models import FacebookLead

    lead_id = sandbox.add_lead(PERSON)
    with app.app_context():
        db.session.add(FacebookLead(leadgen_id=lead_id, status="fetching", claim="dead", attempts=1,
                                    claimed_at=datetime.utcnow() - timedelta(minutes=11)))
        db.session.commit()
    assert _run(app, retry_facebook_leads) == "1 Facebook lead(s) due, 1 created"
    assert len(_leads(app)) == 1 and _rows(app)[0].attempts == 2


# --- failures and retries -------------------------------------------------------------------------

def test_graph_500_leaves_the_row_failed_and_the_job_retries_later(app, sandbox):
    from crm.capture.facebook import retry_facebook_leads

    sandbox.fail_next("500")
    lead_id = sandbox.add_lead(PERSON)
    assert deliver(app.test_client(), sandbox, lead_id).status_code == 200
    [row] = _rows(app)
    assert (row.status, row.attempts, row.leadid) == ("failed", 1, None)
    assert "HTTP 500" in row.error and row.next_attempt_at > datetime.utcnow()
    assert _leads(app) == []
    assert _run(app, retry_facebook_leads) == "0 Facebook lead(s) due, 0 created"  # not before its time
    _make_due(app)
    assert _run(app, retry_facebook_leads) == "1 Facebook lead(s) due, 1 created"
    [lead] = _leads(app)
    [row] = _rows(app)
    assert (row.status, row.attempts, row.leadid, row.error) == ("fetched", 2, lead.id, None)


def test_timeout_and_malformed_answers_are_retried_with_growing_delays(app, sandbox):
    from crm.capture.facebook import retry_facebook_leads

    sandbox.fail_next("timeout", "garbage")
    lead_id = sandbox.add_lead(PERSON)
    assert deliver(app.test_client(), sandbox, lead_id).status_code == 200
    [row] = _rows(app)
    assert row.status == "failed" and "did not answer within 0.5 s" in row.error
    first_delay = row.next_attempt_at - datetime.utcnow()
    _make_due(app)
    _run(app, retry_facebook_leads)
    [row] = _rows(app)
    assert row.status == "failed" and "field_data" in row.error and row.attempts == 2
    assert row.next_attempt_at - datetime.utcnow() > first_delay
    assert TOKEN not in row.error
    _make_due(app)
    _run(app, retry_facebook_leads)
    assert len(_leads(app)) == 1 and _rows(app)[0].status == "fetched"


def test_a_refused_token_waits_on_the_screen_with_what_to_do(app, sandbox, admin_client):
    from crm.capture.facebook import retry_facebook_leads
    from crm.core import options

    with app.app_context():
        options.set("facebook_page_access_token", "expired-token")
        db.session.commit()
    lead_id = sandbox.add_lead(PERSON)
    assert deliver(app.test_client(), sandbox, lead_id).status_code == 200
    [row] = _rows(app)
    assert row.status == "error" and "code 190" in row.error and "facebook_page_access_token" in row.error
    _make_due(app)
    assert _run(app, retry_facebook_leads) == "0 Facebook lead(s) due, 0 created"  # it will not fix itself
    html = admin_client.get(SETTINGS).get_data(as_text=True)
    assert 'data-testid="facebook-attention"' in html and "generate a new page access token" in html
    with app.app_context():
        options.set("facebook_page_access_token", TOKEN)
        db.session.commit()
    page = admin_client.get(SETTINGS).get_data(as_text=True)
    resp = admin_client.post(SETTINGS + "retry", data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    assert len(_leads(app)) == 1 and _rows(app)[0].status == "fetched"


# --- the settings screen -----------------------------------------------------------------------------

def test_settings_screen_shows_the_webhook_and_saves_settings(app, admin_client, statuses):
    from crm.core import options

    html = admin_client.get(SETTINGS).get_data(as_text=True)
    assert "http://localhost/webhooks/facebook/leads" in html
    assert "Not receiving leads yet: fill in facebook_app_secret, facebook_verify_token" in html
    form = {"csrf_token": csrf_from(html), "facebook_app_secret": "s3cret", "facebook_verify_token": "tok",
            "facebook_page_access_token": "EAAB", "facebook_graph_url": "ftp://graph", "facebook_graph_version": "21",
            "facebook_field_mapping": '{"full_name": "fullname"}', "facebook_lead_source": "Facebook Lead Ads",
            "facebook_lead_status": "999999", "facebook_lead_assigned": "0"}
    bad = admin_client.post(SETTINGS, data=form)
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    for message in ("facebook_graph_url: expected an http(s) address",
                    "facebook_graph_version: expected a Graph API version such as v21.0",
                    "facebook_field_mapping: &#39;full_name&#39; → &#39;fullname&#39;: not a lead column",
                    "facebook_lead_status: lead status #999999 does not exist"):
        assert message in text, message
    with app.app_context():
        assert options.get("facebook_app_secret") == ""  # nothing saved
    broken_json = admin_client.post(SETTINGS, data=dict(form, facebook_field_mapping='{"email": '))
    assert "facebook_field_mapping: not valid JSON" in broken_json.get_data(as_text=True)
    good = dict(form, facebook_graph_url="https://graph.facebook.com", facebook_graph_version="v22.0",
                facebook_field_mapping='{"full_name": "name", "email": "email"}',
                facebook_lead_status=str(statuses["facebook"]))
    assert admin_client.post(SETTINGS, data=good).status_code == 302
    with app.app_context():
        assert (options.get("facebook_app_secret"), options.get("facebook_graph_version"),
                options.get("facebook_lead_status")) == ("s3cret", "v22.0", statuses["facebook"])
    html = admin_client.get(SETTINGS).get_data(as_text=True)
    assert "Not receiving leads yet" not in html and 'data-testid="facebook-test-lead"' not in html


def test_send_a_test_lead_walks_the_whole_flow(app, sandbox, admin_client):
    """The button subscribes our webhook at the sandbox (challenge), which creates a lead and
    delivers it signed to our live server; the job fetches it back."""
    from crm.sales.models.clients import LeadSource

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"
    try:
        page = admin_client.get(SETTINGS).get_data(as_text=True)
        assert f"http://127.0.0.1:{server.server_port}/webhooks/facebook/leads" in page
        resp = admin_client.post(SETTINGS + "test_lead", data={"csrf_token": csrf_from(page)},
                                 follow_redirects=True)
    finally:
        app.config.pop("PUBLIC_URL", None)
        server.shutdown()
    html = resp.get_data(as_text=True)
    [lead] = _leads(app)
    assert sandbox.subscription["callback_url"].endswith("/webhooks/facebook/leads")
    assert f"received and fetched: lead #{lead.id}" in html
    [row] = _rows(app)
    assert row.leadid == lead.id and lead.email.endswith("@example.ro") and lead.company
    with app.app_context():
        assert db.session.get(LeadSource, lead.source).name == "Facebook Lead Ads"


def test_test_lead_button_reports_a_refused_signature(app, sandbox, admin_client):
    """When Facebook signs with another secret than ours, the button says how the webhook answered."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"
    sandbox.app_secret = "not-our-secret"  # the app secret typed in does not match the app's
    try:
        page = admin_client.get(SETTINGS).get_data(as_text=True)
        html = admin_client.post(SETTINGS + "test_lead", data={"csrf_token": csrf_from(page)},
                                 follow_redirects=True).get_data(as_text=True)
    finally:
        app.config.pop("PUBLIC_URL", None)
        server.shutdown()
    assert "answered 403" in html and "X-Hub-Signature-256" in html
    assert _rows(app) == [] and _leads(app) == []


def test_a_lead_that_cannot_be_created_says_why_and_is_created_once_fixed(app, sandbox, statuses, admin_client):
    from crm.core import options

    with app.app_context():
        options.set("facebook_lead_status", 987654)  # e.g. a status deleted since it was chosen
        db.session.commit()
    lead_id = sandbox.add_lead(PERSON)
    assert deliver(app.test_client(), sandbox, lead_id).status_code == 200
    [row] = _rows(app)
    assert row.status == "error" and "Lead status #987654 does not exist" in row.error
    assert "/admin/facebookleadsintegration" in row.error and _leads(app) == []
    with app.app_context():
        options.set("facebook_lead_status", statuses["facebook"])
        db.session.commit()
    page = admin_client.get(SETTINGS).get_data(as_text=True)
    admin_client.post(SETTINGS + "retry", data={"csrf_token": csrf_from(page)})
    [lead] = _leads(app)
    assert lead.status == statuses["facebook"] and _rows(app)[0].leadid == lead.id


def test_signed_but_malformed_bodies_store_nothing(app, sandbox):
    client = app.test_client()
    for body in (b"not json", b"[1, 2]", b"\xff\xfe"):
        resp = _post(client, body, sandbox.sign(body))
        assert resp.status_code == 400 and "JSON object" in resp.get_json()["error"]
    assert _post(client, b'{"entry": 5}', sandbox.sign(b'{"entry": 5}')).get_json() == {"received": 0,
                                                                                       "duplicates": 0}
    odd = json.dumps({"object": "page", "entry": [
        {"id": "1", "changes": [{"field": "feed", "value": {"leadgen_id": "55"}}]},
        {"id": "1", "changes": [{"field": "leadgen", "value": {"leadgen_id": "bad id!"}}]},
        {"id": "1", "changes": [{"field": "leadgen", "value": {"leadgen_id": "66", "created_time": 10 ** 30}}]},
        {"id": "2", "changes": 7}, "junk"]}).encode()
    resp = _post(client, odd, sandbox.sign(odd))
    assert resp.get_json() == {"received": 1, "duplicates": 0}  # only the well-formed leadgen change
    [row] = _rows(app)
    assert (row.leadgen_id, row.created_time, row.status) == ("66", None, "error")  # unknown to Graph: code 100


@needs_redis
def test_with_a_worker_the_webhook_answers_before_the_lead_is_fetched(redis_app, sandbox):
    app = redis_app
    lead_id = sandbox.add_lead(PERSON)
    assert deliver(app.test_client(), sandbox, lead_id).get_json() == {"received": 1, "duplicates": 0}
    assert [r.status for r in _rows(app)] == ["received"] and sandbox.reads == 0 and _leads(app) == []
    _work(app)
    [lead] = _leads(app)
    assert lead.name == "Ion Popescu" and _rows(app)[0].status == "fetched"
