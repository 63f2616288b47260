"""Names where ids were: the search box shows each document's client and links to the whole list
when a type has more than it shows; the OpenAPI document titles each field with its label; the CSV
export writes a list of ids as the names (numbers stay numbers, formula-like names stay text)."""
from __future__ import annotations

import csv
import io
import json
import re

from crm.core.extensions import db
from tests.conftest import QueryCounter
from tests.sales.test_sales_support import base_data, make_client, make_invoice


def test_search_shows_the_client_and_a_see_all_link_past_five(app, admin_client):
    from crm.admin_views.search import PER_TABLE, SEARCHED

    with app.app_context():
        ids = base_data()
        nordic, acme = make_client(), make_client("Acme Distributie SRL", "a@acme.ro")
        for i in range(PER_TABLE + 2):
            make_invoice(ids, nordic if i % 2 else acme)
    results = admin_client.get("/admin/search/", query_string={"q": "INV-", "format": "json"}).get_json()["results"]
    invoices = [h for h in results if h["type"] == "Invoice" and "see_all" not in h]
    assert len(invoices) == PER_TABLE
    assert {h["party"] for h in invoices} == {"Nordic Trade SRL", "Acme Distributie SRL"}
    see_all = [h["see_all"] for h in results if "see_all" in h]
    assert see_all == ["/admin/invoices/?search=INV-"]
    html = admin_client.get("/admin/search/?q=INV-").get_data(as_text=True)
    assert html.count('data-testid="hit-party">Nordic Trade SRL<') + html.count(
        'data-testid="hit-party">Acme Distributie SRL<') == PER_TABLE
    assert 'data-testid="search-see-all"' in html and "See all invoices matching “INV-”" in html
    grid = admin_client.get(see_all[0]).get_data(as_text=True)  # the grid, searched the same way
    assert len(set(re.findall(r"INV-\d+", grid))) == PER_TABLE + 2
    # a client's name costs no query per result: one LIMITed query per table searched
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as q:
        admin_client.get("/admin/search/?q=INV-")
    assert len([s for s in q.statements if "LIMIT" in s.upper()]) <= len(SEARCHED)
    # a type with five or fewer matches has no "see all"
    few = admin_client.get("/admin/search/", query_string={"q": "Nordic", "format": "json"}).get_json()["results"]
    assert not any("see_all" in h for h in few)


def test_openapi_fields_carry_their_labels(admin_client):
    spec = admin_client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    invoice = next(s for s in schemas.values()
                   if {"duedate", "clientid", "allowed_payment_modes", "addedfrom"} <= set(s.get("properties", {})))
    props = invoice["properties"]
    assert props["duedate"]["title"] == "Due date" and props["duedate"]["description"] == "Due date"
    assert props["clientid"]["title"] == "Client"
    assert props["addedfrom"]["title"] == "Added by"
    assert props["allowed_payment_modes"]["title"] == "Allowed payment modes"
    assert props["status"]["title"] == "Status"
    lead = next(s for s in schemas.values() if {"phonenumber", "leadorder", "dateadded"} <= set(s.get("properties", {})))
    assert lead["properties"]["phonenumber"]["title"] == "Phone number"
    assert lead["properties"]["dateadded"]["title"] == "Date added"


def test_csv_export_writes_id_lists_as_names(app, admin_client):
    from crm.catalog.models import PaymentMode

    with app.app_context():
        ids = base_data()
        odd = PaymentMode(name="=HYPERLINK(\"http://x\",\"y\")")
        db.session.add(odd)
        db.session.commit()
        client = make_client()
        make_invoice(ids, client, allowed_payment_modes=json.dumps([ids["bank"], ids["cash"]]))
        make_invoice(ids, client, allowed_payment_modes=json.dumps([odd.id]))
    r = admin_client.get("/admin/invoices/export/csv/")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    modes = [row["Allowed payment modes"] for row in rows]
    assert "Bank transfer, Cash" in modes
    assert "'=HYPERLINK(\"http://x\",\"y\")" in modes  # a formula-like name stays text
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", row["Total"]) for row in rows), [r["Total"] for r in rows]  # numbers stay numbers
