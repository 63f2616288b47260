"""Admin-defined custom fields (tblcustomfields / tblcustomfieldsvalues) on any table that has a
``fieldto`` key below: definitions, one parsing rule shared by the admin forms and the API, and
batch loading (one query for all the values of a page of rows).

Values are stored as text, as Perfex stores them: numbers as plain decimals, dates as ISO
``YYYY-MM-DD``, multiselect choices joined by ``", "``, checkboxes as ``"1"``/``"0"``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from crm.core.extensions import db
from crm.core.models.base import FieldError
from crm.core.models.settings import (  # noqa: F401
    CHOICE_TYPES,
    CUSTOM_FIELD_TABLES as FIELDTO_LABELS,
    CUSTOM_FIELD_TYPES as TYPES,
    CustomField,
    CustomFieldValue,
    options_of,
)
from crm.core.resources import primary_key
from crm.core.shared import Shared

# tblcustomfields.fieldto for each table that carries custom fields (Perfex's names).
FIELDTO = {"tblleads": "leads", "tblclients": "customers", "tblproposals": "proposal",
           "tblinvoices": "invoice", "tblestimates": "estimate", "tblcontracts": "contracts"}
MULTI_SEP = ", "
PREFIX = "cf_"  # form field and grid column names: cf_<slug>


def fieldto_of(model) -> str | None:
    return FIELDTO.get(getattr(model, "__tablename__", ""))


@dataclass(frozen=True)
class Definition:
    """An active custom field as the forms, grids and API use it: its tblcustomfields row, read once
    and shared by the process's transactions (a plain record, never expired or written)."""

    id: int
    fieldto: str
    name: str
    slug: str
    required: bool
    type: str
    options: str | None
    field_order: int
    show_on_table: bool

    def __str__(self):
        return self.name


def _read_definitions(session) -> dict[str, tuple[Definition, ...]]:
    out: dict[str, list] = {}
    for f in session.scalars(select(CustomField).where(CustomField.active.is_(True))
                             .order_by(CustomField.field_order, CustomField.id)):
        out.setdefault(f.fieldto, []).append(Definition(f.id, f.fieldto, f.name, f.slug, bool(f.required), f.type,
                                                        f.options, f.field_order, bool(f.show_on_table)))
    return {fieldto: tuple(fields) for fieldto, fields in out.items()}


# Every table's active fields, in field order: one query per process (crm/core/shared.py), not one per request.
DEFINITIONS = Shared("custom_fields", _read_definitions, lambda: (CustomField,))


def definitions(model) -> tuple[Definition, ...]:
    """Active fields of ``model``'s table, in field order."""
    fieldto = fieldto_of(model)
    if fieldto is None:
        return ()
    return DEFINITIONS.get(db.session()).get(fieldto, ())


def _blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "") or raw == []


def parse(field, raw) -> str | None:
    """The stored text for ``raw`` (form or JSON value), or FieldError naming the field."""
    key, name = f"custom_fields.{field.slug}", field.name
    if field.type == "checkbox":
        if isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().lower() in ("1", "true", "yes", "y", "on", ""):
            value = raw.strip() != ""
        elif isinstance(raw, str) and raw.strip().lower() in ("0", "false", "no", "n", "off"):
            value = False
        elif raw is None:
            value = False
        else:
            raise FieldError(key, f"{name} must be true or false.")
        if field.required and not value:
            raise FieldError(key, f"{name} must be ticked.")
        return "1" if value else "0"
    if _blank(raw):
        if field.required:
            raise FieldError(key, f"{name} is required.")
        return None
    if field.type == "number":
        if isinstance(raw, bool):
            raise FieldError(key, f"{name} must be a number.")
        try:
            num = Decimal(str(raw).strip())
        except InvalidOperation:
            raise FieldError(key, f"{name} must be a number, not {str(raw)[:40]!r}.") from None
        if not num.is_finite():
            raise FieldError(key, f"{name} must be a number.")
        return format(num.normalize(), "f") if num == num.to_integral() else format(num, "f")
    if field.type == "date":
        if isinstance(raw, date):
            return raw.isoformat()
        try:
            return date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise FieldError(key, f"{name} must be a date as YYYY-MM-DD, not {str(raw)[:40]!r}.") from None
    if field.type in CHOICE_TYPES:
        allowed = options_of(field)
        if field.type == "select":
            if not isinstance(raw, str) or raw.strip() not in allowed:
                raise FieldError(key, f"{name} must be one of: {', '.join(allowed)}.")
            return raw.strip()
        picked = raw if isinstance(raw, (list, tuple)) else [p for p in str(raw).split(",")]
        picked = [str(p).strip() for p in picked if str(p).strip()]
        bad = [p for p in picked if p not in allowed]
        if bad:
            raise FieldError(key, f"{name}: {bad[0]!r} is not one of: {', '.join(allowed)}.")
        if not picked and field.required:
            raise FieldError(key, f"{name} is required.")
        return MULTI_SEP.join(p for p in allowed if p in picked) or None  # in the options' order
    if not isinstance(raw, (str, int, Decimal)) or isinstance(raw, bool):
        raise FieldError(key, f"{name} must be text.")
    text = str(raw)
    if field.type == "input" and len(text) > 255:
        raise FieldError(key, f"{name} is longer than 255 characters.")
    return text


def to_python(field, stored: str | None):
    """The API's value for stored text: a list for multiselect, a bool for checkbox, else text."""
    if field.type == "multiselect":
        return [p.strip() for p in (stored or "").split(",") if p.strip()]
    if field.type == "checkbox":
        return stored == "1"
    return stored


def display(field, stored: str | None) -> str:
    if field.type == "checkbox":
        return "Yes" if stored == "1" else ("No" if stored == "0" else "")
    return stored or ""


def load_values(model, ids) -> dict[int, dict[int, str | None]]:
    """{row id: {field id: stored text}} for ``ids`` (a list, or a subquery of ids), in one query."""
    fieldto = fieldto_of(model)
    out: dict[int, dict[int, str | None]] = {}
    if fieldto is None or (isinstance(ids, (list, tuple, set)) and not ids):
        return out
    rows = db.session.execute(select(CustomFieldValue.relid, CustomFieldValue.fieldid, CustomFieldValue.value)
                              .where(CustomFieldValue.fieldto == fieldto, CustomFieldValue.relid.in_(ids)))
    for relid, fieldid, value in rows:
        out.setdefault(relid, {})[fieldid] = value
    return out


def values_of(obj, prefetched: dict | None = None) -> dict[int, str | None]:
    """{field id: stored text} of one row, from ``prefetched`` (load_values) or its own query."""
    pk = getattr(obj, primary_key(type(obj)))
    if prefetched is not None:
        return prefetched.get(pk, {})
    cached = getattr(obj, "_crm_cf_values", None)
    if cached is not None:
        return cached
    values = load_values(type(obj), [pk]).get(pk, {}) if pk is not None else {}
    obj._crm_cf_values = values
    return values


def as_dict(obj, prefetched: dict | None = None) -> dict:
    """{slug: value} of every active field of ``obj``'s table (None where nothing is stored)."""
    fields = definitions(type(obj))
    if not fields:  # (no field: no values to read)
        return {}
    stored = values_of(obj, prefetched)
    return {f.slug: to_python(f, stored.get(f.id)) for f in fields}


def prefetch(model, rows) -> None:
    """Attach the values of ``rows`` to them, in one query, so dumping a page costs no query per row."""
    if not definitions(model):
        return
    pk = primary_key(model)
    values = load_values(model, [getattr(r, pk) for r in rows])
    for r in rows:
        r._crm_cf_values = values.get(getattr(r, pk), {})


def validate(model, data: dict, creating: bool) -> dict:
    """{field: stored text} for an API ``custom_fields`` object: unknown slugs refused, values
    parsed, and on create the required fields that were left out refused too."""
    fields = {f.slug: f for f in definitions(model)}
    if not isinstance(data, dict):
        raise FieldError("custom_fields", "custom_fields must be an object of {slug: value}.")
    out = {}
    for slug, raw in data.items():
        field = fields.get(slug)
        if field is None:
            known = ", ".join(fields) or "none are defined"
            raise FieldError(f"custom_fields.{slug}", f"unknown custom field {slug!r} (known: {known}).")
        out[field] = parse(field, raw)
    if creating:
        for slug, field in fields.items():
            if slug not in data:
                out[field] = parse(field, None)
    return out


def save(obj, values: dict) -> None:
    """Write {field: stored text} for ``obj`` in the current transaction (flushes to get its id)."""
    if not values:
        return
    db.session.flush()
    pk = getattr(obj, primary_key(type(obj)))
    fieldto = fieldto_of(type(obj))
    existing = {v.fieldid: v for v in db.session.scalars(select(CustomFieldValue).where(
        CustomFieldValue.fieldto == fieldto, CustomFieldValue.relid == pk))}
    for field, value in values.items():
        row = existing.get(field.id)
        if value is None:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(CustomFieldValue(relid=pk, fieldid=field.id, fieldto=fieldto, value=value))
        else:
            row.value = value
    obj._crm_cf_values = None  # read again after the write


def delete_values(model, pk) -> None:
    db.session.execute(CustomFieldValue.__table__.delete().where(
        CustomFieldValue.fieldto == fieldto_of(model), CustomFieldValue.relid == pk))
