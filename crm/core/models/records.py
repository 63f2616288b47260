"""Tables every area writes: the activity log and attached files."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.extensions import db
from crm.core.models.base import Resource, fk


class ActivityLog(db.Model):
    """tblactivity_log: every state change, who, when, what."""

    __tablename__ = "tblactivity_log"
    __crm__ = Resource(module="settings", own=("staffid",),
        label="Activity log", category="Settings", url="activity_log", readonly=True)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    date: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    staffid: Mapped[int | None] = fk("tblstaff.staffid")
    rel_type: Mapped[str | None] = mapped_column(String(40), index=True)
    rel_id: Mapped[int | None] = mapped_column(Integer, index=True)

    staff = relationship("Staff")


class File(db.Model):
    """tblfiles: attachments on any record (rel_type + rel_id)."""

    __tablename__ = "tblfiles"
    __crm__ = Resource(module="leads", own=("staffid",), label="Attachments", readonly=True)  # written by the attach_file action

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rel_id: Mapped[int] = mapped_column(Integer, index=True)
    rel_type: Mapped[str] = mapped_column(String(20), index=True)
    file_name: Mapped[str] = mapped_column(String(191))
    filetype: Mapped[str | None] = mapped_column(String(40))
    size: Mapped[int | None] = mapped_column(Integer)
    visible_to_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    staffid: Mapped[int | None] = fk("tblstaff.staffid")
    dateadded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)

    staff = relationship("Staff")
