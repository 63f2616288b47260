"""Facebook Lead Ads: one row per leadgen id Facebook announced, and how fetching it went."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.extensions import db
from crm.core.models.base import Resource, StatusEnum, fk, status_column


class FacebookLeadStatus(StatusEnum):
    RECEIVED = ("received", "Received", "info")
    FETCHING = ("fetching", "Fetching", "primary")
    FETCHED = ("fetched", "Lead created", "success")
    FAILED = ("failed", "Failed, will retry", "warning")
    ERROR = ("error", "Needs attention", "danger")


class FacebookLead(db.Model):
    """tblfacebook_leads: the unique leadgen id makes a lead delivered twice (or retried by two
    workers at once) become one lead; ``claim`` is the token of the worker fetching it now."""

    __tablename__ = "tblfacebook_leads"
    __crm__ = Resource(module="leads", label="Facebook leads", readonly=True)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leadgen_id: Mapped[str] = mapped_column(String(64), unique=True)
    page_id: Mapped[str | None] = mapped_column(String(64))
    form_id: Mapped[str | None] = mapped_column(String(64))
    ad_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = status_column(FacebookLeadStatus)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    leadid: Mapped[int | None] = fk("tblleads.id")
    created_time: Mapped[datetime | None] = mapped_column(DateTime)  # when the person sent the form
    received_at: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime)

    lead = relationship("Lead")

    @property
    def status_label(self) -> str:
        return FacebookLeadStatus.label_of(self.status)

    def __str__(self):
        return f"Facebook lead {self.leadgen_id}"


__all__ = ["FacebookLead", "FacebookLeadStatus"]
