"""The client portal: what a client sees from the link in a document's email (no staff login).

``GET /portal/<kind>/<id>/<hash>`` shows a proposal, sales order or invoice like its PDF, with a
"Download PDF" link; proposals and sales orders can be accepted (with a drawn signature) or
declined, proposals commented on. The business rules live in crm.actions (client_accept,
client_decline, client_comment); this package only reads the forms and shows the outcome.
"""
from crm.online_payments import portal as payments  # noqa: F401,E402  (pay online, receipts; the Stripe webhook blueprint)
from crm.sales.portal import (
    contracts,  # noqa: F401,E402  (contract pages on the same blueprint)
    unsubscribe,  # noqa: F401,E402  (campaign opt-out link)
)
from crm.sales.portal.views import bp  # noqa: F401
