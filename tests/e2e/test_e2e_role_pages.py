"""Each documented role opens, in Chromium, the main document pages it works with, from its grids as
a person does (the first row's Open): the page shows labelled buttons, a status badge, the party by
name (never an id) and no visible label that is still a raw column name. One demo load and one browser
for every role and page; the problems found are listed together."""
from __future__ import annotations

import re

import pytest

from tests.admin_views.test_labels_forms import raw
from tests.e2e.test_e2e_browser import live_url, page  # noqa: F401  (browser fixtures)
from tests.e2e.test_e2e_pages import PASSWORD

pytestmark = pytest.mark.e2e

ROLES = {
    "agent@crmconnect.test": ("proposals", "estimates", "invoices", "contracts"),
    "manager@crmconnect.test": ("proposals", "estimates", "invoices", "contracts"),
    "purchasing@crmconnect.test": ("purchase/purchase_request", "purchase/purchase_order", "purchase/myinvoices"),
    "warehouse@crmconnect.test": ("warehouse/manage_purchase", "warehouse/manage_delivery",
                                  "warehouse/manage_packing_list", "warehouse/physical_inventory"),
    "finance@crmconnect.test": ("invoices", "payments"),
}
# What a person reads as a label on a page: headings, table headers, definition terms, form labels.
LABELS_JS = """() => Array.from(document.querySelectorAll(
    '.container th, .container dt, .container h5, .container label, .container .crm-doc-kind,'
    + ' .container summary, .container .btn, .container-fluid th, .container-fluid dt, .container-fluid h5,'
    + ' .container-fluid .crm-doc-kind, .container-fluid summary, .container-fluid .btn'))
  .filter(e => e.offsetParent !== null)
  .map(e => e.innerText.trim()).filter(t => t.length)"""
ID_LIKE = re.compile(r"^(#?\d+|[A-Za-z]+ #?\d+)$")


def _sign_in(page, live_url, email) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin**")


def _check_page(page, where: str) -> list[str]:
    problems = []
    labels = page.evaluate(LABELS_JS)
    if len(labels) < 5:
        problems.append(f"{where}: only {len(labels)} labels read, the page did not show")
    for text in dict.fromkeys(labels):
        why = raw(text.split("\n")[0])
        if why and not re.match(r"^[A-Z]{2,}-\d", text):  # a document number (INV-000003) is not a label
            problems.append(f"{where}: label {text!r} reads as a column name ({why})")
    if page.locator("[data-testid=document-header]").count():
        header = page.locator("[data-testid=document-header]")
        badges = header.locator("[data-testid=doc-status] .badge")
        if not badges.count() or not badges.first.inner_text().strip():
            problems.append(f"{where}: no status badge")
        buttons = header.locator(".btn:visible")
        if not buttons.count():
            problems.append(f"{where}: no buttons")
        for i in range(buttons.count()):
            if not buttons.nth(i).inner_text().strip():
                problems.append(f"{where}: a button without a label")
        party = header.locator("[data-testid=doc-party]")
        if party.count():
            name = party.inner_text().split(":", 1)[-1].strip()
            if not name or ID_LIKE.match(name):
                problems.append(f"{where}: the party reads {name!r}, not a name")
    else:  # a record page (a payment): its rows read as names too
        body = page.inner_text(".container") if page.locator(".container").count() else page.inner_text("body")
        for bad in re.findall(r"\b(?:Paymentmode|Invoiceid|Clientid) ?\d*", body):
            problems.append(f"{where}: {bad!r} instead of a name")
    return problems


def test_each_role_opens_its_document_pages(app, live_url, page):
    from crm.demo import load

    with app.app_context():
        load()
    page.set_viewport_size({"width": 1400, "height": 900})
    problems, opened = [], []
    for email, grids in ROLES.items():
        _sign_in(page, live_url, email)
        for grid in grids:
            where = f"{email.split('@')[0]} /admin/{grid}"
            page.goto(f"{live_url}/admin/{grid}/")
            problems += _check_page(page, where + " (grid)")
            first = page.locator("[data-testid=row-open]").first
            if not first.count():
                problems.append(f"{where}: the grid has no row to open")
                continue
            first.click()
            page.wait_for_url("**/details/**")
            problems += _check_page(page, where)
            opened.append(where)
    assert not problems, "\n".join(problems)
    assert len(opened) == sum(len(g) for g in ROLES.values())
