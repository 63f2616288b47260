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
