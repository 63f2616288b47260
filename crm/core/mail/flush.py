"""The periodic outbox flush: messages still waiting (queued while no SMTP was configured, or whose
job was lost) are sent once SMTP_URL is set. send_outbox_message claims each row before talking to
the server, so a flush that overlaps a send (or another flush) never sends a message twice."""
from __future__ import annotations

from datetime import datetime, timedelta

from crm.core.extensions import db
from crm.core.jobs import job
from crm.core.jobs.fanout import fan_out
from crm.core.mail.outbox import NO_SMTP, send_outbox_message
from crm.core.mail.smtp import smtp_url
from crm.core.models.messaging import EmailOutbox

BATCH = 500
GRACE = timedelta(minutes=1)  # a message this fresh is still in the hands of the job its commit queued


@job
def flush_outbox(now: datetime | None = None) -> str:
    """Every 5 minutes: send the outbox's waiting (queued) messages, oldest first."""
    if not smtp_url():
        return NO_SMTP
    now = now or datetime.utcnow()
    due = [mid for (mid,) in db.session.query(EmailOutbox.id)
           .filter(EmailOutbox.status == "queued", EmailOutbox.datecreated <= now - GRACE)
           .order_by(EmailOutbox.datecreated, EmailOutbox.id).limit(BATCH)]
    db.session.rollback()
    on_redis = fan_out(send_outbox_message, [(mid,) for mid in due])
    return f"{len(due)} waiting message(s) " + ("queued for sending" if on_redis else "sent or attempted")
