"""In Chromium: the invoice form in sections with a plain select for the currency, and the invoices
grid with labelled columns and right-aligned money."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.e2e.test_e2e_browser import live_url, page, sign_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.e2e


def test_invoice_form_and_grid_read_as_words(app, live_url, page):  # noqa: F811
    from crm.catalog.models import Currency, PaymentMode
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice

    with app.app_context():
        ron = Currency(name="RON", symbol="lei", isdefault=True)
        c = Client(company="Acme Distributie SRL")
        db.session.add_all([ron, c, PaymentMode(name="Bank transfer")])
        db.session.flush()
        db.session.add(Invoice(clientid=c.userid, currency=ron.id, formatted_number="INV-000101", number=101,
                               date=date(2026, 3, 1), duedate=date(2026, 3, 31), status=1,
                               total=Decimal("14500"), subtotal=Decimal("12000"), total_tax=Decimal("2500")))
        db.session.commit()
    sign_in(page, live_url)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{live_url}/admin/invoices/")
    page.screenshot(path="/tmp/invoices_grid.png", full_page=True)
    headers = page.inner_text("table thead")
    assert "Due date" in headers and "Duedate" not in headers
    cell = page.locator("span.crm-money", has_text="14,500.00 RON").first
    align = cell.evaluate("el => getComputedStyle(el.closest('td')).textAlign")
    assert align == "right"
    page.goto(f"{live_url}/admin/invoices/new/")
    page.screenshot(path="/tmp/invoice_create.png", full_page=True)
    titles = page.locator("[data-testid=form-section-title]").all_inner_texts()
    assert titles[0] == "Client" and "Dates" in titles
    body = page.inner_text("body")
    assert "Please select model" not in body and "Project id" not in body
    assert page.input_value("#date") == date.today().isoformat()


def test_new_invoice_picks_payment_modes_by_name_and_fills_the_clients_address(app, live_url, page):  # noqa: F811
    from tests.sales.test_sales_support import base_data, make_client

    with app.app_context():
        base_data()
        make_client()
    sign_in(page, live_url)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{live_url}/admin/invoices/new/")
    titles = page.locator("[data-testid=form-section-title]").all_inner_texts()
    assert titles.count("Lines") == 1 and "More" in titles
    assert not page.locator("#recurring").is_visible()  # folded away until "More" is opened
    # the client, searched by name: its billing and shipping addresses fill the empty fields
    page.click("#s2id_client")
    page.keyboard.type("Nordic")
    page.locator(".select2-result-selectable", has_text="Nordic Trade SRL").first.click()
    page.wait_for_function("document.getElementById('billing_street').value === 'Str. Lunga 1'")
    assert page.input_value("#shipping_city") == "Codlea" and page.is_checked("#include_shipping")
    # payment modes by name
    page.click("#s2id_allowed_payment_modes")
    page.locator(".select2-result-selectable", has_text="Cash").first.click()
    chips = page.locator("#s2id_allowed_payment_modes .select2-search-choice").all_inner_texts()
    assert [c.strip() for c in chips] == ["Cash"]
    page.click("[data-testid=form-section-folded] summary")
    assert page.locator("#recurring").is_visible()
    page.screenshot(path="/tmp/invoice_form_polish.png", full_page=True)
