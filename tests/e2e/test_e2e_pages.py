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


def test_leads_grid_fits_a_1400px_window(app, demo, live_url, page):
    """The sales manager's leads grid (every lead, each row's actions) has no sideways scroll at
    1400 px; a cut value keeps its whole text in the cell's title."""
    sign_in_as(page, live_url, "manager@crmconnect.test")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_url}/admin/leads/")
    table = page.locator("table.model-list")
    assert page.locator("[data-testid=row-actions]").count() >= 5
    widths = table.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth, document.documentElement.scrollWidth,"
                            " document.documentElement.clientWidth]")
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths
    # one line a row, each text cell cut where it is too long, with the whole value in its title
    cells = page.locator("table.model-list td.crm-text")
    assert cells.count() >= 20
    cut = [c for c in cells.all() if c.evaluate("td => td.scrollWidth > td.clientWidth")]
    assert cut and all(c.get_attribute("title") == c.inner_text().strip() for c in cut)
    # lost and junk are badges beside the status
    statuses = " ".join(page.locator("table.model-list td.col-status_rel").all_inner_texts())
    assert "Lost" in statuses
    page.screenshot(path=str(SHOTS / "leads-grid.png"))


def test_lead_page_is_two_columns_at_desktop_width_and_one_on_a_narrow_screen(app, demo, live_url, page):
    from crm.sales.models.clients import Lead, Note

    with app.app_context():
        lead = (db.session.query(Lead).join(Note, (Note.rel_type == "lead") & (Note.rel_id == Lead.id))
                .filter(Lead.is_opportunity.is_(False), Lead.email.isnot(None)).order_by(Lead.id).first())
        lead_id, name, email = lead.id, lead.name, lead.email
    sign_in_as(page, live_url, "sdr@crmconnect.test")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_url}/admin/leads/details/?id={lead_id}")
    profile, timeline = page.locator("[data-testid=lead-profile]"), page.locator("[data-testid=lead-timeline]")
    # the lead, how to reach them and what can be done on the left; its activity on the right
    assert name in profile.locator("[data-testid=record-title]").inner_text()
    assert email in profile.locator("[data-testid=lead-contact]").inner_text()
    assert profile.locator("[data-testid=detail-actions] .btn-primary").is_visible()
    assert profile.locator("[data-testid=next-reminder]").is_visible()
    assert timeline.locator("[data-testid=activity-buttons]").is_visible()
    assert timeline.locator("[data-testid=activity-entries] [data-kind=note]").count() >= 1
    left, right = profile.bounding_box(), timeline.bounding_box()
    assert right["x"] >= left["x"] + left["width"] - 1 and abs(right["y"] - left["y"]) < 2, (left, right)
    page.screenshot(path=str(SHOTS / "lead-page.png"), full_page=True)
    page.set_viewport_size({"width": 800, "height": 900})
    left, right = profile.bounding_box(), timeline.bounding_box()
    assert right["y"] >= left["y"] + left["height"] - 1 and abs(right["x"] - left["x"]) < 2, (left, right)
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.screenshot(path=str(SHOTS / "lead-page-narrow.png"), full_page=True)
