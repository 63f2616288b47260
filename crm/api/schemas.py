"""Marshmallow schemas derived from the models (no hand-written field lists).

Composition relationships (lines, and a line's taxes) are nested, so a document is read and
written together with its ``items`` (a line sent back with its id is updated in place: crm/core/lines.py).
Status columns also dump their label as ``<col>_label``.
"""
from __future__ import annotations

from functools import lru_cache

from marshmallow import RAISE, Schema, ValidationError, fields, validate
from marshmallow_sqlalchemy import ModelConverter, SQLAlchemyAutoSchema, load_instance_mixin
from sqlalchemy import String

from crm.core.custom_fields import as_dict as custom_fields_of, fieldto_of
from crm.core.extensions import db
from crm.core.labels import label
from crm.core.limits import INT_MAX, digits_before_point, integer_bounds, problem, too_many_places
from crm.core.registry import who_writes
from crm.core.resources import (  # noqa: F401  (compositions, parent_link_columns: read from here by the API)
    API_VALUES,
    action_owned,
    columns,
    compositions,
    parent_link_columns,
    primary_key,
    resource_of,
    status_enum,
)

# marshmallow-sqlalchemy's load() asks importlib.metadata for marshmallow's version on every call
# (0.2 ms, each nested line and tax too) only to choose a typing.cast, which returns its argument.
if hasattr(load_instance_mixin, "_cast_data"):
    load_instance_mixin._cast_data = lambda data: data

SECRET = ("password", "hash", "session_version")  # never shown, never written by the API


def value_range(column):
    """The values a numeric column can hold, as a validator (crm/core/limits.py): integers as a Range,
    which the OpenAPI document shows; decimals by their digits (it would print Decimal bounds as
    strings)."""
    bounds = integer_bounds(column)
    if bounds:
        return validate.Range(*bounds)
    if digits_before_point(column):
        return _Fits(column)
    return None


class _Fits(validate.Validator):
    """crm.core.limits.problem as a marshmallow validator."""

    def __init__(self, column):
        self.column = column

    def __call__(self, value):
        if message := problem(self.column, value):
            raise ValidationError(message)
        return value


class ExactDecimal(fields.Decimal):
    """A decimal that keeps its column's places when shown (21.00) but is refused, not rounded,
    when it is sent with more (marshmallow would quantize 0.005 to 0.00 before any validator)."""

    def _validated(self, value):
        num = super()._validated(value)
        places = -self.places.as_tuple().exponent if self.places is not None else None
        if message := too_many_places(value, places):
            raise ValidationError(message)
        return num


class _Converter(ModelConverter):
    def _get_field_class_for_data_type(self, data_type):
        field_class = super()._get_field_class_for_data_type(data_type)
        return ExactDecimal if field_class is fields.Decimal else field_class

    def _add_column_kwargs(self, kwargs, column):
        super()._add_column_kwargs(kwargs, column)
        if kwargs.get("dump_only") or not hasattr(column, "type"):
            return
        bounds = value_range(column)
        if bounds is not None:
            kwargs["validate"].append(bounds)
        if isinstance(column.type, String):  # Text too: no NUL character
            kwargs["validate"].append(_Fits(column))


def _label_field(col_key, enum_cls):
    return fields.Function(lambda obj: enum_cls.row_label(obj, getattr(obj, col_key)), dump_only=True)


@lru_cache
def schema_for(model, prefix: str = "", exclude: tuple = ()) -> type[SQLAlchemyAutoSchema]:
    pk = primary_key(model)
    excluded = tuple(c.key for c in columns(model) if c.key in SECRET) + tuple(exclude)
    meta = type("Meta", (), {
        "model": model, "include_fk": True, "include_relationships": False, "load_instance": False,
        "sqla_session": db.session, "exclude": excluded, "unknown": RAISE,
        # a nested line's id is sent back to update that line in place (crm/core/lines.py)
        "dump_only": () if prefix else (pk,),
        "model_converter": _Converter,
    })
    attrs = {"Meta": meta}
    for c in columns(model):
        enum_cls = status_enum(c)
        if enum_cls is not None and c.key not in excluded:
            attrs[f"{c.key}_label"] = _label_field(c.key, enum_cls)
    if fieldto_of(model) and not prefix:
        attrs["custom_fields"] = fields.Method(
            "_dump_custom_fields", deserialize="_load_custom_fields",
            metadata={"description": "Custom fields defined in Settings, as {slug: value}."})
        attrs["_dump_custom_fields"] = lambda self, obj: custom_fields_of(obj)
        attrs["_load_custom_fields"] = lambda self, value: value  # checked against the definitions on save
    for name, fn in API_VALUES.get(model, {}).items():  # computed, read-only (e.g. a client's credit)
        attrs[name] = fields.Function(fn, dump_only=True)
    for rel in compositions(model):
        child = schema_for(rel.mapper.class_, prefix=prefix + model.__name__,
                           exclude=tuple(sorted(parent_link_columns(rel))))
        # Children only actions write (a vendor invoice's payments) are shown, never replaced.
        attrs[rel.key] = fields.Nested(child, many=True, dump_only=resource_of(rel.mapper.class_).readonly)
    schema = type(f"{prefix}{model.__name__}Schema", (SQLAlchemyAutoSchema,), attrs)
    # Each column's words (crm/core/labels.py) as the field's title and description in the OpenAPI document.
    for c in columns(model):
        field = schema._declared_fields.get(c.key)
        if field is not None:
            words = label(model, c.key)
            field.metadata = {"title": words, "description": words, **field.metadata}
    if prefix and (field := schema._declared_fields.get(pk)) is not None:
        field.metadata = {**field.metadata, "description": (
            "One of this document's lines, updated in place (it keeps its id and what the actions wrote on "
            "it); without id: a new line. A line not sent is removed.")}
    # Action-owned columns are read-only in the OpenAPI document; a request that changes one is
    # refused by crm/api/__init__.py naming who writes it (sending the value it holds is harmless).
    for key in action_owned(model):
        field = schema._declared_fields.get(key)
        if field is not None:
            field.metadata = {**field.metadata, "readOnly": True, "description": who_writes(model, key)}
    return schema


@lru_cache
def filter_schema_for(model):
    """Query arguments: paging plus equality on any plain column (``?status=4``)."""
    base = schema_for(model)()
    attrs = {name: type(f)(required=False, allow_none=True)
             if not isinstance(f, fields.Nested) else None
             for name, f in base.fields.items()
             if name in {c.key for c in columns(model)} and not isinstance(f, (fields.Nested, fields.Function))}
    attrs = {k: v for k, v in attrs.items() if v is not None}
    cols = {c.key: c for c in columns(model)}
    for name in list(attrs):
        f = base.fields[name]
        if isinstance(f, fields.Decimal):
            attrs[name] = fields.Decimal(required=False, allow_none=True)
        elif hasattr(f, "validators"):
            attrs[name].validators = []
        bounds = value_range(cols[name])
        if bounds is not None:
            attrs[name].validators = [bounds]
    attrs["page"] = fields.Integer(load_default=1, validate=validate.Range(1, INT_MAX // 500))  # offset fits
    attrs["page_size"] = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    attrs["Meta"] = type("Meta", (), {"unknown": RAISE})
    return type(f"{model.__name__}Filter", (Schema,), attrs)
