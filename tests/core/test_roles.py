"""The documented roles, walked through every door: the grid (list, details, search, CSV export),
the API (list, read, create), a report and the pipeline board. "View own" shows a person the records
assigned to or created by them, and nobody else's."""
from __future__ import annotations

import json
from datetime import date

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from, login, make_staff

PASSWORD = "pass-1234"


@pytest.fixture
def book(app):
    """Two agents' leads and invoices, an SDR's lead, and staff of every documented role."""
    from crm.sales.models.clients import Client, Lead, LeadStatus, Pipeline
    from crm.sales.models.documents import Invoice

    with app.app_context():
        staff = {role: make_staff(f"{role.lower().replace(' ', '')}@test.example", role)
                 for role in ("SDR", "Sales Agent", "Sales Manager", "Warehouse", "Purchasing", "Finance")}
        colleague = make_staff("colleague@test.example", "Sales Agent")
        pipeline = Pipeline(name="Direct", isdefault=True)
        db.session.add(pipeline)
        db.session.flush()
        status = LeadStatus(name="New", statusorder=1, pipeline=pipeline.id)
        db.session.add(status)
        db.session.flush()

        def lead(name, owner):
            return Lead(name=name, assigned=owner.staffid, status=status.id, pipeline=pipeline.id)

        client = Client(company="Shared Client SRL", addedfrom=staff["Sales Agent"].staffid)
        db.session.add_all([lead("Agent Own Lead", staff["Sales Agent"]), lead("Colleague Lead", colleague),
                            lead("SDR Own Lead", staff["SDR"]), client])
        db.session.flush()
        db.session.add_all([
            Invoice(clientid=client.userid, formatted_number="INV-AGENT", date=date(2026, 1, 5),
                    sale_agent=staff["Sales Agent"].staffid),
            Invoice(clientid=client.userid, formatted_number="INV-COLLEAGUE", date=date(2026, 1, 6),
                    sale_agent=colleague.staffid)])
        db.session.commit()
        ids = {"staff": {r: s.staffid for r, s in staff.items()}, "colleague": colleague.staffid}
        ids["leads"] = {ld.name: ld.id for ld in db.session.query(Lead)}
        ids["invoices"] = {i.formatted_number: i.id for i in db.session.query(Invoice)}
        return ids


def _doors(app, role):
    email = f"{role.lower().replace(' ', '')}@test.example"
    grid = app.test_client()
    login(grid, email, PASSWORD)
    return grid, api_token(app.test_client(), email, PASSWORD)


def _api_names(app, headers, resource, key):
    r = app.test_client().get(f"/api/v1/{resource}?page_size=100", headers=headers)
    return r.status_code, ({row[key] for row in r.get_json()} if r.status_code == 200 else set())


def _export(grid, url):
    r = grid.get(f"/admin/{url}/export/csv/")
    return r.status_code, r.get_data(as_text=True)


def _sees_grid(grid, url):
    r = grid.get(f"/admin/{url}/")
    return r.status_code, r.get_data(as_text=True)


def test_sdr_works_their_own_leads_only_and_exports_nothing(app, book):
    grid, api = _doors(app, "SDR")
    status, page = _sees_grid(grid, "leads")
    assert status == 200 and "SDR Own Lead" in page and "Colleague Lead" not in page and "Agent Own Lead" not in page
    assert "/admin/leads/export/csv" not in page  # no export button
    # details and search: a colleague's lead is not there for them
    assert grid.get(f"/admin/leads/details/?id={book['leads']['SDR Own Lead']}").status_code == 200
    assert grid.get(f"/admin/leads/details/?id={book['leads']['Colleague Lead']}").status_code == 302
    assert "Colleague Lead" not in grid.get("/admin/leads/?search=Colleague").get_data(as_text=True)
    assert "SDR Own Lead" in grid.get("/admin/leads/?search=SDR").get_data(as_text=True)
    status, csv = _export(grid, "leads")
    assert status == 302 and "Colleague Lead" not in csv
    # the API: their leads, 404 for another's, and a new lead of their own
    assert _api_names(app, api, "leads", "name") == (200, {"SDR Own Lead"})
    client = app.test_client()
    assert client.get(f"/api/v1/leads/{book['leads']['Colleague Lead']}", headers=api).status_code == 404
    assert client.patch(f"/api/v1/leads/{book['leads']['Colleague Lead']}", headers=api,
                        json={"name": "Taken"}).status_code == 404
    r = client.post("/api/v1/leads", headers=api, json={"name": "Fresh SDR Lead", "assigned": book["staff"]["SDR"]})
    assert r.status_code == 201, r.get_json()
    assert client.delete(f"/api/v1/leads/{r.get_json()['id']}", headers=api).status_code == 403
    r = client.post(f"/api/v1/leads/{book['leads']['Colleague Lead']}/actions/mark_lost", headers=api,
                    json={"reason": "Mine now"})
    assert r.status_code == 404
    # no invoices, clients or reports
    assert _sees_grid(grid, "invoices")[0] == 403 and _sees_grid(grid, "clients")[0] == 403
    assert _api_names(app, api, "invoices", "formatted_number")[0] == 403
    assert grid.get("/admin/reports/sales/").status_code == 403
    assert grid.get("/admin/reports/leads/").status_code == 403
    board = grid.get("/admin/leads/board/").get_data(as_text=True)
    assert "SDR Own Lead" in board and "Colleague Lead" not in board


def test_sales_agent_sees_own_leads_and_invoices_and_cannot_cancel_or_send_to_anaf(app, book):
    grid, api = _doors(app, "Sales Agent")
    status, page = _sees_grid(grid, "leads")
    assert status == 200 and "Agent Own Lead" in page and "Colleague Lead" not in page
    status, csv = _export(grid, "leads")
    assert status == 200 and "Agent Own Lead" in csv and "Colleague Lead" not in csv and "SDR Own Lead" not in csv
    assert _api_names(app, api, "leads", "name") == (200, {"Agent Own Lead"})
    board = grid.get("/admin/leads/board/").get_data(as_text=True)
    assert "Agent Own Lead" in board and "Colleague Lead" not in board
    # invoices: the ones they sold, read only
    status, page = _sees_grid(grid, "invoices")
    assert status == 200 and "INV-AGENT" in page and "INV-COLLEAGUE" not in page
    assert "INV-COLLEAGUE" not in grid.get("/admin/invoices/?search=INV").get_data(as_text=True)
    assert _api_names(app, api, "invoices", "formatted_number") == (200, {"INV-AGENT"})
    client = app.test_client()
    assert client.get(f"/api/v1/invoices/{book['invoices']['INV-COLLEAGUE']}", headers=api).status_code == 404
    assert client.get(f"/api/v1/invoices/{book['invoices']['INV-AGENT']}", headers=api).status_code == 200
    assert client.post("/api/v1/invoices", headers=api, json={"clientid": 1}).status_code == 403
    assert _export(grid, "invoices")[0] == 302  # invoices are not theirs to export
    for action in ("mark_cancelled", "efactura_send", "record_payment"):
        r = client.post(f"/api/v1/invoices/{book['invoices']['INV-AGENT']}/actions/{action}", headers=api,
                        json={"amount": "1.00", "paymentmode": 1} if action == "record_payment" else {})
        assert r.status_code == 403, (action, r.get_json())
    assert grid.get(f"/admin/documents/invoice/{book['invoices']['INV-COLLEAGUE']}.pdf").status_code == 404
    # their own clients, and no company figures
    assert _api_names(app, api, "clients", "company") == (200, {"Shared Client SRL"})
    assert grid.get("/admin/reports/sales/").status_code == 403
    assert grid.get("/admin/opportunities/pipeline/").status_code == 403


def test_sales_manager_sees_the_whole_sales_book_exports_it_and_reads_the_reports(app, book):
    grid, api = _doors(app, "Sales Manager")
    status, page = _sees_grid(grid, "leads")
    assert status == 200 and {"Agent Own Lead", "Colleague Lead", "SDR Own Lead"} <= set(
        n for n in book["leads"] if n in page)
    status, csv = _export(grid, "invoices")
    assert status == 200 and "INV-AGENT" in csv and "INV-COLLEAGUE" in csv
    assert _api_names(app, api, "leads", "name")[1] == set(book["leads"])
    assert _api_names(app, api, "invoices", "formatted_number") == (200, {"INV-AGENT", "INV-COLLEAGUE"})
    r = app.test_client().post("/api/v1/leads", headers=api, json={"name": "Manager Lead"})
    assert r.status_code == 201
    assert grid.get("/admin/reports/sales/").status_code == 200
    assert grid.get("/admin/reports/leads/").status_code == 200
    board = grid.get("/admin/leads/board/").get_data(as_text=True)
    assert "Agent Own Lead" in board and "Colleague Lead" in board
    r = app.test_client().post(f"/api/v1/invoices/{book['invoices']['INV-AGENT']}/actions/efactura_send",
                               headers=api, json={})
    assert r.status_code == 403  # e-Factura is Finance's
    assert _sees_grid(grid, "warehouse/manage_delivery")[0] == 200  # reads deliveries, as the client asks
    assert _sees_grid(grid, "purchase/purchase_order")[0] == 403


def test_warehouse_works_stock_and_deliveries_and_reads_no_invoice_contract_or_revenue(app, book):
    grid, api = _doors(app, "Warehouse")
    for url in ("warehouse/manage_delivery", "warehouse/inventory_manage", "warehouse/manage_purchase"):
        assert _sees_grid(grid, url)[0] == 200, url
    assert _export(grid, "warehouse/inventory_manage")[0] == 200
    assert grid.get("/admin/warehouse/reports/minimum").status_code == 200
    for url in ("invoices", "contracts", "leads", "clients", "payments"):
        assert _sees_grid(grid, url)[0] == 403, url
    assert grid.get("/admin/reports/sales/").status_code == 403
    assert grid.get("/admin/sales/").status_code == 403
    assert grid.get("/admin/leads/board/").status_code == 403
    assert grid.get(f"/admin/documents/invoice/{book['invoices']['INV-AGENT']}.pdf").status_code == 403
    assert _api_names(app, api, "goods_delivery", "id")[0] == 200
    for resource in ("invoices", "contracts", "leads"):
        assert _api_names(app, api, resource, "id")[0] == 403, resource
    r = app.test_client().post("/api/v1/goods_delivery", headers=api, json={"description": "Picked"})
    assert r.status_code == 201, r.get_json()
    assert app.test_client().delete(f"/api/v1/goods_delivery/{r.get_json()['id']}", headers=api).status_code == 403


def test_purchasing_works_purchasing_documents_and_reads_vendor_payments(app, book):
    grid, api = _doors(app, "Purchasing")
    for url in ("purchase/purchase_order", "purchase/purchase_request", "purchase/vendors",
                "purchase/vendor_payments"):
        assert _sees_grid(grid, url)[0] == 200, url
    assert _export(grid, "purchase/purchase_order")[0] == 200
    for url in ("invoices", "leads", "payments"):
        assert _sees_grid(grid, url)[0] == 403, url
    assert grid.get("/admin/reports/sales/").status_code == 403
    r = app.test_client().post("/api/v1/pur_request", headers=api, json={"pur_rq_name": "Cables"})
    assert r.status_code == 201, r.get_json()
    assert app.test_client().get(f"/api/v1/pur_request/{r.get_json()['id']}", headers=api).status_code == 200
    assert _api_names(app, api, "pur_invoice_payment", "id")[0] == 200
    assert _api_names(app, api, "invoices", "id")[0] == 403
    assert app.test_client().post("/api/v1/pur_invoice_payment", headers=api, json={}).status_code == 403


def test_finance_works_invoices_payments_and_efactura_and_reads_the_revenue(app, book):
    grid, api = _doors(app, "Finance")
    status, page = _sees_grid(grid, "invoices")
    assert status == 200 and "INV-AGENT" in page and "INV-COLLEAGUE" in page
    status, csv = _export(grid, "invoices")
    assert status == 200 and "INV-AGENT" in csv and "INV-COLLEAGUE" in csv
    assert _sees_grid(grid, "payments")[0] == 200
    assert _api_names(app, api, "invoices", "formatted_number") == (200, {"INV-AGENT", "INV-COLLEAGUE"})
    assert app.test_client().get(f"/api/v1/invoices/{book['invoices']['INV-COLLEAGUE']}",
                                 headers=api).status_code == 200
    assert grid.get("/admin/reports/sales/").status_code == 200
    assert grid.get("/admin/reports/leads/").status_code == 403  # no leads: not their report
    assert grid.get("/admin/leads/board/").status_code == 403
    assert _sees_grid(grid, "leads")[0] == 403 and _sees_grid(grid, "warehouse/manage_delivery")[0] == 403
    with app.app_context():
        from crm.core.models.settings import Role

        perms = db.session.query(Role).filter_by(name="Finance").one().permission_set
    assert {"action:invoices.mark_cancelled", "action:invoices.efactura_send", "action:invoices.record_payment",
            "action:pur_invoices.record_payment"} <= perms


def test_admin_holds_every_permission(app, book, admin_client, api_headers):
    status, csv = _export(admin_client, "leads")
    assert status == 200 and all(name in csv for name in book["leads"])
    assert _api_names(app, api_headers, "invoices", "formatted_number")[1] == {"INV-AGENT", "INV-COLLEAGUE"}
    assert admin_client.get("/admin/reports/sales/").status_code == 200
    assert admin_client.get("/admin/roles/").status_code == 200


def test_roles_screen_shows_the_matrix_with_labels(app, admin_client):
    from crm.core.models.settings import Role

    with app.app_context():
        rid = db.session.query(Role).filter_by(name="SDR").one().roleid
    page = admin_client.get(f"/admin/roles/edit/?id={rid}").get_data(as_text=True)
    for text in ("View (own)", "View (all)", "Export", "Leads &amp; opportunities", "Sales orders", "Invoices"):
        assert f">{text}<" in page, text
    assert 'value="leads.view_own" checked' in page and 'value="invoices.view" ' in page
    assert 'value="invoices.view" checked' not in page
    assert "Mark as lost" in page  # an action, by its label
    details = admin_client.get(f"/admin/roles/details/?id={rid}").get_data(as_text=True)
    assert "Leads &amp; opportunities: View (own)" in details
    # saving the matrix keeps what was ticked
    r = admin_client.post(f"/admin/roles/edit/?id={rid}", data={
        "csrf_token": csrf_from(page), "name": "SDR", "permissions": ["leads.view_own", "leads.export"]})
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Role, rid).permission_set == {"leads.view_own", "leads.export"}


def test_every_table_declares_its_module_and_own_columns_that_exist(app):
    from crm.core.permissions import MODULES, module_of
    from crm.core.resources import resource_of
    from crm.models import all_models

    for model in all_models():
        assert module_of(model) in MODULES
        for name in resource_of(model).own:
            rel, _, column = name.rpartition(".")
            target = getattr(model, rel).property.mapper.class_ if rel else model
            assert column in target.__table__.columns, (model.__name__, name)


def test_sync_roles_moves_old_area_keys_to_modules_keeping_the_admins_edits(app, ctx):
    from crm.core import roles
    from crm.core.models.settings import Option, Role
    from crm.core.roles import legacy_default_roles

    old = legacy_default_roles()
    sdr = db.session.query(Role).filter_by(name="SDR").one()
    # as an older version left it: the old defaults, less one the admin took away, plus one added
    sdr.permissions = json.dumps(sorted(old["SDR"] - {"action:leads.mark_junk"} | {"warehouse.view"}))
    db.session.add(Role(name="Auditor", permissions=json.dumps(["sales.view", "finance.view"])))
    db.session.query(Option).filter_by(name=roles.ROLE_KEYS).delete()
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["crm", "sync-roles"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    sdr = db.session.query(Role).filter_by(name="SDR").one().permission_set
    assert {"leads.view_own", "leads.create", "leads.edit", "action:leads.convert_to_opportunity"} <= sdr
    assert not {"invoices.edit", "invoices.view", "clients.export", "sales.view"} & sdr
    assert "action:leads.mark_junk" not in sdr  # removed by the admin: stays removed
    assert {"stock.view", "items.view"} <= sdr  # added by the admin: kept, in module keys
    auditor = db.session.query(Role).filter_by(name="Auditor").one().permission_set
    assert {"invoices.view", "invoices.export", "leads.view", "payments.view", "reports.view"} <= auditor
    assert not {"sales.view", "finance.view", "invoices.edit"} & auditor
    # once only: a second run leaves the roles as they are
    before = {r.name: r.permission_set for r in db.session.query(Role)}
    app.test_cli_runner().invoke(args=["crm", "sync-roles"])
    db.session.expire_all()
    assert {r.name: r.permission_set for r in db.session.query(Role)} == before
