"""Document pages, the client and lead pages, the outbox message and the grid's row actions, as staff
open them: every document table's page over the demo data, totals equal to the PDF's, the chain, a
fixed number of queries whatever the number of lines."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import QueryCounter, get_alone
from tests.core.test_pdf_documents import pdf_text

DOCUMENT_TABLES = ("tblproposals", "tblestimates", "tblinvoices", "tblcontracts", "tblpur_request",
                   "tblpur_estimates", "tblpur_orders", "tblpur_invoices", "tblgoods_receipt", "tblgoods_delivery",
                   "tblwh_packing_lists", "tblwh_physical_inventory")


@pytest.fixture
def demo(app, ctx):
    from crm.demo import load

    load()
    db.session.expire_all()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&amp;", "&")


def _section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start:start + 20000]


def _model(table):
    from crm.core.resources import all_models

    return next(m for m in all_models() if m.__tablename__ == table)


def test_every_document_table_is_a_document_page(app):
    from crm.core.pages import is_document

    with app.app_context():
        assert all(is_document(_model(t)) for t in DOCUMENT_TABLES)
        assert not is_document(_model("tblclients")) and not is_document(_model("tblleads"))


def test_every_document_page_shows_header_lines_totals_and_chain(demo, admin_client):
    from crm.admin_views.document_page import number_of
    from crm.core.resources import resource_of

    seen = 0
    for table in DOCUMENT_TABLES:
        model = _model(table)
        url = resource_of(model).url
        rows = db.session.query(model).all()
        assert rows, f"the demo has no {table}"
        for doc in rows[:4]:
            resp = admin_client.get(f"/admin/{url}/details/?id={doc.id}")
            assert resp.status_code == 200, (table, doc.id)
            html = resp.get_data(as_text=True)
            header = _text(_section(html, "document-header"))
            assert number_of(doc) in header, (table, doc.id)
            assert 'data-testid="related"' in html and 'data-testid="timeline"' in html
            assert 'data-testid="all-fields"' in html and "<details" in html
            if resource_of(model).lines:
                lines = getattr(doc, resource_of(model).lines)
                assert html.count('data-testid="line"') == len(lines), (table, doc.id)
            if hasattr(doc, "total") and doc.total:
                assert f"{doc.total:,.2f}" in header, (table, doc.id)
            seen += 1
    assert seen > 20


def test_the_chain_links_up_and_down(demo, admin_client):
    from crm.sales.models.documents import Invoice, Proposal

    proposal = db.session.query(Proposal).filter(Proposal.invoice_id.isnot(None)).first()
    invoice = proposal.invoice
    html = admin_client.get(f"/admin/invoices/details/?id={invoice.id}").get_data(as_text=True)
    related = _section(html, "related")
    assert proposal.formatted_number in related and f"/admin/proposals/details/?id={proposal.id}" in related
    html = admin_client.get(f"/admin/proposals/details/?id={proposal.id}").get_data(as_text=True)
    assert invoice.formatted_number in _section(html, "related")
    assert isinstance(invoice, Invoice)


def test_invoice_page_totals_are_the_pdfs(demo, admin_client):
    from crm.sales.models.documents import Invoice

    inv = db.session.query(Invoice).filter(Invoice.status == 3).first()  # partially paid
    html = admin_client.get(f"/admin/invoices/details/?id={inv.id}").get_data(as_text=True)
    totals = _text(_section(html, "totals")[:4000])
    pdf = pdf_text(admin_client.get(f"/admin/documents/invoice/{inv.id}.pdf").data)
    amounts = re.findall(r"-?\d[\d,]*\.\d\d", totals[:totals.index("Amount due") + 40])
    assert len(amounts) >= 4
    for amount in amounts:
        assert amount in pdf, amount
    assert "Left to pay" in _text(_section(html, "document-header")) and 'data-testid="payments"' in html
    # the labelled actions of its state: the main one first, the others under More, refused ones say why
    actions = _section(html, "detail-actions")
    assert "Record payment" in actions and 'data-refused="issue"' in actions
    assert "TVA 21% 21%" not in html and "TVA 21% 21%" not in pdf


def test_document_page_queries_do_not_grow_with_lines(app, admin_client):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice, ItemLine, ItemTax

    with app.app_context():
        client = Client(company="Lines SRL")
        db.session.add(client)
        db.session.flush()
        ids = []
        for n in (2, 30):
            inv = Invoice(clientid=client.userid, date=date(2026, 1, 5), status=1, formatted_number=f"INV-L{n}")
            for i in range(n):
                inv.items.append(ItemLine(description=f"Line {i}", qty=Decimal(1), rate=Decimal("10.00"), item_order=i,
                                          taxes=[ItemTax(taxname="TVA", taxrate=Decimal(21))]))
            db.session.add(inv)
            db.session.flush()
            ids.append(inv.id)
        db.session.commit()
        engine = db.engine
    get_alone(admin_client, f"/admin/invoices/details/?id={ids[0]}")
    counts = []
    for doc_id in ids:
        with QueryCounter(engine) as qc:
            html = get_alone(admin_client, f"/admin/invoices/details/?id={doc_id}").get_data(as_text=True)
        counts.append(qc.count)
        assert "Line 1" in html
    assert counts[0] == counts[1], counts


def test_client_page_shows_contacts_open_documents_and_statement(demo, admin_client):
    from crm.sales.models.clients import Client, Contact
    from crm.sales.models.documents import Invoice

    inv = db.session.query(Invoice).filter(Invoice.status == 4).first()  # overdue
    client = db.session.get(Client, inv.clientid)
    html = admin_client.get(f"/admin/clients/details/?id={client.userid}").get_data(as_text=True)
    contacts = _text(_section(html, "client-contacts"))
    for c in db.session.query(Contact).filter_by(userid=client.userid):
        assert c.firstname in contacts and c.email in contacts
    assert inv.formatted_number in _text(_section(html, "client-invoices"))
    statement = _text(_section(html, "client-statement")[:3000])
    assert "Overdue" in statement and "Advance credit" in statement and "Invoiced" in statement


def test_lead_page_shows_next_reminder_and_conversions(demo, admin_client):
    from crm.sales.models.clients import Lead

    lead = db.session.query(Lead).filter(Lead.client_id.isnot(None)).first()
    html = admin_client.get(f"/admin/{'opportunities' if lead.is_opportunity else 'leads'}/details/?id={lead.id}")
    html = html.get_data(as_text=True)
    became = _text(_section(html, "lead-conversions"))
    assert "Next reminder" in became and lead.client.company in became


def test_outbox_shows_the_message_sandboxed_with_its_attachments(app, admin_client):
    from crm.core.models.messaging import EmailOutbox

    with app.app_context():
        row = EmailOutbox(to_email="ana@client.ro", subject="Your invoice", message_id="<m1@crm>",
                          body_html="<p>Hello <b>Ana</b></p><script>alert(1)</script>",
                          attachments='[{"path": "x/INV-1.pdf", "filename": "INV-000001.pdf", "mimetype": "application/pdf"}]')
        db.session.add(row)
        db.session.commit()
        row_id = row.id
    html = admin_client.get(f"/admin/emails/outbox/details/?id={row_id}").get_data(as_text=True)
    frame = re.search(r"<iframe[^>]*>", html).group(0)
    assert 'sandbox=""' in frame and "srcdoc=" in frame
    assert "&lt;script&gt;" in frame  # the message is only ever the frame's document, scripts off
    assert "<b>Ana</b>" not in html.split("<iframe", 1)[0]
    assert "INV-000001.pdf" in _text(_section(html, "outbox-attachments"))


def test_signed_contract_shows_signature_signer_and_time(app, admin_client):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Contract
    from crm.sales.portal.signatures import store

    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
           b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
    with app.app_context():
        client = Client(company="Signed SRL")
        db.session.add(client)
        db.session.flush()
        contract = Contract(subject="Service 2026", client=client.userid, signed=True,
                            acceptance_firstname="Ana", acceptance_lastname="Pop", acceptance_email="ana@signed.ro",
                            acceptance_date=datetime(2026, 3, 4, 10, 30))
        db.session.add(contract)
        db.session.flush()
        contract.signature = store("contract", contract.id, png)
        db.session.commit()
        cid = contract.id
    html = admin_client.get(f"/admin/contracts/details/?id={cid}").get_data(as_text=True)
    sig = _section(html, "signature")
    assert 'src="data:image/png;base64,' in sig
    assert "Ana Pop" in _text(sig) and "04 Mar 2026, 10:30" in _text(sig)


def test_grid_rows_have_open_main_action_and_menu(demo, admin_client):
    html = admin_client.get("/admin/invoices/").get_data(as_text=True)
    rows = html.count('data-testid="row-actions"')
    assert rows == 6
    assert html.count('data-testid="row-open"') == rows and html.count('data-testid="row-more"') == rows
    assert html.count("crm-main-action") == rows  # each row's main action, labelled
    assert "Issue (mark draft as unpaid)" in html and "Record payment" in html
