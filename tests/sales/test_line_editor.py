"""The admin line editor of proposals, sales orders and invoices: lines, taxes, discount and
adjustment entered through the generated create/edit forms; the grid, the PDF and the API then
agree to the cent with the totals rule."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import csrf_from
from tests.core.test_pdf_documents import pdf_text

VAT19, VAT9, ECO = "VAT|19.00", "VAT|9.00", "Eco|2.00"
# 4 × 250 (VAT 19% + Eco 2%), 10 × 12.35 (19%), 3.5 × 80 (9%), 2 × 45.99 (9%), 1 × 150 (19%)
LINES = [("Pallet rack", "4", "250.00", "buc", [VAT19, ECO]), ("Shelf", "10", "12.35", "buc", [VAT19]),
         ("Installation", "3.5", "80.00", "ora", [VAT9]), ("Manual", "2", "45.99", "buc", [VAT9]),
         ("Transport", "1", "150.00", "", [VAT19])]
# Subtotal 1,645.48; discount 10% before tax = 164.55, so each tax shrinks to 90%:
# VAT 19% of 1,273.50 = 241.97 -> 217.77; VAT 9% of 371.98 = 33.48 -> 30.13; Eco 20.00 -> 18.00.
CREATED = {"subtotal": "1645.48", "total_tax": "265.90", "discount_total": "164.55", "total": "1745.93"}
# Line 2 edited to 20 × 12.35: subtotal 1,768.98, discount 176.90, VAT 19% 265.43 -> 238.89.
EDITED = {"subtotal": "1768.98", "total_tax": "287.02", "discount_total": "176.90", "total": "1878.20"}

DOCS = {"proposals": ("proposal", "Proposal"), "estimates": ("estimate", "Estimate"),
        "invoices": ("invoice", "Invoice")}


@pytest.fixture
def setup(app):
    from crm.catalog.models import Currency, Item, Tax
    from crm.sales.models.clients import Client

    with app.app_context():
        ron = Currency(name="RON", symbol="lei", isdefault=True)
        vat19, vat9, eco = Tax(name="VAT", taxrate=Decimal("19")), Tax(name="VAT", taxrate=Decimal("9")), \
            Tax(name="Eco", taxrate=Decimal("2"))
        client = Client(company="Nordic Trade SRL")
        db.session.add_all([ron, vat19, vat9, eco, client])
        db.session.flush()
        item = Item(description="Pallet rack 2m", long_description="Galvanised, 3 levels", rate=Decimal("250.00"),
                    unit="buc", tax=vat19.id, tax2=eco.id, commodity_code="PR-2")
        db.session.add(item)
        db.session.commit()
        return {"client": client.userid, "currency": ron.id, "item": item.id}


def line_data(lines, ids=None, item_id=None) -> dict:
    data = {"line_editor-present": "1"}
    for i, (desc, qty, rate, unit, taxes) in enumerate(lines):
        data.update({f"line_editor-{i}-id": str(ids[i]) if ids and i < len(ids) and ids[i] else "",
                     f"line_editor-{i}-item_id": str(item_id) if item_id and i == 0 else "",
                     f"line_editor-{i}-description": desc, f"line_editor-{i}-long_description": "",
                     f"line_editor-{i}-qty": qty, f"line_editor-{i}-rate": rate, f"line_editor-{i}-unit": unit,
                     f"line_editor-{i}-taxes": list(taxes)})
    return data


def header(resource, setup, token) -> dict:
    data = {"csrf_token": token, "date": date.today().isoformat(), "currency_rel": str(setup["currency"]),
            "discount_type": "before_tax", "discount_percent": "10", "discount_total": "0", "adjustment": "-0.90"}
    if resource == "proposals":
        data.update(subject="Warehouse racks", status="6", proposal_to="Nordic Trade SRL", rel_type="customer",
                    rel_id=str(setup["client"]), show_quantity_as="1", pipeline_order="1")
    else:
        data.update(client=str(setup["client"]), status="6" if resource == "invoices" else "1",
                    number_format="1", show_quantity_as="1")
        if resource == "invoices":
            data.update(recurring="0", cycles="0")
    return data


def errors_of(resp) -> str:
    html = resp.get_data(as_text=True)
    found = re.findall(r'(?:invalid-feedback|alert-danger)[^>]*>([\s\S]{0,600}?)</div>', html)
    return " | ".join(re.sub(r"<[^>]+>|\s+", " ", f).strip() for f in found)


def stored(app, resource, doc_id):
    from crm.sales.models.documents import Estimate, Invoice, Proposal

    model = {"proposals": Proposal, "estimates": Estimate, "invoices": Invoice}[resource]
    with app.app_context():
        doc = db.session.get(model, doc_id)
        return doc, {k: str(getattr(doc, k)) for k in CREATED}, \
            [(ln.id, ln.description, str(ln.qty), ln.item_order, sorted(f"{t.taxname}|{t.taxrate}" for t in ln.taxes))
             for ln in doc.items]


def money_text(value: str) -> str:
    return f"{Decimal(value):,.2f}"


def check_agreement(app, client, api_headers, resource, doc_id, expected):
    """The grid, the PDF and the API show the same totals, equal to the expected ones."""
    _, totals, _ = stored(app, resource, doc_id)
    assert totals == expected
    grid = client.get(f"/admin/{resource}/").get_data(as_text=True)
    assert f"{money_text(expected['total'])} RON" in grid
    kind = DOCS[resource][0]
    text = pdf_text(client.get(f"/admin/documents/{kind}/{doc_id}.pdf").get_data())
    for key in ("subtotal", "discount_total", "total"):
        assert money_text(expected[key]) in text, (key, text)
    api = client.get(f"/api/v1/{resource}/{doc_id}", headers=api_headers).get_json()
    assert {k: Decimal(str(api[k])) for k in expected} == {k: Decimal(v) for k, v in expected.items()}
    assert Decimal(str(api["total"])) == sum((Decimal(str(api[k])) for k in ("subtotal", "total_tax")), Decimal(0)) \
        - Decimal(str(api["discount_total"])) + Decimal(str(api["adjustment"]))


@pytest.mark.parametrize("resource", list(DOCS))
def test_create_with_five_lines_two_vat_rates_and_a_discount_then_edit_a_line(
        app, admin_client, api_headers, setup, resource):
    page = admin_client.get(f"/admin/{resource}/new/").get_data(as_text=True)
    assert 'data-testid="line-editor"' in page and "VAT 19%" in page and "Eco 2%" in page
    data = {**header(resource, setup, csrf_from(page)), **line_data(LINES, item_id=setup["item"])}
    r = admin_client.post(f"/admin/{resource}/new/", data=data)
    assert r.status_code == 302, errors_of(r)
    doc_id = int(re.search(r"id=(\d+)", r.headers["Location"]).group(1)) if "id=" in r.headers["Location"] else None
    if doc_id is None:
        from crm.sales.models.documents import Estimate, Invoice, Proposal

        with app.app_context():
            model = {"proposals": Proposal, "estimates": Estimate, "invoices": Invoice}[resource]
            doc_id = db.session.query(model).one().id
    doc, totals, lines = stored(app, resource, doc_id)
    assert [(d, q, o, t) for _, d, q, o, t in lines] == [
        ("Pallet rack", "4.000", 1, ["Eco|2.00", "VAT|19.00"]), ("Shelf", "10.000", 2, ["VAT|19.00"]),
        ("Installation", "3.500", 3, ["VAT|9.00"]), ("Manual", "2.000", 4, ["VAT|9.00"]),
        ("Transport", "1.000", 5, ["VAT|19.00"])]
    check_agreement(app, admin_client, api_headers, resource, doc_id, CREATED)

    # The edit form shows the lines; change the quantity of line 2 and save.
    page = admin_client.get(f"/admin/{resource}/edit/?id={doc_id}").get_data(as_text=True)
    ids = [int(x) for x in re.findall(r'name="line_editor-\d+-id" type="hidden" value="(\d+)"', page)
           or re.findall(r'id="line_editor-\d+-id" name="line_editor-\d+-id" type="hidden" value="(\d+)"', page)]
    assert ids == [line[0] for line in lines]
    edited = [list(x) for x in LINES]
    edited[1][1] = "20"
    data = {**header(resource, setup, csrf_from(page)), **line_data(edited, ids)}
    r = admin_client.post(f"/admin/{resource}/edit/?id={doc_id}", data=data)
    assert r.status_code == 302, errors_of(r)
    _, _, after = stored(app, resource, doc_id)
    assert [line[0] for line in after] == ids  # the same lines, updated in place
    assert after[1][2] == "20.000"
    check_agreement(app, admin_client, api_headers, resource, doc_id, EDITED)

    # Reorder and remove: Manual first, Transport dropped.
    order = [3, 0, 1, 2]
    data = {**header(resource, setup, csrf_from(page)), **line_data([edited[i] for i in order],
                                                                    [ids[i] for i in order])}
    r = admin_client.post(f"/admin/{resource}/edit/?id={doc_id}", data=data)
    assert r.status_code == 302, errors_of(r)
    _, totals, after = stored(app, resource, doc_id)
    assert [(line[0], line[1], line[3]) for line in after] == [
        (ids[3], "Manual", 1), (ids[0], "Pallet rack", 2), (ids[1], "Shelf", 3), (ids[2], "Installation", 4)]
    assert Decimal(totals["subtotal"]) == Decimal(EDITED["subtotal"]) - Decimal("150.00")


@pytest.mark.parametrize("resource", list(DOCS))
def test_invalid_lines_are_named_and_nothing_is_saved(app, admin_client, setup, resource):
    from crm.sales.models.documents import Estimate, Invoice, ItemLine, Proposal

    page = admin_client.get(f"/admin/{resource}/new/").get_data(as_text=True)
    bad = [("Pallet rack", "4", "250.00", "buc", [VAT19]), ("Shelf", "lots", "12.35", "buc", [VAT19]),
           ("", "1", "10", "", []), ("Refund", "1", "-5", "", ["GST|7.00"])]
    r = admin_client.post(f"/admin/{resource}/new/", data={**header(resource, setup, csrf_from(page)),
                                                           **line_data(bad)})
    assert r.status_code == 422
    text = errors_of(r)
    assert "Line 2, quantity" in text and "Line 3, description: description is required." in text
    assert "Line 4, rate: rate cannot be negative." in text and "Line 4, taxes" in text
    assert "Line 1" not in text
    with app.app_context():
        model = {"proposals": Proposal, "estimates": Estimate, "invoices": Invoice}[resource]
        assert db.session.query(model).count() == 0 and db.session.query(ItemLine).count() == 0


def test_catalog_lookup_and_live_preview_use_the_saving_rule(app, admin_client, setup):
    items = admin_client.get("/admin/proposals/lines/catalog?q=rack").get_json()
    assert items == [{"id": setup["item"], "label": "PR-2 Pallet rack 2m", "description": "Pallet rack 2m",
                      "long_description": "Galvanised, 3 levels", "unit": "buc", "rate": "250.00",
                      "taxes": [VAT19, ECO]}]
    assert admin_client.get("/admin/proposals/lines/catalog?q=nothing-like-this").get_json() == []
    page = admin_client.get("/admin/proposals/new/").get_data(as_text=True)
    token = csrf_from(page)
    preview = admin_client.post("/admin/proposals/lines/preview", data={
        **header("proposals", setup, token), **line_data(LINES)}).get_json()
    assert {k: preview[k] for k in ("subtotal", "total_tax", "total")} == \
        {k: CREATED[k] for k in ("subtotal", "total_tax", "total")}
    assert preview["discount"] == CREATED["discount_total"]
    assert preview["lines"] == ["1000.00", "123.50", "280.00", "91.98", "150.00"]
    assert {(t["name"], t["rate"]): t["amount"] for t in preview["taxes"]} == {
        ("VAT", "19.00"): "217.77", ("VAT", "9.00"): "30.13", ("Eco", "2.00"): "18.00"}
    # documents without tblitemable lines have no editor
    assert admin_client.post("/admin/clients/lines/preview", data={"csrf_token": token}).status_code == 404


def test_a_form_without_the_editor_leaves_the_lines_alone(app, admin_client, setup):
    """Saving the header alone (e.g. an older client of the form) does not delete lines."""
    from crm.sales.models.documents import Proposal

    page = admin_client.get("/admin/proposals/new/").get_data(as_text=True)
    r = admin_client.post("/admin/proposals/new/", data={**header("proposals", setup, csrf_from(page)),
                                                         **line_data(LINES[:2])})
    assert r.status_code == 302, errors_of(r)
    with app.app_context():
        doc_id = db.session.query(Proposal).one().id
    data = header("proposals", setup, csrf_from(page))
    data["subject"] = "Renamed"
    r = admin_client.post(f"/admin/proposals/edit/?id={doc_id}", data=data)
    assert r.status_code == 302, errors_of(r)
    with app.app_context():
        doc = db.session.get(Proposal, doc_id)
        assert doc.subject == "Renamed" and len(doc.items) == 2 and doc.subtotal == Decimal("1123.50")
