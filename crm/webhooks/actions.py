"""Webhook actions: Send test (a signed sample delivery to the URL) and Redeliver (a delivery that
failed or was interrupted, the same body and delivery id)."""
from __future__ import annotations

from datetime import datetime

from crm.core.jobs import enqueue
from crm.core.registry import action
from crm.webhooks.delivery import TEST_EVENT, deliver_webhook, redeliver_refusal
from crm.webhooks.models import Webhook, WebhookDelivery
from crm.webhooks.subscriber import queue_delivery


@action(Webhook, "send_test", "Send test", icon="fa-paper-plane")
def send_test(hook: Webhook, actor):
    """Post a signed ``webhook.test`` delivery now (even to an inactive webhook), to check the receiver."""
    row = queue_delivery(hook.id, TEST_EVENT, {"webhook": hook.id, "name": hook.name,
                                                "message": "A test delivery from CRMConnect."})
    return f"Test delivery {row.uuid} queued for {hook.url}; its answer is in Settings → Webhook deliveries"


@action(WebhookDelivery, "redeliver", "Redeliver", precondition=redeliver_refusal, icon="fa-repeat")
def redeliver(row: WebhookDelivery, actor):
    """Post a failed, pending or interrupted delivery again now (same body and X-CRM-Delivery id)."""
    row.status, row.next_attempt_at, row.sending_since = "pending", datetime.utcnow(), None
    enqueue(deliver_webhook, row.uuid)
    return f"Delivery {row.uuid} queued again for {row.webhook.url}"
