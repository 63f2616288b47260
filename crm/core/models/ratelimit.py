"""Counted hits of rate limits (public forms, staff logins)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.extensions import db
from crm.core.models.base import Resource


class RateLimitHit(db.Model):
    """One request counted against a rate limit (key: what is limited and for whom)."""

    __tablename__ = "tblrate_limit_hits"
    __crm__ = Resource(module="settings", label="Rate limit hits", readonly=True)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), index=True)
    date: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
