"""Outgoing webhooks: the receivers staff register (tblwebhooks) and every POST made to them
(tblwebhook_deliveries), with its signed body, attempts and the receiver's last answer.

A delivery row is written in the transaction of the change it announces (crm.webhooks), so a
change that is rolled back sends nothing; a job posts it after commit and a periodic job retries it.
"""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.core.extensions import db
from crm.core.models.base import FieldError, Resource, StatusEnum, fk, status_column

__all__ = ["Webhook", "WebhookDelivery", "DeliveryStatus", "check_webhook_url", "parse_event_names"]


def _new_secret() -> str:
    return secrets.token_hex(24)


def _new_uuid() -> str:
    return uuid.uuid4().hex


def check_webhook_url(value) -> str:
    """An absolute http(s) URL with a host; raises FieldError("url", ...) naming what is wrong."""
    value = (value or "").strip()
    if not value:
        raise FieldError("url", "enter the receiver's address, such as https://example.com/hooks/crm")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise FieldError("url", f"{value!r} must start with https:// (or http://)")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise FieldError("url", f"{value!r} has a port that is not a number") from None
    if not parts.hostname or " " in value:
        raise FieldError("url", f"{value!r} is not a web address with a host name")
    if len(value) > 500:
        raise FieldError("url", "the address is longer than 500 characters")
    return value


def parse_event_names(value) -> list[str]:
    """Event names from a list or a comma/space separated string; each must be a known event."""
    from crm.core.events import EVENTS  # cycle: events -> models -> models.webhooks

    if value is None:
        return []
    items = value if isinstance(value, (list, tuple, set)) else str(value).replace(",", " ").split()
    names = list(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))
    unknown = [n for n in names if n not in EVENTS]
    if unknown:
        raise FieldError("events", f"unknown event {unknown[0]!r}; choose from " + ", ".join(EVENTS))
    return names


class Webhook(db.Model):
    """tblwebhooks: a URL that is POSTed a signed JSON body when one of its events happens."""

    __tablename__ = "tblwebhooks"
    __crm__ = Resource(module="settings", own=("addedfrom",),
        label="Webhooks", category="Settings", url="webhooks",
        admin={"column_list": ["name", "url", "events", "active", "addedfrom", "datecreated"],
               "column_searchable_list": ["name", "url"],
               "form_excluded_columns": ["datecreated", "addedfrom", "added_by"],
               "column_descriptions": {
                   "secret": "Signs every delivery (X-CRM-Signature); give it to the receiver. Empty: one is "
                             "generated.",
                   "events": "The events that are sent to this URL.",
               }},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(191))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100), default=_new_secret)
    events: Mapped[str] = mapped_column(Text)  # event names, comma-separated
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)

    added_by = relationship("Staff")

    @validates("url")
    def _valid_url(self, key, value):
        return check_webhook_url(value)

    @validates("events")
    def _valid_events(self, key, value):
        names = parse_event_names(value)
        if not names:
            raise FieldError("events", "choose at least one event to send")
        return ",".join(names)

    @validates("secret")
    def _valid_secret(self, key, value):
        value = (value or "").strip()
        if value and len(value) < 16:
            raise FieldError("secret", "use at least 16 characters (or leave it empty to get one generated)")
        return value or _new_secret()

    @property
    def event_list(self) -> list[str]:
        return [e for e in (self.events or "").split(",") if e]

    def __str__(self):
        return self.name


class DeliveryStatus(StatusEnum):
    PENDING = ("pending", "Pending", "secondary")
    SENDING = ("sending", "Sending", "info")
    DELIVERED = ("delivered", "Delivered", "success")
    FAILED = ("failed", "Failed", "danger")


class WebhookDelivery(db.Model):
    """tblwebhook_deliveries: one event for one webhook, from pending to delivered (or failed)."""

    __tablename__ = "tblwebhook_deliveries"
    __crm__ = Resource(module="settings",
        label="Webhook deliveries", category="Settings", url="webhooks/deliveries", readonly=True,
        admin={"column_list": ["datecreated", "webhook", "event", "status", "attempts", "response_code",
                               "next_attempt_at", "delivered_at", "last_error"],
               "column_searchable_list": ["event", "uuid"]},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(32), unique=True, default=_new_uuid)  # X-CRM-Delivery
    webhookid: Mapped[int] = fk("tblwebhooks.id", nullable=False)
    event: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[str] = mapped_column(Text)  # the exact body posted
    rel_type: Mapped[str | None] = mapped_column(String(40))  # the API resource the event is about
    rel_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = status_column(DeliveryStatus, default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    sending_since: Mapped[datetime | None] = mapped_column(DateTime)
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_tblwebhook_deliveries_status_next", "status", "next_attempt_at"),)

    webhook = relationship("Webhook")

    def __str__(self):
        return f"{self.event} → webhook #{self.webhookid}"
