"""Settings → Audit trail: the generated read-only grid of tblaudit_log, filterable by staff member,
table, door and date, each row's changes shown as ``field: old → new``."""
from __future__ import annotations

from flask_admin.contrib.sqla import filters as sqla_filters

from crm.admin_views.factory import FkNameFilter, build_view
from crm.core.models.audit import AUDIT_DOORS, AUDIT_OPERATIONS, AuditLog, changes_markup
from crm.core.models.settings import Staff
from crm.models import all_models


def _tables():
    return sorted((m.__tablename__, m.__tablename__) for m in all_models())


def audit_view():
    return build_view(AuditLog, admin={
        "column_filters": [
            FkNameFilter(AuditLog.staffid, "Staff", Staff, ["firstname", "lastname", "email"]),
            sqla_filters.FilterEqual(AuditLog.table_name, "Table", options=_tables),
            sqla_filters.FilterEqual(AuditLog.door, "Door", options=[(d, d) for d in AUDIT_DOORS]),
            sqla_filters.FilterEqual(AuditLog.operation, "Operation", options=[(o, o) for o in AUDIT_OPERATIONS]),
            sqla_filters.FilterEqual(AuditLog.record_id, "Record id"),
            sqla_filters.DateTimeBetweenFilter(AuditLog.date, "Date"),
            sqla_filters.DateTimeGreaterFilter(AuditLog.date, "Date"),
            sqla_filters.DateTimeSmallerFilter(AuditLog.date, "Date"),
        ],
        "column_formatters": {"changes": lambda view, ctx, model, name: changes_markup(model)},
        "column_formatters_detail": {"changes": lambda view, ctx, model, name: changes_markup(model)},
        "column_labels": {"table_name": "Table", "record_id": "Record", "row_table": "Row table",
                          "row_id": "Row", "staff": "Staff"},
    })
