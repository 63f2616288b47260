"""Online payment of an invoice through Stripe Checkout: whether the portal offers it, and
recording the payment a verified webhook event reports — exactly once.

Once-only: a tblpayment_gateway_events row, unique on the event id and on the payment intent, is
inserted before anything else in the webhook's transaction. A redelivered event, or a second event
about the same payment, fails that insert and records nothing; two deliveries racing each other
serialize on the unique index and the loser finds the winner's row.
"""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from crm.catalog.models import PaymentMode
from crm.core.extensions import db
from crm.core.registry import ActionError
from crm.online_payments import stripe as gateway
from crm.sales.actions.invoices import invoice_name
from crm.sales.actions.payments import add_payment, left_to_pay
from crm.sales.actions.sales_activity import log_sales_activity
from crm.sales.models.documents import Invoice, InvoiceStatus
from crm.sales.models.payments import GatewayEventStatus, PaymentGatewayEvent

PAYABLE = (InvoiceStatus.UNPAID.value, InvoiceStatus.PARTIALLY_PAID.value, InvoiceStatus.OVERDUE.value)
HANDLED = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


def stripe_mode(create: bool = False) -> PaymentMode | None:
    mode = (db.session.query(PaymentMode).filter(func.lower(PaymentMode.name) == gateway.MODE_NAME.lower())
            .order_by(PaymentMode.id).first())
    if mode is None and create:
        mode = PaymentMode(name=gateway.MODE_NAME, description="Card payments online through Stripe Checkout",
                           active=True, selected_by_default=True, invoices_only=True)
        db.session.add(mode)
        db.session.flush()
    return mode


def stripe_allowed(invoice) -> bool:
    """The invoice's allowed payment modes include Stripe (its mode id, or Perfex's gateway id
    "stripe"); an invoice with no list accepts every active mode."""
    try:
        allowed = [str(a).lower() for a in json.loads(invoice.allowed_payment_modes or "[]") or []]
    except (TypeError, ValueError):
        allowed = []
    mode = stripe_mode()
    if mode is not None and not mode.active:
        return False
    return not allowed or gateway.GATEWAY in allowed or (mode is not None and str(mode.id) in allowed)


def online_refusal(invoice) -> str | None:
    """Why the portal cannot offer "Pay online" for this invoice now, or None."""
    if not gateway.configured():
        return "Online payment is not set up."
    if invoice.status not in PAYABLE:
        return f"{invoice_name(invoice)} is {InvoiceStatus.label_of(invoice.status)}."
    if not stripe_allowed(invoice):
        return f"{invoice_name(invoice)} cannot be paid by card online; see the payment details on the invoice."
    if left_to_pay(invoice) <= 0:
        return f"{invoice_name(invoice)} has nothing left to pay."
    return None


def record_checkout_event(event) -> str:
    """Record the payment a verified Stripe event reports (the caller has checked the signature).
    Commits. Returns what happened, for the webhook's answer and the logs."""
    if event["type"] not in HANDLED:
        return f"ignored: {event['type']}"
    session = event["data"]["object"]
    if session.get("payment_status") != "paid":
        return "ignored: not paid yet (an asynchronous payment method confirms later)"
    try:
        invoice_id = int((session.get("metadata") or {}).get("invoice_id"))
    except (TypeError, ValueError):
        return "ignored: no invoice_id in the session's metadata"
    reference = session.get("payment_intent") or session["id"]
    currency = (session.get("currency") or "").upper()
    amount = gateway.from_minor(session.get("amount_total") or 0, currency)
    row = PaymentGatewayEvent(gateway=gateway.GATEWAY, event_id=event["id"], reference=reference,
                              invoiceid=invoice_id if db.session.get(Invoice, invoice_id) else None,
                              amount=amount, status=GatewayEventStatus.RECORDED.value)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return f"already recorded: {reference}"
    invoice = db.session.get(Invoice, invoice_id, with_for_update=True)
    try:
        if invoice is None:
            raise ActionError(f"Invoice #{invoice_id} does not exist.")
        if invoice.currency_rel is not None and invoice.currency_rel.name.upper() != currency:
            raise ActionError(f"the payment is in {currency} but {invoice_name(invoice)} is in "
                              f"{invoice.currency_rel.name}.")
        payment, message = add_payment(invoice, None, amount, str(stripe_mode(create=True).id), date.today(),
                                       reference, f"Stripe Checkout session {session['id']}",
                                       who="The client (paid online)")
        payment.paymentmethod = "Stripe Checkout"
        row.paymentid = payment.id
    except ActionError as exc:
        # The money was taken: keep the event with the reason, tell staff on the invoice's history.
        row.status, row.note = GatewayEventStatus.REFUSED.value, exc.message
        if invoice is not None:
            log_sales_activity(invoice, None, f"Online payment of {amount} {currency} ({reference}) NOT recorded: "
                               f"{exc.message} Refund it in Stripe or record it by hand.", full_name="Stripe")
        message = f"refused: {exc.message}"
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent delivery won the race at commit time
        db.session.rollback()
        return f"already recorded: {reference}"
    return message
