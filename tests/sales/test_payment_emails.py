"""Payment receipts (PDF from the payment row, from the portal, emailed when a payment is recorded)
and the overdue reminders of the daily job, through a real SMTP server on loopback."""
from __future__ import annotations

from datetime import timedelta

import pytest

from crm.core.extensions import db
from tests.conftest import api_token
from tests.core.test_mail_sending import SmtpServer, free_port
from tests.core.test_pdf_documents import pdf_text
from tests.sales.test_sales_support import TODAY, api, base_data, get, make_client, make_invoice, press, set_option


@pytest.fixture(autouse=True)
def _instance_in_tmp(app, monkeypatch, tmp_path):
    """Outbox attachments live under the instance folder: a temporary one here."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.delenv("SMTP_URL", raising=False)


@pytest.fixture
def smtp(app, monkeypatch):
    server = SmtpServer(free_port())
    server.start()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    yield server
    server.stop()


@pytest.fixture
def ids(app):
    with app.app_context():
        ids = base_data()
        ids["client"] = make_client().userid
        return ids


def _invoice(app, ids, **kw):
    from crm.sales.models.clients import Client

    with app.app_context():
        inv = make_invoice(ids, db.session.get(Client, ids["client"]), **kw)  # total 298.10 RON
        return inv.id


def _pdfs(msg):
    return [(p.get_filename(), p.get_content()) for p in msg.iter_attachments()
            if p.get_content_type() == "application/pdf"]


def _outbox(app, **filters):
    from crm.core.models.messaging import EmailOutbox

    with app.app_context():
        rows = db.session.query(EmailOutbox).filter_by(**filters).order_by(EmailOutbox.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def test_recording_a_payment_emails_the_receipt(app, admin_client, smtp, ids):
    from crm.sales.models.documents import Invoice, InvoicePayment

    inv_id = _invoice(app, ids)
    form = admin_client.get(f"/admin/invoices/run-action/record_payment/{inv_id}").get_data(as_text=True)
    press(admin_client, "invoices", "record_payment", inv_id, page=form,
          data={"amount": "100", "date": TODAY.isoformat(), "paymentmode": str(ids["bank"]), "transactionid": "OP-9"})
    [msg] = smtp.inbox.to("buyer@nordic.ro")
    assert msg["Subject"] == "Payment of 100.00 RON received for invoice INV-000001"
    text = msg.get_body(("plain",)).get_content()
    assert "we received your payment of 100.00 RON" in text and "(Bank transfer)" in text
    assert "Left to pay: 198.10 RON" in text
    inv = get(app, Invoice, inv_id)
    assert f"/portal/invoice/{inv_id}/{inv.hash}" in text
    with app.app_context():
        pay_id = db.session.query(InvoicePayment.id).scalar()
    [(name, pdf)] = _pdfs(msg)
    assert name == f"receipt-{pay_id}.pdf"
    receipt = pdf_text(pdf)
    assert "Payment receipt" in receipt and "INV-000001" in receipt and "Bank transfer" in receipt
    assert "OP-9" in receipt and "198.10 RON" in receipt  # left to pay after it
    [row] = _outbox(app, template="invoice-payment-recorded")
    assert (row.rel_type, row.rel_id, row.status) == ("payment", pay_id, "sent")

    # the option off: payments are recorded, nobody is emailed
    set_option(app, "email_payment_receipt_to_client", False)
    r = api(app.test_client(), api_token(app.test_client()), "invoices", inv_id, "record_payment", amount="50",
            paymentmode=ids["cash"])
    assert r.status_code == 200
    assert len(smtp.inbox.to("buyer@nordic.ro")) == 1 and len(_outbox(app, template="invoice-payment-recorded")) == 1


def test_disabled_template_or_no_contact_sends_nothing_but_records(app, ids):
    from crm.core.models.messaging import EmailTemplate
    from crm.sales.models.clients import Client, Contact
    from crm.sales.models.documents import InvoicePayment

    inv_id = _invoice(app, ids)
    with app.app_context():
        db.session.query(Contact).delete()
        db.session.commit()
    r = api(app.test_client(), api_token(app.test_client()), "invoices", inv_id, "record_payment", amount="10",
            paymentmode=ids["bank"])
    assert r.status_code == 200 and not _outbox(app)
    with app.app_context():
        db.session.add(Contact(userid=ids["client"], is_primary=True, firstname="B", email="b@nordic.ro"))
        from crm.core.mail import ensure_email_templates

        ensure_email_templates()
        db.session.query(EmailTemplate).filter_by(slug="invoice-payment-recorded").one().active = False
        db.session.commit()
        assert db.session.get(Client, ids["client"]) is not None
    r = api(app.test_client(), api_token(app.test_client()), "invoices", inv_id, "record_payment", amount="10",
            paymentmode=ids["bank"])
    assert r.status_code == 200 and not _outbox(app)
    with app.app_context():
        assert db.session.query(InvoicePayment).count() == 2


def test_receipt_from_the_payment_row_and_from_the_portal(app, admin_client, ids):
    from crm.sales.models.documents import Invoice, InvoicePayment

    set_option(app, "email_payment_receipt_to_client", False)
    inv_id, other_id = _invoice(app, ids), _invoice(app, ids)
    headers = api_token(app.test_client())
    api(app.test_client(), headers, "invoices", inv_id, "record_payment", amount="120", paymentmode=ids["cash"],
        transactionid="CASH-1")
    api(app.test_client(), headers, "invoices", other_id, "record_payment", amount="5", paymentmode=ids["cash"])
    with app.app_context():
        pay_id, other_pay = [p.id for p in db.session.query(InvoicePayment).order_by(InvoicePayment.id)]
        inv = db.session.get(Invoice, inv_id)
        inv.hash = "a" * 32
        db.session.commit()
    grid = admin_client.get("/admin/payments/").get_data(as_text=True)
    link = f"/admin/documents/receipt/{pay_id}.pdf"
    assert f'href="{link}"' in grid and 'data-action="pdf"' in grid
    resp = admin_client.get(link)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "120.00 RON" in pdf_text(resp.data) and "Cash" in pdf_text(resp.data)

    portal = app.test_client()
    page = portal.get(f"/portal/invoice/{inv_id}/{'a' * 32}").get_data(as_text=True)
    assert 'data-testid="payments"' in page and "CASH-1" in page
    receipt = f"/portal/invoice/{inv_id}/{'a' * 32}/receipt/{pay_id}.pdf"
    assert f'href="{receipt}"' in page
    resp = portal.get(receipt)
    assert resp.status_code == 200 and "INV-000001" in pdf_text(resp.data)
    # another invoice's payment, or a wrong hash: not found
    assert portal.get(f"/portal/invoice/{inv_id}/{'a' * 32}/receipt/{other_pay}.pdf").status_code == 404
    assert portal.get(f"/portal/invoice/{inv_id}/{'b' * 32}/receipt/{pay_id}.pdf").status_code == 404


# --- overdue reminders -------------------------------------------------------------------------

def _cron(app):
    result = app.test_cli_runner().invoke(args=["crm", "cron", "sweep_overdue_invoices"])
    assert result.exit_code == 0, result.output
    return result.output


def test_overdue_reminder_schedule(app, smtp, ids):
    from crm.sales.actions.payment_emails import send_overdue_reminders
    from crm.sales.models.documents import Invoice

    set_option(app, "automatically_send_invoice_overdue_reminder_after", 2)
    set_option(app, "automatically_resend_invoice_overdue_reminder_after", 3)
    late = _invoice(app, ids, duedate=TODAY - timedelta(days=2))
    recent = _invoice(app, ids, duedate=TODAY - timedelta(days=1))  # 1 day late: not yet
    muted = _invoice(app, ids, duedate=TODAY - timedelta(days=9))
    with app.app_context():
        db.session.get(Invoice, muted).cancel_overdue_reminders = True
        db.session.commit()

    assert "1 overdue reminder(s) emailed" in _cron(app)
    [msg] = smtp.inbox.to("buyer@nordic.ro")
    assert msg["Subject"] == "Invoice INV-000001 is overdue"
    text = msg.get_body(("plain",)).get_content()
    inv = get(app, Invoice, late)
    assert inv.status == 4 and inv.last_overdue_reminder == TODAY
    assert "was due on" in text and "is 2 day(s) overdue" in text and "298.10 RON" in text
    assert f"/portal/invoice/{late}/{inv.hash}" in text
    [(name, pdf)] = _pdfs(msg)
    assert name == "INV-000001.pdf" and "INV-000001" in pdf_text(pdf)
    with app.app_context():
        from crm.sales.models.clients import SalesActivity

        assert db.session.query(SalesActivity).filter_by(rel_type="invoice", rel_id=late).filter(
            SalesActivity.description == "Overdue reminder emailed to buyer@nordic.ro (2 day(s) past due)").count() == 1
    assert get(app, Invoice, recent).last_overdue_reminder is None
    assert get(app, Invoice, muted).last_overdue_reminder is None

    # the job runs again the same day: nothing more
    assert "0 overdue reminder(s) emailed" in _cron(app)
    assert len(smtp.inbox.messages) == 1
    with app.app_context():
        assert send_overdue_reminders(TODAY + timedelta(days=2)) == 1  # only `recent` (now 3 days late)
        assert send_overdue_reminders(TODAY + timedelta(days=2)) == 0
        assert send_overdue_reminders(TODAY + timedelta(days=3)) == 1  # `late` again, 3 days after the first
    assert [m["Subject"] for _r, m in smtp.inbox.messages] == [
        "Invoice INV-000001 is overdue", "Invoice INV-000002 is overdue", "Invoice INV-000001 is overdue"]

    # resend 0: never again
    set_option(app, "automatically_resend_invoice_overdue_reminder_after", 0)
    with app.app_context():
        assert send_overdue_reminders(TODAY + timedelta(days=30)) == 0


def test_two_jobs_at_once_send_one_reminder(app, smtp, ids):
    """Two sweeps racing: the conditional update of last_overdue_reminder lets one of them send."""
    import threading

    from crm.sales.actions.payment_emails import send_overdue_reminders

    _invoice(app, ids, duedate=TODAY - timedelta(days=5), status=4)  # Overdue
    results, barrier = [], threading.Barrier(2)

    def sweep():
        with app.app_context():
            barrier.wait()
            results.append(send_overdue_reminders())
            db.session.remove()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [0, 1]
    assert len(_outbox(app, template="invoice-overdue-notice")) == 1
