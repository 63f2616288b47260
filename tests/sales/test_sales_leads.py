"""Lead → customer and opportunity → proposal, through the grid, the API and the CLI."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import api_token
from tests.sales.test_sales_support import TODAY, api, base_data, cli, get, make_client, press


@pytest.fixture
def lead_id(app):
    from crm.sales.models.clients import Lead

    with app.app_context():
        base_data()
        lead = Lead(name="Ion Popescu", title="CEO", company="Popescu Logistic SRL", email="Ion@Popescu.ro",
                    phonenumber="+40 721 000 000", address="Str. Garii 5", city="Iasi", zip="700001",
                    country="Romania", website="popescu.ro", lead_value=Decimal("12500.00"))
        db.session.add(lead)
        db.session.commit()
        return lead.id


def _opportunity(app, lead_id, **kw):
    from crm.core.models.settings import Staff
    from crm.sales.models.clients import Lead

    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        agent = db.session.query(Staff) \
            .filter_by(email="agent@test.example").one()
        opp = Lead(name=lead.name, company=lead.company, email="achizitii@popescu.ro", phonenumber="0232 100",
                   address="Str. Garii 5", city="Iasi", country="Romania", assigned=agent.staffid,
                   lead_value=Decimal("12500.00"), is_opportunity=True, converted_from_lead=lead.id, **kw)
        db.session.add(opp)
        db.session.commit()
        return opp.id


def test_grid_converts_a_lead_to_a_customer_with_a_primary_contact(app, admin_client, lead_id):
    from crm.sales.models.clients import Client, Contact, Lead, LeadActivityLog

    page = admin_client.get("/admin/leads/").get_data(as_text=True)
    assert 'data-action="convert_to_customer"' in page
    html = press(admin_client, "leads", "convert_to_customer", lead_id, page=page).get_data(as_text=True)
    assert "Customer “Popescu Logistic SRL”" in html and "created" in html
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        client = db.session.query(Client).one()
        contact = db.session.query(Contact).one()
        assert (lead.client_id, client.leadid) == (client.userid, lead_id)
        assert lead.date_converted is not None
        assert (client.company, client.phonenumber, client.city, client.address, client.billing_street,
                client.website) == ("Popescu Logistic SRL", "+40 721 000 000", "Iasi", "Str. Garii 5",
                                    "Str. Garii 5", "popescu.ro")
        assert (contact.userid, contact.is_primary, contact.firstname, contact.lastname, contact.email,
                contact.title) == (client.userid, True, "Ion", "Popescu", "ion@popescu.ro", "CEO")
        assert "Converted to customer" in db.session.query(LeadActivityLog).one().description
    # the button is gone; pressing it anyway (or the API) says why
    page = admin_client.get("/admin/leads/").get_data(as_text=True)
    assert 'data-action="convert_to_customer"' not in page
    r = api(admin_client, api_token(admin_client), "leads", lead_id, "convert_to_customer")
    assert r.status_code == 409
    assert r.get_json()["error"] == "“Ion Popescu” is already a customer (Popescu Logistic SRL)."
    with app.app_context():
        assert db.session.query(Client).count() == 1


def test_convert_refuses_without_email_or_with_a_taken_one(app, lead_id):
    from crm.sales.models.clients import Client, Lead

    with app.app_context():
        db.session.get(Lead, lead_id).email = None
        db.session.commit()
    result = cli(app, "leads", lead_id, "convert_to_customer")
    assert result.exit_code == 1 and "has no email; add one to the lead" in result.output
    with app.app_context():
        db.session.get(Lead, lead_id).email = "buyer@nordic.ro"
        make_client()
    result = cli(app, "leads", lead_id, "convert_to_customer")
    assert result.exit_code == 1
    assert "A contact with email buyer@nordic.ro already exists (customer “Nordic Trade SRL”)" in result.output
    with app.app_context():
        assert db.session.query(Client).count() == 1
        assert get(app, Lead, lead_id).client_id is None


def test_create_proposal_from_an_opportunity(app, lead_id):
    from crm.catalog.models import Currency
    from crm.sales.models.clients import Lead, LeadActivityLog
    from crm.sales.models.documents import Proposal

    opp_id = _opportunity(app, lead_id)
    client = app.test_client()
    headers = api_token(client)
    r = api(client, headers, "leads", lead_id, "create_proposal")
    assert r.status_code == 409
    assert "is a lead, not an opportunity; convert it to an opportunity first" in r.get_json()["error"]
    r = api(client, headers, "leads", opp_id, "create_proposal")
    assert r.status_code == 200 and r.get_json()["message"] == "Proposal PRO-000001 created"
    with app.app_context():
        p = db.session.query(Proposal).one()
        opp = db.session.get(Lead, opp_id)
        ron = db.session.query(Currency).filter_by(name="RON").one()
        assert (p.rel_type, p.rel_id, p.opportunity_id, p.status) == ("lead", opp_id, opp_id, 6)
        assert (p.subject, p.proposal_to, p.email, p.phone, p.address, p.city, p.assigned, p.currency) == \
            ("Popescu Logistic SRL", "Popescu Logistic SRL", "achizitii@popescu.ro", "0232 100", "Str. Garii 5",
             "Iasi", opp.assigned, ron.id)
        assert (p.date, p.open_till) == (TODAY, TODAY + timedelta(days=7))
        assert [(li.description, li.qty, li.rate) for li in p.items] == \
            [("Popescu Logistic SRL", Decimal("1.000"), Decimal("12500.00"))]
        assert (p.subtotal, p.total, p.formatted_number) == (Decimal("12500.00"), Decimal("12500.00"), "PRO-000001")
        assert db.session.query(LeadActivityLog).filter_by(leadid=opp_id).one().description == \
            "Proposal PRO-000001 created"


def test_a_customer_opportunity_gets_a_customer_proposal_and_conversion_moves_lead_proposals(app, admin_client,
                                                                                              lead_id):
    from crm.sales.models.clients import Client, Lead
    from crm.sales.models.documents import Proposal

    opp_id = _opportunity(app, lead_id)
    html = press(admin_client, "opportunities", "create_proposal", opp_id).get_data(as_text=True)
    assert "Proposal PRO-000001 created" in html
    # converting the opportunity makes it (and the lead it came from) a customer; its proposal follows
    html = press(admin_client, "opportunities", "convert_to_customer", opp_id).get_data(as_text=True)
    assert "Customer “Popescu Logistic SRL”" in html
    with app.app_context():
        client = db.session.query(Client).one()
        assert db.session.get(Lead, lead_id).client_id == client.userid
        assert db.session.get(Lead, opp_id).client_id == client.userid
        p = db.session.query(Proposal).one()
        assert (p.rel_type, p.rel_id) == ("customer", client.userid)
    press(admin_client, "opportunities", "create_proposal", opp_id)
    with app.app_context():
        p2 = db.session.query(Proposal).filter_by(formatted_number="PRO-000002").one()
        assert (p2.rel_type, p2.rel_id) == ("customer", db.session.query(Client).one().userid)


def test_a_leads_website_is_a_link_only_to_a_web_address(app, admin_client, lead_id):
    """A website typed on a public web form, an import or the API opens as http(s) from the lead's
    page; one naming another scheme (a script) is shown as text, never as a link to click."""
    from crm.sales.models.clients import Lead

    page = admin_client.get(f"/admin/leads/details/?id={lead_id}").get_data(as_text=True)
    assert 'href="http://popescu.ro"' in page
    for hostile in ("javascript://%0aalert(document.cookie)", "JavaScript:alert(1)", "data:text/html,<b>x</b>"):
        with app.app_context():
            db.session.get(Lead, lead_id).website = hostile
            db.session.commit()
        page = admin_client.get(f"/admin/leads/details/?id={lead_id}").get_data(as_text=True)
        site = page.split('data-field="website"', 1)[1].split("</dd>", 1)[0]
        assert "<a" not in site and "alert" in site or "&lt;b&gt;" in site, site
        links = re.findall(r'href="([^"]*)"', page)
        assert not [h for h in links if "alert" in h or h.lower().startswith("data:")], links
