"""Money as it is written, and rounded once: unit prices keep their 4 decimals, every amount is
rounded half-up to the cent once, where the totals rule says; a before-tax discount is taken off
each rate's base before its VAT is rounded; and no door rounds a value silently."""
from __future__ import annotations

import secrets
from decimal import Decimal
from types import SimpleNamespace

import pytest
from lxml import etree

from crm.core.extensions import db
from crm.core.totals import compute, line_net, spread, vat
from crm.efactura import checks, document, samples, ubl
from tests.conftest import api_token
from tests.core.test_pdf_documents import pdf_text
from tests.sales.test_line_editor import csrf_from, errors_of, line_data

NS = {"cac": ubl.NS_CAC, "cbc": ubl.NS_CBC}
VAT21 = [{"taxname": "TVA 21%", "taxrate": "21.00"}]


def _line(qty, rate, *taxes, **kw):
    return SimpleNamespace(**{"is_optional": False, "is_selected": True, **kw}, qty=Decimal(qty), rate=Decimal(rate),
                           taxes=[SimpleNamespace(taxname=n, taxrate=Decimal(r)) for n, r in taxes])


# --- the rule --------------------------------------------------------------------------------

def test_line_amounts_are_rounded_half_up_once_from_the_exact_price():
    assert line_net("1001", "0.005") == Decimal("5.01")  # 5.005: half-up, not half-even (5.00)
    assert line_net("3", "0.0175") == Decimal("0.05")  # 0.0525
    assert line_net("2.5", "4.12", "10") == Decimal("9.27")  # 10.30 less its 1.03 discount
    t = compute([_line("1001", "0.005", ("TVA", "21"))])
    assert (t.subtotal, t.total_tax, t.total) == (Decimal("5.01"), Decimal("1.05"), Decimal("6.06"))


def test_before_tax_discount_comes_off_each_rates_base_before_its_vat_is_rounded():
    t = compute([_line("2.5", "4.12", ("TVA", "21"))], discount_percent=10, discount_type="before_tax")
    # 10.30 − 1.03 = 9.27; 9.27 × 21% = 1.9467 → 1.95 (rounding 2.163 to 2.16 first, then × 90%, gave 1.94)
    assert (t.subtotal, t.discount, t.total_tax, t.total) == (Decimal("10.30"), Decimal("1.03"), Decimal("1.95"),
                                                              Decimal("11.22"))
    # Two rates and an untaxed line share a fixed discount in proportion; the shares add up to it.
    lines = [_line("1", "100", ("TVA", "21")), _line("1", "50", ("TVA", "11")), _line("1", "33.33")]
    t = compute(lines, discount_type="before_tax", discount_total="10.00")
    shares = spread(Decimal("10.00"), {"a": Decimal("100"), "b": Decimal("50"), "c": Decimal("33.33")})
    assert shares == {"a": Decimal("5.45"), "b": Decimal("2.73"), "c": Decimal("1.82")}
    assert t.taxes == {("TVA", Decimal("21")): vat(Decimal("94.55"), 21),
                       ("TVA", Decimal("11")): vat(Decimal("47.27"), 11)}
    assert t.total == Decimal("183.33") - Decimal("10.00") + Decimal("19.86") + Decimal("5.20")


def test_after_tax_discount_and_optional_lines():
    lines = [_line("1", "100", ("TVA", "21")), _line("1", "999", ("TVA", "21"), is_optional=True)]
    lines[1].is_selected = False
    t = compute(lines, discount_percent=10, discount_type="after_tax")
    assert (t.subtotal, t.total_tax, t.discount, t.total) == (Decimal("100.00"), Decimal("21.00"), Decimal("12.10"),
                                                              Decimal("108.90"))


# --- through the doors -----------------------------------------------------------------------

@pytest.fixture
def buyer(app):
    with app.app_context():
        samples.ensure_company()
        samples.ensure_taxes()
        client = samples.make_client("Suruburi SRL", vat="RO14399840", city="Cluj-Napoca", state="CJ")
        ron = samples._currency("RON")
        db.session.commit()
        return {"client": client.userid, "currency": ron.id}


@pytest.fixture
def api(app):
    return app.test_client(), api_token(app.test_client())


def _invoice(api, buyer, lines, **header):
    client, h = api
    body = {"clientid": buyer["client"], "currency": buyer["currency"], "date": "2026-11-20",
            "duedate": "2026-12-20", "items": lines, **header}
    r = client.post("/api/v1/invoices", json=body, headers=h)
    assert r.status_code == 201, r.get_json()
    inv = r.get_json()
    r = client.post(f"/api/v1/invoices/{inv['id']}/actions/issue", headers=h)
    assert r.status_code == 200, r.get_json()
    return client.get(f"/api/v1/invoices/{inv['id']}", headers=h).get_json()


def _xml(app, invoice_id):
    from crm.sales.models.documents import Invoice

    with app.app_context():
        doc, findings = document.from_invoice(db.session.get(Invoice, invoice_id))
        xml = ubl.to_xml(doc)
        return etree.fromstring(xml), checks.precheck(doc, xml, findings)


def test_a_thousand_washers_at_half_a_cent_are_billed_5_01_everywhere(app, api, buyer, admin_client):
    inv = _invoice(api, buyer, [{"description": "Saiba M8", "qty": "1001", "rate": "0.005", "unit": "buc",
                                 "item_order": 1, "taxes": VAT21}])
    assert Decimal(inv["items"][0]["rate"]) == Decimal("0.005")  # kept as written
    assert (Decimal(inv["subtotal"]), Decimal(inv["total_tax"]), Decimal(inv["total"])) == \
        (Decimal("5.01"), Decimal("1.05"), Decimal("6.06"))
    tree, findings = _xml(app, inv["id"])
    assert [str(f) for f in findings if f.fatal] == []  # own checks, the XSD and (with saxonche) the official rules
    line = tree.find("cac:InvoiceLine", NS)
    assert line.findtext("cbc:InvoicedQuantity", namespaces=NS) == "1001"
    assert line.findtext("cac:Price/cbc:PriceAmount", namespaces=NS) == "0.005"
    assert line.findtext("cbc:LineExtensionAmount", namespaces=NS) == "5.01"
    totals = tree.find("cac:LegalMonetaryTotal", NS)
    assert [totals.findtext(f"cbc:{t}", namespaces=NS) for t in
            ("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount", "PayableAmount")] == \
        ["5.01", "5.01", "6.06", "6.06"]
    assert tree.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS) == "1.05"
    # The button a person presses serves the same XML.
    served = etree.fromstring(admin_client.get(f"/admin/efactura/invoice/{inv['id']}.xml").data)
    assert served.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "6.06"
    # The PDF prints the price as written and the amount rounded once.
    pdf = pdf_text(admin_client.get(f"/admin/documents/invoice/{inv['id']}.pdf").data)
    assert "0.005" in pdf and "5.01" in pdf and "6.06" in pdf


def test_before_tax_discount_vat_is_the_same_on_api_pdf_portal_and_xml(app, api, buyer, admin_client):
    from crm.sales.models.documents import Invoice

    inv = _invoice(api, buyer, [{"description": "Cablu", "qty": "2.5", "rate": "4.12", "unit": "m",
                                 "item_order": 1, "taxes": VAT21}],
                   discount_type="before_tax", discount_percent="10")
    assert (Decimal(inv["subtotal"]), Decimal(inv["discount_total"]), Decimal(inv["total_tax"]),
            Decimal(inv["total"])) == (Decimal("10.30"), Decimal("1.03"), Decimal("1.95"), Decimal("11.22"))
    tree, findings = _xml(app, inv["id"])
    assert [str(f) for f in findings if f.fatal] == []
    assert tree.findtext("cac:TaxTotal/cbc:TaxAmount", namespaces=NS) == "1.95"
    assert tree.find("cac:LegalMonetaryTotal/cbc:PayableRoundingAmount", NS) is None
    assert tree.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "11.22"
    pdf = pdf_text(admin_client.get(f"/admin/documents/invoice/{inv['id']}.pdf").data)
    assert "1.95" in pdf and "11.22" in pdf and "1.94" not in pdf
    with app.app_context():
        invoice = db.session.get(Invoice, inv["id"])
        invoice.hash = secrets.token_hex(16)
        db.session.commit()
        url = f"/portal/invoice/{invoice.id}/{invoice.hash}"
    page = app.test_client().get(url).get_data(as_text=True)
    assert "1.95" in page and "11.22" in page and "1.94" not in page
    grid = admin_client.get(f"/admin/invoices/details/?id={inv['id']}").get_data(as_text=True)
    assert "1.95" in grid and "1.94" not in grid


def test_a_value_with_more_decimals_than_its_column_is_refused_naming_it(app, api, buyer):
    client, h = api
    body = {"clientid": buyer["client"], "currency": buyer["currency"], "date": "2026-11-20",
            "items": [{"description": "Saiba", "qty": "1", "rate": "0.00125", "item_order": 1}]}
    r = client.post("/api/v1/invoices", json=body, headers=h)
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.rate", r.get_json()
    body["items"][0].update(rate="0.0125", qty="1.0005")
    r = client.post("/api/v1/invoices", json=body, headers=h)
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.qty", r.get_json()
    body["items"][0].update(qty="2")
    r = client.post("/api/v1/invoices", json={**body, "adjustment": "0.125"}, headers=h)
    assert r.status_code == 422 and r.get_json()["field"] == "adjustment", r.get_json()
    # A catalog price with 4 decimals is kept; a 5th is refused.
    r = client.post("/api/v1/items", json={"description": "Saiba M6", "rate": "0.0175"}, headers=h)
    assert r.status_code == 201 and Decimal(r.get_json()["rate"]) == Decimal("0.0175"), r.get_json()
    r = client.post("/api/v1/items", json={"description": "Saiba M5", "rate": "0.01755"}, headers=h)
    assert r.status_code == 422 and r.get_json()["field"] == "rate", r.get_json()


def test_record_payment_refuses_a_fraction_of_a_cent(app, api, buyer):
    from crm.sales.models.documents import Invoice

    client, h = api
    inv = _invoice(api, buyer, [{"description": "Surub", "qty": "1", "rate": "100", "item_order": 1}])
    with app.app_context():
        from crm.catalog.models import PaymentMode

        mode = PaymentMode(name="Bank", active=True)
        db.session.add(mode)
        db.session.commit()
        mode_id = mode.id
    url = f"/api/v1/invoices/{inv['id']}/actions/record_payment"
    r = client.post(url, json={"amount": "10.005", "paymentmode": mode_id}, headers=h)
    assert r.status_code == 422 and r.get_json()["field"] == "amount", r.get_json()
    with app.app_context():
        assert db.session.get(Invoice, inv["id"]).status == 1  # nothing recorded
    r = client.post(url, json={"amount": "10.00", "paymentmode": mode_id}, headers=h)
    assert r.status_code == 200, r.get_json()


def test_line_editor_keeps_the_price_and_names_the_line_it_refuses(app, admin_client, buyer):
    from crm.sales.models.documents import Invoice

    def post(rate):
        form = admin_client.get("/admin/invoices/new/").get_data(as_text=True)
        data = {"csrf_token": csrf_from(form), "date": "2026-11-20", "currency_rel": str(buyer["currency"]),
                "client": str(buyer["client"]), "status": "6", "number_format": "1", "show_quantity_as": "1",
                "recurring": "0", "cycles": "0", "discount_type": "", "discount_percent": "0",
                "discount_total": "0", "adjustment": "0",
                **line_data([("Saiba M8", "1001", rate, "buc", ["TVA 21%|21.00"])])}
        return admin_client.post("/admin/invoices/new/", data=data, follow_redirects=True)

    refused = post("0.00501")
    assert "Line 1, rate: At most 4 decimal places" in errors_of(refused) + refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Invoice).count() == 0
    post("0.005")
    with app.app_context():
        inv = db.session.query(Invoice).one()
        assert inv.items[0].rate == Decimal("0.005") and inv.subtotal == Decimal("5.01")
        assert inv.total_tax == Decimal("1.05") and inv.total == Decimal("6.06")


def test_purchase_lines_keep_the_unit_price(app, api):
    from crm.catalog.models import Tax

    client, h = api
    with app.app_context():
        tax = Tax(name="TVA", taxrate=Decimal("21"))
        db.session.add(tax)
        db.session.commit()
        tax_id = tax.id
    r = client.post("/api/v1/pur_request", json={"pur_rq_name": "Saibe", "items": [
        {"item_text": "Saiba M8", "quantity": "1001", "unit_price": "0.005", "tax": tax_id}]}, headers=h)
    assert r.status_code == 201, r.get_json()
    line = r.get_json()["items"][0]
    assert (Decimal(line["unit_price"]), Decimal(line["into_money"]), Decimal(line["tax_value"]),
            Decimal(line["total"])) == (Decimal("0.005"), Decimal("5.01"), Decimal("1.05"), Decimal("6.06"))
    r = client.post("/api/v1/pur_request", json={"pur_rq_name": "Saibe", "items": [
        {"item_text": "Saiba M8", "quantity": "1", "unit_price": "0.00501"}]}, headers=h)
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.unit_price", r.get_json()


def test_grid_form_keeps_a_four_decimal_price_and_refuses_a_fifth(app, admin_client):
    from crm.catalog.models import Item

    def post(rate):
        form = admin_client.get("/admin/warehouse/commodity_list/new/").get_data(as_text=True)
        return admin_client.post("/admin/warehouse/commodity_list/new/", follow_redirects=True,
                                 data={"csrf_token": csrf_from(form), "description": f"Saiba {rate}", "rate": rate})

    page = post("0.01755").get_data(as_text=True)
    assert "At most 4 decimal places; 0.01755 would have to be rounded." in page
    post("0.0175")
    with app.app_context():
        assert [(i.description, i.rate) for i in db.session.query(Item)] == [("Saiba 0.0175", Decimal("0.0175"))]
