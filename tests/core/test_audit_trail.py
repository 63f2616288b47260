"""The audit trail: every change made through a generic door (admin grid, API, CLI) is recorded with
who, when, which record, the door and each field's old → new value; actions keep their activity line."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from crm.core.extensions import db
from tests.conftest import ADMIN_EMAIL, api_token, csrf_from, make_staff
from tests.forms import form_of


def trail(app, table=None, record_id=None, **where):
    """The audit rows (oldest first) of a record, as dicts with their changes decoded."""
    from crm.core.models.audit import AuditLog

    with app.app_context():
        q = select(AuditLog).order_by(AuditLog.id)
        if table:
            q = q.where(AuditLog.table_name == table)
        if record_id is not None:
            q = q.where(AuditLog.record_id == record_id)
        for key, value in where.items():
            q = q.where(getattr(AuditLog, key) == value)
        return [{"staff": r.staff.email if r.staff else None, "door": r.door, "operation": r.operation,
                 "table": r.table_name, "record_id": r.record_id, "row_table": r.row_table, "row_id": r.row_id,
                 "changes": r.diff, "date": r.date} for r in db.session.scalars(q)]


@pytest.fixture
def sdr(app, lead_id):
    """An SDR with the lead of ``lead_id`` assigned."""
    from crm.sales.models.clients import Lead

    with app.app_context():
        staffid = make_staff("sdr@test.example", "SDR").staffid
        db.session.get(Lead, lead_id).assigned = staffid
        db.session.commit()
        return staffid


@pytest.fixture
def client_id(app):
    from crm.sales.models.clients import Client

    with app.app_context():
        c = Client(company="Popescu Logistic SRL", vat="RO123", city="Cluj")
        db.session.add(c)
        db.session.commit()
        return c.userid


# --- the API ---------------------------------------------------------------------------------

def test_api_create_edit_delete_are_in_the_trail(app, sdr, lead_id):
    client = app.test_client()
    h = api_token(client, "sdr@test.example", "pass-1234")
    r = client.patch(f"/api/v1/leads/{lead_id}", json={"name": "Ion Pop", "lead_value": "1500.50"}, headers=h)
    assert r.status_code == 200, r.get_json()
    [edit] = trail(app, "tblleads", lead_id)
    assert edit["staff"] == "sdr@test.example" and edit["door"] == "api" and edit["operation"] == "update"
    assert edit["changes"]["name"] == ["Ion Popescu", "Ion Pop"]
    assert edit["changes"]["lead_value"][1] == "1500.50"  # a Decimal, kept exact as a string
    assert "company" not in edit["changes"]  # only what changed
    assert abs(edit["date"] - datetime.utcnow()) < timedelta(minutes=5)

    admin_h = api_token(client)
    r = client.post("/api/v1/clients", json={"company": "Omega SRL", "vat": "RO999"}, headers=admin_h)
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["userid"]
    r = client.patch(f"/api/v1/clients/{cid}", json={"company": "Omega Trading SRL"}, headers=admin_h)
    assert r.status_code == 200
    created, edited = trail(app, "tblclients", cid)
    assert created["staff"] == ADMIN_EMAIL
    assert created["operation"] == "create" and created["changes"]["company"] == [None, "Omega SRL"]
    assert created["changes"]["vat"] == [None, "RO999"] and created["record_id"] == cid
    assert edited["changes"] == {"company": ["Omega SRL", "Omega Trading SRL"]}


def test_api_delete_keeps_what_the_record_held(app, client_id):
    from crm.core.models.settings import Staff

    client = app.test_client()
    h = api_token(client)
    assert client.delete(f"/api/v1/clients/{client_id}", headers=h).status_code == 204
    [deleted] = trail(app, "tblclients", client_id)
    assert deleted["operation"] == "delete" and deleted["door"] == "api" and deleted["staff"] == ADMIN_EMAIL
    assert deleted["changes"]["company"] == ["Popescu Logistic SRL", None]
    # a refused write leaves no trail
    assert client.patch("/api/v1/clients/1", json={"company": "X"}, headers=h).status_code == 404
    r = client.patch("/api/v1/leads/1", json={"name": None}, headers=h)
    assert r.status_code in (404, 422)
    with app.app_context():
        assert db.session.query(Staff).count() == 1
    assert len(trail(app)) == 1


def test_a_documents_lines_are_attributed_to_the_document(app, client_id):
    client = app.test_client()
    h = api_token(client)
    r = client.post("/api/v1/invoices", json={
        "clientid": client_id, "date": "2026-11-20", "duedate": "2026-12-20",
        "items": [{"description": "Consultanță", "qty": "3", "rate": "100.00",
                   "taxes": [{"taxname": "TVA", "taxrate": "21.00"}]}]}, headers=h)
    assert r.status_code == 201, r.get_json()
    inv = r.get_json()
    line_id = inv["items"][0]["id"]
    r = client.patch(f"/api/v1/invoices/{inv['id']}", json={"items": [
        {"description": "Only line", "qty": "2", "rate": "10.00"}]}, headers=h)
    assert r.status_code == 200, r.get_json()
    rows = trail(app, "tblinvoices", inv["id"])
    own = [e for e in rows if e["row_table"] == "tblinvoices"]
    assert [e["operation"] for e in own] == ["create", "update"]
    assert own[0]["changes"]["date"] == [None, "2026-11-20"]  # a date, as an ISO string
    assert own[1]["changes"]["total"] == ["363.00", "20.00"]
    lines = [e for e in rows if e["row_table"] == "tblitemable"]
    assert sorted((e["operation"], e["row_id"] == line_id) for e in lines) == [
        ("create", False), ("create", True), ("delete", True)]
    first = next(e for e in lines if e["row_id"] == line_id and e["operation"] == "create")
    dropped = next(e for e in lines if e["operation"] == "delete")
    assert first["changes"]["qty"] == [None, "3.000"] and dropped["changes"]["description"] == ["Consultanță", None]
    taxes = [e for e in rows if e["row_table"] == "tblitem_tax"]
    assert sorted(e["operation"] for e in taxes) == ["create", "delete"]
    assert all(e["table"] == "tblinvoices" and e["record_id"] == inv["id"] for e in rows)


# --- the admin grid --------------------------------------------------------------------------

def test_grid_form_edit_create_and_delete_are_in_the_trail(app, admin_client, lead_id, client_id):
    page = admin_client.get(f"/admin/leads/edit/?id={lead_id}").get_data(as_text=True)
    data = form_of(page)
    assert data["name"] == "Ion Popescu"
    data["name"] = "Ion Popescu-Pop"
    r = admin_client.post(f"/admin/leads/edit/?id={lead_id}", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    [edit] = trail(app, "tblleads", lead_id)
    assert edit["door"] == "grid" and edit["staff"] == ADMIN_EMAIL and edit["operation"] == "update"
    assert edit["changes"] == {"name": ["Ion Popescu", "Ion Popescu-Pop"]}  # the form's other fields kept

    page = admin_client.get(f"/admin/clients/edit/?id={client_id}").get_data(as_text=True)
    data = form_of(page)
    data["company"] = "Popescu Transport SRL"
    r = admin_client.post(f"/admin/clients/edit/?id={client_id}", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    assert trail(app, "tblclients", client_id)[0]["changes"] == {
        "company": ["Popescu Logistic SRL", "Popescu Transport SRL"]}

    page = admin_client.get("/admin/clients/new/").get_data(as_text=True)
    data = {**form_of(page), "company": "Gamma SRL", "vat": "RO42"}
    r = admin_client.post("/admin/clients/new/", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    from crm.sales.models.clients import Client

    with app.app_context():
        gid = db.session.scalar(select(Client.userid).where(Client.company == "Gamma SRL"))
    [created] = trail(app, "tblclients", gid)
    assert created["door"] == "grid" and created["operation"] == "create"
    assert created["changes"]["company"] == [None, "Gamma SRL"] and created["changes"]["vat"] == [None, "RO42"]

    page = admin_client.get("/admin/clients/").get_data(as_text=True)
    r = admin_client.post("/admin/clients/delete/", data={"id": gid, "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    created, deleted = trail(app, "tblclients", gid)
    assert deleted["operation"] == "delete" and deleted["door"] == "grid"
    assert deleted["changes"]["company"] == ["Gamma SRL", None]


def test_a_password_set_in_the_grid_is_masked(app, admin_client):
    page = admin_client.get("/admin/staff/new/").get_data(as_text=True)
    data = {**form_of(page), "email": "new@test.example", "firstname": "Nora", "new_password": "s3cret-pass-1"}
    r = admin_client.post("/admin/staff/new/", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    [created] = trail(app, "tblstaff")
    assert created["changes"]["password"] == [None, "********"]
    assert created["changes"]["email"] == [None, "new@test.example"]
    from crm.core.models.audit import AuditLog

    with app.app_context():
        stored = db.session.scalar(select(AuditLog.changes))
    assert "s3cret" not in stored and "$" not in stored  # neither the password nor its hash


# --- the CLI ---------------------------------------------------------------------------------

def test_cli_record_set_and_delete_are_in_the_trail(app, sdr, lead_id, client_id):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "record", "set", "leads", str(lead_id), "name=Ion Pop", "lead_value=99.90",
                                 "--as", "sdr@test.example"])
    assert result.exit_code == 0, result.output
    assert '"name": "Ion Pop"' in result.output
    [edit] = trail(app, "tblleads", lead_id)
    assert edit["door"] == "cli" and edit["staff"] == "sdr@test.example"
    assert edit["changes"]["name"] == ["Ion Popescu", "Ion Pop"] and edit["changes"]["lead_value"][1] == "99.90"

    # the API's checks: a bad value is refused naming the field, and nothing is written
    result = runner.invoke(args=["crm", "record", "set", "leads", str(lead_id), "lead_value=lots"])
    assert result.exit_code == 1 and "lead_value" in result.output
    result = runner.invoke(args=["crm", "record", "set", "leads", str(lead_id), "nonsense=1"])
    assert result.exit_code == 1 and "nonsense" in result.output
    # the SDR may not delete; the administrator may
    result = runner.invoke(args=["crm", "record", "delete", "clients", str(client_id), "--as", "sdr@test.example"])
    assert result.exit_code == 1 and "may not delete" in result.output
    assert len(trail(app)) == 1

    result = runner.invoke(args=["crm", "record", "set", "clients", str(client_id), "company=Pop Cargo SRL"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["crm", "record", "delete", "clients", str(client_id)])
    assert result.exit_code == 0, result.output
    edit, deleted = trail(app, "tblclients", client_id)
    assert edit["changes"] == {"company": ["Popescu Logistic SRL", "Pop Cargo SRL"]} and edit["staff"] == ADMIN_EMAIL
    assert deleted["operation"] == "delete" and deleted["door"] == "cli"

    result = runner.invoke(args=["crm", "record", "create", "clients", "company=Delta SRL"])
    assert result.exit_code == 0, result.output
    [created] = trail(app, "tblclients", operation="create")
    assert created["changes"]["company"] == [None, "Delta SRL"] and created["door"] == "cli"


# --- actions are not audited here ------------------------------------------------------------

def test_an_action_writes_its_activity_line_and_no_audit_row(app, lead_id):
    from crm.sales.models.clients import LeadActivityLog

    client = app.test_client()
    h = api_token(client)
    r = client.post(f"/api/v1/leads/{lead_id}/actions/mark_lost", json={"reason": "No budget"}, headers=h)
    assert r.status_code == 200, r.get_json()
    assert trail(app) == []
    with app.app_context():
        lines = db.session.scalars(select(LeadActivityLog.description).where(LeadActivityLog.leadid == lead_id)).all()
    assert "Marked as lost" in lines
    result = app.test_cli_runner().invoke(args=["crm", "action", "leads", str(lead_id), "unmark"])
    assert result.exit_code == 0, result.output
    assert trail(app) == []


# --- reading the trail -----------------------------------------------------------------------

def _filter_index(app, name, operation=None):
    view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", None) == "audit_log")
    return next(i for i, f in enumerate(view._filters)
                if f.name == name and (operation is None or f.operation() == operation))


def test_audit_grid_filters_by_staff_table_and_date(app, admin_client, sdr, lead_id, client_id):
    from crm.core.models.audit import AuditLog

    client = app.test_client()
    sdr_h = api_token(client, "sdr@test.example", "pass-1234")
    assert client.patch(f"/api/v1/leads/{lead_id}", json={"name": "Lead By Sdr"}, headers=sdr_h).status_code == 200
    h = api_token(client)
    assert client.patch(f"/api/v1/clients/{client_id}", json={"company": "Client By Admin"},
                        headers=h).status_code == 200
    assert client.patch(f"/api/v1/leads/{lead_id}", json={"name": "Lead Last Month"}, headers=h).status_code == 200
    with app.app_context():
        old = db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc())).first()
        old.date = datetime.utcnow() - timedelta(days=40)
        db.session.commit()

    html = admin_client.get("/admin/audit_trail/").get_data(as_text=True)
    assert all(s in html for s in ("Lead By Sdr", "Client By Admin", "Lead Last Month"))
    assert "Ion Popescu" in html and "&rarr;" in html  # old → new

    staff = _filter_index(app, "Staff")
    html = admin_client.get(f"/admin/audit_trail/?flt0_{staff}=Sdr").get_data(as_text=True)
    assert "&rarr; Lead By Sdr" in html and "Client By Admin" not in html and "Lead Last Month" not in html

    table = _filter_index(app, "Table")
    html = admin_client.get(f"/admin/audit_trail/?flt0_{table}=tblclients").get_data(as_text=True)
    assert "&rarr; Client By Admin" in html and "Lead By Sdr" not in html

    since = _filter_index(app, "Date", "greater than")
    day = (datetime.utcnow() - timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S")
    html = admin_client.get(f"/admin/audit_trail/?flt0_{since}={day}").get_data(as_text=True)
    assert "&rarr; Lead By Sdr" in html and "&rarr; Client By Admin" in html and "Lead Last Month" not in html
    html = admin_client.get(f"/admin/audit_trail/?flt0_{staff}=Admin&flt1_{table}=tblleads").get_data(as_text=True)
    assert "&rarr; Lead Last Month" in html and "&rarr; Lead By Sdr" not in html and "Client By Admin" not in html

    # read-only: no create, edit or delete through the grid or the API
    assert admin_client.get("/admin/audit_trail/new/").status_code in (302, 403, 404)
    forged = {"door": "api", "operation": "update", "table_name": "tblleads", "row_table": "tblleads", "changes": "{}"}
    assert client.post("/api/v1/audit_log", json=forged, headers=h).status_code == 405
    assert client.delete("/api/v1/audit_log/1", headers=h).status_code == 405
    assert client.get("/api/v1/audit_log", headers=sdr_h).status_code == 403  # a Settings screen


def test_the_records_page_shows_its_changes(app, admin_client, lead_id):
    client = app.test_client()
    h = api_token(client)
    assert client.patch(f"/api/v1/leads/{lead_id}", json={"name": "Ion Pop"}, headers=h).status_code == 200
    html = admin_client.get(f"/admin/leads/details/?id={lead_id}").get_data(as_text=True)
    section = html[html.index('data-testid="audit-trail"'):]
    assert "Changes" in section and 'data-door="api"' in section
    assert "<code>name</code>: Ion Popescu &rarr; Ion Pop" in section
    # another record's page does not show it
    html = admin_client.get(f"/admin/leads/details/?id={lead_id}").get_data(as_text=True)
    from crm.sales.models.clients import Client

    with app.app_context():
        c = Client(company="Other")
        db.session.add(c)
        db.session.commit()
        cid = c.userid
    other = admin_client.get(f"/admin/clients/details/?id={cid}").get_data(as_text=True)
    assert "No change made" in other and "Ion Pop" not in other


def test_custom_fields_show_as_fields_of_their_record(app, lead_id):
    from crm.core.models.settings import CustomField

    with app.app_context():
        db.session.add(CustomField(fieldto="leads", name="PO reference", type="input"))
        db.session.commit()
    client = app.test_client()
    h = api_token(client)
    for value in ("PO-1", "PO-2"):
        r = client.patch(f"/api/v1/leads/{lead_id}", json={"custom_fields": {"po_reference": value}}, headers=h)
        assert r.status_code == 200, r.get_json()
    first, second = trail(app, "tblleads", lead_id)
    assert first["changes"] == {"custom_fields.po_reference": [None, "PO-1"]} and first["operation"] == "create"
    assert second["changes"] == {"custom_fields.po_reference": ["PO-1", "PO-2"]}
    assert second["row_table"] == "tblcustomfieldsvalues" and second["door"] == "api"


def test_long_texts_are_kept_short_in_the_trail(app, lead_id):
    from crm.sales.models.clients import Lead

    with app.app_context():
        db.session.get(Lead, lead_id).description = "Old notes. " * 4000  # 44,000 characters
        db.session.commit()
    client = app.test_client()
    h = api_token(client)
    # old and new whole would not fit the trail's column on MariaDB (64 KB): the write must not fail
    r = client.patch(f"/api/v1/leads/{lead_id}", json={"description": "New notes. " * 4000}, headers=h)
    assert r.status_code == 200, r.get_json()
    [edit] = trail(app, "tblleads", lead_id)
    old, new = edit["changes"]["description"]
    assert old.startswith("Old notes.") and old.endswith("(44000 characters)") and len(old) < 1100
    assert new.startswith("New notes.") and new.endswith("(44000 characters)")


def test_lines_linked_by_a_foreign_key_are_attributed_to_their_document(app):
    from tests.purchasing.purchase_support import create_rfq, purchase_data

    client = app.test_client()
    h = api_token(client)
    with app.app_context():
        ids = purchase_data()
    rfq = create_rfq(client, h, ids)
    rows = trail(app, "tblpur_request", rfq["id"])
    assert sorted(e["row_table"] for e in rows) == ["tblpur_request", "tblpur_request_detail",
                                                    "tblpur_request_detail"]
    line = next(e for e in rows if e["row_table"] == "tblpur_request_detail" and e["changes"]["quantity"][1] == "4.000")
    assert line["operation"] == "create" and line["changes"]["unit_price"][1] == "150.0000"
