"""Sales orders (tblestimates): accept, decline, convert to invoice, the client's decision and the
daily expiry sweep."""
from __future__ import annotations

from datetime import timedelta

import pytest

from crm.core.extensions import db
from tests.conftest import api_token
from tests.sales.test_sales_support import (
    TODAY,
    api,
    base_data,
    cli,
    get,
    make_client,
    make_estimate,
    press,
    set_option,
)


@pytest.fixture
def ids(app):
    with app.app_context():
        ids = base_data()
        ids["client"] = make_client().userid
        return ids


def _estimate(app, ids, **kw):
    from crm.sales.models.clients import Client

    with app.app_context():
        return make_estimate(ids, db.session.get(Client, ids["client"]), **kw).id


def test_grid_accept_then_convert_to_invoice(app, admin_client, ids):
    from crm.sales.models.clients import SalesActivity
    from crm.sales.models.documents import Estimate, Invoice

    eid = _estimate(app, ids)
    html = press(admin_client, "estimates", "accept", eid).get_data(as_text=True)
    assert "Sales order EST-000001 marked Accepted" in html
    page = admin_client.get("/admin/estimates/").get_data(as_text=True)
    assert 'data-action="accept"' not in page and 'data-action="convert_to_invoice"' in page
    html = press(admin_client, "estimates", "convert_to_invoice", eid, page=page).get_data(as_text=True)
    assert "Invoice INV-000001 created from sales order EST-000001" in html
    with app.app_context():
        e = db.session.get(Estimate, eid)
        inv = db.session.query(Invoice).one()
        assert (e.invoiceid, e.status) == (inv.id, 4) and e.invoiced_date is not None
        assert (inv.clientid, inv.currency, inv.sale_agent, inv.total, inv.terms) == \
            (e.clientid, e.currency, e.sale_agent, e.total, "Plata in 30 zile")
        assert (inv.billing_street, inv.billing_city, inv.shipping_street, inv.include_shipping) == \
            ("Str. Estimate 3", "Sibiu", "Depozit 7", True)
        assert [li.description for li in inv.items] == ["Laptop", "Setup"]
        assert "Converted to invoice INV-000001" in [a.description for a in db.session.query(SalesActivity)]
    r = api(admin_client, api_token(admin_client), "estimates", eid, "convert_to_invoice")
    assert r.status_code == 409
    assert r.get_json()["error"] == "Sales order EST-000001 was already converted to invoice INV-000001."
    r = api(admin_client, api_token(admin_client), "estimates", eid, "decline")
    assert "was invoiced (INV-000001); it can no longer change" in r.get_json()["error"]


def test_declined_or_expired_is_not_invoiced_and_draft_cannot_be_accepted(app, ids):
    from crm.sales.models.documents import Invoice

    eid = _estimate(app, ids)
    client = app.test_client()
    headers = api_token(client)
    assert api(client, headers, "estimates", eid, "decline").status_code == 200
    r = api(client, headers, "estimates", eid, "convert_to_invoice")
    assert r.status_code == 409
    assert r.get_json()["error"] == "Sales order EST-000001 is Declined; mark it accepted before invoicing it."
    draft = _estimate(app, ids, status=1)
    r = api(client, headers, "estimates", draft, "accept")
    assert r.status_code == 409 and r.get_json()["error"] == \
        "Sales order EST-DRAFT is Draft; send it (or mark it as sent) first."
    with app.app_context():
        assert db.session.query(Invoice).count() == 0


def test_cli_converting_a_draft_numbers_it(app, ids):
    from crm.sales.models.documents import Estimate

    eid = _estimate(app, ids, status=1)
    result = cli(app, "estimates", eid, "convert_to_invoice")
    assert result.exit_code == 0, result.output
    assert "Invoice INV-000001 created from sales order EST-000001" in result.output
    e = get(app, Estimate, eid)
    assert (e.formatted_number, e.status) == ("EST-000001", 4)


def test_client_accept_converts_by_default(app, ids):
    from crm.sales.actions.estimates import client_accept
    from crm.sales.models.documents import Estimate

    eid = _estimate(app, ids)
    with app.app_context():
        invoice = client_accept(db.session.get(Estimate, eid), "Bogdan", "Buyer", "b@nordic.ro", "s.png", "1.2.3.4")
        assert invoice.formatted_number == "INV-000001"
    e = get(app, Estimate, eid)
    assert (e.status, e.acceptance_email, e.signature, e.invoiceid is not None) == (4, "b@nordic.ro", "s.png", True)


def test_client_accept_without_conversion_and_decline(app, ids):
    from crm.core.registry import ActionError
    from crm.sales.actions.estimates import client_accept, client_decline
    from crm.sales.models.documents import Estimate, Invoice

    set_option(app, "estimate_auto_convert_to_invoice_on_client_accept", False)
    eid, other = _estimate(app, ids), _estimate(app, ids)
    with app.app_context():
        assert client_accept(db.session.get(Estimate, eid), "B", "B", "b@nordic.ro", None, None) is None
        client_decline(db.session.get(Estimate, other), ip="1.1.1.1")
        assert db.session.query(Invoice).count() == 0
        with pytest.raises(ActionError, match="already accepted"):
            client_decline(db.session.get(Estimate, eid))
    assert get(app, Estimate, eid).status == 4 and get(app, Estimate, other).status == 3
    late = _estimate(app, ids, expirydate=TODAY - timedelta(days=2))
    with app.app_context(), pytest.raises(ActionError, match="This sales order expired on"):
        client_accept(db.session.get(Estimate, late), "B", "B", "b@nordic.ro", None, None)


def test_daily_job_expires_sent_orders_past_their_date(app, ids):
    from crm.sales.jobs.sales_jobs import expire_estimates
    from crm.sales.models.clients import SalesActivity
    from crm.sales.models.documents import Estimate

    late = _estimate(app, ids, expirydate=TODAY - timedelta(days=1))
    today = _estimate(app, ids, expirydate=TODAY)
    late_accepted = _estimate(app, ids, status=4, expirydate=TODAY - timedelta(days=1))
    with app.app_context():
        assert expire_estimates() == "1 sales order(s) marked expired"
        assert expire_estimates() == "0 sales order(s) marked expired"  # safe to run twice
        assert db.session.query(SalesActivity).filter_by(rel_type="estimate", rel_id=late).one().description \
            .startswith("Expired")
    assert [get(app, Estimate, i).status for i in (late, today, late_accepted)] == [5, 2, 4]


def test_an_accepted_sales_order_says_accepted_until_it_is_invoiced(app, admin_client, ids):
    import secrets

    from crm.sales.models.documents import Estimate

    eid = _estimate(app, ids)
    with app.app_context():
        e = db.session.get(Estimate, eid)
        e.hash = secrets.token_hex(8)
        db.session.commit()
        portal = f"/portal/estimate/{eid}/{e.hash}"
    h = api_token(admin_client)
    assert api(admin_client, h, "estimates", eid, "accept").status_code == 200

    def seen():
        row = admin_client.get("/admin/estimates/").get_data(as_text=True).split('data-code="4">')[1].split("<")[0]
        details = admin_client.get(f"/admin/estimates/details/?id={eid}").get_data(as_text=True)
        label = admin_client.get(f"/api/v1/estimates/{eid}", headers=h).get_json()["status_label"]
        on_portal = admin_client.get(portal).get_data(as_text=True)
        return row, label, details, on_portal

    row, label, details, on_portal = seen()
    assert (row, label) == ("Accepted", "Accepted")
    assert 'data-code="4">Accepted<' in details and ">Accepted<" in on_portal and "Invoiced" not in on_portal
    assert api(admin_client, h, "estimates", eid, "convert_to_invoice").status_code == 200
    row, label, details, on_portal = seen()
    assert (row, label) == ("Invoiced", "Invoiced")
    assert 'data-code="4">Invoiced<' in details and ">Invoiced<" in on_portal
