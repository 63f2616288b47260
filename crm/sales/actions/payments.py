"""Recording a payment on an invoice (tblinvoicepaymentrecords).

A payment on a draft first gives the invoice its real number; the status is then recomputed
by crm/sales/invoice_status.py (recompute_status). A payment above what is left to pay is refused unless the option
``allow_payment_above_total`` is on.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from wtforms import DateField, DecimalField, Form, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from crm.catalog.reference import active_payment_modes, currency_name
from crm.core import options
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.numbering import shown
from crm.core.registry import ActionError, action
from crm.sales.actions.invoices import invoice_name, issue_draft
from crm.sales.actions.payment_emails import queue_receipt_email
from crm.sales.actions.sales_activity import log_sales_activity
from crm.sales.invoice_status import CANCELLED, PAID, amount_paid, recompute_status
from crm.sales.models.documents import Invoice, InvoicePayment, InvoiceStatus


def _active_modes():
    try:
        from wtforms.fields.choices import SelectChoice
    except ImportError:  # WTForms before 3.3: (value, label) pairs
        SelectChoice = lambda value, label: (value, label)  # noqa: E731,N806
    return [SelectChoice(str(mode_id), name) for mode_id, name, _ in active_payment_modes()]


def _positive(form, field):
    if field.data is not None and field.data <= 0:
        raise ValidationError("The amount must be more than 0.")


class PaymentForm(Form):
    amount = DecimalField("Amount", places=2,
                          validators=[InputRequired(message="Enter the amount received."), _positive])
    date = DateField("Payment date", default=dt.date.today, validators=[Optional()])  # empty: today
    # Choices are read when the form is shown or checked, so a mode added in Settings appears with
    # its commit (in another process within crm.core.shared.SECONDS).
    paymentmode = SelectField("Payment mode", coerce=int, choices=_active_modes,
                              validators=[InputRequired(message="Choose the payment mode.")],
                              invalid_choice_message="Choose an active payment mode.")
    transactionid = StringField("Transaction ID", validators=[Optional(), Length(max=191)])
    note = TextAreaField("Note", validators=[Optional()])


def _currency(invoice) -> str:
    name = currency_name(invoice.currency)
    return f" {name}" if name is not None else ""


def _payable(invoice) -> str | None:
    if invoice.status == CANCELLED:
        return f"{invoice_name(invoice)} is cancelled; unmark it as cancelled before recording a payment."
    if invoice.status == PAID and not options.get("allow_payment_above_total"):
        return f"{invoice_name(invoice)} is already paid."
    return None


def left_to_pay(invoice, paid: Decimal | None = None) -> Decimal:
    return money(invoice.total - (money(amount_paid(invoice.id)) if paid is None else paid))


def add_payment(invoice, actor, amount: Decimal, paymentmode: str | None, date: dt.date | None = None,
                transactionid: str | None = None, note: str | None = None, *, advance_payment_id: int | None = None,
                who: str | None = None, email_receipt: bool = True) -> tuple[InvoicePayment, str]:
    """Record one payment on ``invoice`` (the caller commits): refuse more than what is left unless
    ``allow_payment_above_total``, number a draft, recompute the status, log it, and email the client
    the receipt after commit. Every door that records a payment comes through here.
    Returns the row and a message for the person."""
    amount, date = money(amount), date or dt.date.today()
    refusal = _payable(invoice)
    if refusal:
        raise ActionError(refusal)
    paid = money(amount_paid(invoice.id))  # every door locks the invoice row first: this stays true
    left = left_to_pay(invoice, paid)
    if amount > left and not options.get("allow_payment_above_total"):
        raise ActionError(f"{amount:,.2f}{_currency(invoice)} is more than what is left to pay on "
                          f"{invoice_name(invoice)}: {max(left, Decimal('0.00')):,.2f}{_currency(invoice)}.",
                          field="amount")
    issue_draft(invoice)  # a payment on a draft first gives it its real number
    payment = InvoicePayment(invoiceid=invoice.id, amount=amount, date=date,
                             paymentmode=str(paymentmode) if paymentmode not in (None, "") else None,
                             transactionid=(transactionid or "").strip() or None, note=note or None,
                             advance_payment_id=advance_payment_id)
    db.session.add(payment)
    db.session.flush()
    recompute_status(invoice, paid=paid + amount)
    status = InvoiceStatus.label_of(invoice.status)
    log_sales_activity(invoice, actor, f"Payment of {amount:,.2f}{_currency(invoice)} recorded; now {status}",
                       additional_data=transactionid or None, full_name=who)
    if email_receipt:
        queue_receipt_email(payment)
    left_now = max(left - amount, Decimal("0.00"))
    return payment, (f"Payment of {amount:,.2f}{_currency(invoice)} recorded on {shown(invoice)}; {status}"
                     + (f", {left_now:,.2f}{_currency(invoice)} left to pay" if left_now else ""))


def payment_figures(invoice) -> list[tuple[str, str]]:
    """Total, paid and left to pay, shown above the payment form."""
    paid = money(amount_paid(invoice.id))
    cur = _currency(invoice)
    return [("Invoice total", f"{money(invoice.total):,.2f}{cur}"), ("Paid", f"{paid:,.2f}{cur}"),
            ("Left to pay", f"{max(left_to_pay(invoice, paid), Decimal('0.00')):,.2f}{cur}")]


def payment_defaults(invoice) -> dict:
    return {"amount": max(left_to_pay(invoice), Decimal("0.00"))}


@action(Invoice, "record_payment", "Record payment", form=PaymentForm, precondition=_payable, icon="fa-money",
        defaults=payment_defaults, summary=payment_figures, creates=(InvoicePayment,))
def record_payment(invoice, actor, amount: Decimal, paymentmode: int, date: dt.date | None = None,
                   transactionid: str | None = None, note: str | None = None):
    return add_payment(invoice, actor, amount, str(paymentmode), date, transactionid, note)[1]


def _reversible(payment) -> str | None:
    return None if payment.invoice is not None else f"Payment #{payment.id} has no invoice."


@action(InvoicePayment, "reverse_payment", "Reverse payment", precondition=_reversible, destructive=True,
        confirm="Reverse this payment? The invoice owes the amount again.", icon="fa-undo")
def reverse_payment(payment, actor):
    """Undo a recorded payment (a mistake, a bounced transfer): the only way a posted payment changes.
    The invoice owes the amount again, its status follows, an applied advance is credit again, and
    the invoice's history keeps the line."""
    invoice = db.session.get(Invoice, payment.invoiceid, with_for_update=True, populate_existing=True)
    amount = payment.amount
    db.session.delete(payment)
    db.session.flush()
    recompute_status(invoice)
    status = InvoiceStatus.label_of(invoice.status)
    log_sales_activity(invoice, actor, f"Payment of {amount:,.2f}{_currency(invoice)} of {payment.date} reversed; "
                                       f"now {status}", additional_data=payment.transactionid or None)
    return f"Payment of {amount:,.2f}{_currency(invoice)} on {shown(invoice)} reversed; {status}"
