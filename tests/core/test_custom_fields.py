"""Custom fields: defined in Settings, then on the generated forms, grids, details, CSV and API of
leads, clients, proposals and invoices with no per-table code."""
from __future__ import annotations

import re

import pytest

from crm.core.extensions import db
from tests.conftest import QueryCounter, csrf_from


def form_errors(resp) -> str:
    """The error messages of a re-rendered admin form (for assertion messages)."""
    html = resp.get_data(as_text=True)
    found = re.findall(r'(?:invalid-feedback|alert-danger)[^>]*>([\s\S]{0,400}?)</div>', html)
    return " | ".join(re.sub(r"<[^>]+>|\s+", " ", f).strip() for f in found)


def define(fieldto, name, type_="input", **kw):
    from crm.core.models.settings import CustomField

    f = CustomField(fieldto=fieldto, name=name, type=type_, **kw)
    db.session.add(f)
    db.session.commit()
    return f.id


@pytest.fixture
def lead_fields(app):
    with app.app_context():
        define("leads", "Budget", "number", required=True, show_on_table=True, field_order=1)
        define("leads", "Industry", "select", options="Retail, Logistics, Pharma", show_on_table=True, field_order=2)
        define("leads", "Channels", "multiselect", options="Email,Phone,Visit", field_order=3)
        define("leads", "Follow up", "date", field_order=4)
        define("leads", "VIP", "checkbox", field_order=5)
        define("leads", "Notes for sales", "textarea", field_order=6)
        define("leads", "Retired field", "input", active=False)


def test_admin_defines_a_field_in_settings_and_the_slug_is_made_from_its_name(app, admin_client):
    from crm.core.models.settings import CustomField

    page = admin_client.get("/admin/custom_fields/new/").get_data(as_text=True)
    for value in ("input", "number", "textarea", "date", "select", "multiselect", "checkbox"):
        assert f'value="{value}"' in page
    r = admin_client.post("/admin/custom_fields/new/", data={
        "csrf_token": csrf_from(page), "fieldto": "leads", "name": "Budget range (EUR)", "type": "select",
        "options": "<10k, 10k-50k, >50k", "field_order": "1", "active": "y", "show_on_table": "y"})
    assert r.status_code == 302, form_errors(r)
    # a select without choices is refused, naming what is missing
    r = admin_client.post("/admin/custom_fields/new/", data={
        "csrf_token": csrf_from(page), "fieldto": "leads", "name": "Budget range (EUR)", "type": "select",
        "options": "", "field_order": "2", "active": "y"}, follow_redirects=True)
    assert "needs its choices" in r.get_data(as_text=True)
    with app.app_context():
        fields = db.session.query(CustomField).all()
        assert [(f.slug, f.type) for f in fields] == [("budget_range_eur", "select")]
    with app.app_context():  # same name again on the same table: a distinct slug
        define("leads", "Budget range (EUR)", options="a")
        define("customers", "Budget range (EUR)")
        assert sorted((f.fieldto, f.slug) for f in db.session.query(CustomField)) == [
            ("customers", "budget_range_eur"), ("leads", "budget_range_eur"), ("leads", "budget_range_eur_2")]


def test_lead_form_shows_each_type_validates_and_saves_with_the_row(app, admin_client, lead_fields):
    from crm.core.models.settings import CustomFieldValue
    from crm.sales.models.clients import Lead

    page = admin_client.get("/admin/leads/new/").get_data(as_text=True)
    assert 'name="cf_budget" type="number"' in page or ('name="cf_budget"' in page and 'type="number"' in page)
    assert '<select' in page and 'name="cf_industry"' in page and 'multiple' in page
    assert 'name="cf_follow_up"' in page and 'type="date"' in page
    assert 'type="checkbox"' in page and 'name="cf_vip"' in page
    assert '<textarea' in page and 'name="cf_notes_for_sales"' in page
    assert "cf_retired_field" not in page  # inactive fields are not offered
    token = csrf_from(page)
    base = {"csrf_token": token, "name": "Ana Pop", "company": "Pop SRL"}

    # required field missing, a number that is not one, a choice that is not offered: refused, nothing saved
    for bad, message in (({}, "Budget is required."), ({"cf_budget": "a lot"}, "Budget must be a number"),
                         ({"cf_budget": "100", "cf_industry": "Mining"}, "Industry must be one of"),
                         ({"cf_budget": "100", "cf_follow_up": "31/12/2026"}, "Follow up must be a date")):
        r = admin_client.post("/admin/leads/new/", data={**base, **bad})
        assert r.status_code == 422 and message in r.get_data(as_text=True), (bad, message)
    with app.app_context():
        assert db.session.query(Lead).count() == 0 and db.session.query(CustomFieldValue).count() == 0

    r = admin_client.post("/admin/leads/new/", data={
        **base, "cf_budget": "12500.50", "cf_industry": "Logistics", "cf_channels": ["Visit", "Email"],
        "cf_follow_up": "2026-12-31", "cf_vip": "y", "cf_notes_for_sales": "Call after 10"})
    assert r.status_code == 302, form_errors(r)
    with app.app_context():
        lead = db.session.query(Lead).one()
        lead_id = lead.id
        stored = {v.field.slug: v.value for v in db.session.query(CustomFieldValue).filter_by(relid=lead.id)}
    assert stored == {"budget": "12500.50", "industry": "Logistics", "channels": "Email, Visit",
                      "follow_up": "2026-12-31", "vip": "1", "notes_for_sales": "Call after 10"}

    # the edit form shows the stored values; clearing an optional one deletes it
    page = admin_client.get(f"/admin/leads/edit/?id={lead_id}").get_data(as_text=True)
    assert 'value="12500.50"' in page and 'value="2026-12-31"' in page
    r = admin_client.post(f"/admin/leads/edit/?id={lead_id}", data={
        **base, "csrf_token": csrf_from(page), "cf_budget": "9000", "cf_industry": "", "cf_channels": ["Phone"]})
    assert r.status_code == 302, form_errors(r)
    with app.app_context():
        stored = {v.field.slug: v.value for v in db.session.query(CustomFieldValue).filter_by(relid=lead_id)}
    assert stored == {"budget": "9000", "channels": "Phone", "vip": "0"}

    details = admin_client.get(f"/admin/leads/details/?id={lead_id}").get_data(as_text=True)
    assert "Budget" in details and "9000" in details and "Channels" in details and "Phone" in details


def test_grid_shows_fields_marked_for_the_table_with_one_query_for_the_page(app, admin_client, lead_fields):
    from crm.core.custom_fields import save
    from crm.core.models.settings import CustomField
    from crm.sales.models.clients import Lead

    with app.app_context():
        budget = db.session.query(CustomField).filter_by(slug="budget").one()
        industry = db.session.query(CustomField).filter_by(slug="industry").one()
        for i in range(60):
            lead = Lead(name=f"Lead {i:02d}", company=f"Company {i}")
            db.session.add(lead)
            save(lead, {budget: str(1000 + i), industry: "Pharma" if i % 2 else None})
        db.session.commit()
        engine = db.engine
    counts = {}
    admin_client.get("/admin/leads/?page_size=5")  # the process reads the field definitions once, shared after
    for size in (20, 50):
        with QueryCounter(engine) as qc:
            r = admin_client.get(f"/admin/leads/?page_size={size}")
        assert r.status_code == 200
        counts[size] = qc.count
        html = r.get_data(as_text=True)
    assert counts[20] == counts[50], counts
    assert 'col-cf_budget' in html and 'col-cf_industry' in html
    assert "1059" in html and "1010" in html and "Pharma" in html
    assert "col-cf_channels" not in html  # not marked show_on_table

    csv = admin_client.get("/admin/leads/export/csv/").get_data(as_text=True)
    header, *rows = csv.strip().splitlines()
    assert "Budget" in header and "Channels" in header
    assert any("Lead 59" in row and "1059" in row and "Pharma" in row for row in rows)


@pytest.mark.parametrize("resource,fieldto", [("leads", "leads"), ("clients", "customers"),
                                              ("proposals", "proposal"), ("invoices", "invoice")])
def test_api_reads_and_writes_custom_fields_validated(app, api_headers, resource, fieldto):
    from datetime import date

    from crm.catalog.models import Currency
    from crm.sales.models.clients import Client

    client = app.test_client()
    with app.app_context():
        define(fieldto, "PO reference", "input", required=True)
        define(fieldto, "Priority", "select", options="Low,High")
        define(fieldto, "Weight kg", "number")
        cur = Currency(name="RON", symbol="lei", isdefault=True)
        cust = Client(company="Nordic SRL")
        db.session.add_all([cur, cust])
        db.session.commit()
        cust_id = cust.userid
    body = {"leads": {"name": "Ion"}, "clients": {"company": "Acme SRL"},
            "proposals": {"subject": "Racks", "date": date.today().isoformat()},
            "invoices": {"clientid": cust_id, "date": date.today().isoformat()}}[resource]
    url = f"/api/v1/{resource}"

    def refused(resp, field):
        assert 400 <= resp.status_code < 500, resp.get_json()
        assert resp.get_json()["field"] == field, resp.get_json()

    before = client.get(url, headers=api_headers).headers["X-Total-Count"]
    refused(client.post(url, json=body, headers=api_headers), "custom_fields.po_reference")  # required
    refused(client.post(url, json={**body, "custom_fields": {"po_reference": "PO-1", "colour": "red"}},
                        headers=api_headers), "custom_fields.colour")  # unknown slug
    refused(client.post(url, json={**body, "custom_fields": {"po_reference": "PO-1", "priority": "Urgent"}},
                        headers=api_headers), "custom_fields.priority")
    refused(client.post(url, json={**body, "custom_fields": {"po_reference": "PO-1", "weight_kg": "heavy"}},
                        headers=api_headers), "custom_fields.weight_kg")
    assert client.get(url, headers=api_headers).headers["X-Total-Count"] == before  # nothing half-written

    r = client.post(url, json={**body, "custom_fields": {"po_reference": "PO-77", "weight_kg": 12.5}},
                    headers=api_headers)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["custom_fields"] == {"po_reference": "PO-77", "priority": None, "weight_kg": "12.5"}
    obj_id = r.get_json()["id" if resource != "clients" else "userid"]
    r = client.patch(f"{url}/{obj_id}", json={"custom_fields": {"priority": "High"}}, headers=api_headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["custom_fields"] == {"po_reference": "PO-77", "priority": "High", "weight_kg": "12.5"}
    refused(client.patch(f"{url}/{obj_id}", json={"custom_fields": {"po_reference": ""}}, headers=api_headers),
            "custom_fields.po_reference")
    assert client.get(f"{url}/{obj_id}", headers=api_headers).get_json()["custom_fields"]["po_reference"] == "PO-77"


def test_api_list_loads_custom_fields_of_a_page_in_one_query(app, api_headers):
    from crm.core.custom_fields import save
    from crm.core.models.settings import CustomField
    from crm.sales.models.clients import Lead

    with app.app_context():
        define("leads", "Budget", "number")
        budget = db.session.query(CustomField).one()
        for i in range(40):
            lead = Lead(name=f"Lead {i}")
            db.session.add(lead)
            save(lead, {budget: str(i)})
        db.session.commit()
        engine = db.engine
    client = app.test_client()
    counts = {}
    client.get("/api/v1/leads?page_size=5", headers=api_headers)  # the definitions: read once by the process
    for size in (10, 40):
        with QueryCounter(engine) as qc:
            r = client.get(f"/api/v1/leads?page_size={size}", headers=api_headers)
        counts[size] = qc.count
    assert counts[10] == counts[40], counts
    assert {row["name"]: row["custom_fields"]["budget"] for row in r.get_json()}["Lead 39"] == "39"
