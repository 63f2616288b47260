"""Exports never hand a spreadsheet a formula: text typed into the public web form (or anywhere)
that starts like a formula is exported as text with a leading quote, while numbers, negative
money included, stay numbers. Grid CSV, report CSV and Excel, stock report CSV."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from crm.core.extensions import db
from crm.core.labels import label
from tests.capture.test_capture_web_forms import _form, pipeline  # noqa: F401 - the fixture the web form needs
from tests.core.test_custom_fields import define
from tests.reports.test_reports import YEAR, csv_sections

FORMULAS = ['=HYPERLINK("http://x","y")', "@SUM(1+1)", "+1", "-1+2"]


def _submit(app, key, **fields):
    r = app.test_client().post(f"/forms/wtl/{key}", data={**fields, "website_url": ""})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]


def _leads_by_email(app) -> dict:
    from crm.sales.models.clients import Lead

    with app.app_context():
        return {lead.email: lead.id for lead in db.session.query(Lead)}


def test_web_form_leads_export_from_the_grid_as_text_and_numbers_stay_numbers(app, admin_client, pipeline):  # noqa: F811
    from crm.core.custom_fields import save
    from crm.core.models.settings import CustomField
    from crm.sales.models.clients import Lead

    _, key = _form(app)
    for i, text in enumerate(FORMULAS):
        _submit(app, key, name=text, email=f"lead{i}@example.com", company=text)
    _submit(app, key, name="Plain Name", email="plain@example.com", company="Firma SRL")
    with app.app_context():
        define("leads", "Margin", "number")
        margin = db.session.query(CustomField).filter_by(slug="margin").one()
        plain = db.session.query(Lead).filter_by(email="plain@example.com").one()
        plain.lead_value = Decimal("-12.50")
        save(plain, {margin: "-3.5"})
        db.session.add(Lead(name="Imported", email="tab@example.com", company="\t=1+1"))  # the form trims; an import may not
        db.session.commit()

    resp = admin_client.get("/admin/leads/export/csv/")
    assert resp.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    col = {name: header.index(label) for name, label in (("name", "Name"), ("company", "Company"),
                                                       ("email", "Email"), ("lead_value", label(Lead, "lead_value")),
                                                       ("margin", "Margin"))}
    by_email = {row[col["email"]]: row for row in rows}
    for i, text in enumerate(FORMULAS):
        row = by_email[f"lead{i}@example.com"]
        assert row[col["name"]] == "'" + text
        assert row[col["company"]] == "'" + text
    assert by_email["tab@example.com"][col["company"]] == "'\t=1+1"  # a leading tab is a formula start too
    plain = by_email["plain@example.com"]
    assert (plain[col["name"]], plain[col["company"]]) == ("Plain Name", "Firma SRL")
    # a negative number from a money column or a number field is a number, not quoted text
    assert plain[col["lead_value"]] == "-12.50"
    assert plain[col["margin"]] == "-3.5"


def test_report_exports_write_formula_like_names_as_text_and_negative_totals_as_numbers(
        app, admin_client, pipeline):  # noqa: F811
    from crm.catalog.models import Currency
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.clients import Client, Lead
    from crm.sales.models.documents import Invoice
    from tests.conftest import ADMIN_EMAIL

    _, key = _form(app)
    for i, text in enumerate(FORMULAS):
        _submit(app, key, name=f"Person {i}", email=f"buyer{i}@example.com", company=text)
    with app.app_context():
        admin = db.session.query(Staff).filter_by(email=ADMIN_EMAIL).one()
        ron = Currency(name="RON", symbol="lei", isdefault=True, exchange_rate=Decimal("1"))
        db.session.add(ron)
        db.session.flush()
        for n, lead_id in enumerate(sorted(_leads_by_email(app).values()), start=1):
            run(Lead, lead_id, "convert_to_customer", admin)  # the web form's company becomes the client's name
            client = db.session.query(Client).filter_by(leadid=lead_id).one()
            db.session.add(Invoice(clientid=client.userid, number=n, prefix="INV-", formatted_number=f"INV-{n:06d}",
                                   date=date(2026, 2, 1), duedate=date(2026, 3, 1), currency=ron.id, status=1,
                                   total=Decimal("-12.50"), subtotal=Decimal("-12.50"), total_tax=Decimal("0")))
        db.session.commit()

    sections = csv_sections(admin_client.get(f"/admin/reports/sales/export?{YEAR}&by=client&format=csv")
                            .get_data(as_text=True))
    rows = {row[0]: row for row in sections["By client"][1:]}
    for text in FORMULAS:
        assert rows["'" + text][1:3] == ["1", "-12.50"]  # the name quoted, the negative total bare
    assert rows["Total"][2] == "-50.00"

    book = load_workbook(io.BytesIO(admin_client.get(f"/admin/reports/sales/export?{YEAR}&by=client&format=xlsx")
                                    .data))
    sheet = book["By client"]
    names = {}
    for cells in sheet.iter_rows(min_row=2):
        names[cells[0].value] = cells
        assert cells[0].data_type == "s"  # never "f" (a formula)
    for text in FORMULAS:
        cells = names["'" + text]
        assert cells[2].data_type == "n" and cells[2].value == Decimal("-12.50")
    assert names["Total"][2].value == Decimal("-50.00")


def test_stock_report_csv_quotes_formula_like_item_names(app, admin_client):
    from crm.catalog.models import Item
    from crm.warehouse.models import MinimumStock

    with app.app_context():
        item = Item(description="=1+1", commodity_name="=1+1", commodity_code="-A1", rate=Decimal("1"))
        db.session.add(item)
        db.session.flush()
        db.session.add(MinimumStock(commodity_id=item.id, inventory_number_min=Decimal("5")))
        db.session.commit()
    resp = admin_client.get("/admin/warehouse/reports/minimum?all=1&export=csv")
    assert resp.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    [row] = [r for r in rows if r[header.index("name")] == "'=1+1"]
    assert row[header.index("code")] == "'-A1"
    assert row[header.index("short")] in ("5", "5.000", "5.00")
