"""End to end in a real browser: log in through headless Chromium and click a row action."""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from crm.core.extensions import db
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.e2e


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs it (apt package chromium).")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        pg = browser.new_page()
        yield pg
        browser.close()


def sign_in(page, live_url) -> None:
    """Log in as the administrator through the login page, as a person does."""
    page.goto(f"{live_url}/login")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")


def row_action(page, row: str, action: str) -> None:
    """Click a grid row's action as a person does: its main button, or the "…" menu and then the action."""
    target = page.locator(f"{row} [data-action={action}]").first
    if not target.is_visible():
        page.locator(f"{row} [data-testid=row-more]").first.click()
    target.click()


def test_login_and_mark_a_lead_as_junk_from_the_grid(app, live_url, page, tmp_path):
    from crm.sales.models.clients import Lead

    with app.app_context():
        db.session.add(Lead(name="Maria Ionescu", company="Ionescu Trading SRL", email="maria@ionescu.ro"))
        db.session.commit()
    page.goto(f"{live_url}/admin/leads")
    assert "/login" in page.url  # anonymous: sent to log in
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/leads**")
    assert page.is_visible("text=Maria Ionescu")
    page.once("dialog", lambda dialog: dialog.accept())  # the destructive action asks first
    row_action(page, "tr:has-text('Maria Ionescu')", "mark_junk")
    page.wait_for_selector(".alert-success")
    assert "Mark as junk" in page.inner_text(".alert-success")
    page.screenshot(path=str(tmp_path / "leads.png"))
    with app.app_context():
        assert db.session.query(Lead).filter_by(name="Maria Ionescu").one().junk
    # the button is gone now that the precondition no longer holds; Restore is offered instead
    assert page.locator("button[data-action=mark_junk]").count() == 0
    assert page.locator("button[data-action=unmark]").count() == 1
