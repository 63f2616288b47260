"""In a real browser: the line editor adds two lines (one from the catalog), previews the totals
and saves the proposal with them."""
from __future__ import annotations

from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.e2e.test_e2e_browser import live_url, page, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e


def test_add_two_lines_in_the_editor_and_save(app, live_url, page, tmp_path):  # noqa: F811
    from crm.catalog.models import Item, Tax
    from crm.sales.models.documents import Proposal

    with app.app_context():
        vat = Tax(name="VAT", taxrate=Decimal("19"))
        db.session.add(vat)
        db.session.flush()
        db.session.add(Item(description="Pallet rack 2m", rate=Decimal("250.00"), unit="buc", tax=vat.id))
        db.session.commit()
    sign_in(page, live_url)
    page.goto(f"{live_url}/admin/proposals/new/")
    page.fill("input[name=subject]", "Racks for Brasov")
    page.fill("input[name=date]", "2026-11-23")

    page.click("[data-testid=add-line]")
    row = page.locator("[data-testid=line-row]").nth(0)
    row.locator("[data-testid=catalog-search]").fill("rack")
    page.click("text=Pallet rack 2m")  # the look-up fills description, unit, rate and taxes
    assert row.locator("[data-field=rate]").input_value() == "250.00"
    row.locator("[data-field=qty]").fill("2")

    page.click("[data-testid=add-line]")
    row2 = page.locator("[data-testid=line-row]").nth(1)
    row2.locator("[data-field=description]").fill("Installation")  # free text
    row2.locator("[data-field=qty]").fill("3")
    row2.locator("[data-field=rate]").fill("40")
    row2.locator("[data-field=taxes]").select_option("VAT|19.00")
    page.wait_for_function(
        "document.querySelector('[data-testid=preview-total]').textContent === '737.80'")
    page.screenshot(path=str(tmp_path / "line_editor.png"))
    page.click("input[type=submit][value=Save], button[type=submit]:has-text('Save')")
    page.wait_for_selector(".alert-success")
    with app.app_context():
        doc = db.session.query(Proposal).filter_by(subject="Racks for Brasov").one()
        assert [(ln.description, ln.qty, ln.rate, ln.item_order, [t.taxname for t in ln.taxes])
                for ln in doc.items] == [("Pallet rack 2m", Decimal("2"), Decimal("250.00"), 1, ["VAT"]),
                                         ("Installation", Decimal("3"), Decimal("40.00"), 2, ["VAT"])]
        assert doc.items[0].item_id is not None
        assert (doc.subtotal, doc.total_tax, doc.total) == (Decimal("620.00"), Decimal("117.80"), Decimal("737.80"))
