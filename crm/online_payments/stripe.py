"""Stripe Checkout through the ``stripe`` library.

Options: ``stripe_secret_key``, ``stripe_publishable_key``, ``stripe_webhook_secret`` and
``stripe_api_base`` (the library's API base: https://api.stripe.com, or the sandbox in tests and
the demo). A client is built per call from the current options, so an admin's change applies at
once and no global library state is shared between threads.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import stripe

from crm.core import options

# Stripe amounts are integers in the currency's minor unit; these currencies have none, and these
# three-decimal ones have 1000 (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF",
                "XOF", "XPF"}
THREE_DECIMAL = {"BHD", "JOD", "KWD", "OMR", "TND"}
GATEWAY = "stripe"
MODE_NAME = "Stripe"


def _exponent(currency: str) -> int:
    code = currency.upper()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def to_minor(amount: Decimal, currency: str) -> int:
    """19.99 EUR → 1999; 500 JPY → 500."""
    return int((Decimal(amount) * (10 ** _exponent(currency))).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(amount: int, currency: str) -> Decimal:
    """1999 EUR → Decimal('19.99')."""
    return (Decimal(int(amount)) / (10 ** _exponent(currency))).quantize(Decimal("0.01"))


def configured() -> bool:
    """Online payment is offered only with a secret key and a webhook secret (else no payment is ever recorded)."""
    return bool(options.get("stripe_secret_key") and options.get("stripe_webhook_secret"))


def client() -> stripe.StripeClient:
    base = (options.get("stripe_api_base") or stripe.DEFAULT_API_BASE).rstrip("/")
    return stripe.StripeClient(options.get("stripe_secret_key"), base_addresses={"api": base},
                               max_network_retries=1)


def create_checkout_session(*, amount: Decimal, currency: str, name: str, invoice_id: int, reference: str,
                            success_url: str, cancel_url: str, email: str | None = None):
    """A Checkout Session (mode payment) for ``amount`` of ``currency``; returns the library's Session."""
    params = {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": currency.lower(), "unit_amount": to_minor(amount, currency),
            "product_data": {"name": name}}}],
        "metadata": {"invoice_id": str(invoice_id)},
        "payment_intent_data": {"metadata": {"invoice_id": str(invoice_id)}},
        "client_reference_id": reference,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if email:
        params["customer_email"] = email
    return client().v1.checkout.sessions.create(params)


def construct_event(payload: bytes, signature: str | None) -> dict:
    """The verified event as plain data, or stripe.SignatureVerificationError / ValueError for a bad one."""
    event = stripe.Webhook.construct_event(payload, signature or "", options.get("stripe_webhook_secret"))
    return event.to_dict()


Error = stripe.StripeError
SignatureError = stripe.SignatureVerificationError
