"""Emails about paying: the receipt sent when a payment is recorded (template
``invoice-payment-recorded``, option ``email_payment_receipt_to_client``) and the overdue reminders
the daily sweep sends (template ``invoice-overdue-notice``, options
``automatically_send_invoice_overdue_reminder_after`` / ``automatically_resend_invoice_overdue_reminder_after``).

Both go through the outbox with a PDF attached and the invoice's portal link.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import or_, update

from crm.core import options
from crm.core.documents import currency_of, fmt, pdf_filename, public_url, render_pdf
from crm.sales.documents import mode_name
from crm.core.extensions import db
from crm.core.jobs import enqueue, job
from crm.core.mail import queue_email, render_email
from crm.core.mail.templates import _BUTTON, DEFAULTS
from crm.core.models.messaging import EmailOutbox
from crm.core.registry import ActionError
from crm.sales.actions.sales_activity import log_sales_activity
from crm.sales.actions.sending import merge_fields, recipient
from crm.sales.invoice_status import amount_paid
from crm.sales.models.documents import Invoice, InvoicePayment, InvoiceStatus

RECEIPT = "invoice-payment-recorded"
OVERDUE_NOTICE = "invoice-overdue-notice"

DEFAULTS.update({
    RECEIPT: (
        "invoice", "Invoice payment recorded (to customer)",
        "Payment of {payment_amount} received for invoice {invoice_number}",
        "<p>Dear {contact_name},</p>"
        "<p>Thank you: we received your payment of <b>{payment_amount}</b> on {payment_date} "
        "({payment_mode}) for invoice <b>{invoice_number}</b>. The receipt is attached.</p>"
        "<p>Invoice total: {total}. Left to pay: <b>{left_to_pay}</b>.</p>" + _BUTTON
        + "<p>Kind regards,<br>{companyname}</p>"),
    OVERDUE_NOTICE: (
        "invoice", "Invoice overdue notice (to customer)", "Invoice {invoice_number} is overdue",
        "<p>Dear {contact_name},</p>"
        "<p>Invoice <b>{invoice_number}</b> was due on {due_date} and is {days_overdue} day(s) overdue. "
        "<b>{left_to_pay}</b> of {total} is left to pay. The invoice is attached.</p>"
        "<p>You can view and pay it online:</p>" + _BUTTON
        + "<p>If you have already paid, please ignore this message.</p>"
          "<p>Kind regards,<br>{companyname}</p>"),
})


def _fields(invoice, email: str, name: str) -> dict:
    fields = merge_fields(invoice, None, name, email, public_url(invoice))
    left = max(invoice.total - Decimal(amount_paid(invoice.id)), Decimal("0"))
    fields.update(left_to_pay=fmt(left, currency_of(invoice)), invoice_status=InvoiceStatus.label_of(invoice.status))
    return fields


# --- receipts ----------------------------------------------------------------------------------

def queue_receipt_email(payment) -> None:
    """After the payment's transaction commits, email the client its receipt (when the option is on)."""
    if options.get("email_payment_receipt_to_client"):
        enqueue(email_payment_receipt, payment.id)


@job
def email_payment_receipt(payment_id: int) -> str:
    """Queue the receipt email of one payment in the outbox; once per payment."""
    payment = db.session.get(InvoicePayment, payment_id)
    if payment is None:
        return f"payment #{payment_id} does not exist"
    if db.session.query(EmailOutbox.id).filter_by(template=RECEIPT, rel_type="payment", rel_id=payment.id).first():
        return f"the receipt of payment #{payment_id} was already queued"
    invoice = payment.invoice
    try:
        email, name = recipient(invoice)
    except ActionError as exc:
        return f"receipt not emailed: {exc.message}"
    fields = _fields(invoice, email, name)
    fields.update(payment_amount=fmt(payment.amount, currency_of(invoice)), payment_date=f"{payment.date:%Y-%m-%d}",
                  payment_mode=mode_name(payment) or "-", transaction_id=payment.transactionid or "-",
                  payment_id=payment.id)
    rendered = render_email(RECEIPT, fields)
    if rendered is None:
        return f"the template {RECEIPT} is disabled"
    queue_email(email, rendered.subject, rendered.html, rendered.text,
                attachments=[(pdf_filename(payment), render_pdf(payment), "application/pdf")],
                rel_type="payment", rel_id=payment.id, template=RECEIPT)
    db.session.commit()
    return f"receipt of payment #{payment_id} queued for {email}"


# --- overdue reminders -------------------------------------------------------------------------

def _days(name: str) -> int | None:
    value = options.get(name)
    return value if isinstance(value, int) and value > 0 else None


def send_overdue_reminders(today: date | None = None) -> int:
    """Email the overdue-notice to each client whose invoice is past due and unpaid (Overdue or
    Partially paid): first ``automatically_send_invoice_overdue_reminder_after`` days after the due
    date, then every ``automatically_resend_invoice_overdue_reminder_after`` days (0: never again).
    Each invoice is claimed by one conditional UPDATE of ``last_overdue_reminder`` committed with its
    email, so a second run — even a concurrent one — never sends twice the same day. Returns how
    many were queued."""
    today = today or date.today()
    first, again = _days("automatically_send_invoice_overdue_reminder_after"), \
        _days("automatically_resend_invoice_overdue_reminder_after")
    if first is None:
        return 0
    due_cond = Invoice.last_overdue_reminder.is_(None)
    if again is not None:
        due_cond = or_(due_cond, Invoice.last_overdue_reminder <= today - timedelta(days=again))
    candidates = (db.session.query(Invoice.id)
                  .filter(Invoice.status.in_([InvoiceStatus.OVERDUE.value, InvoiceStatus.PARTIALLY_PAID.value]),
                          Invoice.duedate <= today - timedelta(days=first),
                          Invoice.cancel_overdue_reminders.is_(False), due_cond)
                  .order_by(Invoice.id).all())
    sent = 0
    for (invoice_id,) in candidates:
        invoice = db.session.get(Invoice, invoice_id)
        try:
            email, name = recipient(invoice)
        except ActionError:
            continue  # nobody to remind; the invoice's grid shows it overdue all the same
        claimed = db.session.execute(
            update(Invoice).where(Invoice.id == invoice_id, due_cond,
                                  or_(Invoice.last_overdue_reminder.is_(None), Invoice.last_overdue_reminder < today))
            .values(last_overdue_reminder=today).execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            db.session.rollback()
            continue
        fields = _fields(invoice, email, name)
        fields["days_overdue"] = (today - invoice.duedate).days
        rendered = render_email(OVERDUE_NOTICE, fields)
        if rendered is None:  # the template is disabled: no reminders at all
            db.session.rollback()
            return sent
        queue_email(email, rendered.subject, rendered.html, rendered.text,
                    attachments=[(pdf_filename(invoice), render_pdf(invoice), "application/pdf")],
                    rel_type="invoice", rel_id=invoice.id, template=OVERDUE_NOTICE)
        log_sales_activity(invoice, None, f"Overdue reminder emailed to {email} "
                                          f"({fields['days_overdue']} day(s) past due)", full_name="System")
        db.session.commit()
        sent += 1
    return sent
