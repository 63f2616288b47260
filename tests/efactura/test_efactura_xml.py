"""e-Factura XML: a corpus of invoices covering every CIUS-RO case passes the UBL XSD and the
official EN 16931 + CIUS-RO validator (1.0.9) with zero fatal findings; the pre-check names the
record and field to correct; the Generate XML button shows it."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from crm.core.extensions import db
from crm.efactura import checks, codes, document, samples, ubl
from tests.conftest import api_token

pytest.importorskip("saxonche")
NS = {"cac": ubl.NS_CAC, "cbc": ubl.NS_CBC}
CORPUS_DIR = Path(__file__).parents[1] / "data" / "efactura"


def _generate(invoice):
    doc, findings = document.from_invoice(invoice)
    xml = ubl.to_xml(doc)
    return doc, xml, checks.precheck(doc, xml, findings)


@pytest.fixture
def corpus(app, ctx, tmp_path):
    """Every case as a generated XML file (written to a temporary folder, as the corpus)."""
    cases = samples.make_corpus()
    db.session.commit()
    out = {}
    for name, invoice in cases.items():
        doc, xml, findings = _generate(invoice)
        (tmp_path / f"{name}.xml").write_bytes(xml)
        out[name] = (invoice, doc, etree.fromstring(xml), findings)
    invoice = samples.make_not_vat_registered_case()
    db.session.commit()
    doc, xml, findings = _generate(invoice)
    (tmp_path / "not_vat_registered.xml").write_bytes(xml)
    out["not_vat_registered"] = (invoice, doc, etree.fromstring(xml), findings)
    return out


def test_every_corpus_file_passes_the_xsd_and_the_official_validator(corpus, tmp_path):
    assert checks.official_xslt() is not None and checks.OfficialValidator.get() is not None
    assert len(list(tmp_path.glob("*.xml"))) == 12
    validator = checks.OfficialValidator.get()
    for path in sorted(tmp_path.glob("*.xml")):
        xml = path.read_bytes()
        tree = etree.fromstring(xml)
        assert checks.xsd_findings(tree, etree.QName(tree).localname) == [], path.name
        fatal = [str(f) for f in validator.findings(xml) if f.fatal]
        assert fatal == [], (path.name, fatal)
    for name, (_, _, _, findings) in corpus.items():
        assert [str(f) for f in findings if f.fatal] == [], name


def test_payable_is_the_invoice_total_and_the_arithmetic_holds(corpus):
    for name, (invoice, doc, tree, _) in corpus.items():
        sign = -1 if doc.kind == "CreditNote" else 1
        payable = Decimal(tree.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS))
        assert payable == invoice.total * sign, name
        lines = sum(Decimal(x.text) for x in tree.findall(f"cac:{doc.kind}Line/cbc:LineExtensionAmount", NS))
        assert Decimal(tree.findtext("cac:LegalMonetaryTotal/cbc:LineExtensionAmount", namespaces=NS)) == lines


def test_parties_counties_and_bucharest_sectors(corpus):
    _, _, tree, _ = corpus["bucharest_discounts"]
    buyer = tree.find("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress", NS)
    assert buyer.findtext("cbc:CityName", namespaces=NS) == "SECTOR3"
    assert buyer.findtext("cbc:CountrySubentity", namespaces=NS) == "RO-B"
    seller = tree.find("cac:AccountingSupplierParty/cac:Party", NS)
    assert seller.findtext("cac:PostalAddress/cbc:CountrySubentity", namespaces=NS) == "RO-CJ"
    assert seller.findtext("cac:PartyTaxScheme/cbc:CompanyID", namespaces=NS) == "RO18547290"
    assert seller.findtext("cac:PartyLegalEntity/cbc:CompanyID", namespaces=NS) == "J12/3456/2019"
    _, _, tree, _ = corpus["standard_two_rates"]
    assert tree.findtext("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cbc:CountrySubentity",
                         namespaces=NS) == "RO-CJ"  # "Cluj" as the person typed it


def test_vat_categories_rates_and_exemptions(corpus):
    def breakdown(name):
        _, _, tree, _ = corpus[name]
        return [(s.findtext("cac:TaxCategory/cbc:ID", namespaces=NS),
                 s.findtext("cac:TaxCategory/cbc:Percent", namespaces=NS),
                 s.findtext("cac:TaxCategory/cbc:TaxExemptionReasonCode", namespaces=NS),
                 s.findtext("cbc:TaxAmount", namespaces=NS))
                for s in tree.findall("cac:TaxTotal/cac:TaxSubtotal", NS)]

    assert breakdown("standard_two_rates") == [("S", "21", None, "1470.00"), ("S", "11", None, "29.67")]
    assert breakdown("zero_exempt_mixed") == [("Z", "0", None, "0.00"), ("E", "0", "VATEX-EU-132", "0.00"),
                                              ("S", "21", None, "63.00")]
    assert breakdown("reverse_charge") == [("AE", "0", "VATEX-EU-AE", "0.00")]
    assert breakdown("intra_eu_eur") == [("K", "0", "VATEX-EU-IC", "0.00")]
    assert breakdown("export_usd") == [("G", "0", "VATEX-EU-G", "0.00")]
    assert breakdown("not_vat_registered") == [("O", None, "VATEX-EU-O", "0.00")]
    _, _, tree, _ = corpus["not_vat_registered"]
    assert tree.find("cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme", NS) is None  # BR-O-02


def test_discounts_foreign_currency_private_buyer_terms_credit_note(corpus):
    _, _, tree, _ = corpus["bucharest_discounts"]
    line = tree.find("cac:InvoiceLine", NS)
    assert line.findtext("cac:AllowanceCharge/cbc:MultiplierFactorNumeric", namespaces=NS) == "10"
    assert line.findtext("cac:AllowanceCharge/cbc:Amount", namespaces=NS) == "312.50"
    assert line.findtext("cbc:LineExtensionAmount", namespaces=NS) == "2812.50"
    doc_allowances = tree.findall("cac:AllowanceCharge", NS)
    assert [a.findtext("cac:TaxCategory/cbc:Percent", namespaces=NS) for a in doc_allowances] == ["21", "11"]

    invoice, doc, tree, _ = corpus["foreign_currency_vat"]
    assert tree.findtext("cbc:DocumentCurrencyCode", namespaces=NS) == "EUR"
    assert tree.findtext("cbc:TaxCurrencyCode", namespaces=NS) == "RON"
    ron = [t for t in tree.findall("cac:TaxTotal", NS) if t.find("cbc:TaxAmount", NS).get("currencyID") == "RON"]
    assert [t.findtext("cbc:TaxAmount", namespaces=NS) for t in ron] == ["992.51"]  # 199.50 EUR × 4.975 = 992.5125

    _, _, tree, _ = corpus["private_buyer_terms"]
    assert tree.findtext("cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID",
                         namespaces=NS) == "0000000000000"
    assert tree.find("cbc:DueDate", NS) is None
    assert tree.findtext("cac:PaymentTerms/cbc:Note", namespaces=NS) == "Plata in 15 zile de la emitere"

    invoice, doc, tree, _ = corpus["credit_note"]
    assert etree.QName(tree).localname == "CreditNote" and invoice.total < 0
    assert tree.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    assert tree.findtext("cac:CreditNoteLine/cbc:CreditedQuantity", namespaces=NS) == "1"
    assert tree.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "4235.00"


def _finding(findings, record_part, field):
    return [f for f in findings if record_part in f.record and f.field == field and f.fatal]


def test_precheck_names_the_record_and_field_to_correct(app, ctx):
    from crm.catalog.models import Tax

    samples.ensure_company()
    samples.ensure_taxes()
    no_county = samples.make_client("Fara Judet SRL", vat="RO14399840", state="", city="Brasov")
    buc = samples.make_client("Fara Sector SRL", vat="RO16054368", city="Bucuresti", state="B",
                              address="Str. Lipscani 1")
    private = samples.make_client("Ion Ion", vat=None)
    exempt = db.session.query(Tax).filter_by(name="Scutit art. 292").one()
    exempt.exemption_reason_code, exempt.exemption_reason = None, None
    inv1 = samples.make_invoice(no_county, [("Produs", 1, "10.00", None, "buc", 0)])
    inv2 = samples.make_invoice(buc, [("Curs", 1, "10.00", "Scutit art. 292", None, 0)],
                                discount_type="after_tax", discount_percent=Decimal("10"))
    inv3 = samples.make_invoice(private, [("Taxare inversa", 1, "10.00", "Taxare inversa", None, 0)],
                                duedate=False)
    db.session.commit()

    _, _, f1 = _generate(inv1)
    assert _finding(f1, "Client “Fara Judet SRL”", "billing state") or _finding(f1, "Fara Judet", "state")
    assert _finding(f1, ", line 1 “Produs”", "tax")
    _, _, f2 = _generate(inv2)
    assert _finding(f2, "Client “Fara Sector SRL”", "city")  # Bucharest needs the sector
    assert _finding(f2, "Tax “Scutit art. 292”", "exemption reason")
    assert _finding(f2, f"Invoice {inv2}", "discount type")
    _, _, f3 = _generate(inv3)
    assert _finding(f3, "Client “Ion Ion”", "VAT number")  # reverse charge needs the buyer's VAT number
    assert _finding(f3, f"Invoice {inv3}", "due date")
    text = str(_finding(f3, f"Invoice {inv3}", "due date")[0])
    assert "set a due date or write the payment terms" in text


def test_official_validator_findings_come_through(app, ctx):
    """ANAF's example 6 is known to fail three rules; the pre-check reports them with their ids."""
    xml = (CORPUS_DIR / "ubl_b2g_example6.xml").read_bytes()
    fatal = [f for f in checks.OfficialValidator.get().findings(xml) if f.fatal]
    assert len(fatal) == 3
    assert all(f.rule and f.source == "official validator" for f in fatal)


def test_generate_button_reports_findings_or_passes(app, admin_client):
    from crm.sales.models.documents import Invoice
    from tests.sales.test_sales_support import press

    with app.app_context():
        samples.ensure_company()
        samples.ensure_taxes()
        good = samples.make_invoice(samples.make_client("Bun SRL", vat="RO14399840", state="CJ", city="Cluj-Napoca"),
                                    [("Produs", 2, "10.00", "TVA 21%", "buc", 0)])
        bad = samples.make_invoice(samples.make_client("Rau SRL", vat="RO14399840", state="Atlantida"),
                                   [("Produs", 2, "10.00", "TVA 21%", "buc", 0)])
        db.session.commit()
        good_id, bad_id = good.id, bad.id
    page = press(admin_client, "invoices", "efactura_generate", good_id).get_data(as_text=True)
    assert "passes the pre-check" in page
    page = press(admin_client, "invoices", "efactura_generate", bad_id).get_data(as_text=True)
    assert "Client “Rau SRL”" in page and "is not a Romanian county" in page
    headers = api_token(app.test_client())
    resp = app.test_client().post(f"/api/v1/invoices/{bad_id}/actions/efactura_generate", headers=headers)
    assert resp.status_code == 409 and "Atlantida" in resp.get_json()["error"]
    xml = admin_client.get(f"/admin/efactura/invoice/{good_id}.xml")
    assert xml.status_code == 200 and etree.fromstring(xml.data).tag.endswith("Invoice")
    with app.app_context():
        assert db.session.get(Invoice, good_id).efactura_status == "not_sent"  # generating sends nothing


def test_code_lists():
    assert codes.county_code("Cluj") == "RO-CJ"
    assert codes.county_code("jud. Bistrița-Năsăud") == "RO-BN"
    assert codes.county_code("RO-IF") == "RO-IF" and codes.county_code("B") == "RO-B"
    assert codes.county_code("București") == "RO-B" and codes.county_code("Atlantida") is None
    assert codes.bucharest_sector("Bucuresti, Sectorul 4") == "SECTOR4"
    assert codes.bucharest_sector("Bucuresti") is None
    assert codes.valid_cui("18547290") and not codes.valid_cui("18547291")
    assert codes.cui_digits("RO 185 472 90") == "18547290"
    assert codes.unit_code("buc") == "H87" and codes.unit_code("ora") == "HUR" and codes.unit_code(None) == "C62"


def test_cancelled_accepted_invoice_is_reversed_by_a_credit_note(app):
    from crm.sales.models.documents import Invoice

    with app.app_context():
        samples.ensure_company()
        client = samples.make_client("Nordic Trade SRL", vat="RO14399840", city="Cluj-Napoca", state="Cluj")
        inv = samples.make_invoice(client, [("Laptop", 2, "3500.00", "TVA 21%", "buc", 10),
                                            ("Carte", 1, "89.90", "TVA 11%", "buc", 0)],
                                   discount_type="before_tax", discount_percent=Decimal("5"))
        db.session.commit()
        inv_id, number, total = inv.id, str(inv), inv.total
    headers = api_token(app.test_client())
    api = app.test_client()
    refused = api.post(f"/api/v1/invoices/{inv_id}/actions/efactura_credit_note", headers=headers)
    assert refused.status_code == 409 and "not cancelled" in refused.get_json()["error"]
    with app.app_context():
        inv = db.session.get(Invoice, inv_id)
        inv.status, inv.efactura_status = 5, "ok"  # cancelled after ANAF accepted it
        db.session.commit()
    resp = api.post(f"/api/v1/invoices/{inv_id}/actions/efactura_credit_note", headers=headers)
    assert resp.status_code == 200, resp.get_json()
    with app.app_context():
        credit = db.session.query(Invoice).filter(Invoice.id != inv_id).one()
        assert credit.total == -total and credit.efactura_billing_reference == number
        doc, xml, findings = _generate(credit)
    assert [str(f) for f in findings if f.fatal] == []
    tree = etree.fromstring(xml)
    assert etree.QName(tree).localname == "CreditNote"
    assert tree.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS) == number
    assert Decimal(tree.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS)) == total
