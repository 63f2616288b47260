"""Logins and sessions: failed logins slowed down then refused, one password check for any email,
sessions ended everywhere at once, API tokens listed and revoked one by one, no framing."""
from __future__ import annotations

import re
import statistics
import time
from datetime import datetime, timedelta

import pytest
import time_machine

from crm.core.extensions import db
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, api_token, csrf_from, login, make_staff

STAFF = "ana@test.example"


@pytest.fixture
def ana(app):
    with app.app_context():
        return make_staff(STAFF, "SDR").staffid


def web_login(client, email, password):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_from(page)})


def api_login(client, email, password, **extra):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password, **extra})


def bearer(resp) -> dict:
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


@pytest.fixture
def clock():
    """The test's own clock, moved by hand (``clock.shift(seconds)``)."""
    with time_machine.travel(datetime.now().astimezone(), tick=False) as traveller:
        yield traveller


# --- failed logins -----------------------------------------------------------------------------

@pytest.mark.parametrize("door", [web_login, api_login], ids=["login page", "token endpoint"])
def test_repeated_wrong_passwords_slow_down_then_lock_the_account(app, ana, clock, door):
    client = app.test_client()
    for _ in range(3):
        assert door(client, STAFF, "wrong").status_code == 401
    r = door(client, STAFF, "pass-1234")  # even the right password waits
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert "Too many failed logins for this account; try again in 2 seconds" in r.get_data(as_text=True)
    # each further failure doubles the wait
    waits = []
    for _ in range(7):
        clock.shift(int(r.headers["Retry-After"]))
        assert door(client, STAFF, "wrong").status_code == 401
        r = door(client, STAFF, "wrong")
        assert r.status_code == 429
        waits.append(int(r.headers["Retry-After"]))
    assert waits[:6] == [4, 8, 16, 32, 64, 128]
    # ten failures: locked until the first leaves the 15-minute window
    assert 600 < waits[6] <= 900
    clock.shift(waits[6] - 5)
    assert door(client, STAFF, "pass-1234").status_code == 429
    clock.shift(10)
    assert door(client, STAFF, "pass-1234").status_code in (200, 302)


def test_both_doors_count_the_same_failures(app, ana):
    client = app.test_client()
    for _ in range(3):
        assert api_login(client, STAFF, "wrong").status_code == 401
    r = web_login(client, STAFF, "pass-1234")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_an_unknown_email_is_locked_like_a_known_one(app, ana):
    client = app.test_client()
    answers = {}
    for email in (STAFF, "nobody@test.example"):
        answers[email] = [api_login(client, email, "wrong") for _ in range(4)]
    # (the seconds to wait may differ by one: the clock ran between the two series)
    known, unknown = ([(r.status_code, re.sub(r"\d+ seconds?", "N seconds", r.get_json()["error"]),
                        "Retry-After" in r.headers) for r in answers[e]] for e in (STAFF, "nobody@test.example"))
    assert known == unknown and known[-1] == (429, "Too many failed logins for this account; try again in N seconds.",
                                              True)


def test_a_success_clears_the_accounts_failures(app, ana):
    client = app.test_client()
    for _ in range(2):
        assert web_login(client, STAFF, "wrong").status_code == 401
    assert web_login(client, STAFF, "pass-1234").status_code == 302
    for _ in range(3):  # without the reset the third would be the account's fifth failure: 429
        assert web_login(client, STAFF, "wrong").status_code == 401


def test_many_accounts_tried_from_one_address_are_refused_for_that_address(app, ana):
    attacker = app.test_client()
    for i in range(10):
        assert api_login(attacker, f"guess{i}@test.example", "wrong").status_code == 401
    r = api_login(attacker, STAFF, "pass-1234")
    assert r.status_code == 429 and "from your address" in r.get_json()["error"]
    assert int(r.headers["Retry-After"]) >= 1
    r = web_login(attacker, STAFF, "pass-1234")
    assert r.status_code == 429 and "from your address" in r.get_data(as_text=True)
    # the staff member at another address signs in as usual
    office = app.test_client()
    office.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert api_login(office, STAFF, "pass-1234").status_code == 200
    assert web_login(office, STAFF, "pass-1234").status_code == 302


# --- same time for unknown and known emails ---------------------------------------------------------

def test_one_password_hash_is_checked_whatever_the_email(app, ana, monkeypatch):
    from crm.core import auth
    from crm.core.models.settings import Staff

    checked = []
    real = auth.check_password_hash

    def spy(pwhash, password):
        checked.append(pwhash.split("$", 1)[0])  # the method and its cost, e.g. scrypt:32768:8:1
        return real(pwhash, password)

    monkeypatch.setattr(auth, "check_password_hash", spy)
    with app.app_context():
        method = db.session.get(Staff, ana).password.split("$", 1)[0]
        inactive = make_staff("gone@test.example", "SDR")
        inactive.active = False
        db.session.commit()
    client = app.test_client()
    for email, password, status in ((STAFF, "pass-1234", 200), (STAFF, "wrong", 401),
                                    ("nobody@test.example", "pass-1234", 401),
                                    ("gone@test.example", "pass-1234", 401)):
        checked.clear()
        r = api_login(client, email, password)
        assert r.status_code == status, email
        assert checked == [method], email


def test_unknown_and_known_emails_take_about_the_same_time(app, ana):
    from crm.core.auth import authenticate

    def median(email):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            assert authenticate(email, "wrong") is None
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    with app.test_request_context():
        known, unknown = median(STAFF), median("nobody@test.example")
    assert unknown > known / 4 and known > unknown / 4, (known, unknown)  # a hash check each, not 0


# --- sessions end everywhere ---------------------------------------------------------------

def two_browsers(app, email=STAFF, password="pass-1234"):
    a, b = app.test_client(), app.test_client()
    login(a, email, password)
    login(b, email, password)
    assert a.get("/admin/leads/").status_code == 200 and b.get("/admin/leads/").status_code == 200
    return a, b


def signed_out(client) -> bool:
    r = client.get("/admin/leads/")
    return r.status_code == 302 and "/login" in r.headers["Location"]


def test_logging_out_in_one_browser_ends_the_others(app, ana):
    a, b = two_browsers(app)
    home = a.get("/admin/").get_data(as_text=True)
    a.post("/logout", data={"csrf_token": csrf_from(home)})
    assert signed_out(a) and signed_out(b)
    login(b)  # and signing in again works
    assert b.get("/admin/").status_code == 200


def test_a_password_set_in_the_staff_grid_ends_sessions_and_tokens(app, ana, admin_client):
    a, b = two_browsers(app)
    token = bearer(api_login(app.test_client(), STAFF, "pass-1234"))
    assert app.test_client().get("/api/v1/auth/tokens", headers=token).status_code == 200
    page = admin_client.get(f"/admin/staff/edit/?id={ana}").get_data(as_text=True)
    r = admin_client.post(f"/admin/staff/edit/?id={ana}", data={
        "csrf_token": csrf_from(page), "email": STAFF, "firstname": "Ana", "lastname": "Test", "active": "y",
        "new_password": "a-new-secret"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert signed_out(a) and signed_out(b)
    assert app.test_client().get("/api/v1/auth/tokens", headers=token).status_code == 401
    assert admin_client.get("/admin/staff/").status_code == 200  # the admin who changed it is still in
    login(a, STAFF, "a-new-secret")


def test_changing_ones_own_password_keeps_this_browser_and_ends_the_others(app, admin_client):
    from crm.core.models.settings import Staff

    other = app.test_client()
    login(other)
    with app.app_context():
        me = db.session.query(Staff).filter_by(email=ADMIN_EMAIL).one().staffid
    page = admin_client.get(f"/admin/staff/edit/?id={me}").get_data(as_text=True)
    r = admin_client.post(f"/admin/staff/edit/?id={me}", data={
        "csrf_token": csrf_from(page), "email": ADMIN_EMAIL, "firstname": "Admin", "lastname": "Test", "active": "y",
        "admin": "y", "new_password": "another-long-one"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert admin_client.get("/admin/staff/").status_code == 200
    assert signed_out(other)


def test_deactivation_through_the_api_ends_sessions_and_tokens(app, ana, api_headers):
    a, b = two_browsers(app)
    token = bearer(api_login(app.test_client(), STAFF, "pass-1234"))
    r = app.test_client().patch(f"/api/v1/staff/{ana}", headers=api_headers, json={"active": False})
    assert r.status_code == 200, r.get_json()
    assert signed_out(a) and signed_out(b)
    assert app.test_client().get("/api/v1/auth/tokens", headers=token).status_code == 401


def test_the_cli_password_reset_ends_the_administrators_sessions(app, admin_client):
    token = api_token(app.test_client())
    result = app.test_cli_runner().invoke(args=["crm", "create-admin", "--email", ADMIN_EMAIL,
                                                "--password", "reset-by-cli-1"])
    assert result.exit_code == 0, result.output
    assert signed_out(admin_client)
    assert app.test_client().get("/api/v1/auth/tokens", headers=token).status_code == 401


def test_the_session_version_cannot_be_written_through_the_api(app, ana, api_headers):
    r = app.test_client().patch(f"/api/v1/staff/{ana}", headers=api_headers, json={"session_version": 1})
    assert r.status_code == 422 and "session_version" in str(r.get_json())
    assert "session_version" not in app.test_client().get(f"/api/v1/staff/{ana}", headers=api_headers).get_json()


# --- API tokens ------------------------------------------------------------------------------

def test_tokens_are_listed_and_revoked_one_by_one(app, ana):
    client = app.test_client()
    first = api_login(client, STAFF, "pass-1234", name="laptop script")
    second = api_login(client, STAFF, "pass-1234", name="accounting export")
    h1, h2 = bearer(first), bearer(second)
    listed = client.get("/api/v1/auth/tokens", headers=h1).get_json()
    assert [(t["name"], t["state"], t["current"]) for t in listed] == [
        ("accounting export", "active", False), ("laptop script", "active", True)]
    assert listed[1]["last_used_at"] is not None and listed[0]["expires_at"]

    assert client.delete(f"/api/v1/auth/tokens/{second.get_json()['id']}", headers=h1).status_code == 204
    assert client.get("/api/v1/auth/tokens", headers=h2).status_code == 401
    listed = client.get("/api/v1/auth/tokens", headers=h1).get_json()
    assert [t["state"] for t in listed] == ["revoked", "active"] and listed[0]["revoked_at"]


def test_only_the_owner_or_an_administrator_revokes_a_token(app, ana, api_headers):
    client = app.test_client()
    with app.app_context():
        make_staff("bob@test.example", "SDR")
    mine = api_login(client, STAFF, "pass-1234")
    bobs = bearer(api_login(client, "bob@test.example", "pass-1234"))
    token_id = mine.get_json()["id"]
    r = client.delete(f"/api/v1/auth/tokens/{token_id}", headers=bobs)
    assert r.status_code == 404 and f"#{token_id}" in r.get_json()["error"]
    assert client.get("/api/v1/auth/tokens", headers=bearer(mine)).status_code == 200
    assert client.get("/api/v1/auth/tokens", headers=bobs).get_json()[0]["name"] == "API token"  # his own only
    assert client.delete(f"/api/v1/auth/tokens/{token_id}", headers=api_headers).status_code == 204
    assert client.get("/api/v1/auth/tokens", headers=bearer(mine)).status_code == 401


def test_signing_out_everywhere_through_the_api_revokes_every_token(app, ana):
    client = app.test_client()
    browser = app.test_client()
    login(browser, STAFF, "pass-1234")
    h1, h2 = (bearer(api_login(client, STAFF, "pass-1234")) for _ in range(2))
    assert client.delete("/api/v1/auth/tokens", headers=h1).status_code == 204
    assert client.get("/api/v1/auth/tokens", headers=h1).status_code == 401
    assert client.get("/api/v1/auth/tokens", headers=h2).status_code == 401
    assert signed_out(browser)


def test_a_token_carries_nothing_of_the_password_and_is_stored_hashed(app, ana, admin_client, api_headers):
    from crm.core.models.settings import ApiToken, Staff

    r = api_login(app.test_client(), STAFF, "pass-1234")
    token = r.get_json()["token"]
    with app.app_context():
        pwhash = db.session.get(Staff, ana).password
        row = db.session.get(ApiToken, r.get_json()["id"])
        assert pwhash[-12:] not in token and pwhash.split("$")[-1][:8] not in token
        assert token not in (row.hash, row.name) and len(row.hash) == 64
        stored = row.hash
    # the generated doors show the issued tokens to administrators, never the stored hash
    grid = admin_client.get("/admin/staff_api_tokens/")
    assert grid.status_code == 200 and "API token" in grid.get_data(as_text=True)
    listed = app.test_client().get("/api/v1/staff_api_tokens", headers=api_headers)
    assert listed.status_code == 200 and len(listed.get_json()) == 2  # Ana's and the administrator's
    for page in (grid.get_data(as_text=True), listed.get_data(as_text=True),
                 admin_client.get(f"/admin/staff_api_tokens/details/?id={row.id}").get_data(as_text=True)):
        assert stored not in page and token not in page


def test_an_expired_token_is_refused(app, ana, clock):
    client = app.test_client()
    h = bearer(api_login(client, STAFF, "pass-1234"))
    clock.shift(12 * 3600 - 60)
    assert client.get("/api/v1/auth/tokens", headers=h).status_code == 200
    clock.shift(120)
    assert client.get("/api/v1/auth/tokens", headers=h).status_code == 401


def test_the_tokens_screen_lists_creates_and_revokes(app, ana, admin_client):
    client = app.test_client()
    scripted = api_login(client, STAFF, "pass-1234", name="nightly sync")
    admins = api_login(client, ADMIN_EMAIL, ADMIN_PASSWORD, name="admin's own")
    browser = app.test_client()
    login(browser, STAFF, "pass-1234")
    page = browser.get("/admin/").get_data(as_text=True)
    assert "/admin/my-api-tokens" in page
    page = browser.get("/admin/my-api-tokens/").get_data(as_text=True)
    assert "nightly sync" in page and "admin&#39;s own" not in page and "admin's own" not in page

    r = browser.post("/admin/my-api-tokens/", data={"csrf_token": csrf_from(page), "name": "from the screen"})
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "from the screen" in text
    secret = text.split('data-testid="new-token"', 1)[1].split("<code>", 1)[1].split("</code>", 1)[0]
    assert client.get("/api/v1/auth/tokens", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert secret not in browser.get("/admin/my-api-tokens/").get_data(as_text=True)  # shown once

    token_id = scripted.get_json()["id"]
    r = browser.post(f"/admin/my-api-tokens/{token_id}/revoke", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302
    assert client.get("/api/v1/auth/tokens", headers=bearer(scripted)).status_code == 401
    # someone else's token: not found; the administrator sees and revokes everyone's
    assert browser.post(f"/admin/my-api-tokens/{admins.get_json()['id']}/revoke",
                        data={"csrf_token": csrf_from(page)}).status_code == 404
    listing = admin_client.get("/admin/my-api-tokens/").get_data(as_text=True)
    assert "nightly sync" in listing and "from the screen" in listing
    assert client.get("/api/v1/auth/tokens", headers=bearer(admins)).status_code == 200


def test_the_tokens_screen_signs_out_everywhere(app, ana):
    a, b = two_browsers(app)
    h = bearer(api_login(app.test_client(), STAFF, "pass-1234"))
    page = a.get("/admin/my-api-tokens/").get_data(as_text=True)
    r = a.post("/logout", data={"csrf_token": csrf_from(page), "everywhere": "1"})
    assert r.status_code == 302
    assert signed_out(a) and signed_out(b)
    assert app.test_client().get("/api/v1/auth/tokens", headers=h).status_code == 401


def test_a_session_cookie_from_before_session_versions_is_refused(app, ana):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(ana)  # what the cookie held before: the id alone
        session["_fresh"] = True
    assert signed_out(client)


# --- framing ---------------------------------------------------------------------------------

def test_pages_refuse_framing_but_the_web_form_embed(app, admin_client):
    from crm.capture.models import WebToLead

    for url, client in (("/login", app.test_client()), ("/admin/", admin_client), ("/admin/leads/", admin_client),
                        ("/portal/invoice/1/nothing", app.test_client())):
        r = client.get(url)
        assert r.headers.get("X-Frame-Options") == "DENY", url
        assert "frame-ancestors 'none'" in r.headers.get("Content-Security-Policy", ""), url
    with app.app_context():
        form = WebToLead(name="Contact us")
        db.session.add(form)
        db.session.commit()
        key = form.form_key
    r = app.test_client().get(f"/forms/wtl/{key}")
    assert r.status_code == 200
    assert "X-Frame-Options" not in r.headers
    assert "frame-ancestors" not in r.headers.get("Content-Security-Policy", "")
