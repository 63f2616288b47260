"""The pages staff open most, in Chromium, as the demo's roles: an invoice's page as finance (labelled
actions, lines and totals equal to the PDF's, names not ids), a client's page as the sales agent, the
invoice grid's row actions. Screenshots of each go to a temporary folder."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from crm.core.extensions import db
from tests.e2e.test_e2e_browser import live_url, page  # noqa: F401  (browser fixtures)

pytestmark = pytest.mark.e2e
SHOTS = Path(tempfile.gettempdir()) / "crm-e2e-shots"  # docs/ screenshots come from scripts/screenshots.py
PASSWORD = "demo1234"


@pytest.fixture
def demo(app):
    from crm.demo import load

    with app.app_context():
        load()


def sign_in_as(page, live_url, email) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin**")


def pdf_text(pdf: bytes) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_finance_opens_an_invoice_page(app, demo, live_url, page):
    from crm.sales.models.documents import Invoice

    with app.app_context():
        inv = db.session.query(Invoice).filter(Invoice.status == 3).first()  # partially paid
        inv_id, number, client = inv.id, inv.formatted_number, inv.client.company
    sign_in_as(page, live_url, "finance@crmconnect.test")
    page.goto(f"{live_url}/admin/invoices/details/?id={inv_id}")
    header = page.inner_text("[data-testid=document-header]")
    assert number in header and client in header and "Left to pay" in header
    # labelled buttons: the main action first, the rest under More
    actions = page.locator("[data-testid=detail-actions]")
    assert actions.locator(".btn-primary").inner_text().strip() == "Record payment"
    assert actions.locator("[data-testid=more-actions]").is_visible()
    # lines and totals are the PDF's
    lines = page.locator("[data-testid=document-lines] [data-testid=line]")
    assert lines.count() >= 1
    totals = page.inner_text("[data-testid=totals]")
    resp = page.request.get(f"{live_url}/admin/documents/invoice/{inv_id}.pdf")
    pdf = pdf_text(resp.body())
    for amount in re.findall(r"\d[\d,]*\.\d\d", totals):
        assert amount in pdf, amount
    for i in range(lines.count()):
        description = lines.nth(i).locator("td").nth(1).inner_text().split("\n")[0].strip()
        assert description[:30] in re.sub(r"\s+", " ", pdf)
    # names, not ids
    payments = page.inner_text("[data-testid=payments]")
    assert "Bank transfer" in payments or "Card" in payments or "Cash" in payments
    assert "Paymentmode" not in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "invoice-page.png"), full_page=True)
    page.click("[data-testid=more-actions]")
    assert page.locator("[data-refused]").first.is_visible()  # what cannot run says why


def test_agent_opens_a_client_page(app, demo, live_url, page):
    from crm.sales.models.clients import Client, Contact
    from crm.sales.models.documents import Invoice

    with app.app_context():
        inv = db.session.query(Invoice).filter(Invoice.status == 4).first()  # overdue
        client = db.session.get(Client, inv.clientid)
        cid, company, number = client.userid, client.company, inv.formatted_number
        contact = db.session.query(Contact).filter_by(userid=cid).first()
        contact_name = f"{contact.firstname} {contact.lastname}"
    sign_in_as(page, live_url, "manager@crmconnect.test")
    page.goto(f"{live_url}/admin/clients/details/?id={cid}")
    assert company in page.inner_text("[data-testid=record-title]")
    assert contact_name in page.inner_text("[data-testid=client-contacts]")
    assert number in page.inner_text("[data-testid=client-invoices]")
    statement = page.inner_text("[data-testid=client-statement]")
    assert "OVERDUE" in statement.upper() and "ADVANCE CREDIT" in statement.upper()
    page.screenshot(path=str(SHOTS / "client-page.png"), full_page=True)
    page.click(f"[data-testid=client-invoices] a:has-text('{number}')")
    page.wait_for_selector("[data-testid=document-header]")
    assert number in page.inner_text("[data-testid=doc-number]")


def test_invoice_grid_rows_show_open_main_action_and_menu(app, demo, live_url, page):
    sign_in_as(page, live_url, "finance@crmconnect.test")
    page.goto(f"{live_url}/admin/invoices/")
    rows = page.locator("[data-testid=row-actions]")
    assert rows.count() >= 5
    first = rows.first
    assert first.locator("[data-testid=row-open]").inner_text().strip() == "Open"
    assert first.locator(".crm-main-action").inner_text().strip()  # labelled, not an icon
    page.screenshot(path=str(SHOTS / "invoice-grid.png"))
    first.locator("[data-testid=row-more]").click()
    menu = first.locator(".dropdown-menu")
    assert menu.is_visible() and "PDF" in menu.inner_text()
    page.screenshot(path=str(SHOTS / "invoice-grid-menu.png"))
