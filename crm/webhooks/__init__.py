"""Outgoing webhooks: every business event (crm.core.events) a webhook subscribes to is POSTed to it
as signed JSON.

    POST <url>
    X-CRM-Event: proposal.accepted
    X-CRM-Delivery: <delivery id, the same on every retry>
    X-CRM-Timestamp: <unix seconds>
    X-CRM-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the webhook's secret>

    {"id": "<delivery id>", "event": "proposal.accepted", "occurred_at": "2026-11-23T18:00:00Z",
     "data": <the object exactly as GET /api/v1/<resource>/<id> returns it>}

The subscriber (``subscriber.py``) writes one tblwebhook_deliveries row per matching active webhook
in the transaction of the change; ``delivery.py`` posts it after commit and retries it.
"""
from crm.webhooks import subscriber  # noqa: F401
from crm.webhooks.delivery import deliver_webhook, retry_webhook_deliveries  # noqa: F401
from crm.webhooks.signing import sign  # noqa: F401
