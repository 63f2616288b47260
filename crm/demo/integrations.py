"""Demo integrations: online payments and advances, Facebook Lead Ads and e-Factura, on their stand-ins."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from crm.core import options
from crm.core.extensions import db
from crm.capture import facebook_sandbox
from crm.efactura import samples
from crm.efactura import sandbox as anaf
from crm.capture.facebook_models import FacebookLead
from crm.online_payments.actions import stripe_mode
from crm.sandbox import DEMO_KEYS
from crm.sales.models.documents import (
    Invoice,
)
from crm.demo.base import Demo, public_base


# --- online payments and advances (Stripe sandbox at /sandbox/stripe with CRM_SANDBOX=1) ----

STRIPE_DEMO = {"stripe_secret_key": "sk_test_crmconnect_demo", "stripe_publishable_key": "pk_test_crmconnect_demo",
               "stripe_webhook_secret": "whsec_crmconnect_demo"}


def online_payments(d: Demo) -> None:
    """Online payments: Stripe (sandbox) on unpaid invoices, an advance payment on a client's account"""


    for name, value in STRIPE_DEMO.items():
        options.set(name, value)
    base = public_base()
    options.set("stripe_api_base", f"{base}/sandbox/stripe")
    mode = stripe_mode(create=True)
    for invoice in (doc for doc in d.docs.values() if isinstance(doc, Invoice) and doc.status in (1, 3, 4)):
        allowed = json.loads(invoice.allowed_payment_modes or "[]")
        invoice.allowed_payment_modes = json.dumps(allowed + [mode.id])
    d.act(d.clients["banat"], "record_advance_payment", "Finance", d.at(-3, 14), amount=Decimal("5000.00"),
          paymentmode=d.payment_modes["Bank transfer"].id, currency=d.currencies["RON"].id, date=d.day(-3),
          transactionid="OP 5120 / BCR", note="Avans comandă consumabile")


def facebook_lead_ads(d: Demo) -> None:
    """Facebook Lead Ads: settings pointing at the stand-in `make run` serves at /sandbox/facebook, the demo's Facebook leads as received"""

    base = public_base()
    for name, value in {"facebook_app_secret": DEMO_KEYS["facebook_app_secret"],
                        "facebook_verify_token": "demo-verify-token",
                        "facebook_page_access_token": DEMO_KEYS["facebook_page_access_token"],
                        "facebook_graph_url": f"{base}/sandbox/facebook",
                        "facebook_lead_assigned": d.staff_id("SDR")}.items():
        options.set(name, value)
    source = d.sources["Facebook Lead Ads"].id
    for n, lead in enumerate(sorted((x for x in d.leads.values() if x.source == source), key=lambda x: x.id), 1):
        db.session.add(FacebookLead(leadgen_id=f"90000000000{n:04d}", page_id=facebook_sandbox.PAGE_ID, form_id=facebook_sandbox.FORM_ID,
                                    ad_id=facebook_sandbox.AD_ID, status="fetched", attempts=1, leadid=lead.id,
                                    created_time=lead.dateadded, received_at=lead.dateadded,
                                    fetched_at=lead.dateadded))


def efactura(d: Demo) -> None:
    """e-Factura: company identity, the ANAF stand-in `make run` serves at /sandbox/anaf, connected"""

    samples.ensure_company()
    base = public_base()
    for name, value in anaf.demo_urls(base).items():
        options.set(name, value)
    options.set("efactura_client_id", "crmconnect-demo")
    options.set("efactura_client_secret", "demo-secret")
    options.set("efactura_access_token", anaf.make_jwt(datetime.utcnow() + timedelta(days=90)))
