"""tblnotifications: what staff are told in the app (the bell), as Perfex keeps it.

Rows are written by crm.notifications from business events, in the transaction of the change.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.extensions import db
from crm.core.models.base import Resource, fk

__all__ = ["Notification", "NotificationPreference"]


class Notification(db.Model):
    __tablename__ = "tblnotifications"
    # Each staff member reads their own at /admin/notifications; this generated screen lists everyone's.
    __crm__ = Resource(module="settings", label="Notifications", url="notifications/all", readonly=True,
                       admin={"column_list": ["date", "touserid", "description", "from_fullname", "isread"],
                              "column_searchable_list": ["description", "from_fullname"]})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    isread: Mapped[bool] = mapped_column(Boolean, default=False)
    isread_inline: Mapped[bool] = mapped_column(Boolean, default=False)
    date: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    description: Mapped[str] = mapped_column(Text)
    fromuserid: Mapped[int | None] = fk("tblstaff.staffid")
    fromclientid: Mapped[int | None] = fk("tblclients.userid")
    from_fullname: Mapped[str] = mapped_column(String(100), default="")
    touserid: Mapped[int] = fk("tblstaff.staffid", nullable=False)
    fromcompany: Mapped[int | None] = mapped_column(Integer)
    link: Mapped[str | None] = mapped_column(Text)
    additional_data: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_tblnotifications_touserid_isread", "touserid", "isread"),)

    to_staff = relationship("Staff", foreign_keys=[touserid])
    from_staff = relationship("Staff", foreign_keys=[fromuserid])
    from_client = relationship("Client", foreign_keys=[fromclientid])

    def __str__(self):
        return self.description


class NotificationPreference(db.Model):
    """tblnotification_preferences: a staff member's own choice, set on /admin/notifications.
    No row: the default (emailed, unless the notifications_email_staff option is off for everyone)."""

    __tablename__ = "tblnotification_preferences"
    __crm__ = Resource(module="settings", label="Notification preferences", readonly=True)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staffid: Mapped[int] = mapped_column(Integer, ForeignKey("tblstaff.staffid", ondelete="CASCADE"), unique=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)

    staff = relationship("Staff")
