"""Paying in the portal: "Pay online" (Stripe Checkout), the return pages, payment receipts, and
the Stripe webhook (``POST /webhooks/stripe``, CSRF-exempt, signature checked) that records the
payment. Business rules: crm.online_payments.actions."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, flash, redirect, request, url_for

from crm.core.documents import base_url, currency_of, number_of, pdf_filename, render_pdf
from crm.core.extensions import db
from crm.core.registry import ActionError
from crm.online_payments import stripe as gateway
from crm.online_payments.actions import online_refusal, record_checkout_event, stripe_mode
from crm.sales.actions.payments import left_to_pay
from crm.sales.actions.sending import recipient
from crm.sales.models.documents import InvoicePayment
from crm.sales.portal.views import _document, _page, bp

log = logging.getLogger(__name__)
INVOICE = "/<any(invoice):kind>/<int:doc_id>/<doc_hash>"


@bp.get(f"{INVOICE}/receipt/<int:payment_id>.pdf")
def receipt(kind, doc_id, doc_hash, payment_id):
    invoice = _document(kind, doc_id, doc_hash)
    payment = db.session.get(InvoicePayment, payment_id)
    if payment is None or payment.invoiceid != invoice.id:
        abort(404)
    return Response(render_pdf(payment), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{pdf_filename(payment)}"'})


@bp.post(f"{INVOICE}/pay")
def pay_online(kind, doc_id, doc_hash):
    """Create a Stripe Checkout Session for what is left to pay and send the client to it."""
    invoice = _document(kind, doc_id, doc_hash)
    refusal = online_refusal(invoice)
    if refusal:
        return _page(kind, invoice, notice=f"Online payment is not available: {refusal}", status=409)
    here = f"{base_url()}/portal/invoice/{invoice.id}/{invoice.hash}"
    try:
        email = recipient(invoice)[0]
    except ActionError:
        email = None
    try:
        stripe_mode(create=True)  # so staff see the mode before the first payment arrives
        db.session.commit()
        session = gateway.create_checkout_session(
            amount=left_to_pay(invoice), currency=currency_of(invoice), invoice_id=invoice.id,
            name=f"Invoice {number_of(invoice)}", reference=f"invoice-{invoice.id}", email=email,
            success_url=f"{here}/paid?session_id={{CHECKOUT_SESSION_ID}}", cancel_url=f"{here}/pay-cancelled")
    except gateway.Error as exc:
        log.warning("Stripe Checkout session for invoice %s failed: %s", invoice.id, exc)
        return _page(kind, invoice, notice="Online payment is not available right now (the payment provider did "
                                           "not answer). Please try again later or pay by bank transfer.",
                     status=502)
    return redirect(session.url, code=303)


@bp.get(f"{INVOICE}/paid")
def paid(kind, doc_id, doc_hash):
    invoice = _document(kind, doc_id, doc_hash)
    flash("Thank you: your payment was received. The invoice shows it as soon as the payment provider "
          "confirms it, and a receipt is emailed to you.", "success")
    return redirect(url_for("portal.view", kind=kind, doc_id=invoice.id, doc_hash=invoice.hash))


@bp.get(f"{INVOICE}/pay-cancelled")
def pay_cancelled(kind, doc_id, doc_hash):
    invoice = _document(kind, doc_id, doc_hash)
    flash("The online payment was cancelled; nothing was charged.", "info")
    return redirect(url_for("portal.view", kind=kind, doc_id=invoice.id, doc_hash=invoice.hash))


# --- the webhook -------------------------------------------------------------------------------

webhooks = Blueprint("stripe_webhook", __name__, url_prefix="/webhooks")


@webhooks.post("/stripe")
def stripe_webhook():
    """Stripe posts events here; a bad or missing signature is refused (400) and nothing is written."""
    if not gateway.configured():
        return {"error": "Stripe is not configured (stripe_webhook_secret)."}, 400
    try:
        event = gateway.construct_event(request.get_data(), request.headers.get("Stripe-Signature"))
    except (gateway.SignatureError, ValueError) as exc:
        return {"error": f"Invalid Stripe webhook: {exc}"}, 400
    outcome = record_checkout_event(event)
    log.info("Stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return {"received": True, "outcome": outcome}
