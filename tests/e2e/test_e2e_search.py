"""Search everywhere in a real browser: Ctrl+K, type, arrow down, Enter opens the document."""
from __future__ import annotations

import pytest

from crm.core.extensions import db
from tests.e2e.test_e2e_browser import live_url, page, sign_in  # noqa: F401  (browser fixtures)
from tests.sales.test_sales_support import base_data, make_client, make_invoice

pytestmark = pytest.mark.e2e


def test_ctrl_k_type_arrow_enter_opens_the_invoice(app, live_url, page):  # noqa: F811
    with app.app_context():
        ids = base_data()
        client = make_client()
        older, newer = make_invoice(ids, client), make_invoice(ids, client)
        older_id, older_number, newer_number = older.id, older.formatted_number, newer.formatted_number
    sign_in(page, live_url)
    page.set_viewport_size({"width": 1300, "height": 800})
    page.goto(f"{live_url}/admin/leads/")
    page.keyboard.press("Control+k")
    box = page.locator("[data-testid=search-box] input")
    box.wait_for(state="visible")
    box.type("INV-")
    page.wait_for_selector("[data-testid=search-hit]")
    hits = page.locator("[data-testid=search-hit]")
    assert hits.count() == 2
    assert newer_number in hits.nth(0).inner_text() and "Invoice" in hits.nth(0).inner_text()
    assert "Unpaid" in hits.nth(0).inner_text()
    page.keyboard.press("ArrowDown")
    assert "active" in hits.nth(1).get_attribute("class") and older_number in hits.nth(1).inner_text()
    page.screenshot(path="/tmp/search_box.png")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/invoices/details/?id={older_id}")
    # "/" opens it too, anywhere but in a text field; Escape closes it
    page.keyboard.press("/")
    box.wait_for(state="visible")
    page.keyboard.press("Escape")
    box.wait_for(state="hidden")


def test_search_shows_each_documents_client_and_see_all(app, live_url, page):  # noqa: F811
    from crm.admin_views.search import PER_TABLE

    with app.app_context():
        ids = base_data()
        client = make_client()
        for _ in range(PER_TABLE + 1):
            make_invoice(ids, client)
    sign_in(page, live_url)
    page.set_viewport_size({"width": 1300, "height": 900})
    page.goto(f"{live_url}/admin/leads/")
    page.keyboard.press("Control+k")
    page.locator("[data-testid=search-box] input").type("INV-")
    page.wait_for_selector("[data-testid=search-see-all]")
    hits = page.locator("[data-testid=search-hit]")
    assert hits.count() == PER_TABLE
    assert all("Nordic Trade SRL" in t for t in hits.all_inner_texts())
    page.screenshot(path="/tmp/search_box_polish.png")
    page.click("[data-testid=search-see-all]")
    page.wait_for_url("**/admin/invoices/?search=INV-*")
    assert page.locator("table tbody tr").count() == PER_TABLE + 1
