"""Posting a delivery, at most once successfully, and retrying the ones that failed.

A delivery is claimed with one conditional UPDATE (pending → sending) committed on its own before
the POST, so two workers never both post it and a delivered one is never posted again. A 2xx
answer marks it delivered; 5xx, 408, 429, timeouts and connection errors put it back to pending
with exponential backoff (``webhook_retry_base_seconds`` doubled per attempt) until
``webhook_max_attempts``, then failed; any other answer (the receiver refused it) fails at once.
A crash between the receiver's answer and our commit leaves the row 'sending': Redeliver on the
row is how a person decides (the X-CRM-Delivery id lets the receiver drop a duplicate).

A receiver whose name resolves to a private, loopback or link-local address is refused unless
``webhook_allow_private_addresses`` is on: staff who may add a webhook must not be able to make the
server post into its own network (the metadata service, the database's admin port...).
"""
from __future__ import annotations

import ipaddress
import json
import logging
import socket
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from sqlalchemy import update

from crm.core import options
from crm.core.extensions import db
from crm.core.jobs import job
from crm.core.jobs.fanout import fan_out
from crm.core.resources import models_by_resource
from crm.webhooks.models import WebhookDelivery
from crm.webhooks.signing import body, serialise, sign

log = logging.getLogger(__name__)
BATCH = 200  # due retries handled per periodic run
STALE_SENDING = timedelta(minutes=10)  # a 'sending' row older than this was interrupted
RETRY_CODES = {408, 429}
USER_AGENT = "CRMConnect-Webhooks/1"
TEST_EVENT = "webhook.test"  # Send test: posted even while the webhook is switched off


def _final_body(row) -> None:
    """Before the first attempt: rebuild ``data`` from the committed object, as the API serves it."""
    model = models_by_resource().get(row.rel_type) if row.rel_type else None
    obj = db.session.get(model, row.rel_id) if model is not None and row.rel_id is not None else None
    if obj is None:  # deleted since, or not a table: keep the snapshot taken with the change
        return
    sent = json.loads(row.payload)
    row.payload = body(row.uuid, row.event, sent["occurred_at"], serialise(obj))


def _claim(delivery_id: int) -> bool:
    result = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending")
        .values(status="sending", sending_since=datetime.utcnow(), attempts=WebhookDelivery.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def destination_refusal(url: str) -> str | None:
    """Why the receiver at ``url`` may not be posted to, or None. A name that does not resolve is
    left to the POST (reported as unreachable, and retried: DNS may come back)."""
    if options.get("webhook_allow_private_addresses"):
        return None
    host = urlsplit(url).hostname or ""
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return None
    for text in sorted(found):
        address = ipaddress.ip_address(text.split("%")[0])
        if not address.is_global:
            return (f"{host} resolves to {address}, which is not a public address; webhooks are posted to "
                    "public addresses only (Settings → Webhooks and notifications allows private ones).")
    return None


def _post(hook, row) -> tuple[int | None, str | None]:
    """(HTTP status or None, error text or None)."""
    timestamp = str(int(time.time()))
    data = row.payload.encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-CRM-Event": row.event,
               "X-CRM-Delivery": row.uuid, "X-CRM-Timestamp": timestamp,
               "X-CRM-Signature": sign(hook.secret, timestamp, data)}
    try:
        resp = requests.post(hook.url, data=data, headers=headers, allow_redirects=False,
                             timeout=options.get("webhook_timeout_seconds"))
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:2000]
    if 200 <= resp.status_code < 300:
        return resp.status_code, None
    return resp.status_code, f"HTTP {resp.status_code}: {resp.text[:500]}"


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: base, 2×base, 4×base, ... capped at a day."""
    return timedelta(seconds=min(options.get("webhook_retry_base_seconds") * 2 ** max(attempts - 1, 0), 86400))


@job
def deliver_webhook(delivery_uuid: str, now: datetime | None = None) -> str:
    """Post one pending, due delivery. Safe to run twice: a delivered one is never posted again."""
    row = db.session.query(WebhookDelivery).filter_by(uuid=delivery_uuid).one_or_none()
    if row is None:
        return f"delivery {delivery_uuid} does not exist"
    if row.status != "pending":
        return f"delivery {delivery_uuid} is {row.status}; nothing to do"
    if row.next_attempt_at and row.next_attempt_at > (now or datetime.utcnow()):
        return f"delivery {delivery_uuid} is due at {row.next_attempt_at:%Y-%m-%d %H:%M:%S}"
    hook = row.webhook
    if not hook.active and row.event != TEST_EVENT:
        row.status, row.last_error, row.next_attempt_at = "failed", "The webhook is inactive.", None
        db.session.commit()
        return row.last_error
    if row.attempts == 0:
        _final_body(row)
        db.session.commit()
    if not _claim(row.id):
        return f"delivery {delivery_uuid} was taken by another worker"
    row = db.session.get(WebhookDelivery, row.id, populate_existing=True)
    refused = destination_refusal(row.webhook.url)
    code, error = (None, refused) if refused else _post(row.webhook, row)
    row = db.session.get(WebhookDelivery, row.id, populate_existing=True)
    row.response_code, row.last_error, row.sending_since = code, error, None
    if refused:  # a setting to change, not a fault that time mends: no retries
        row.status, row.next_attempt_at = "failed", None
        outcome = f"refused: {refused}"
    elif error is None:
        row.status, row.delivered_at, row.next_attempt_at = "delivered", datetime.utcnow(), None
        outcome = f"delivered to {row.webhook.url} (HTTP {code})"
    elif (code is None or code >= 500 or code in RETRY_CODES) and row.attempts < options.get("webhook_max_attempts"):
        row.status, row.next_attempt_at = "pending", datetime.utcnow() + backoff(row.attempts)
        outcome = f"attempt {row.attempts} failed ({error}); next at {row.next_attempt_at:%H:%M:%S}"
    else:
        row.status, row.next_attempt_at = "failed", None
        outcome = f"failed after {row.attempts} attempt(s): {error}"
    db.session.commit()
    if error:
        log.warning("webhook delivery %s: %s", delivery_uuid, outcome)
    return outcome


@job
def retry_webhook_deliveries(now: datetime | None = None) -> str:
    """Every minute: post the pending deliveries that are due (retries, and any whose job was lost)."""
    now = now or datetime.utcnow()
    due = [uid for (uid,) in db.session.query(WebhookDelivery.uuid)
           .filter(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
           .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(BATCH)]
    db.session.rollback()  # end the read transaction; each delivery commits on its own
    on_redis = fan_out(deliver_webhook, [(uid, now) for uid in due])
    return f"{len(due)} due webhook deliver{'y' if len(due) == 1 else 'ies'} " + ("queued" if on_redis else "attempted")


def redeliver_refusal(row) -> str | None:
    if row.status == "delivered":
        return (f"Delivery {row.uuid} was delivered on {row.delivered_at:%Y-%m-%d %H:%M} (HTTP {row.response_code}); "
                "it is not sent twice. Use Send test on the webhook to check the receiver.")
    if row.status == "sending" and row.sending_since and datetime.utcnow() - row.sending_since < STALE_SENDING:
        return f"Delivery {row.uuid} is being sent right now."
    return None
