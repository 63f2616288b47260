"""One company profile: the seller a person sets once at Settings → Company profile is the one on the
invoice PDF, the portal, the emails and the e-Factura XML (name, CUI, trade register, address with
county, bank account, logo)."""
from __future__ import annotations

import io

import pytest
from lxml import etree
from PIL import Image

from crm.core.extensions import db
from tests.conftest import csrf_from
from tests.core.test_mail_sending import _attachments_in_tmp, no_smtp, smtp  # noqa: F401 (fixtures)
from tests.core.test_pdf_documents import build_sales_documents, pdf_text

NS = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}

PROFILE = {"companyname": "Atelierul de Rafturi SRL", "company_cui": "RO18547290", "company_vat_registered": "1",
           "company_trade_register": "J12/3456/2019", "company_street": "Str. Memorandumului 28",
           "company_city": "Cluj-Napoca", "company_county": "RO-CJ", "company_postal_code": "400114",
           "company_country": "RO", "company_email": "facturi@rafturi.test", "company_phone": "+40 264 555 010",
           "company_website": "", "base_currency": "RON"}


def _png(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), color).save(out, "PNG")
    return out.getvalue()


def _save_profile(admin_client, **changes):
    page = admin_client.get("/admin/company/").get_data(as_text=True)
    return admin_client.post("/admin/company/", data={"csrf_token": csrf_from(page), **PROFILE, **changes})


@pytest.fixture
def profiled(app, admin_client, tmp_path):
    """The profile set through its screen, a RON and a EUR bank account through the API, a logo uploaded."""
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    assert _save_profile(admin_client).status_code == 302
    from tests.conftest import api_token

    api = app.test_client()
    headers = api_token(api)
    with app.app_context():
        from crm.catalog.models import Currency

        ron = Currency(name="RON", symbol="lei", isdefault=True)
        db.session.add(ron)
        db.session.commit()
        ron_id = ron.id
    r = api.post("/api/v1/company_bank_accounts", headers=headers,
                 json={"bank_name": "Banca Transilvania", "iban": "RO49 AAAA 1B31 0075 9384 0000", "currency": ron_id,
                       "is_default": True, "active": True})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["iban"] == "RO49AAAA1B31007593840000"  # stored compact
    page = admin_client.get("/admin/company/").get_data(as_text=True)
    r = admin_client.post("/admin/company/logo", data={"csrf_token": csrf_from(page), "logo": (io.BytesIO(_png()), "logo.png")},
                          content_type="multipart/form-data")
    assert r.status_code == 302
    yield {"headers": headers, "api": api}
    app.config.pop("UPLOAD_FOLDER", None)


def test_the_profile_screen_checks_what_it_saves(app, admin_client):
    from crm.core import options

    bad = _save_profile(admin_client, company_cui="RO18547291", company_street="Str. Noua 1")
    assert bad.status_code == 422
    assert "company_cui: 18547291 fails the CUI check digit" in bad.get_data(as_text=True)
    with app.app_context():  # nothing half-saved
        assert options.get("company_street") == "" and options.get("company_cui") == ""
    assert _save_profile(admin_client).status_code == 302
    with app.app_context():
        assert options.get("company_cui") == "RO18547290" and options.get("company_county") == "RO-CJ"
    page = admin_client.get("/admin/company/").get_data(as_text=True)
    assert 'name="company_logo"' not in page  # a stored file name is never a text field


def test_a_bad_iban_or_logo_is_refused_naming_the_field(app, admin_client, api_headers, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    api = app.test_client()
    r = api.post("/api/v1/company_bank_accounts", headers=api_headers,
                 json={"bank_name": "BT", "iban": "RO49AAAA1B31007593840001", "is_default": True, "active": True})
    assert r.status_code == 422 and "iban" in str(r.get_json()) and "checksum" in str(r.get_json()).lower()
    page = admin_client.get("/admin/company/").get_data(as_text=True)
    r = admin_client.post("/admin/company/logo", content_type="multipart/form-data",
                          data={"csrf_token": csrf_from(page), "logo": (io.BytesIO(b"<svg onload=alert(1)>"), "x.png")})
    assert r.status_code == 422 and "company_logo: not an image" in r.get_data(as_text=True)
    # the option that names the stored file cannot be pointed at a path through a generic door
    r = api.post("/api/v1/options", headers=api_headers, json={"name": "company_logo", "value": "../../secret.key"})
    assert r.status_code == 422 and "company_logo" in str(r.get_json())
    app.config.pop("UPLOAD_FOLDER", None)


def test_invoice_pdf_portal_email_and_xml_name_the_same_seller(app, admin_client, profiled, smtp):
    from crm.catalog.models import Currency
    from crm.efactura import samples
    from crm.sales.models.documents import Invoice

    with app.app_context():
        samples.ensure_taxes()
        docs = build_sales_documents()
        inv = db.session.get(Invoice, docs["invoice"])
        eur = db.session.get(Currency, inv.currency)
        from crm.core.models.company import CompanyBankAccount

        db.session.add(CompanyBankAccount(bank_name="ING", iban="RO66 BACX 0000 0012 3456 7890", currency=eur.id))
        db.session.commit()

    text = pdf_text(admin_client.get(f"/admin/documents/invoice/{docs['invoice']}.pdf").data)
    for expected in ("Atelierul de Rafturi SRL", "VAT: RO18547290", "J12/3456/2019", "Str. Memorandumului 28",
                     "400114 Cluj-Napoca", "RO-CJ", "facturi@rafturi.test", "+40 264 555 010",
                     "RO66 BACX 0000 0012 3456 7890 (EUR)"):
        assert expected in text, expected
    assert "RO49 AAAA" not in text  # a EUR invoice shows the EUR account
    assert "RO12345678" not in text

    r = profiled["api"].post(f"/api/v1/invoices/{docs['invoice']}/actions/send", json={}, headers=profiled["headers"])
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        inv = db.session.get(Invoice, docs["invoice"])
        portal = app.test_client().get(f"/portal/invoice/{inv.id}/{inv.hash}").get_data(as_text=True)
    assert "Atelierul de Rafturi SRL" in portal and "RO18547290" in portal and "J12/3456/2019" in portal
    assert 'src="data:image/png;base64,' in portal  # the logo
    [msg] = smtp.inbox.to("ion@popescu.ro")
    assert msg["Subject"].endswith("from Atelierul de Rafturi SRL")
    footer = msg.get_body(("html",)).get_content()
    assert "RO18547290" in footer and "Cluj-Napoca" in footer and "facturi@rafturi.test" in footer

    with app.app_context():
        from crm.efactura import document, ubl

        doc, _ = document.from_invoice(db.session.get(Invoice, docs["invoice"]))
        tree = etree.fromstring(ubl.to_xml(doc))
    seller = tree.find("cac:AccountingSupplierParty/cac:Party", NS)
    assert seller.findtext("cac:PartyLegalEntity/cbc:RegistrationName", namespaces=NS) == "Atelierul de Rafturi SRL"
    assert seller.findtext("cac:PartyTaxScheme/cbc:CompanyID", namespaces=NS) == "RO18547290"
    assert seller.findtext("cac:PostalAddress/cbc:CountrySubentity", namespaces=NS) == "RO-CJ"
    account = tree.findtext("cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID", namespaces=NS)
    assert account == "RO66BACX0000001234567890"  # the same account the PDF prints for EUR


def test_the_logo_appears_on_the_pdf_and_can_be_removed(app, admin_client, profiled, tmp_path):
    import shutil
    import subprocess

    with app.app_context():
        docs = build_sales_documents()
    pdf = admin_client.get(f"/admin/documents/invoice/{docs['invoice']}.pdf").data
    if not shutil.which("pdfimages"):
        pytest.skip("pdfimages is not installed (apt-get install poppler-utils)")
    listed = subprocess.run(["pdfimages", "-list", "-", ], input=pdf, capture_output=True).stdout.decode()
    if not listed:
        (tmp_path / "inv.pdf").write_bytes(pdf)
        listed = subprocess.run(["pdfimages", "-list", str(tmp_path / "inv.pdf")], capture_output=True).stdout.decode()
    assert " 120 " in listed and " 40 " in listed  # the 120×40 logo is embedded

    from crm.core import options, storage

    with app.app_context():
        stored = options.get("company_logo")
        assert storage.path_of("branding", stored) is not None
    page = admin_client.get("/admin/company/").get_data(as_text=True)
    r = admin_client.post("/admin/company/logo", data={"csrf_token": csrf_from(page), "remove": "1"})
    assert r.status_code == 302
    with app.app_context():
        assert options.get("company_logo") == "" and storage.path_of("branding", stored) is None


def test_upgrading_moves_the_old_settings_into_the_profile(tmp_path):
    """What an installation had (company_vat on PDFs, efactura_* for ANAF) becomes one profile; the
    values ANAF accepted win."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from crm.app import create_app
    from crm.core import options
    from crm.core.company import profile

    old = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}"})
    with old.app_context():
        upgrade(revision="mny9price0001")
        db.session.execute(text("INSERT INTO tbloptions (name, value, autoload) VALUES (:n, :v, 1)"), [
            {"n": "company_vat", "v": "RO12345678"}, {"n": "efactura_company_name", "v": "Legal SRL"},
            {"n": "efactura_cui", "v": "RO 18547290"}, {"n": "efactura_county", "v": "RO-CJ"},
            {"n": "efactura_trade_register", "v": "J12/3456/2019"},
            {"n": "efactura_iban", "v": "RO49 AAAA 1B31 0075 9384 0000"}])
        db.session.commit()
        upgrade()
        p = profile()
        assert (p.name, p.vat_id, p.county, p.trade_register) == ("Legal SRL", "RO18547290", "RO-CJ", "J12/3456/2019")
        assert [a.iban for a in p.bank_accounts] == ["RO49AAAA1B31007593840000"]
        left = db.session.execute(text("SELECT name FROM tbloptions WHERE name LIKE 'efactura_c%' "
                                       "OR name = 'company_vat'")).scalars().all()
        assert left == [] and options.get("company_cui") == "18547290"
        db.session.remove()
