"""PDF documents: one template for proposals, sales orders and invoices, plus payment receipts;
staff download them at /admin/documents/<kind>/<id>.pdf."""
from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import login, make_staff

LINES = 20
RATE = Decimal("10.50")
# Σ qty i × 10.50 for i = 1..20 = 2205.00; VAT 19% = 418.95; Eco 5% on even lines (110 × 10.50 × 5%) = 57.75
SUBTOTAL, VAT, ECO = Decimal("2205.00"), Decimal("418.95"), Decimal("57.75")
TOTAL = SUBTOTAL + VAT + ECO  # 2681.70


def build_sales_documents(with_contact: bool = True, assigned=None) -> dict:
    """A client (with a primary contact), and a 20-line invoice, a proposal and a sales order for it."""
    from crm.catalog.models import Currency
    from crm.sales.models.clients import Client, Contact
    from crm.sales.models.documents import Estimate, Invoice, InvoicePayment, ItemLine, ItemTax, Proposal

    eur = Currency(name="EUR", symbol="€")
    client = Client(company="Popescu Logistic SRL", vat="RO998877", billing_street="Str. Lunga 5",
                    billing_city="Brasov", billing_zip="500001", billing_country="Romania")
    db.session.add_all([eur, client])
    db.session.flush()
    if with_contact:
        db.session.add_all([
            Contact(userid=client.userid, firstname="Maria", lastname="Ionescu", email="accounts@popescu.ro"),
            Contact(userid=client.userid, firstname="Ion", lastname="Popescu", email="ion@popescu.ro",
                    is_primary=True)])

    def lines():
        out = []
        for i in range(1, LINES + 1):
            line = ItemLine(description=f"Pallet rack bay {i:02d}", qty=Decimal(i), rate=RATE, unit="pcs",
                            item_order=i, taxes=[ItemTax(taxname="VAT", taxrate=Decimal("19"))])
            if i % 2 == 0:
                line.taxes.append(ItemTax(taxname="Eco", taxrate=Decimal("5")))
            out.append(line)
        return out

    inv = Invoice(clientid=client.userid, currency=eur.id, number=42, prefix="INV-", formatted_number="INV-000042",
                  date=date(2026, 11, 2), duedate=date(2026, 12, 2), status=1, hash=None,
                  clientnote="Thank you for your business.")
    inv.items.extend(lines())
    prop = Proposal(subject="Warehouse racking", proposal_to="Popescu Logistic SRL", rel_type="customer",
                    rel_id=client.userid, currency=eur.id, date=date(2026, 11, 1), open_till=date(2026, 11, 30),
                    formatted_number="PRO-000007", number=7, status=6, assigned=assigned)
    prop.items.extend(lines())
    est = Estimate(clientid=client.userid, currency=eur.id, date=date(2026, 11, 1), expirydate=date(2026, 12, 1),
                   formatted_number="EST-000003", number=3, prefix="EST-", status=1)
    est.items.extend(lines())
    db.session.add_all([inv, prop, est])
    db.session.flush()
    from crm.core.totals import refresh

    for doc in (inv, prop, est):
        refresh(doc)
    pay = InvoicePayment(invoiceid=inv.id, amount=Decimal("1000.00"), paymentmode="bank", date=date(2026, 11, 10),
                         transactionid="OP-5521")
    db.session.add(pay)
    db.session.commit()
    return {"client": client.userid, "invoice": inv.id, "proposal": prop.id, "estimate": est.id,
            "payment": pay.id}


def pdf_text(pdf: bytes) -> str:
    """The text of a PDF, by pdftotext (poppler-utils); skips the test when it is not installed."""
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
        return out.stdout.decode()
    pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")


def layout_text(html: str) -> tuple[int, str]:
    """Pages and text of an HTML document as WeasyPrint lays it out (its document API)."""
    from weasyprint import HTML

    document = HTML(string=html).render()
    texts = []

    def walk(box):
        if getattr(box, "text", None):
            texts.append(box.text)
        for child in getattr(box, "children", []) or []:
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return len(document.pages), " ".join(texts)


@pytest.fixture
def docs(app):
    with app.app_context():
        return build_sales_documents()


def test_twenty_line_invoice_pdf_shows_number_lines_taxes_and_total(app, docs):
    from crm.core.documents import render_html, render_pdf
    from crm.sales.models.documents import Invoice

    with app.app_context():
        inv = db.session.get(Invoice, docs["invoice"])
        assert inv.total == TOTAL  # the stored totals agree with what is printed
        pdf = render_pdf(inv)
        pages, laid_out = layout_text(render_html(inv))
    assert pages >= 1
    for text in (pdf_text(pdf), laid_out):
        assert "INV-000042" in text and "Invoice" in text
        assert "Pallet rack bay 01" in text and "Pallet rack bay 20" in text
        assert "VAT 19%" in text and "418.95 EUR" in text and "Eco 5%" in text and "57.75 EUR" in text
        assert "2,205.00 EUR" in text and "2,681.70 EUR" in text
        assert "Popescu Logistic SRL" in text and "RO998877" in text  # client block
        assert "CRMConnect Demo SRL" in text  # the seller, from the company profile
        assert "2026-12-02" in text  # due date
        assert "1,681.70 EUR" in text  # amount due after the 1,000.00 payment


def test_proposal_and_sales_order_use_the_same_template(app, docs):
    from crm.core.documents import render_pdf
    from crm.sales.models.documents import Estimate, Proposal

    with app.app_context():
        p = pdf_text(render_pdf(db.session.get(Proposal, docs["proposal"])))
        e = pdf_text(render_pdf(db.session.get(Estimate, docs["estimate"])))
    assert "Proposal" in p and "PRO-000007" in p and "Open till: 2026-11-30" in p and "Warehouse racking" in p
    assert "Sales order" in e and "EST-000003" in e and "Valid until: 2026-12-01" in e
    assert "2,681.70 EUR" in p and "2,681.70 EUR" in e


def test_payment_receipt(app, docs):
    from crm.core.documents import render_pdf
    from crm.sales.models.documents import InvoicePayment

    with app.app_context():
        text = pdf_text(render_pdf(db.session.get(InvoicePayment, docs["payment"])))
    assert "Payment receipt" in text and "INV-000042" in text and "1,000.00 EUR" in text and "OP-5521" in text


def test_staff_download_needs_login_and_the_area_permission(app, admin_client, docs):
    resp = admin_client.get(f"/admin/documents/invoice/{docs['invoice']}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert 'filename="INV-000042.pdf"' in resp.headers["Content-Disposition"]
    assert "INV-000042" in pdf_text(resp.data)
    for kind in ("proposal", "estimate", "receipt"):
        key = "payment" if kind == "receipt" else kind
        assert admin_client.get(f"/admin/documents/{kind}/{docs[key]}.pdf").status_code == 200
    assert admin_client.get("/admin/documents/invoice/999999.pdf").status_code == 404
    assert admin_client.get("/admin/documents/nosuch/1.pdf").status_code == 404

    anonymous = app.test_client().get(f"/admin/documents/invoice/{docs['invoice']}.pdf")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    with app.app_context():
        make_staff("norole@test.example")  # no role: no sales.view
    client = app.test_client()
    login(client, "norole@test.example", "pass-1234")
    assert client.get(f"/admin/documents/invoice/{docs['invoice']}.pdf").status_code == 403


def test_invoice_details_page_links_its_pdf(app, admin_client):
    from datetime import date

    from crm.core.extensions import db
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice

    with app.app_context():
        c = Client(company="Link SRL")
        db.session.add(c)
        db.session.flush()
        inv = Invoice(clientid=c.userid, date=date(2026, 11, 1), formatted_number="INV-000077", number=77)
        db.session.add(inv)
        db.session.commit()
        iid = inv.id
    html = admin_client.get(f"/admin/invoices/details/?id={iid}").get_data(as_text=True)
    assert f'href="/admin/documents/invoice/{iid}.pdf"' in html
    r = admin_client.get(f"/admin/documents/invoice/{iid}.pdf")
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    html = admin_client.get("/admin/clients/").get_data(as_text=True)
    assert 'data-testid="pdf-link"' not in html


def test_printing_process_prints_the_same_receipt_and_survives_its_death(app, docs):
    """With PDF_PROCESSES (the embedded default's job thread) the receipt is printed by a process
    beside the app, with the same text; if that process dies, the next PDF is printed here."""
    import os
    import signal

    from crm.core import pdf_processes
    from crm.core.documents import render_pdf
    from crm.sales.models.documents import InvoicePayment

    app.config["PDF_PROCESSES"] = 1
    try:
        with app.app_context():
            payment = db.session.get(InvoicePayment, docs["payment"])
            here = pdf_text(pdf_processes.write_pdf(*_receipt_html(payment)))
            printed = pdf_text(render_pdf(payment))
            pool = pdf_processes._pools[1]
            children = [p.pid for p in pool._processes.values()]
            assert children and os.getpid() not in children  # printed by another process
            assert printed == here and "Payment receipt" in printed and "OP-5521" in printed

            for pid in children:
                os.kill(pid, signal.SIGKILL)
            again = pdf_text(render_pdf(payment))  # the broken pool is dropped; printed anyway
            assert again == here
    finally:
        app.config["PDF_PROCESSES"] = None
        pdf_processes._shutdown()


def _receipt_html(payment):
    from crm.core.config import ROOT
    from crm.core.documents import render_html

    return render_html(payment), str(ROOT / "templates")
