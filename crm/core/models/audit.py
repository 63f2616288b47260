"""tblaudit_log: the audit trail of the generic doors (admin grid forms, JSON API, CLI).

One row per row written: who, when, through which door, the record it belongs to (a document's
line belongs to its document) and each changed field's old and new value, as JSON
``{"field": [old, new]}``. Written only by crm/core/audit.py; actions keep their activity lines.
"""
from __future__ import annotations

import json
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.extensions import db
from crm.core.models.base import Resource, fk

__all__ = ["AuditLog", "AUDIT_DOORS", "AUDIT_OPERATIONS"]

AUDIT_DOORS = ("grid", "api", "cli")
AUDIT_OPERATIONS = ("create", "update", "delete")


class AuditLog(db.Model):
    __tablename__ = "tblaudit_log"
    __crm__ = Resource(module="settings", label="Audit trail", category="Settings", url="audit_trail", readonly=True,
                       admin={"column_list": ["date", "staff", "door", "operation", "table_name", "record_id",
                                              "row_table", "row_id", "changes"],
                              "column_searchable_list": ["changes"]})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    staffid: Mapped[int | None] = fk("tblstaff.staffid")
    door: Mapped[str] = mapped_column(String(10), index=True)  # AUDIT_DOORS
    operation: Mapped[str] = mapped_column(String(10))  # AUDIT_OPERATIONS
    # The record the change belongs to (for a document's line: the document) ...
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int | None] = mapped_column(Integer)
    # ... and the row written (the record itself, or one of its lines).
    row_table: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[str] = mapped_column(Text, default="{}")  # {"field": [old, new]}

    __table_args__ = (Index("ix_tblaudit_log_record", "table_name", "record_id", "id"),)

    staff = relationship("Staff")

    @property
    def diff(self) -> dict[str, list]:
        return json.loads(self.changes or "{}")

    @property
    def is_line(self) -> bool:
        return (self.row_table, self.row_id) != (self.table_name, self.record_id)

    def __html__(self) -> str:
        return str(changes_markup(self))

    def __str__(self):
        return f"{self.operation} {self.table_name} #{self.record_id}"


def changes_markup(entry: AuditLog) -> Markup:
    """``field: old → new`` per line, as the grid and the record's timeline show it."""
    def shown(value):
        return "∅" if value is None or value == "" else str(value)

    lines = [Markup('<span class="crm-audit-field"><code>{}</code>: {} &rarr; {}</span>').format(
        key, shown(old), shown(new)) for key, (old, new) in entry.diff.items()]
    return Markup("<br>").join(lines) if lines else Markup(escape(""))
