"""The audit trail of the generic doors: who changed which record, when, through which door, and
each field's old and new value (tblaudit_log, crm/core/models/audit.py).

A door (an admin grid form or delete button, the JSON API's POST/PATCH/PUT/DELETE, the CLI's
``crm record``) marks the session for the length of its write::

    with audit.door("api", staff):
        ...build, commit...

While the mark is set, a session listener notes after each flush the rows the flush inserted,
updated (the changed columns only, secrets masked) and deleted, and writes them to the trail just
before the commit, in the same transaction: a write that is rolled back leaves no trail. Several
flushes of one transaction make one entry per row (a row created then given its custom fields is
one "create"). A document's lines, their taxes and the record's custom field values are
attributed to the record they belong to. Actions set no mark: they keep their activity lines.
"""
from __future__ import annotations

import functools
import json
import re
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache

from sqlalchemy import inspect, select
from sqlalchemy.orm import selectinload

from crm.core import custom_fields as cf
from crm.core.events import _signed_in
from crm.core.extensions import db
from crm.core.models.audit import AuditLog, changes_markup
from crm.core.models.settings import CustomField, CustomFieldValue
from crm.core.resources import all_models, compositions, primary_key, resource_of

DOORS = ("grid", "api", "cli")
MASK = "********"
# Columns whose values are never copied into the trail: only the fact that they changed.
SECRET = re.compile(r"password|hash|secret|token|api_?key", re.IGNORECASE)

_DOOR = "crm_audit_door"  # session.info: (door, staff id) while a door writes
_PENDING = "crm_audit_pending"  # session.info: {(row table, row id): entry} of this transaction


@contextmanager
def door(name: str, staff):
    """Audit what the session writes inside the block as done through ``name`` by ``staff``."""
    if name not in DOORS:
        raise ValueError(f"unknown door {name!r}")
    session = db.session()
    before = session.info.get(_DOOR)
    session.info[_DOOR] = (name, getattr(staff, "staffid", staff))
    try:
        yield
    finally:
        if before is None:
            session.info.pop(_DOOR, None)
        else:
            session.info[_DOOR] = before


def audited(name: str):
    """Decorator: the function writes through door ``name``, as the signed-in staff member."""
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            with door(name, _signed_in()):
                return fn(*args, **kwargs)
        return inner
    return wrap


# --- what a row's change looks like in the trail ---------------------------------------------

def jsonable(value):
    """A column value as JSON keeps it: Decimal and dates as strings (exact, readable)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    return str(value)


def _shown(key: str, value):
    if SECRET.search(key):
        return None if value in (None, "") else MASK
    return jsonable(value)


@cache
def _audited_tables() -> dict[type, bool]:
    # Tables only actions write (readonly) are not written by a door: what a door's change sets
    # off there (notifications, stock history, roll-ups) is the actions' and subscribers' record.
    return {m: m is not AuditLog and not resource_of(m).readonly for m in all_models()}


def _same(old, new) -> bool:
    # A form shows a time to the second and sends it back so: the microseconds it drops are no edit.
    if isinstance(old, datetime) and isinstance(new, datetime):
        return old.replace(microsecond=0) == new.replace(microsecond=0)
    return old == new


def _changes(state, operation: str) -> dict[str, list]:
    out = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if operation == "update":
            history = state.attrs[key].history
            if not history.added and not history.deleted:
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if _same(old, new):
                continue
        elif key not in state.dict:  # never loaded (deferred) or expired: nothing known to show
            continue
        else:
            old, new = (None, state.dict[key]) if operation == "create" else (state.dict[key], None)
            if old is None and new is None:
                continue
        out[key] = [_shown(key, old), _shown(key, new)]
    return out


# --- which record a row belongs to ------------------------------------------------------------

@cache
def _line_owners() -> dict[str, str]:
    """rel_type -> the table of the document whose lines carry it (tblitemable, tblitem_tax)."""
    out = {}
    for mapper in db.Model.registry.mappers:
        for rel in mapper.relationships:
            if rel.info.get("rel_type"):
                out[rel.info["rel_type"]] = mapper.local_table.name
    return out


@cache
def _child_links() -> dict[type, tuple[str, str]]:
    """child model -> (parent table, the child's column holding the parent's id), for children
    that belong to their parent (cascade delete-orphan) through a foreign key."""
    out = {}
    for mapper in db.Model.registry.mappers:
        for rel in compositions(mapper.class_):
            if rel.info.get("rel_type"):
                continue
            child = rel.mapper
            for column in rel.remote_side:
                if column.table is child.local_table and column.foreign_keys:
                    out.setdefault(child.class_, (mapper.local_table.name, child.get_property_by_column(column).key))
    return out


@cache
def _custom_field_owners() -> dict[str, str]:
    return {cf.fieldto_of(m): m.__tablename__ for m in all_models() if cf.fieldto_of(m)}


def _record_of(obj, values: dict) -> tuple[str, int | None]:
    """(table, id) of the record ``obj`` belongs to: itself, or the document of a line."""
    model = type(obj)
    if isinstance(obj, CustomFieldValue) and values.get("fieldto") in _custom_field_owners():
        return _custom_field_owners()[values["fieldto"]], values.get("relid")
    owner = _line_owners().get(values.get("rel_type")) if "rel_id" in values else None
    if owner is not None:
        return owner, values.get("rel_id")
    if model in _child_links():
        table, key = _child_links()[model]
        if values.get(key) is not None:
            return table, values[key]
    return model.__tablename__, _row_id(obj)


def _row_id(obj):
    # Read from the instance's dict: during the flush a new row has its id there, not yet its identity key.
    state = inspect(obj)
    return state.dict.get(state.mapper.get_property_by_column(state.mapper.primary_key[0]).key)


# --- collecting and writing -------------------------------------------------------------------

def _merge(pending: dict, key, entry: dict) -> None:
    """Fold a row's later change of the same transaction into its first entry."""
    first = pending.get(key)
    if first is None:
        pending[key] = entry
        return
    if first["operation"] == "create" and entry["operation"] == "delete":
        del pending[key]  # it never existed outside this transaction
        return
    changes = dict(first["changes"])
    for field, (old, new) in entry["changes"].items():
        before = changes[field][0] if field in changes else old
        if before == new and first["operation"] == "update":
            changes.pop(field, None)
        else:
            changes[field] = [before, new]
    operation = entry["operation"] if entry["operation"] == "delete" else first["operation"]
    pending[key] = {**first, "operation": operation, "changes": changes}


def _collect(session, flush_context) -> None:
    # After the flush new rows have their ids, and attribute history still shows what changed.
    marker = session.info.get(_DOOR)
    if marker is None:
        return
    door_name, staffid = marker
    audited_tables = _audited_tables()
    pending = session.info.setdefault(_PENDING, {})
    # Deleted: as the flush saw them, so lines dropped from a document (delete-orphan) are included.
    deleted = {state.obj() for state, (is_delete, list_only) in flush_context.states.items()
               if is_delete and not list_only} | set(session.deleted)
    for operation, objects in (("create", session.new), ("update", session.dirty), ("delete", deleted)):
        for obj in objects:
            if not audited_tables.get(type(obj)):
                continue
            state = inspect(obj)
            changes = _changes(state, operation)
            if operation == "update" and not changes:
                continue
            table, record_id = _record_of(obj, state.dict)
            row_table, row_id = type(obj).__tablename__, _row_id(obj)
            _merge(pending, (row_table, row_id, id(obj) if row_id is None else None), {
                "date": datetime.utcnow(), "staffid": staffid, "door": door_name, "operation": operation,
                "table_name": table, "record_id": record_id, "row_table": row_table, "row_id": row_id,
                "changes": changes, "_fieldid": state.dict.get("fieldid")})


LONG = 1000  # characters of a value kept in the trail (a contract's text is not copied whole)
MAX_BYTES = 60_000  # what a TEXT column holds on MariaDB, with room to spare


def encoded(changes: dict) -> str:
    """The changes as JSON, long texts cut to their first characters so the entry always fits."""
    for limit in (LONG, 100, 10):
        def cut(value):
            return f"{value[:limit]}… ({len(value)} characters)" if isinstance(value, str) and len(value) > limit \
                else value

        text = json.dumps({k: [cut(old), cut(new)] for k, (old, new) in changes.items()},
                          ensure_ascii=False, sort_keys=True)
        if len(text.encode()) <= MAX_BYTES:
            break
    return text


def _write(session) -> None:
    if session.info.get(_DOOR) is not None:
        session.flush()  # what the door left unflushed is part of its change
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    _name_custom_fields(session, pending.values())
    rows = [{**{k: v for k, v in entry.items() if not k.startswith("_")}, "changes": encoded(entry["changes"])}
            for entry in pending.values() if entry["changes"] or entry["operation"] != "update"]
    if rows:
        session.connection().execute(AuditLog.__table__.insert(), rows)


def _name_custom_fields(session, entries) -> None:
    """A custom field's value is shown as a field of its record, named as the API names it:
    ``custom_fields.<slug>: old → new``."""
    entries = [e for e in entries if e["row_table"] == CustomFieldValue.__tablename__]
    if not entries:
        return
    slugs = dict(session.execute(select(CustomField.id, CustomField.slug).where(
        CustomField.id.in_({e["_fieldid"] for e in entries}))).all())
    for entry in entries:
        entry["changes"] = {f"custom_fields.{slugs.get(entry['_fieldid'], entry['_fieldid'])}":
                            entry["changes"].get("value", [None, None])}


def _forget(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed (written) or rolled back
        session.info.pop(_PENDING, None)


# --- reading ----------------------------------------------------------------------------------

def trail_of(obj, limit: int = 50) -> list:
    """The latest changes of a record made through the generic doors, newest first."""
    if type(obj).__tablename__ == AuditLog.__tablename__:
        return []
    pk = getattr(obj, primary_key(type(obj)), None)
    if pk is None:
        return []
    return list(db.session.scalars(
        select(AuditLog).options(selectinload(AuditLog.staff)).where(AuditLog.table_name == type(obj).__tablename__, AuditLog.record_id == pk)
        .order_by(AuditLog.id.desc()).limit(limit)))


def init_audit(app) -> None:
    app.add_template_global(trail_of, "audit_trail")
    app.add_template_global(changes_markup, "audit_changes")


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_flush", "audit.collect", _collect)
    add("before_commit", "audit.write", _write)
    add("after_transaction_end", "audit.forget", _forget)
