"""The generated admin: every view lists, filters, exports, shows details; list pages cost the same
number of queries at any page size."""
from __future__ import annotations

import pytest
from flask_admin.contrib.sqla import ModelView

from crm.core.extensions import db
from tests.conftest import QueryCounter
from tests.factories import Factory


def generated_views(app):
    return [v for v in app.extensions["admin"][0]._views if isinstance(v, ModelView)]


def test_every_table_has_a_view(app):
    from crm.models import all_models

    covered = {v.model for v in generated_views(app)}
    assert set(all_models()) <= covered


def test_list_query_count_does_not_grow_with_page_size(app, admin_client):
    views = generated_views(app)
    with app.app_context():
        f = Factory()
        for v in views:
            f.rows(v.model, 60)
        from crm.sales.models.clients import Lead

        for lead in db.session.query(Lead).filter(Lead.id % 2 == 0):
            lead.is_opportunity = True
        db.session.commit()
        engine = db.engine
    failures = []
    for v in views:
        # warm-up: first-request work (rows the process shares, such as the options) is not per-row work
        admin_client.get(f"{v.url}/?page_size=5")
        counts = {}
        for size in (20, 50):
            with QueryCounter(engine) as qc:
                resp = admin_client.get(f"{v.url}/?page_size={size}")
            assert resp.status_code == 200, (v.url, resp.status_code)
            counts[size] = qc.count
        if counts[20] != counts[50]:
            failures.append((v.url, counts))
    assert not failures, failures


def test_status_shows_as_coloured_label_and_money_with_currency(app, admin_client):
    from datetime import date
    from decimal import Decimal

    from crm.catalog.models import Currency
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice

    with app.app_context():
        eur = Currency(name="EUR", symbol="€")
        c = Client(company="Beta GmbH")
        db.session.add_all([eur, c])
        db.session.flush()
        db.session.add(Invoice(clientid=c.userid, currency=eur.id, formatted_number="INV-000042", number=42,
                               date=date(2026, 11, 2), duedate=date(2026, 12, 2), status=2,
                               total=Decimal("1234.50"), subtotal=Decimal("1020.25"), total_tax=Decimal("214.25")))
        db.session.commit()
    html = admin_client.get("/admin/invoices/").get_data(as_text=True)
    assert 'class="badge badge-success" data-code="2">Paid<' in html
    assert "1,234.50 EUR" in html
    assert "Beta GmbH" in html  # the client by name, not by id


def test_filters_search_details_and_streamed_csv(app, admin_client):
    from crm.sales.models.clients import Client

    with app.app_context():
        db.session.add_all([Client(company="Gamma SRL", vat="RO111"), Client(company="Delta SRL", vat="RO222")])
        db.session.commit()
        gid = db.session.query(Client).filter_by(company="Gamma SRL").one().userid
    html = admin_client.get("/admin/clients/?search=Gamma").get_data(as_text=True)
    assert "Gamma SRL" in html and "Delta SRL" not in html
    resp = admin_client.get("/admin/clients/export/csv/")
    assert resp.status_code == 200 and resp.is_streamed
    body = resp.get_data(as_text=True)
    assert "Gamma SRL" in body and "Delta SRL" in body
    assert "Gamma SRL" in admin_client.get(f"/admin/clients/details/?id={gid}").get_data(as_text=True)


def test_foreign_key_filter_by_name(app, admin_client):
    from datetime import date

    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice

    with app.app_context():
        a, b = Client(company="Alpha One"), Client(company="Bravo Two")
        db.session.add_all([a, b])
        db.session.flush()
        db.session.add_all([Invoice(clientid=a.userid, formatted_number="INV-A", date=date(2026, 1, 1)),
                            Invoice(clientid=b.userid, formatted_number="INV-B", date=date(2026, 1, 1))])
        db.session.commit()
    view = next(v for v in generated_views(app) if v.endpoint == "invoices")
    idx = next(i for i, f in enumerate(view._filters) if f.name == "Client")
    html = admin_client.get(f"/admin/invoices/?flt0_{idx}=Bravo").get_data(as_text=True)
    assert "INV-B" in html and "INV-A" not in html


def test_foreign_key_form_fields_are_ajax_lookups(app, admin_client):
    from crm.sales.models.clients import Client

    with app.app_context():
        db.session.add_all([Client(company=f"Client {i}") for i in range(30)])
        db.session.commit()
    html = admin_client.get("/admin/invoices/new/").get_data(as_text=True)
    assert 'data-role="select2-ajax"' in html
    assert "Client 17" not in html  # never a select loaded with the whole table
    resp = admin_client.get("/admin/invoices/ajax/lookup/?name=client&query=Client 1")
    assert resp.status_code == 200
    names = [row[1] for row in resp.get_json()]
    assert "Client 1" in names and len(names) <= 10


@pytest.mark.parametrize("path", ["/admin/leads/statuses/new/", "/admin/leads/pipelines/new/",
                                  "/admin/leads/sources/new/", "/admin/opportunities/statuses/new/",
                                  "/admin/contracts/types/new/", "/admin/contracts/statuses/new/",
                                  "/admin/settings/taxes/new/", "/admin/settings/currencies/new/",
                                  "/admin/settings/payment_modes/new/", "/admin/settings/warehouses/new/",
                                  "/admin/roles/new/"])
def test_settings_screens_have_create_forms(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_admin_adds_a_pipeline_with_a_status_and_leads_use_it_at_once(app, admin_client):
    from tests.conftest import csrf_from

    page = admin_client.get("/admin/leads/pipelines/new/").get_data(as_text=True)
    resp = admin_client.post("/admin/leads/pipelines/new/", data={
        "csrf_token": csrf_from(page), "name": "Enterprise", "pipeline_order": "1"})
    assert resp.status_code == 302
    from crm.sales.models.clients import LeadStatus, Pipeline

    with app.app_context():
        pid = db.session.query(Pipeline).filter_by(name="Enterprise").one().id
    page = admin_client.get("/admin/leads/statuses/new/").get_data(as_text=True)
    resp = admin_client.post("/admin/leads/statuses/new/", data={
        "csrf_token": csrf_from(page), "name": "Demo scheduled", "statusorder": "3", "color": "#ff0000",
        "pipeline_rel": str(pid)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        st = db.session.query(LeadStatus).filter_by(name="Demo scheduled").one()
        assert st.pipeline == pid
        sid = st.id
    # the new status is offered in the lead form's select right away (a small look-up: no typing)
    form = admin_client.get("/admin/leads/new/").get_data(as_text=True)
    assert f'value="{sid}">Demo scheduled</option>' in form


def test_opportunity_created_from_its_own_screen_is_an_opportunity(app, admin_client):
    from crm.sales.models.clients import Lead
    from tests.conftest import csrf_from

    page = admin_client.get("/admin/opportunities/new/").get_data(as_text=True)
    r = admin_client.post("/admin/opportunities/new/", data={"csrf_token": csrf_from(page), "name": "Big deal",
                                                            "lead_value": "25000.00", "probability": "40"})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.query(Lead).filter_by(name="Big deal").one().is_opportunity
    assert "Big deal" in admin_client.get("/admin/opportunities").get_data(as_text=True)
    assert "Big deal" not in admin_client.get("/admin/leads").get_data(as_text=True)


def test_purchase_order_with_inline_lines_from_the_form(app, admin_client):
    from crm.catalog.models import Item
    from crm.purchasing.models import PurchaseOrder, Vendor
    from tests.conftest import csrf_from

    with app.app_context():
        v, item = Vendor(company="Furnizor SA"), Item(description="Cutie carton", commodity_name="Cutie carton")
        db.session.add_all([v, item])
        db.session.commit()
        vid, iid = v.userid, item.id
    page = admin_client.get("/admin/purchase/purchase_order/new/").get_data(as_text=True)
    assert "inline-field" in page
    data = {"csrf_token": csrf_from(page), "vendor_rel": str(vid), "pur_order_name": "Cutii",
            "order_date": "2026-11-20", "status": "1", "order_status": "1",
            "delivery_status": "0", "items-0-item": str(iid), "items-0-quantity": "100", "items-0-unit_price": "2.50"}
    r = admin_client.post("/admin/purchase/purchase_order/new/", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    with app.app_context():
        po = db.session.query(PurchaseOrder).filter_by(pur_order_name="Cutii").one()
        assert po.pur_order_number  # from its series
        assert [(line.item_code, str(line.quantity)) for line in po.items] == [(iid, "100.000")]


def test_create_and_edit_forms_carry_their_own_csrf_token(admin_client):
    import re

    html = admin_client.get("/admin/clients/new/").get_data(as_text=True)
    form = re.search(r'(?s)<form[^>]*class="admin-form[^"]*".*?</form>', html)
    assert form and 'name="csrf_token"' in form.group(0)


def test_editing_a_record_with_a_unique_column_saves(app, admin_client):
    from crm.sales.models.clients import LeadSource
    from tests.conftest import csrf_from

    with app.app_context():
        db.session.add(LeadSource(name="Fair"))
        db.session.commit()
        sid = db.session.query(LeadSource).one().id
    page = admin_client.get(f"/admin/leads/sources/edit/?id={sid}").get_data(as_text=True)
    r = admin_client.post(f"/admin/leads/sources/edit/?id={sid}", data={"csrf_token": csrf_from(page), "name": "Fair"})
    assert r.status_code == 302
    r = admin_client.post("/admin/leads/sources/new/", data={"csrf_token": csrf_from(page), "name": "Fair"})
    assert r.status_code == 422 and "Already exists" in r.get_data(as_text=True)


def test_linked_columns_sort_by_the_name_shown(app, admin_client):
    from datetime import date

    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice

    with app.app_context():
        z, a = Client(company="Zeta SRL"), Client(company="Alpha SRL")
        db.session.add_all([z, a])
        db.session.flush()
        db.session.add_all([Invoice(clientid=z.userid, formatted_number="INV-Z", date=date(2026, 1, 1)),
                            Invoice(clientid=a.userid, formatted_number="INV-A", date=date(2026, 1, 2))])
        db.session.commit()
    view = next(v for v in generated_views(app) if v.endpoint == "invoices")
    idx = [c for c, _ in view._list_columns].index("client")
    html = admin_client.get(f"/admin/invoices/?sort={idx}").get_data(as_text=True)
    assert html.index("Alpha SRL") < html.index("Zeta SRL")
    html = admin_client.get(f"/admin/invoices/?sort={idx}&desc=1").get_data(as_text=True)
    assert html.index("Zeta SRL") < html.index("Alpha SRL")


def test_every_linked_column_of_every_view_sorts(app, admin_client):
    failures = []
    for v in generated_views(app):
        names = [c for c, _ in v._list_columns]
        for i, name in enumerate(names):
            if name in v._sortable_columns and "." not in name and name.endswith(("_rel", "_staff", "client")):
                r = admin_client.get(f"{v.url}/?sort={i}")
                if r.status_code != 200:
                    failures.append((v.url, name, r.status_code))
    assert not failures, failures


def test_values_the_database_cannot_take_are_a_400_never_a_500(app, admin_client):
    """Addresses and forms edited by hand: a NUL character, numbers past INTEGER, text for an id."""
    from crm.sales.models.clients import LeadSource
    from tests.sales.test_sales_support import csrf_from

    page = admin_client.get("/admin/leads/sources/new/").get_data(as_text=True)
    r = admin_client.post("/admin/leads/sources/new/", data={"csrf_token": csrf_from(page), "name": "Fair\x00"})
    assert r.status_code == 400 and "name: must not contain NUL" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(LeadSource).filter(LeadSource.name.like("Fair%")).count() == 0
    huge = 10**20
    for url in (f"/admin/leads/?page={huge}", f"/admin/leads/?flt0_0={huge}", f"/admin/leads/?status={huge}",
                f"/admin/leads/details/?id={huge}", "/admin/leads/details/?id=abc", "/admin/leads/?search=%00"):
        r = admin_client.get(url)
        assert r.status_code < 500, (url, r.status_code)
    r = admin_client.get(f"/admin/leads/?page={huge}")
    assert r.status_code == 400 and "page: there is no such page" in r.get_data(as_text=True)
    r = admin_client.get(f"/admin/leads/?status={huge}")  # (MariaDB compares it as a decimal: no rows)
    assert r.status_code == 200 or (r.status_code == 400 and "not valid for its field" in r.get_data(as_text=True))
    # the API answers the same way, in JSON
    from tests.conftest import api_token

    h = api_token(app.test_client())
    r = app.test_client().get("/api/v1/leads?company=%00", headers=h)
    assert r.status_code == 400 and r.get_json()["error"].startswith("company: must not contain NUL")
    assert admin_client.get("/admin/leads/").status_code == 200  # and the next request is fine


def test_a_number_too_large_for_its_column_is_shown_on_its_field(app, admin_client):
    from crm.sales.models.clients import Lead
    from tests.sales.test_sales_support import csrf_from

    for url, field, value, message in (
            ("/admin/leads/new/", "lead_value", "1" + "0" * 20, "digits before the decimal point"),
            ("/admin/leads/pipelines/new/", "pipeline_order", str(10**12), "Must be between")):
        page = admin_client.get(url).get_data(as_text=True)
        r = admin_client.post(url, data={"csrf_token": csrf_from(page), "name": "Big Deal", field: value})
        html = r.get_data(as_text=True)
        assert r.status_code == 422 and message in html, field
        assert 'value="Big Deal"' in html  # what was typed is kept
    with app.app_context():
        assert db.session.query(Lead).filter_by(name="Big Deal").count() == 0
