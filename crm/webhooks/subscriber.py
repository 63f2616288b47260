"""One delivery row per active webhook that chose the event, in the transaction of the change.

The rows roll back with the change; the job that posts them is dispatched only after commit
(crm.core.jobs.enqueue). The body written now is a fallback: the first attempt rebuilds it from the
committed row, so ``data`` is exactly what the API returns for it (crm.webhooks.delivery).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import inspect

from crm.core.extensions import db
from crm.core.jobs import enqueue
from crm.core.resources import resource_name
from crm.core.shared import Shared
from crm.webhooks.delivery import deliver_webhook
from crm.webhooks.models import Webhook, WebhookDelivery, _new_uuid
from crm.webhooks.signing import body, occurred, serialise

_HOOKS = "crm_active_webhooks"  # session.info: what this transaction first read


def _read_hooks(session) -> list[tuple[int, set[str]]]:
    rows = session.execute(db.select(Webhook.id, Webhook.events).where(Webhook.active.is_(True))).all()
    return [(hid, set((names or "").split(","))) for hid, names in rows]


# Shared by the process's transactions (crm/core/shared.py): a webhook added, changed or turned
# off through this process counts from its commit on, through another process within shared.SECONDS.
ACTIVE = Shared("webhooks", _read_hooks, lambda: (Webhook,))


def _active_hooks(session) -> list[tuple[int, set[str]]]:
    if _HOOKS not in session.info:
        session.info[_HOOKS] = ACTIVE.get(session)
    return session.info[_HOOKS]


def queue_delivery(webhook_id: int, name: str, data: dict, rel=(None, None), now: datetime | None = None):
    """Add a pending delivery of ``name`` to ``webhook_id`` and post it after commit; returns it."""
    now = now or datetime.utcnow()
    uid = _new_uuid()
    row = WebhookDelivery(uuid=uid, webhookid=webhook_id, event=name, status="pending", attempts=0,
                          next_attempt_at=now, datecreated=now, rel_type=rel[0], rel_id=rel[1],
                          payload=body(uid, name, occurred(now), data))
    db.session.add(row)

    enqueue(deliver_webhook, uid)
    return row


def deliveries_for(name, obj, actor, data) -> None:
    session = db.session()
    hooks = [hid for hid, names in _active_hooks(session) if name in names]
    if not hooks:
        return
    mapper = inspect(type(obj), raiseerr=False)
    # In after_flush a new row has its primary key but not yet its identity key.
    rel = (resource_name(type(obj)), mapper.primary_key_from_instance(obj)[0]) if mapper is not None else (None, None)
    snapshot = serialise(obj)
    now = datetime.utcnow()
    for hid in hooks:
        queue_delivery(hid, name, snapshot, rel, now)


def _forget_hooks(session, *args) -> None:
    session.info.pop(_HOOKS, None)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_commit", "webhooks.forget", _forget_hooks)
    add("after_soft_rollback", "webhooks.forget", _forget_hooks)
    add("business_event", "webhooks.queue", deliveries_for)
