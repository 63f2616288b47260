"""Proposals: staff status changes, conversions to invoice / sales order, contract, and the
client's accept / decline from the portal — through the grid, the API and the CLI."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

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
    make_proposal,
    press,
    set_option,
)


@pytest.fixture
def ids(app):
    with app.app_context():
        ids = base_data()
        ids["client"] = make_client().userid
        return ids


def _proposal(app, ids, **kw):
    from crm.sales.models.clients import Client

    with app.app_context():
        p = make_proposal(ids, db.session.get(Client, ids["client"]), **kw)
        return p.id, p.formatted_number


def test_grid_converts_an_accepted_proposal_to_an_invoice_with_every_line(app, admin_client, ids):
    from crm.sales.models.clients import SalesActivity
    from crm.sales.models.documents import Invoice, Proposal

    pid, number = _proposal(app, ids)
    assert number == "PRO-000001"
    page = admin_client.get("/admin/proposals/").get_data(as_text=True)
    assert 'data-action="convert_to_invoice"' in page
    html = press(admin_client, "proposals", "convert_to_invoice", pid, page=page).get_data(as_text=True)
    assert "Invoice INV-000001 created from proposal PRO-000001" in html
    with app.app_context():
        p = db.session.get(Proposal, pid)
        inv = db.session.query(Invoice).one()
        assert p.invoice_id == inv.id and p.date_converted is not None and p.status == 3
        assert (inv.clientid, inv.currency, inv.sale_agent, inv.status) == (ids["client"], ids["eur"], ids["agent"], 1)
        assert (inv.number, inv.formatted_number, inv.prefix) == (1, "INV-000001", "INV-")
        assert inv.duedate == TODAY + timedelta(days=30)
        for f in ("subtotal", "total_tax", "total", "discount_percent", "discount_total", "discount_type"):
            assert getattr(inv, f) == getattr(p, f), f
        assert inv.total == Decimal("268.29")
        # billing from the proposal's address, shipping from the client
        assert (inv.billing_street, inv.billing_city, inv.shipping_street) == ("Bd. Proposal 9", "Brasov", "Depozit 7")
        copied = [(li.description, li.long_description, li.qty, li.rate, li.unit, li.item_order,
                   [(t.taxname, t.taxrate) for t in li.taxes]) for li in inv.items]
        assert copied == [("Laptop", "14 inch", Decimal("2.000"), Decimal("100.00"), "buc", 1,
                           [("TVA", Decimal("19.00"))]),
                          ("Setup", None, Decimal("1.000"), Decimal("50.50"), "ora", 2, [("TVA", Decimal("19.00"))])]
        assert all(t.rel_type == "invoice" and t.rel_id == inv.id for li in inv.items for t in li.taxes)
        assert len(p.items) == 3  # the source keeps its lines
        history = {(a.rel_type, a.description) for a in db.session.query(SalesActivity)}
        assert ("proposal", "Converted to invoice INV-000001") in history
        assert ("invoice", "Created from proposal PRO-000001") in history
    # converted: the button is gone, and a second conversion is refused with the reason
    page = admin_client.get("/admin/proposals/").get_data(as_text=True)
    assert 'data-action="convert_to_invoice"' not in page
    html = press(admin_client, "proposals", "convert_to_invoice", pid, page=page).get_data(as_text=True)
    assert "Proposal PRO-000001 was already converted to invoice INV-000001." in html
    with app.app_context():
        assert db.session.query(Invoice).count() == 1


def test_only_an_accepted_proposal_converts(app, ids):
    from crm.sales.models.documents import Invoice

    pid, _ = _proposal(app, ids, status=6)
    client = app.test_client()
    headers = api_token(client)
    r = api(client, headers, "proposals", pid, "convert_to_invoice")
    assert r.status_code == 409
    assert r.get_json()["error"] == ("Proposal PRO-000001 is Draft; only an Accepted proposal can be converted "
                                     "to an invoice.")
    r = api(client, headers, "proposals", pid, "convert_to_estimate")
    assert "only an Accepted proposal can be converted to a sales order" in r.get_json()["error"]
    with app.app_context():
        assert db.session.query(Invoice).count() == 0


def test_staff_status_changes_and_their_preconditions(app, ids):
    from crm.sales.models.clients import SalesActivity
    from crm.sales.models.documents import Proposal

    pid, _ = _proposal(app, ids, status=6)
    client = app.test_client()
    headers = api_token(client)
    r = api(client, headers, "proposals", pid, "accept")
    assert r.status_code == 409 and "is Draft; send it (or mark it as sent) first" in r.get_json()["error"]
    with app.app_context():
        db.session.get(Proposal, pid).status = 4  # sent
        db.session.commit()
    assert api(client, headers, "proposals", pid, "mark_revised").status_code == 200
    assert get(app, Proposal, pid).status == 5
    assert api(client, headers, "proposals", pid, "decline").status_code == 200
    r = api(client, headers, "proposals", pid, "decline")
    assert r.status_code == 409 and r.get_json()["error"] == "Proposal PRO-000001 is already Declined."
    r = api(client, headers, "proposals", pid, "accept")
    assert r.status_code == 200 and r.get_json()["message"] == "Proposal PRO-000001 marked Accepted"
    assert api(client, headers, "proposals", pid, "convert_to_invoice").status_code == 200
    r = api(client, headers, "proposals", pid, "decline")
    assert r.status_code == 409 and "was converted to invoice INV-000001; its status can no longer change" \
        in r.get_json()["error"]
    with app.app_context():
        changes = [a.description for a in db.session.query(SalesActivity).filter_by(rel_type="proposal")
                   .order_by(SalesActivity.id)]
        assert changes[:3] == ["Status changed from Sent to Revised", "Status changed from Revised to Declined",
                               "Status changed from Declined to Accepted"]


def test_cli_converts_to_a_sales_order_once(app, ids):
    from crm.sales.models.documents import Estimate, Proposal

    pid, _ = _proposal(app, ids)
    result = cli(app, "proposals", pid, "convert_to_estimate")
    assert result.exit_code == 0, result.output
    assert "Sales order EST-000001 created from proposal PRO-000001" in result.output
    with app.app_context():
        p = db.session.get(Proposal, pid)
        est = db.session.query(Estimate).one()
        assert p.estimate_id == est.id and p.date_converted is not None
        assert (est.status, est.formatted_number, est.clientid, est.sale_agent, est.total) == \
            (4, "EST-000001", ids["client"], ids["agent"], p.total)
        assert [li.description for li in est.items] == ["Laptop", "Setup"]
    result = cli(app, "proposals", pid, "convert_to_invoice")
    assert result.exit_code == 1
    assert "Proposal PRO-000001 was already converted to sales order EST-000001." in result.output


def test_a_proposal_to_a_lead_makes_the_lead_a_customer_first(app, admin_client, ids):
    from crm.sales.models.clients import Client, Contact, Lead
    from crm.sales.models.documents import Invoice, Proposal

    with app.app_context():
        lead = Lead(name="Maria Ionescu", company="Ionescu Design SRL", email="maria@ionescu.ro",
                    phonenumber="0722", city="Cluj", address="Str. Mica 2")
        db.session.add(lead)
        db.session.commit()
        lead_id = lead.id
        pid = make_proposal(ids, rel_type="lead", rel_id=lead_id).id
    html = press(admin_client, "proposals", "convert_to_invoice", pid).get_data(as_text=True)
    assert "Invoice INV-000001 created" in html
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        client = db.session.query(Client).filter_by(company="Ionescu Design SRL").one()
        assert lead.client_id == client.userid and client.leadid == lead_id and lead.date_converted
        assert db.session.query(Contact).filter_by(userid=client.userid, is_primary=True).one().email == \
            "maria@ionescu.ro"
        p = db.session.get(Proposal, pid)
        assert (p.rel_type, p.rel_id) == ("customer", client.userid)
        assert db.session.query(Invoice).one().clientid == client.userid


def test_create_contract_from_an_accepted_proposal(app, ids):
    from crm.sales.models.documents import Contract, ContractStatus

    with app.app_context():
        db.session.add_all([ContractStatus(name="Active", statusorder=2),
                            ContractStatus(name="Draft", statusorder=1, isdefault=True)])
        db.session.commit()
    pid, _ = _proposal(app, ids)
    client = app.test_client()
    headers = api_token(client)
    r = api(client, headers, "proposals", pid, "create_contract")
    assert r.status_code == 200 and "created for Nordic Trade SRL" in r.get_json()["message"]
    with app.app_context():
        c = db.session.query(Contract).one()
        assert (c.proposal_id, c.client, c.subject, c.contract_value, c.status_rel.name) == \
            (pid, ids["client"], "Laptops for the Brasov office", Decimal("268.29"), "Draft")
    r = api(client, headers, "proposals", pid, "create_contract")
    assert r.status_code == 409 and "already has contract" in r.get_json()["error"]


# --- the client portal's functions --------------------------------------------------------------

def test_client_accepts_a_sent_proposal(app, ids):
    from crm.core.models.records import ActivityLog
    from crm.sales.actions.proposals import client_accept
    from crm.sales.models.documents import Invoice, Proposal

    pid, _ = _proposal(app, ids, status=4)
    with app.app_context():
        assert client_accept(db.session.get(Proposal, pid), "Bogdan", "Buyer", "bogdan@nordic.ro",
                             "sig.png", "10.1.2.3") is None  # auto-convert is off by default
    with app.app_context():
        p = db.session.get(Proposal, pid)
        assert (p.status, p.acceptance_firstname, p.acceptance_lastname, p.acceptance_email, p.acceptance_ip,
                p.signature) == (3, "Bogdan", "Buyer", "bogdan@nordic.ro", "10.1.2.3", "sig.png")
        assert p.acceptance_date is not None and p.invoice_id is None
        assert db.session.query(Invoice).count() == 0
        log = db.session.query(ActivityLog).filter_by(rel_type="proposals", rel_id=pid).one()
        assert "Bogdan Buyer accepted PRO-000001 from the portal" in log.description
        from crm.core.registry import ActionError

        with pytest.raises(ActionError, match="already accepted"):
            client_accept(p, "B", "B", "b@x.ro", None, None)


def test_client_accept_converts_when_the_option_says_so(app, ids):
    from crm.sales.actions.proposals import client_accept
    from crm.sales.models.documents import Proposal

    set_option(app, "proposal_auto_convert_to_invoice_on_client_accept", True)
    pid, _ = _proposal(app, ids, status=1)
    with app.app_context():
        invoice = client_accept(db.session.get(Proposal, pid), "Bogdan", "Buyer", "b@nordic.ro", None, None)
        assert invoice.formatted_number == "INV-000001"
    with app.app_context():
        assert db.session.get(Proposal, pid).invoice.total == Decimal("268.29")


def test_client_cannot_accept_or_decline_an_expired_proposal(app, ids):
    from crm.core.registry import ActionError
    from crm.sales.actions.proposals import client_accept, client_decline
    from crm.sales.models.documents import Proposal

    expired = TODAY - timedelta(days=1)
    pid, _ = _proposal(app, ids, status=4, open_till=expired)
    with app.app_context():
        p = db.session.get(Proposal, pid)
        with pytest.raises(ActionError) as err:
            client_accept(p, "B", "B", "b@x.ro", None, None)
        assert err.value.message == (f"This proposal expired on {expired:%d.%m.%Y}; ask CRMConnect Demo SRL "
                                     "to extend it or to send you a new one.")
        with pytest.raises(ActionError, match="expired on"):
            client_decline(p)
    p = get(app, Proposal, pid)
    assert p.status == 4 and p.acceptance_date is None


def test_client_declines(app, ids):
    from crm.core.registry import ActionError
    from crm.sales.actions.proposals import client_accept, client_decline
    from crm.sales.models.clients import SalesActivity
    from crm.sales.models.documents import Proposal

    pid, _ = _proposal(app, ids, status=7)
    with app.app_context():
        client_decline(db.session.get(Proposal, pid), "Bogdan", "Buyer", ip="10.0.0.9")
    with app.app_context():
        assert db.session.get(Proposal, pid).status == 2
        act = db.session.query(SalesActivity).filter_by(rel_type="proposal", rel_id=pid).one()
        assert (act.description, act.full_name) == ("Declined by the client", "Bogdan Buyer")
        with pytest.raises(ActionError, match="was declined; ask CRMConnect Demo SRL for a new one"):
            client_accept(db.session.get(Proposal, pid), "B", "B", "b@x.ro", None, None)


def test_a_proposal_made_in_the_plain_form_is_numbered_when_it_leaves_draft(app, admin_client, ids):
    from crm.sales.models.documents import Proposal

    with app.app_context():
        p = Proposal(subject="Made by hand", date=TODAY, rel_type="customer", rel_id=ids["client"], status=4)
        db.session.add(p)
        db.session.commit()
        pid = p.id
    html = press(admin_client, "proposals", "accept", pid).get_data(as_text=True)
    assert "Proposal PRO-000001 marked Accepted" in html
    assert get(app, Proposal, pid).number == 1
