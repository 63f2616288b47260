"""Custom fields in the generated admin: form fields by type, grid/details/CSV columns.

Definitions are read per request, so a field an admin adds in Settings shows at once on every
screen of its table, with no per-table code. Columns are named ``cf_<slug>``.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import g, has_request_context
from sqlalchemy import select
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from crm.core import custom_fields as cf
from crm.core.models.base import FieldError
from crm.core.resources import primary_key


class _Parsed:
    """Validates a form value with the shared rule and keeps the stored text on the field."""

    def __init__(self, definition):
        self.definition = definition
        self.field_flags = {"required": True} if definition.required and definition.type != "checkbox" else {}

    def __call__(self, form, field):
        try:
            field.cf_value = cf.parse(self.definition, field.data)
        except FieldError as exc:
            raise ValidationError(exc.message) from None


def _field(d):
    kw = {"label": d.name, "validators": [_Parsed(d)]}
    if d.type == "textarea":
        return TextAreaField(**kw)
    if d.type == "number":
        return StringField(render_kw={"type": "number", "step": "any"}, **kw)
    if d.type == "date":
        return StringField(render_kw={"type": "date"}, description="YYYY-MM-DD", **kw)
    if d.type == "select":
        return SelectField(choices=[("", "")] + [(o, o) for o in cf.options_of(d)], validate_choice=False, **kw)
    if d.type == "multiselect":
        return SelectMultipleField(choices=[(o, o) for o in cf.options_of(d)], validate_choice=False, **kw)
    if d.type == "checkbox":
        return BooleanField(**kw)
    return StringField(**kw)


def _form_value(d, stored):
    if d.type == "multiselect":
        return cf.to_python(d, stored)
    if d.type == "checkbox":
        return stored == "1"
    return stored or ""


def form_fields(model, obj) -> tuple[dict, dict]:
    """(unbound fields, initial data) for the active custom fields of ``model``."""
    defs = cf.definitions(model)
    stored = cf.values_of(obj) if obj is not None and defs else {}
    fields = {f"{cf.PREFIX}{d.slug}": _field(d) for d in defs}
    data = {f"{cf.PREFIX}{d.slug}": _form_value(d, stored.get(d.id)) for d in defs}
    return fields, data


def save_from_form(model, form, obj) -> None:
    values = {d: getattr(form, f"{cf.PREFIX}{d.slug}").cf_value for d in cf.definitions(model)
              if hasattr(form, f"{cf.PREFIX}{d.slug}")}
    cf.save(obj, values)


def columns(model, where: str) -> list[tuple[str, str]]:
    """Extra (column, label) pairs for the list ('list': show_on_table only), details or export."""
    if not has_request_context() or cf.fieldto_of(model) is None:
        return []
    return [(f"{cf.PREFIX}{d.slug}", d.name) for d in cf.definitions(model)
            if where != "list" or d.show_on_table]


def remember_page(model, rows) -> None:
    """Load the values of a list page in one query (``rows`` None: all of the table, for export)."""
    if not columns(model, "list" if rows is not None else "export"):
        return
    pk = primary_key(model)
    ids = [getattr(r, pk) for r in rows] if rows is not None else _all_ids(model)
    g._crm_cf_page = cf.load_values(model, ids)


def _all_ids(model):
    return select(getattr(model, primary_key(model)))


def _definition(model, name: str):
    if not name.startswith(cf.PREFIX):
        return None
    slug = name[len(cf.PREFIX):]
    return next((d for d in cf.definitions(model) if d.slug == slug), None)


def value(model, obj, name: str):
    """The shown value of column ``cf_<slug>`` of ``obj``, or None when ``name`` is not one."""
    d = _definition(model, name)
    if d is None:
        return None
    page = g.get("_crm_cf_page")
    return cf.display(d, cf.values_of(obj, page).get(d.id))


def export_value(model, obj, name: str):
    """What an export writes for ``cf_<slug>``: a number field's value as a number (a negative one
    must stay a number in the spreadsheet, not text), anything else as shown."""
    shown = value(model, obj, name)
    d = _definition(model, name)
    if d is not None and d.type == "number" and shown:
        try:
            return Decimal(shown)
        except InvalidOperation:
            pass
    return shown
