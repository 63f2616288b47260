"""The commit pipeline: what a transaction's subscribers write is counted by every stage after
them (roll-ups, history, audit) in the same commit, the stages run in the order the pipeline
states, and building the app again does not run a stage twice."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from crm.app import create_app
from crm.core import events
from crm.core.extensions import db
from tests.conftest import api_token
from tests.reports.test_report_rollup import assert_rollups_fresh
from tests.sales.test_sales_support import TODAY, base_data, make_client


@pytest.fixture
def pays_on_creation():
    """A subscriber that records the whole invoice as paid, by bank transfer, when it is created."""
    modes = {}

    def pay(name, obj, actor, data):
        if name == "invoice.created":
            from crm.sales.actions.payments import add_payment

            add_payment(obj, actor, obj.total, str(modes["bank"]), email_receipt=False)

    events.subscribe(pay)
    yield modes
    events._subscribers.remove(pay)


def test_a_subscriber_that_records_a_payment_leaves_every_rollup_fresh(app, pays_on_creation):
    from crm.sales.actions.invoices import amount_paid
    from crm.sales.models.documents import Invoice, InvoicePayment, InvoiceStatus

    with app.app_context():
        ids = base_data()
        client_id = make_client().userid
    pays_on_creation["bank"] = ids["bank"]
    api = app.test_client()
    r = api.post("/api/v1/invoices", headers=api_token(api), json={
        "clientid": client_id, "date": TODAY.isoformat(), "duedate": (TODAY + timedelta(days=30)).isoformat(),
        "currency": ids["ron"], "sale_agent": ids["agent"],
        "items": [{"description": "Audit", "qty": "2", "rate": "150.00"}]})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        invoice = db.session.get(Invoice, r.get_json()["id"])
        assert invoice.total == Decimal("300.00")
        assert [p.amount for p in db.session.query(InvoicePayment).filter_by(invoiceid=invoice.id)] == [invoice.total]
        assert amount_paid(invoice.id) == invoice.total
        assert invoice.status == InvoiceStatus.PAID.value
        # the invoice, its payment and its line counted in every roll-up (per agent, per client,
        # per item) by the commit that wrote them, as a rebuild from the raw rows counts them
        assert_rollups_fresh()


def test_stages_run_in_the_stated_order_once_however_often_the_app_is_built(app):
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from crm.core import commit_pipeline

    stated = {hook: list(names) for hook, names in commit_pipeline.ORDER.items()}
    create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": None})
    assert {hook: [name for name, _ in stages] for hook, stages in commit_pipeline.stages().items()} == stated
    assert stated["before_commit"][:4] == ["events.announce", "history.write", "audit.write", "rollups.settle"]
    for hook in commit_pipeline.ORDER:  # one listener per session event, one subscriber: the pipeline's
        if hook == commit_pipeline.EVENT:
            assert events._subscribers.count(commit_pipeline.runner(hook)) == 1
        else:
            # (an object lifecycle hook's listener is SQLAlchemy's wrapper around the runner)
            assert len(event_listeners(Session, hook)) == 1
            assert event.contains(Session, hook, commit_pipeline.runner(hook))


def event_listeners(target, hook):
    return list(getattr(target.dispatch, hook)._clslevel.get(target, ()))


def test_a_stage_not_in_the_stated_order_is_refused():
    from crm.core import commit_pipeline

    with pytest.raises(KeyError):
        commit_pipeline.add("before_commit", "newsletter.send", lambda session: None)
