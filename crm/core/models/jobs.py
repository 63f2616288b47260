"""The job outbox (tbljob_outbox): every job an action asks for, written in the action's transaction.

A row is dispatched after that transaction commits (to RQ, or run in-process without Redis); a
dispatch that fails (Redis unreachable) leaves the row pending, and the periodic sweeper
(crm.core.jobs.outbox) dispatches it again with backoff. So the action's answer never depends on the
queue, and a job that was asked for is never lost.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.extensions import db
from crm.core.models.base import Resource

__all__ = ["JobOutbox"]


class JobOutbox(db.Model):
    """tbljob_outbox: one job, from written to dispatched (with its dispatch attempts and last error)."""

    __tablename__ = "tbljob_outbox"
    __crm__ = Resource(
        module="settings", label="Job outbox", category="Settings", readonly=True,
        admin={"column_list": ["created", "func", "args", "attempts", "next_attempt_at", "dispatched_at",
                               "last_error"],
               "column_searchable_list": ["func"],
               "column_default_sort": ("id", True),
               "column_descriptions": {
                   "func": "The job function (module:name).",
                   "next_attempt_at": "When the sweeper may dispatch it again, if not dispatched by then.",
                   "last_error": "Why the last dispatch failed (e.g. Redis unreachable), or why the job "
                                 "failed when it ran in-process.",
               }},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    func: Mapped[str] = mapped_column(String(255))  # "package.module:function"
    args: Mapped[str] = mapped_column(Text)  # JSON {"args": [...], "kwargs": {...}}
    created: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)

    # the sweeper's question: not dispatched, and its time has come
    __table_args__ = (Index("ix_tbljob_outbox_pending", "dispatched_at", "next_attempt_at"),)

    @property
    def call(self) -> tuple[list, dict]:
        data = json.loads(self.args or "{}")
        return data.get("args", []), data.get("kwargs", {})

    def __str__(self):
        return f"{self.func} #{self.id}"
