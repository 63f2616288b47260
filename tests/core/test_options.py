"""Options: typed, documented defaults, database values, environment override, settings screen."""
from __future__ import annotations

from crm.core import options
from crm.core.extensions import db
from tests.conftest import csrf_from


def test_documented_defaults(ctx):
    assert options.get("invoice_prefix") == "INV-"
    assert options.get("next_invoice_number") == 1
    assert options.get("number_padding_prefixes") == 6
    assert options.get("estimate_auto_convert_to_invoice_on_client_accept") is True
    assert options.get("proposal_auto_convert_to_invoice_on_client_accept") is False
    assert options.get("invoice_due_after") == 30
    assert options.get("auto_create_goods_delivery") is False
    assert options.get("pur_order_prefix") == "#PO"


def test_database_then_environment(ctx, monkeypatch):
    options.set("invoice_prefix", "FCT-")
    options.set("invoice_due_after", "15")
    db.session.commit()
    assert options.get("invoice_prefix") == "FCT-" and options.get("invoice_due_after") == 15
    monkeypatch.setenv("INVOICE_PREFIX", "ENV-")
    monkeypatch.setenv("AUTO_CREATE_GOODS_DELIVERY", "1")
    assert options.get("invoice_prefix") == "ENV-"
    assert options.get("auto_create_goods_delivery") is True
    assert options.source("invoice_prefix") == "environment"


def test_bad_value_is_refused_with_the_option_named(ctx):
    import pytest

    with pytest.raises(options.OptionError, match="invoice_due_after: expected a whole number"):
        options.set("invoice_due_after", "soon")


def test_settings_screen_edits_take_effect_immediately(app, admin_client):
    page = admin_client.get("/admin/billing/config").get_data(as_text=True)
    assert 'name="invoice_prefix"' in page and 'value="INV-"' in page
    r = admin_client.post("/admin/billing/config", data={
        "csrf_token": csrf_from(page), "invoice_prefix": "FV-", "invoice_due_after": "10",
        "estimate_auto_convert_to_invoice_on_client_accept": "1"})
    assert r.status_code == 302
    with app.app_context():
        assert options.get("invoice_prefix") == "FV-" and options.get("invoice_due_after") == 10
        assert options.get("proposal_auto_convert_to_invoice_on_client_accept") is False
    r = admin_client.post("/admin/billing/config", data={"csrf_token": csrf_from(page), "invoice_prefix": "X-",
                                                          "invoice_due_after": "ten"})
    assert r.status_code == 422
    assert "invoice_due_after: expected a whole number" in r.get_data(as_text=True)
    with app.app_context():
        assert options.get("invoice_prefix") == "FV-"  # nothing half-written


def test_options_through_the_api(app):
    from tests.conftest import api_token

    client = app.test_client()
    h = api_token(client)
    r = client.post("/api/v1/options", json={"name": "invoice_prefix", "value": "API-"}, headers=h)
    assert r.status_code == 201
    with app.app_context():
        assert options.get("invoice_prefix") == "API-"


def test_api_refuses_a_badly_typed_option(app):
    from tests.conftest import api_token

    client = app.test_client()
    h = api_token(client)
    r = client.post("/api/v1/options", json={"name": "invoice_due_after", "value": "soon"}, headers=h)
    assert r.status_code == 422 and r.get_json()["field"] == "value"
    assert "expected a whole number" in r.get_json()["error"]
    with app.app_context():
        assert options.get("invoice_due_after") == 30


def _option_reads(statements) -> int:
    return sum("FROM tbloptions" in s and s.lstrip().upper().startswith("SELECT") for s in statements)


def test_options_are_read_once_for_the_transactions_of_a_process_and_a_change_is_seen_at_its_commit(ctx):
    from tests.conftest import QueryCounter

    options.set("invoice_due_after", "20")
    db.session.commit()
    with QueryCounter(db.engine) as q:
        for _ in range(3):  # three transactions
            assert options.get("invoice_due_after") == 20
            db.session.commit()
    assert _option_reads(q.statements) <= 1
    options.set("invoice_due_after", "25")
    assert options.get("invoice_due_after") == 25  # the transaction that changed it sees its change
    db.session.commit()
    assert options.get("invoice_due_after") == 25  # and, from its commit on, every transaction
    db.session.rollback()
    options.set("invoice_due_after", "40")
    db.session.rollback()  # a change rolled back is not seen
    assert options.get("invoice_due_after") == 25


def test_an_option_changed_by_another_process_is_seen_within_the_shared_time(ctx, monkeypatch):
    from crm.core import shared
    from crm.core.models.settings import Option

    assert options.get("invoice_prefix") == "INV-"
    db.session.commit()
    with db.engine.begin() as other:  # another process: this one's sessions do not see it happen
        other.execute(Option.__table__.insert().values(name="invoice_prefix", value="OTH-", autoload=True))
    now = shared.time.monotonic()
    monkeypatch.setattr(shared.time, "monotonic", lambda: now + shared.SECONDS + 0.01)
    assert options.get("invoice_prefix") == "OTH-"


def test_number_counters_are_read_by_the_transaction_that_asks_not_shared(ctx):
    from crm.core.models.settings import Option

    assert options.get("next_invoice_number") == 1
    db.session.commit()
    with db.engine.begin() as other:  # another process takes numbers
        other.execute(Option.__table__.insert().values(name="next_invoice_number", value="7", autoload=True))
    assert options.get("next_invoice_number") == 7
    assert options.source("next_invoice_number") == "database"
