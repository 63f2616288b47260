"""The job outbox: a job is written in the action's transaction and dispatched after commit, so a
queue that is down never turns an action into an error; the sweeper (`crm cron dispatch_job_outbox`)
dispatches what is waiting once its time has come, each row exactly once."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from crm.core.extensions import db
from tests.conftest import api_token, at_once
from tests.core.test_jobs import _notes, _work, needs_redis, redis_app  # noqa: F401
from tests.jobs_sample import write_note
from tests.sales.test_sales_support import base_data, make_client, make_invoice

REDIS_DOWN = "redis://127.0.0.1:6399/13"  # nothing listens there
RECEIPT_JOB = "crm.sales.actions.payment_emails:email_payment_receipt"


@pytest.fixture(autouse=True)
def _instance_in_tmp(app, monkeypatch, tmp_path):
    """The receipt's PDF is stored under the instance folder: a temporary one here; no SMTP."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.setitem(app.config, "SMTP_URL", None)


@pytest.fixture
def set_redis(app):
    """Point REDIS_URL somewhere for the test; put back afterwards (before redis_app's own teardown)."""
    before = app.config.get("REDIS_URL")
    yield lambda url: app.config.update(REDIS_URL=url)
    app.config["REDIS_URL"] = before


@pytest.fixture
def invoice(app):
    """An unpaid invoice of 298.10 RON and the id of a payment mode."""
    with app.app_context():
        ids = base_data()
        return make_invoice(ids, make_client()).id, ids["bank"]


def _pay(app, invoice, amount="100.00"):
    client = app.test_client()
    inv_id, mode = invoice
    return client.post(f"/api/v1/invoices/{inv_id}/actions/record_payment", headers=api_token(client),
                       json={"amount": amount, "paymentmode": mode})


def _rows(app):
    from crm.core.models.jobs import JobOutbox

    with app.app_context():
        rows = db.session.query(JobOutbox).order_by(JobOutbox.id).all()
        db.session.expunge_all()
        return rows


def _count(app, model, **filters):
    with app.app_context():
        return db.session.query(model).filter_by(**filters).count()


def _receipts(app):
    from crm.core.models.messaging import EmailOutbox

    return _count(app, EmailOutbox, template="invoice-payment-recorded")


def _sweep(app, minutes=0):
    """`crm cron dispatch_job_outbox`, as the system's cron runs it, ``minutes`` from now."""
    with time_machine.travel(datetime.now().astimezone() + timedelta(minutes=minutes), tick=True):
        result = app.test_cli_runner().invoke(args=["crm", "cron", "dispatch_job_outbox"])
    assert result.exit_code == 0, result.output
    return result.output


def _pay_while_redis_is_down(app, invoice, set_redis):
    from crm.sales.models.documents import InvoicePayment

    set_redis(REDIS_DOWN)
    r = _pay(app, invoice)
    assert r.status_code == 200, r.get_json()
    assert _count(app, InvoicePayment) == 1
    [row] = _rows(app)
    assert (row.func, row.call, row.dispatched_at, row.attempts) == (
        RECEIPT_JOB, ([_payment_id(app)], {}), None, 1)
    assert "Connection" in row.last_error and row.next_attempt_at > datetime.utcnow()
    return row


def _payment_id(app):
    from crm.sales.models.documents import InvoicePayment

    with app.app_context():
        return db.session.query(InvoicePayment.id).scalar()


def test_a_payment_is_recorded_while_redis_is_down_and_its_job_waits(app, invoice, set_redis, admin_client):
    _pay_while_redis_is_down(app, invoice, set_redis)
    assert _receipts(app) == 0
    page = admin_client.get("/admin/jobs/").get_data(as_text=True)
    assert "Redis cannot be reached" in page and RECEIPT_JOB in page and "Connection refused" in page

    # its time has not come yet (backoff); then Redis is still down: it waits longer
    assert "0 waiting job(s) dispatched, 1 still waiting" in _sweep(app)
    assert "0 waiting job(s) dispatched, 1 still waiting (ConnectionError" in _sweep(app, minutes=2)
    [row] = _rows(app)
    assert row.attempts == 2 and row.dispatched_at is None
    assert row.next_attempt_at > datetime.utcnow() + timedelta(minutes=6)  # 5 minutes after the 2nd try

    # without Redis the sweeper runs it here: the receipt is queued once, the row dispatched
    set_redis(None)
    assert "1 waiting job(s) dispatched" in _sweep(app, minutes=10)
    assert _receipts(app) == 1
    [row, sent] = _rows(app)  # the receipt's own job (send it) ran after its commit
    assert row.dispatched_at is not None and row.attempts == 3 and row.last_error is None
    assert sent.func == "crm.core.mail.outbox:send_outbox_message" and sent.dispatched_at is not None
    assert "0 waiting job(s) dispatched, 0 still waiting" in _sweep(app, minutes=60)
    assert _receipts(app) == 1


@needs_redis
def test_once_redis_is_back_the_sweeper_enqueues_the_job_once(redis_app, invoice, set_redis):
    from crm.core.jobs.runner import queue

    app = redis_app
    up = app.config["REDIS_URL"]
    _pay_while_redis_is_down(app, invoice, set_redis)
    set_redis(up)
    with app.app_context():
        assert queue().count == 0

    assert "1 waiting job(s) dispatched" in _sweep(app, minutes=2)
    with app.app_context():
        [queued] = queue().get_jobs()
        assert (queued.func_name, queued.args) == ("crm.sales.actions.payment_emails.email_payment_receipt",
                                                   (_payment_id(app),))
    [row] = _rows(app)
    assert row.dispatched_at is not None and row.attempts == 2
    assert "0 waiting job(s) dispatched" in _sweep(app, minutes=60)
    with app.app_context():
        assert queue().count == 1

    _work(app)  # a worker runs it: the receipt is queued in the email outbox
    assert _receipts(app) == 1


def test_in_process_the_job_runs_after_commit_and_its_row_ends_dispatched(app, invoice):
    r = _pay(app, invoice)
    assert r.status_code == 200, r.get_json()
    assert _receipts(app) == 1
    rows = _rows(app)
    assert [x.func for x in rows] == [RECEIPT_JOB, "crm.core.mail.outbox:send_outbox_message"]
    assert all(x.dispatched_at is not None and x.attempts == 1 and x.last_error is None for x in rows)
    assert "0 waiting job(s) dispatched, 0 still waiting" in _sweep(app, minutes=60)
    assert _receipts(app) == 1


def test_a_rolled_back_transaction_leaves_no_job(app):
    with app.app_context():
        enqueue_note("rolled back")
        db.session.rollback()
        db.session.commit()
        with db.session.begin_nested():
            enqueue_note("kept")
        try:
            with db.session.begin_nested():
                enqueue_note("savepoint rolled back")
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        db.session.commit()
    assert _notes(app) == ["kept"]
    assert [r.call for r in _rows(app)] == [(["kept"], {})]


def enqueue_note(text):
    from crm.core.jobs import enqueue

    enqueue(write_note, text)


def test_a_job_that_fails_in_process_does_not_break_the_request(app, invoice, monkeypatch, admin_client):
    import crm.sales.actions.payment_emails as payment_emails
    from crm.sales.models.documents import InvoicePayment

    def broken(*a, **kw):
        raise RuntimeError("template engine broke")

    monkeypatch.setattr(payment_emails, "render_email", broken)
    r = _pay(app, invoice)
    assert r.status_code == 200, r.get_json()
    assert _count(app, InvoicePayment) == 1 and _receipts(app) == 0
    [row] = _rows(app)
    assert row.dispatched_at is not None and row.last_error == "RuntimeError: template engine broke"
    page = admin_client.get("/admin/jobs/").get_data(as_text=True)
    assert "email_payment_receipt failed: template engine broke" in page


def test_a_job_must_be_found_again_and_take_json_arguments(app):
    from crm.core.jobs import enqueue

    def local_job():
        pass

    with app.app_context():
        with pytest.raises(ValueError, match="not a module-level function"):
            enqueue(local_job)
        with pytest.raises(ValueError, match="must be JSON values"):
            enqueue(write_note, object())
        db.session.rollback()
    assert _rows(app) == []


def _waiting_notes(app, set_redis, texts):
    """Jobs written while Redis was down: pending rows."""
    from crm.core.jobs import enqueue

    set_redis(REDIS_DOWN)
    with app.app_context():
        for text in texts:
            enqueue(write_note, text)
        db.session.commit()
    assert [(r.dispatched_at, r.attempts) for r in _rows(app)] == [(None, 1)] * len(texts)


def _two_sweepers(app):
    from crm.core.jobs.outbox import dispatch_job_outbox

    later = datetime.utcnow() + timedelta(minutes=2)

    def sweep(_, ready):
        ready()
        return dispatch_job_outbox(now=later)

    results, errors = at_once(app, sweep, ["first", "second"])
    assert errors == {}
    return results


def test_two_sweepers_at_once_run_each_waiting_job_once(app, set_redis):
    texts = [f"note {i}" for i in range(6)]
    _waiting_notes(app, set_redis, texts)
    set_redis(None)
    results = _two_sweepers(app)
    assert sum(int(r.split()[0]) for r in results.values()) == len(texts)
    assert sorted(_notes(app)) == texts
    assert all(r.dispatched_at is not None and r.attempts == 2 for r in _rows(app))


@needs_redis
def test_two_sweepers_at_once_enqueue_each_waiting_job_once(redis_app, set_redis):
    from crm.core.jobs.runner import queue

    app = redis_app
    up = app.config["REDIS_URL"]
    texts = [f"note {i}" for i in range(6)]
    _waiting_notes(app, set_redis, texts)
    set_redis(up)
    _two_sweepers(app)
    with app.app_context():
        assert sorted(j.args[0] for j in queue().get_jobs()) == texts
    assert all(r.dispatched_at is not None for r in _rows(app))
    _work(app)
    assert sorted(_notes(app)) == texts


def test_while_redis_is_down_a_sweep_stops_at_the_first_refusal(app, set_redis):
    texts = ["a", "b", "c"]
    _waiting_notes(app, set_redis, texts)  # one commit: the first was tried, the others not held up
    assert len({r.last_error for r in _rows(app)}) == 1
    assert "0 waiting job(s) dispatched, 3 still waiting (ConnectionError" in _sweep(app, minutes=2)
    assert [r.attempts for r in _rows(app)] == [2, 1, 1]  # the others wait for the next sweep

def test_dispatched_rows_are_kept_a_week(app):
    from crm.core.jobs.outbox import dispatch_job_outbox
    from crm.core.models.jobs import JobOutbox

    with app.app_context():
        enqueue_note("old")
        db.session.commit()
        enqueue_note("recent")
        db.session.commit()
        old = db.session.query(JobOutbox).order_by(JobOutbox.id).first()
        old.dispatched_at = datetime.utcnow() - timedelta(days=8)
        db.session.commit()
        dispatch_job_outbox()
    assert [r.call for r in _rows(app)] == [(["recent"], {})]

