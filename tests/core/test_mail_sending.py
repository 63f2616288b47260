"""Sending documents by email through a real SMTP server on loopback (aiosmtpd), through the grid
button and the API; retries never send twice; without SMTP the message waits in the outbox."""
from __future__ import annotations

import email
import socket
from email import policy

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from, make_staff
from tests.core.test_pdf_documents import build_sales_documents, pdf_text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 Message accepted"

    def to(self, address):
        return [m for rcpts, m in self.messages if address in rcpts]


class SmtpServer:
    def __init__(self, port):
        self.port, self.inbox, self.controller = port, Inbox(), None

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(autouse=True)
def _attachments_in_tmp(app, monkeypatch, tmp_path):
    """Outbox attachments are stored under the instance folder: a temporary one here."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


@pytest.fixture
def no_smtp(app, monkeypatch):
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.setitem(app.config, "SMTP_URL", None)


@pytest.fixture
def smtp(app, monkeypatch, no_smtp):
    server = SmtpServer(free_port())
    server.start()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    yield server
    server.stop()


@pytest.fixture
def docs(app):
    with app.app_context():
        agent = make_staff("agent@test.example", "Sales Agent")
        return build_sales_documents(assigned=agent.staffid)


def _outbox(app, **filters):
    from crm.core.models.messaging import EmailOutbox

    with app.app_context():
        rows = db.session.query(EmailOutbox).filter_by(**filters).order_by(EmailOutbox.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def _get(app, model_name, obj_id):
    from crm import models

    with app.app_context():
        obj = db.session.get(getattr(models, model_name), obj_id)
        db.session.expunge(obj)
        return obj


def _pdf_of(msg):
    parts = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1, [p.get_content_type() for p in msg.iter_attachments()]
    return parts[0].get_filename(), parts[0].get_content()


def test_grid_button_sends_proposal_with_portal_link_and_pdf(app, admin_client, smtp, docs):
    page = admin_client.get("/admin/proposals/").get_data(as_text=True)
    assert 'data-action="send"' in page and 'data-action="mark_sent"' in page
    resp = admin_client.post(f"/admin/proposals/run-action/send/{docs['proposal']}?url=/admin/proposals/",
                             data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "Emailed to ion@popescu.ro" in resp.get_data(as_text=True)

    proposal = _get(app, "Proposal", docs["proposal"])
    assert proposal.status == 4 and proposal.hash  # Sent, with a portal hash
    [msg] = smtp.inbox.to("ion@popescu.ro")  # the primary contact, not the other one
    assert msg["Subject"] == "Proposal PRO-000007 from CRMConnect Demo SRL"
    assert msg["To"] == "ion@popescu.ro"
    link = f"/portal/proposal/{proposal.id}/{proposal.hash}"
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert link in html and link in text and "Dear Ion Popescu" in text and "2,681.70 EUR" in text
    filename, pdf = _pdf_of(msg)
    assert filename == "PRO-000007.pdf" and "PRO-000007" in pdf_text(pdf)

    # the assigned staff member hears about it through the same outbox
    [note] = smtp.inbox.to("agent@test.example")
    assert note["Subject"] == "Proposal PRO-000007 was sent to Popescu Logistic SRL"
    assert "ion@popescu.ro" in note.get_body(("plain",)).get_content()

    rows = _outbox(app, rel_type="proposal", rel_id=proposal.id)
    assert [r.status for r in rows] == ["sent", "sent"] and all(r.attempts == 1 for r in rows)
    assert rows[0].message_id == msg["Message-ID"]


def test_api_sends_invoice_and_estimate(app, smtp, docs):
    client = app.test_client()
    headers = api_token(client)
    r = client.post(f"/api/v1/invoices/{docs['invoice']}/actions/send", json={}, headers=headers)
    assert r.status_code == 200, r.get_json()
    inv = _get(app, "Invoice", docs["invoice"])
    assert inv.sent and inv.datesend is not None and inv.hash
    [msg] = smtp.inbox.to("ion@popescu.ro")
    assert msg["Subject"] == "Invoice INV-000042 from CRMConnect Demo SRL"
    assert f"/portal/invoice/{inv.id}/{inv.hash}" in msg.get_body(("html",)).get_content()
    filename, pdf = _pdf_of(msg)
    assert filename == "INV-000042.pdf" and "2,681.70 EUR" in pdf_text(pdf)

    r = client.post(f"/api/v1/estimates/{docs['estimate']}/actions/send", json={}, headers=headers)
    assert r.status_code == 200, r.get_json()
    est = _get(app, "Estimate", docs["estimate"])
    assert est.status == 2 and est.sent and est.datesend is not None
    assert smtp.inbox.to("ion@popescu.ro")[-1]["Subject"] == "Sales order EST-000003 from CRMConnect Demo SRL"


def test_draft_invoice_is_numbered_when_sent(app, smtp, docs):
    from crm.sales.models.documents import Invoice

    with app.app_context():
        inv = db.session.get(Invoice, docs["invoice"])
        inv.status, inv.number, inv.formatted_number = 6, None, None
        db.session.commit()
    client = app.test_client()
    headers = api_token(client)
    r = client.post(f"/api/v1/invoices/{docs['invoice']}/actions/send", json={}, headers=headers)
    assert r.status_code == 200, r.get_json()
    inv = _get(app, "Invoice", docs["invoice"])
    # numbered, and no longer a draft: partially paid, given the fixture's payment
    assert inv.formatted_number and inv.number and inv.status == 3 and inv.sent
    assert smtp.inbox.to("ion@popescu.ro")[0]["Subject"] == f"Invoice {inv.formatted_number} from CRMConnect Demo SRL"


def test_no_email_address_refuses_with_what_to_fix(app, smtp):
    with app.app_context():
        docs = build_sales_documents(with_contact=False)
    client = app.test_client()
    headers = api_token(client)
    r = client.post(f"/api/v1/invoices/{docs['invoice']}/actions/send", json={}, headers=headers)
    assert r.status_code == 409
    assert r.get_json()["error"] == ("Invoice INV-000042 has no email address: add a primary contact with an "
                                     "email to client Popescu Logistic SRL.")
    r = client.post(f"/api/v1/proposals/{docs['proposal']}/actions/send", json={}, headers=headers)
    assert r.status_code == 409 and "add a primary contact with an email to client Popescu Logistic SRL" \
        in r.get_json()["error"]
    assert not _get(app, "Invoice", docs["invoice"]).sent and _get(app, "Proposal", docs["proposal"]).status == 6
    assert _outbox(app) == [] and smtp.inbox.messages == []


def test_proposal_email_on_the_proposal_is_used_without_a_contact(app, smtp):
    from crm.sales.models.documents import Proposal

    with app.app_context():
        docs = build_sales_documents(with_contact=False)
        db.session.get(Proposal, docs["proposal"]).email = "buyer@popescu.ro"
        db.session.commit()
    r = app.test_client().post(f"/api/v1/proposals/{docs['proposal']}/actions/send", json={},
                               headers=api_token(app.test_client()))
    assert r.status_code == 200 and len(smtp.inbox.to("buyer@popescu.ro")) == 1


def test_retry_after_failure_sends_once(app, admin_client, no_smtp, docs, monkeypatch):
    from crm.core.mail import send_outbox_message

    server = SmtpServer(free_port())  # nobody listens on this port yet
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    client = app.test_client()
    headers = api_token(client)
    r = client.post(f"/api/v1/invoices/{docs['invoice']}/actions/send", json={}, headers=headers)
    assert r.status_code == 200  # the invoice is sent as far as the CRM goes; the outbox holds the error
    [row] = _outbox(app, rel_type="invoice")
    assert row.status == "failed" and row.attempts == 1 and "Connection" in row.last_error
    assert row.note == "Failed: use Resend on this row"

    server.start()
    try:
        page = admin_client.get("/admin/emails/outbox/").get_data(as_text=True)
        assert 'data-action="resend"' in page and "Invoice INV-000042" in page
        resp = admin_client.post(f"/admin/emails/outbox/run-action/resend/{row.id}",
                                 data={"csrf_token": csrf_from(page)}, follow_redirects=True)
        assert f"Email #{row.id} queued again" in resp.get_data(as_text=True)
        [again] = _outbox(app, rel_type="invoice")
        assert again.status == "sent" and again.attempts == 2 and again.last_error is None
        assert len(server.inbox.messages) == 1
        assert server.inbox.messages[0][1]["Message-ID"] == row.message_id  # the same message, not a new one

        # a job that finds it sent does nothing; Resend refuses
        with app.app_context():
            assert "nothing to do" in send_outbox_message(row.id)
        r = client.post(f"/api/v1/email_outbox/{row.id}/actions/resend", json={}, headers=headers)
        assert r.status_code == 409 and "already sent" in r.get_json()["error"]
        assert len(server.inbox.messages) == 1
    finally:
        server.stop()


def test_a_message_being_sent_is_not_sent_again(app, smtp):
    from crm.core.mail import queue_email, send_outbox_message

    with app.app_context():
        row = queue_email("x@example.test", "Hello", "<p>Hi</p>", "Hi")
        row.status = "sending"  # as if a worker were in the middle of it (the job runs after commit)
        db.session.commit()
        assert "nothing to do" in send_outbox_message(row.id)
    assert smtp.inbox.messages == []


def test_without_smtp_the_message_waits_in_the_outbox(app, admin_client, no_smtp, docs):
    page = admin_client.get("/admin/invoices/").get_data(as_text=True)
    resp = admin_client.post(f"/admin/invoices/run-action/send/{docs['invoice']}?url=/admin/invoices/",
                             data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "no SMTP is configured" in resp.get_data(as_text=True)
    [row] = _outbox(app, rel_type="invoice")
    assert row.status == "queued" and row.attempts == 0 and "No SMTP configured" in row.note
    assert row.to_email == "ion@popescu.ro" and row.attachment_list[0]["filename"] == "INV-000042.pdf"
    html = admin_client.get("/admin/emails/outbox/").get_data(as_text=True)
    assert "Invoice INV-000042 from CRMConnect Demo SRL" in html and "ion@popescu.ro" in html
    assert admin_client.get("/admin/emails/outbox/new/").status_code in (302, 403, 404)  # read-only
    body = app.test_client().get(f"/api/v1/email_outbox/{row.id}", headers=api_token(app.test_client())).get_json()
    assert f"/portal/invoice/{docs['invoice']}/" in body["body_html"]


def test_outbox_details_page_shows_the_message(app, admin_client, no_smtp, docs):
    page = admin_client.get("/admin/invoices/").get_data(as_text=True)
    admin_client.post(f"/admin/invoices/run-action/send/{docs['invoice']}", data={"csrf_token": csrf_from(page)})
    [row] = _outbox(app, rel_type="invoice")
    resp = admin_client.get(f"/admin/emails/outbox/details/?id={row.id}")
    assert resp.status_code == 200
    assert f"/portal/invoice/{docs['invoice']}/" in resp.get_data(as_text=True)  # people read messages here


def test_mark_sent_changes_status_without_email(app, smtp, docs):
    client = app.test_client()
    headers = api_token(client)
    r = client.post(f"/api/v1/proposals/{docs['proposal']}/actions/mark_sent", json={}, headers=headers)
    assert r.status_code == 200
    assert _get(app, "Proposal", docs["proposal"]).status == 7
    assert smtp.inbox.messages == [] and _outbox(app) == []
    r = client.post(f"/api/v1/proposals/{docs['proposal']}/actions/mark_sent", json={}, headers=headers)
    assert r.status_code == 409 and "only a draft or revised proposal" in r.get_json()["error"]


def test_templates_are_editable_and_merge_fields_are_escaped(app, admin_client, smtp, docs):
    from crm.core.models.messaging import EmailTemplate
    from crm.sales.models.clients import Client

    assert "Send invoice to customer" in admin_client.get("/admin/emails/").get_data(as_text=True)
    with app.app_context():
        tpl = db.session.query(EmailTemplate).filter_by(slug="invoice-send-to-client").one()
        tpl.subject = "Your invoice {invoice_number} ({total}) {unknown_field}"
        tpl.message = "<p>For {client_company}: {portal_link} {invoice_number.__class__}</p>"
        db.session.get(Client, docs["client"]).company = "<script>alert(1)</script> SRL"
        db.session.commit()
    r = app.test_client().post(f"/api/v1/invoices/{docs['invoice']}/actions/send", json={},
                               headers=api_token(app.test_client()))
    assert r.status_code == 200, r.get_json()
    [msg] = smtp.inbox.messages
    assert msg[1]["Subject"] == "Your invoice INV-000042 (2,681.70 EUR) {unknown_field}"
    html = msg[1].get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; SRL" in html and "<script>" not in html
    assert "{invoice_number.__class__}" in html  # no attribute access through merge fields


def test_smtp_url_parsing():
    from crm.core.mail import SmtpConfigError, parse_smtp_url

    s = parse_smtp_url("smtps://user%40x.ro:p%3Ass@mail.x.ro")
    assert (s.host, s.port, s.username, s.password, s.ssl, s.starttls) == ("mail.x.ro", 465, "user@x.ro", "p:ss",
                                                                           True, False)
    s = parse_smtp_url("smtp://u:p@mail.x.ro:587?starttls=1")
    assert (s.port, s.starttls, s.ssl) == (587, True, False)
    assert parse_smtp_url("smtp://127.0.0.1:1025").port == 1025
    with pytest.raises(SmtpConfigError):
        parse_smtp_url("http://mail.x.ro")
