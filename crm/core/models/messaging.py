"""Email: the outbox every message goes through, and the templates staff edit in Settings.

A message is written to tblemail_outbox in the transaction of the action that sends it, then a
job delivers it after commit (crm.core.mail). The outbox row is the message's whole story: queued,
sending, sent or failed, how many attempts, the last error. Its Message-ID is fixed when the row
is created, so a retry re-sends the same message, never a second one.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.extensions import db
from crm.core.models.base import Resource, StatusEnum, fk, status_column

__all__ = ["OutboxStatus", "EmailOutbox", "EmailTemplate"]


class OutboxStatus(StatusEnum):
    QUEUED = ("queued", "Queued", "secondary")
    SENDING = ("sending", "Sending", "info")
    SENT = ("sent", "Sent", "success")
    FAILED = ("failed", "Failed", "danger")


class EmailOutbox(db.Model):
    """tblemail_outbox: one email, from queued to sent (or failed, with the error)."""

    __tablename__ = "tblemail_outbox"
    __crm__ = Resource(module="settings", own=("staffid",),
        label="Email outbox", category="Settings", url="emails/outbox", readonly=True,
        admin={"column_list": ["datecreated", "to_email", "subject", "status", "attempts", "sent_at", "note",
                               "last_error", "rel_type", "rel_id"],
               "column_searchable_list": ["to_email", "subject", "message_id"]},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_email: Mapped[str] = mapped_column(String(255))  # comma-separated addresses
    cc: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    body_html: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    # JSON list of {"path": <relative to the instance folder>, "filename": ..., "mimetype": ...}.
    attachments: Mapped[str] = mapped_column(Text, default="[]")
    rel_type: Mapped[str | None] = mapped_column(String(40))  # the document: proposal, estimate, invoice
    rel_id: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[str | None] = mapped_column(String(100))  # tblemailtemplates.slug it came from
    status: Mapped[str] = status_column(OutboxStatus, default=OutboxStatus.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(255))  # e.g. "No SMTP configured"
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    sending_since: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    staffid: Mapped[int | None] = fk("tblstaff.staffid")  # who queued it

    __table_args__ = (Index("ix_tblemail_outbox_rel_id_rel_type", "rel_id", "rel_type"),)

    staff = relationship("Staff")

    @property
    def attachment_list(self) -> list[dict]:
        try:
            return json.loads(self.attachments or "[]")
        except ValueError:
            return []

    def __str__(self):
        return f"{self.subject} → {self.to_email}"


class EmailTemplate(db.Model):
    """tblemailtemplates: subject and HTML message with {merge_fields}, editable in Settings."""

    __tablename__ = "tblemailtemplates"
    __crm__ = Resource(module="settings",
        label="Email templates", category="Settings", url="emails",
        admin={"column_list": ["name", "slug", "subject", "active"],
               "column_searchable_list": ["name", "slug", "subject"]},
    )

    emailtemplateid: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(100), default="")  # proposals, estimate, invoice, staff
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(191))
    subject: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    fromname: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self):
        return self.name
