"""What the generated admin, API and permissions learn from a model's metadata.

Everything here is derived from the SQLAlchemy declaration plus its optional ``__crm__``
Resource; nothing is listed per table.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from sqlalchemy import Date, DateTime, Numeric, String, Text, inspect

from crm.core.extensions import db
from crm.core.models.base import ALWAYS_OWNED, LINE_TOTALS, SERVER_SET, Resource, StatusEnum

CATEGORIES = ("Sales", "Warehouse", "Purchasing", "Finance", "Settings")  # menu groups (not permissions)


def all_models():
    """Every mapped class, in declaration order (crm.models imports them all at app start)."""
    return [m.class_ for m in db.Model.registry.mappers]


def resource_of(model) -> Resource:
    res = getattr(model, "__crm__", None) or Resource()
    name = res.name or model.__tablename__.removeprefix("tbl")
    return replace(res, name=name, url=res.url or name,
                   label=res.label or name.replace("_", " ").capitalize())


def resource_name(model) -> str:
    return resource_of(model).name


@lru_cache
def models_by_resource() -> dict[str, type]:
    return {resource_name(m): m for m in all_models()}


# Who writes an action-owned column, as the generic doors tell a person who tried to.
SERVER, LINES, ACTIONS = "server", "lines", "actions"


@lru_cache
def action_owned(model) -> dict[str, str]:
    """The columns of ``model`` no generic door writes (Resource.action_owned plus the conventions in
    crm/core/models/base.py), each with who writes it: SERVER (creator, creation time), LINES (a
    document's totals) or ACTIONS (statuses, numbers, signatures, sent flags, stored files, ...)."""
    res = resource_of(model)
    keys = {c.key for c in columns(model)}
    owned = {k: ACTIONS for k in (*ALWAYS_OWNED, *res.action_owned) if k in keys}
    if res.lines:
        owned.update({k: LINES for k in LINE_TOTALS if k in keys})
    owned.update({k: SERVER for k in SERVER_SET if k in keys})
    return owned


def primary_key(model) -> str:
    return inspect(model).primary_key[0].key


def columns(model):
    return list(inspect(model).columns)


def status_enum(column) -> type[StatusEnum] | None:
    return column.info.get("enum")


def fk_relationships(model) -> dict[str, str]:
    """Map each many-to-one FK column key to the relationship that loads its target."""
    out = {}
    for rel in inspect(model).relationships:
        if rel.direction.name == "MANYTOONE" and len(rel.local_columns) == 1:
            col = next(iter(rel.local_columns))
            if col.foreign_keys and col.table is model.__table__:
                out.setdefault(col.key, rel.key)
    return out


def is_money(column) -> bool:
    return isinstance(column.type, Numeric) and column.type.scale == 2 and "rate" not in column.key \
        and column.key not in ("probability", "discount_percent", "taxrate")


def is_number(column) -> bool:
    """A quantity, a rate or a price: a number that is not money (shown without useless zeros)."""
    return isinstance(column.type, Numeric) and not is_money(column)


def is_date(column) -> bool:
    return isinstance(column.type, (Date, DateTime))


def is_text(column) -> bool:
    return isinstance(column.type, (String, Text)) and not column.foreign_keys


def currency_relationship(model) -> str | None:
    """The relationship to tblcurrencies, if the document has one (for 'money with currency')."""
    rels = fk_relationships(model)
    for col in ("currency", "default_currency"):
        if col in rels:
            return rels[col]
    return None
