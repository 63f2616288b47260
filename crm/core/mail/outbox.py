"""Queue a message in tblemail_outbox; deliver it in a job, at most once.

Delivery claims the row with one conditional UPDATE (queued/failed → sending) committed on its
own, then talks to the SMTP server, then marks it sent. So two workers never both send it, a job
that finds it sent does nothing, and the Message-ID fixed at queue time lets a mail server drop a
duplicate should a crash fall between the server's OK and our commit (the row then stays
'sending'; Resend on the outbox row is how a person decides).
"""
from __future__ import annotations

import json
import logging
import mimetypes
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path

from rq import get_current_job
from sqlalchemy import update

from crm.core import options, storage
from crm.core.extensions import db
from crm.core.jobs import enqueue, job
from crm.core.jobs.runner import queue
from crm.core.mail.smtp import SmtpConfigError, deliver, parse_smtp_url, smtp_url
from crm.core.models.messaging import EmailOutbox

log = logging.getLogger(__name__)

NO_SMTP = "No SMTP configured (set SMTP_URL): the message waits in the outbox."
BACKOFF = (60, 300, 1800)  # seconds before the 2nd, 3rd and 4th attempt when on Redis
STALE_SENDING = timedelta(minutes=10)  # a 'sending' row older than this was interrupted


OUTBOX = "outbox"  # crm/core/storage.py; one sub-folder per month


def _store_attachment(month: str, filename: str, content: bytes, mimetype: str | None) -> dict:
    """Keep an attachment under a server-made name; ``path`` is relative to the instance folder."""
    name = storage.save(OUTBOX, content, storage.extension_of(filename), month, label=filename)
    return {"path": f"{OUTBOX}/{month}/{name}", "filename": filename,
            "mimetype": mimetype or mimetypes.guess_type(filename)[0] or "application/octet-stream"}


def attachment_path(att: dict) -> Path | None:
    """The stored file of an outbox attachment, or None if it is gone or its path leaves the outbox."""
    parts = str(att.get("path") or "").split("/")
    if len(parts) < 3 or parts[0] != OUTBOX:
        return None
    return storage.path_of(OUTBOX, parts[-1], *parts[1:-1])


def sender() -> tuple[str, str]:
    return options.get("companyname") or "", options.get("smtp_email") or "crm@localhost"


def queue_email(to: str, subject: str, html: str, text: str | None = None, *, cc: str | None = None,
                attachments=(), rel_type: str | None = None, rel_id: int | None = None,
                template: str | None = None, actor=None):
    """Write a message to the outbox and send it after the current transaction commits.

    ``attachments``: (filename, bytes, mimetype) tuples, stored under instance/outbox/.
    Returns the EmailOutbox row (flushed, so it has an id). The caller commits.
    """
    domain = sender()[1].rpartition("@")[2] or "localhost"
    stored = []
    if attachments:
        month = f"{datetime.utcnow():%Y%m}"
        stored = [_store_attachment(month, *a) for a in attachments]
    msg = EmailOutbox(to_email=to, cc=cc or None, subject=subject, body_html=html, body_text=text,
                      attachments=json.dumps(stored), rel_type=rel_type, rel_id=rel_id, template=template,
                      status="queued", attempts=0, message_id=make_msgid(domain=domain),
                      staffid=getattr(actor, "staffid", None))
    db.session.add(msg)
    db.session.flush()
    enqueue(send_outbox_message, msg.id)
    return msg


def build_message(row) -> EmailMessage:
    """The MIME message of an outbox row: text and HTML alternatives, then the attachments."""
    name, address = sender()
    m = EmailMessage()
    m["From"] = formataddr((name, address))
    m["To"] = row.to_email
    if row.cc:
        m["Cc"] = row.cc
    m["Subject"] = row.subject
    m["Message-ID"] = row.message_id
    m["Date"] = format_datetime(datetime.now().astimezone())
    m.set_content(row.body_text or "")
    m.add_alternative(row.body_html, subtype="html")
    for att in row.attachment_list:
        maintype, _, subtype = att["mimetype"].partition("/")
        path = attachment_path(att)
        if path is None:
            raise FileNotFoundError(f"attachment {att.get('filename')!r} is no longer stored")
        m.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype or "octet-stream",
                         filename=att["filename"])
    return m


def _claim(outbox_id: int) -> bool:
    """queued/failed → sending, in its own commit; False when someone else has it or it went."""
    now = datetime.utcnow()
    result = db.session.execute(
        update(EmailOutbox)
        .where(EmailOutbox.id == outbox_id, EmailOutbox.status.in_(("queued", "failed")))
        .values(status="sending", sending_since=now, attempts=EmailOutbox.attempts + 1, note=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _retry_later(outbox_id: int, attempts: int) -> bool:
    """On Redis, schedule the next attempt with backoff; False when inline or out of attempts."""
    q = queue() if get_current_job() is not None else None
    if q is None or attempts > len(BACKOFF):
        return False
    q.enqueue_in(timedelta(seconds=BACKOFF[attempts - 1]), send_outbox_message, outbox_id)
    return True


@job
def send_outbox_message(outbox_id: int) -> str:
    """Deliver one outbox message. Safe to run twice: a sent message is never sent again."""
    row = db.session.get(EmailOutbox, outbox_id)
    if row is None:
        return f"outbox #{outbox_id} does not exist"
    if row.status in ("sent", "sending"):
        return f"outbox #{outbox_id} is {row.status}; nothing to do"
    url = smtp_url()
    if not url:
        row.status, row.note = "queued", NO_SMTP
        db.session.commit()
        return NO_SMTP
    try:
        settings = parse_smtp_url(url)
    except SmtpConfigError as exc:
        row.status, row.last_error = "failed", str(exc)
        db.session.commit()
        return str(exc)
    if not _claim(outbox_id):
        return f"outbox #{outbox_id} was taken by another worker"
    row = db.session.get(EmailOutbox, outbox_id, populate_existing=True)
    try:
        deliver(build_message(row), settings)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the row, nothing is lost
        db.session.rollback()
        row = db.session.get(EmailOutbox, outbox_id, populate_existing=True)
        row.status, row.sending_since = "failed", None
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        retrying = _retry_later(outbox_id, row.attempts)
        row.note = "Will retry automatically" if retrying else "Failed: use Resend on this row"
        db.session.commit()
        log.warning("email outbox #%s failed (attempt %s): %s", outbox_id, row.attempts, exc)
        return f"failed: {row.last_error}"
    row.status, row.sent_at, row.last_error, row.sending_since = "sent", datetime.utcnow(), None, None
    db.session.commit()
    return f"sent to {row.to_email}"


def resend_refusal(row) -> str | None:
    if row.status == "sent":
        return f"Email #{row.id} was already sent on {row.sent_at:%Y-%m-%d %H:%M}; it is not sent twice."
    if row.status == "sending" and row.sending_since and datetime.utcnow() - row.sending_since < STALE_SENDING:
        return f"Email #{row.id} is being sent right now."
    return None


def requeue(row) -> None:
    """Queue an unsent (failed, waiting or interrupted) message again; the caller commits."""
    row.status, row.note, row.sending_since = "queued", None, None
    enqueue(send_outbox_message, row.id)
