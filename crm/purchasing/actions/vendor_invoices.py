"""Vendor invoices (tblpur_invoices) and their payments (tblpur_invoice_payment).

Left to pay = total − approved payments; nothing paid → 'unpaid', something → 'partially_paid',
nothing left → 'paid'. A payment above what is left is refused. Payments are recorded only through
the ``record_payment`` action, so the status is always recomputed.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from wtforms import DateField, DecimalField, Form, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from crm.core import events
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.registry import ActionError, action
from crm.purchasing.actions.purchase_common import APPROVED, amount_paid, left_to_pay, recompute_payment_status
from crm.purchasing.models import VendorInvoice, VendorInvoicePaymentStatus, VendorPayment
from crm.sales.actions.payments import _active_modes, _positive

P = VendorInvoicePaymentStatus

events.register(VendorInvoice, statuses={P.PAID.value: "vendor_invoice.paid"}, column="payment_status",
                described={"vendor_invoice.paid": "A vendor invoice was paid in full"})


def name(inv: VendorInvoice) -> str:
    return f"Vendor invoice {inv}"


class VendorPaymentForm(Form):
    amount = DecimalField("Amount", places=2,
                          validators=[InputRequired(message="Enter the amount paid."), _positive])
    date = DateField("Payment date", default=dt.date.today, validators=[Optional()])
    paymentmode = SelectField("Payment mode", coerce=int, choices=_active_modes,
                              validators=[InputRequired(message="Choose the payment mode.")],
                              invalid_choice_message="Choose an active payment mode.")
    transactionid = StringField("Transaction ID", validators=[Optional(), Length(max=191)])
    note = TextAreaField("Note", validators=[Optional()])


def _payable(inv) -> str | None:
    if not inv.total or inv.total <= 0:
        return f"{name(inv)} has no total yet; add its lines first."
    if inv.payment_status == P.PAID.value:
        return f"{name(inv)} is already paid."
    return None


def _figures(inv) -> list[tuple[str, str]]:
    """Total, paid and left to pay, shown above the payment form."""
    cur = f" {inv.currency_rel.name}" if inv.currency_rel is not None else ""
    return [("Vendor invoice total", f"{money(inv.total or 0):,.2f}{cur}"), ("Paid", f"{amount_paid(inv):,.2f}{cur}"),
            ("Left to pay", f"{max(left_to_pay(inv), Decimal(0)):,.2f}{cur}")]


@action(VendorInvoice, "record_payment", "Record payment", form=VendorPaymentForm, precondition=_payable,
        icon="fa-money", defaults=lambda inv: {"amount": max(left_to_pay(inv), Decimal("0.00"))}, summary=_figures,
        creates=(VendorPayment,))
def record_payment(inv: VendorInvoice, actor, amount: Decimal, paymentmode: int, date: dt.date | None = None,
                   transactionid: str | None = None, note: str | None = None):
    amount = money(amount)
    cur = f" {inv.currency_rel.name}" if inv.currency_rel is not None else ""
    left = left_to_pay(inv)
    if amount > left:
        raise ActionError(f"{amount}{cur} is more than what is left to pay on {name(inv)}: {max(left, Decimal(0))}"
                          f"{cur} (total {money(inv.total)}{cur}, paid {amount_paid(inv)}{cur}).", field="amount")
    db.session.add(VendorPayment(pur_invoice=inv.id, amount=amount, paymentmode=str(paymentmode),
                                 date=date or dt.date.today(), transactionid=(transactionid or "").strip() or None,
                                 note=note or None, approval_status=APPROVED, requester=getattr(actor, "staffid", None)))
    db.session.flush()
    status = P.label_of(recompute_payment_status(inv))
    rest = left - amount
    return f"Payment of {amount}{cur} recorded on {name(inv)}; {status}" + (f", {rest}{cur} left to pay" if rest else "")
