"""Login, roles, anonymous refusal, CSRF on forms."""
from __future__ import annotations

import pytest

from crm.core.extensions import db
from tests.conftest import csrf_from, login, make_staff


def test_anonymous_is_sent_to_login_from_every_admin_screen(app):
    client = app.test_client()
    urls = [rule.rule for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/admin") and "<" not in rule.rule and "GET" in rule.methods
            and not rule.rule.startswith("/admin/static")]
    assert len(urls) > 100
    for url in urls:
        r = client.get(url)
        assert r.status_code in (302, 401, 403), (url, r.status_code)
        if r.status_code == 302:
            assert "/login" in r.headers["Location"], url


def test_login_wrong_password_and_logout(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    r = client.post("/login", data={"email": "admin@test.example", "password": "wrong", "csrf_token": csrf_from(page)})
    assert r.status_code == 401 and "Email or password is wrong" in r.get_data(as_text=True)
    r = client.post("/login", data={"email": "admin@test.example", "password": "correct horse battery"})
    assert r.status_code == 302 and "/admin" not in r.headers.get("Location", "")  # no CSRF token → refused
    login(client)
    home = client.get("/admin/")
    assert home.status_code == 200 and "Welcome" in home.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(home.get_data(as_text=True))})
    assert client.get("/admin/").status_code == 302


def test_passwords_are_hashed(app, ctx, admin):
    assert admin.password.startswith(("scrypt:", "pbkdf2:")) and "correct horse" not in admin.password


@pytest.mark.parametrize("role,allowed,refused", [
    ("SDR", ["/admin/leads"], ["/admin/warehouse/manage_delivery", "/admin/payments", "/admin/settings"]),
    ("Warehouse", ["/admin/warehouse/manage_delivery", "/admin/warehouse/warehouse_history"],
     ["/admin/payments", "/admin/roles"]),
    ("Purchasing", ["/admin/purchase/purchase_order"], ["/admin/payments"]),
    ("Finance", ["/admin/payments", "/admin/invoices"], ["/admin/warehouse/manage_delivery"]),
])
def test_roles_see_their_areas_only(app, role, allowed, refused):
    with app.app_context():
        make_staff(f"{role.lower().replace(' ', '')}@test.example", role)
    client = app.test_client()
    login(client, f"{role.lower().replace(' ', '')}@test.example", "pass-1234")
    for url in allowed:
        assert client.get(url).status_code == 200, url
    for url in refused:
        assert client.get(url).status_code == 403, url


def test_sdr_cannot_delete_leads(app):
    from crm.sales.models.clients import Lead

    with app.app_context():
        sdr = make_staff("sdr@test.example", "SDR")
        lead = Lead(name="Keep me", assigned=sdr.staffid)
        db.session.add(lead)
        db.session.commit()
        lead_id = lead.id
    client = app.test_client()
    login(client, "sdr@test.example", "pass-1234")
    page = client.get("/admin/leads/").get_data(as_text=True)
    assert "Keep me" in page and "delete_view" not in page and "/admin/leads/delete/" not in page
    client.post("/admin/leads/delete/", data={"id": lead_id, "csrf_token": csrf_from(page)})
    with app.app_context():
        assert db.session.get(Lead, lead_id) is not None


def test_admin_edits_a_role_and_it_applies_at_once(app, admin_client):
    from crm.core.models.settings import Role

    with app.app_context():
        make_staff("wh@test.example", "Warehouse")
        rid = db.session.query(Role).filter_by(name="Warehouse").one().roleid
    wh = app.test_client()
    login(wh, "wh@test.example", "pass-1234")
    assert wh.get("/admin/payments").status_code == 403
    form = admin_client.get(f"/admin/roles/edit/?id={rid}").get_data(as_text=True)
    assert 'value="payments.view"' in form and 'value="action:leads.mark_lost"' in form
    with app.app_context():
        current = sorted(db.session.get(Role, rid).permission_set)
    r = admin_client.post(f"/admin/roles/edit/?id={rid}", data={
        "csrf_token": csrf_from(form), "name": "Warehouse", "permissions": current + ["payments.view"]})
    import re
    assert r.status_code == 302, re.findall(r"(?s)(?:invalid-feedback|alert-danger).{0,600}", r.get_data(as_text=True))
    assert wh.get("/admin/payments").status_code == 200


def test_admin_creates_staff_with_a_hashed_password_who_can_log_in(app, admin_client):
    from crm.core.models.settings import Role, Staff

    with app.app_context():
        rid = db.session.query(Role).filter_by(name="Finance").one().roleid
    page = admin_client.get("/admin/staff/new/").get_data(as_text=True)
    assert 'name="new_password"' in page
    r = admin_client.post("/admin/staff/new/", data={
        "csrf_token": csrf_from(page), "email": "New.Person@Test.Example", "firstname": "New", "lastname": "Person",
        "role_rel": str(rid), "active": "y"})
    assert r.status_code == 422 and "needs a password" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Staff).filter_by(email="new.person@test.example").count() == 0
    r = admin_client.post("/admin/staff/new/", data={
        "csrf_token": csrf_from(page), "email": "New.Person@Test.Example", "firstname": "New", "lastname": "Person",
        "role_rel": str(rid), "active": "y", "new_password": "s3cret-pass"})
    assert r.status_code == 302
    client = app.test_client()
    login(client, "new.person@test.example", "s3cret-pass")
    assert client.get("/admin/payments").status_code == 200


def test_documented_roles_hold_the_actions_of_their_work(app, ctx):
    import json

    from crm.core.models.settings import Role

    perms = {r.name: set(json.loads(r.permissions)) for r in db.session.query(Role)}
    assert "action:invoices.record_payment" in perms["Finance"]
    assert "action:leads.convert_to_opportunity" in perms["SDR"]
    assert "action:invoices.record_payment" not in perms["SDR"]
    assert "action:proposals.send" in perms["Sales Agent"]


def test_an_upgrade_grants_new_default_permissions_but_not_what_an_admin_removed(app, ctx, monkeypatch):
    import json

    from crm.core import roles
    from crm.core.models.settings import Role

    sdr = db.session.query(Role).filter_by(name="SDR").one()
    sdr.permissions = json.dumps(sorted(sdr.permission_set - {"leads.edit"}))  # the admin's edit
    db.session.commit()
    defaults = roles.default_roles()
    monkeypatch.setattr(roles, "default_roles",
                        lambda: {**defaults, "SDR": defaults["SDR"] + ["action:leads.new_in_this_version"]})

    result = app.test_cli_runner().invoke(args=["crm", "sync-roles"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    perms = db.session.query(Role).filter_by(name="SDR").one().permission_set
    assert "action:leads.new_in_this_version" in perms
    assert "leads.edit" not in perms
    # run again: nothing changes, the removed permission still stays removed
    app.test_cli_runner().invoke(args=["crm", "sync-roles"])
    db.session.expire_all()
    assert db.session.query(Role).filter_by(name="SDR").one().permission_set == perms


def test_the_last_active_administrator_cannot_be_demoted_deactivated_or_deleted(app, admin_client, api_headers):
    from crm.core.models.settings import Staff

    with app.app_context():
        me = db.session.query(Staff).filter_by(admin=True).one().staffid
    api = app.test_client()
    for change, field in (({"active": False}, "active"), ({"admin": False}, "admin")):
        r = api.patch(f"/api/v1/staff/{me}", headers=api_headers, json=change)
        assert r.status_code == 422 and r.get_json()["field"] == field, r.get_json()
        assert "is the last active administrator" in r.get_json()["error"]
    r = api.delete(f"/api/v1/staff/{me}", headers=api_headers)
    assert r.status_code == 422 and "cannot be deleted" in r.get_json()["error"]
    # the grid's edit form says the same and keeps the row as it was
    page = admin_client.get(f"/admin/staff/edit/?id={me}").get_data(as_text=True)
    r = admin_client.post(f"/admin/staff/edit/?id={me}", data={
        "csrf_token": csrf_from(page), "email": "admin@test.example", "firstname": "Admin", "lastname": "Test",
        "active": "y"})  # the admin box left unticked
    assert r.status_code == 422 and "is the last active administrator" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Staff, me).admin is True and db.session.get(Staff, me).active is True
        other = make_staff("second.admin@test.example", admin=True).staffid
    # with a second administrator, either may step down
    r = api.patch(f"/api/v1/staff/{me}", headers=api_headers, json={"admin": False})
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        assert db.session.get(Staff, me).admin is False and db.session.get(Staff, other).admin is True
