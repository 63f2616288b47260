"""What the generated admin, API and permissions learn from a model's metadata.

Everything here is derived from the SQLAlchemy declaration plus its optional ``__crm__``
Resource; nothing is listed per table.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Callable

from sqlalchemy import Date, DateTime, Numeric, String, Text, inspect
from sqlalchemy.orm.attributes import set_committed_value

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
    owned.update({k: LINES for k in res.totals if k in keys})
    owned.update({k: SERVER for k in (*SERVER_SET, res.creator) if k in keys})
    return owned


def creator_column(model) -> str | None:
    """The column naming who created the row (``addedfrom`` or the table's declared ``creator``)."""
    keys = {c.key for c in columns(model)}
    creator = resource_of(model).creator or "addedfrom"
    return creator if creator in keys else None


def attaches_to_any(model) -> bool:
    """A table whose rows point at a row of any table through ``rel_type`` + ``rel_id`` (notes,
    reminders, a proposal's lead or client)."""
    return {"rel_type", "rel_id"} <= {c.key for c in columns(model)}


@lru_cache
def rel_type_models() -> dict[str, type]:
    """rel_type value -> the table it names: each table's resource name and its declared ``rel_types``."""
    found = {}
    for model in all_models():
        res = resource_of(model)
        for name in (res.name, *res.rel_types):
            found.setdefault(name, model)
    return found


@lru_cache
def written_with(model) -> tuple[str, ...]:
    """The resources of the documents whose lines ``model`` holds (their ``lines``, or a line's own
    nested rows such as its taxes); empty for any other table. Lines are written with their document
    only (``items`` of POST/PATCH /api/v1/<document>, the document's form), so that its rules hold
    for them too: totals computed from the lines, an issued or paid invoice frozen, what each area checks."""
    found = []
    if resource_of(model).own_door:
        return ()
    for doc in all_models():
        lines = resource_of(doc).lines
        if not lines:
            continue
        line = inspect(doc).relationships[lines].mapper.class_
        if model is line or any(rel.mapper.class_ is model for rel in compositions(line)):
            found.append(resource_name(doc))
    return tuple(sorted(found))


def writable(model) -> bool:
    """Whether a generic door (the grid's forms, the API's POST/PATCH/PUT/DELETE, ``crm record``)
    writes the table's rows: not a read-only table (only its actions write it), nor a document's lines, nor
    rows written as part of another record (``Resource.written_as``)."""
    res = resource_of(model)
    return not res.readonly and not res.written_as and not written_with(model)


def refused_door(model) -> str:
    """Why a generic door does not write ``model``'s rows, as a person reads it."""
    documents = written_with(model)
    if documents:
        doors = [f"/api/v1/{name}/<id>" for name in documents]
        doors = doors[0] if len(doors) == 1 else f"{', '.join(doors[:-1])} or {doors[-1]}"
        return (f"{resource_name(model)} rows are lines of a document: send them as its items "
                f"(PATCH {doors}).")
    if resource_of(model).written_as:
        return f"{resource_name(model)} rows are {resource_of(model).written_as}."
    return f"{resource_name(model)} is read-only: only its actions write it."


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


def compositions(model):
    """One-to-many relationships whose children belong to the parent (cascade delete-orphan)."""
    return [r for r in inspect(model).relationships
            if r.direction.name == "ONETOMANY" and r.cascade.delete_orphan]


def parent_link_columns(rel) -> set[str]:
    """Columns of the child that point back at the parent: set by the relationship, never by clients."""
    keys = {c.key for c in rel.remote_side}
    child_cols = {c.key for c in columns(rel.mapper.class_)}
    return (keys | ({"rel_id", "rel_type"} & child_cols)) & child_cols


# Read-only values the API adds to each record of a model (a client's available credit, a draft's
# shown number): name -> fn(obj), declared by the area that computes them.
API_VALUES: dict[type, dict[str, Callable]] = {}


# What a page of rows needs loaded at once (a grid page, an API list): fn(rows), registered by an
# area for its table, so that a precondition or a value shown per row reads what was loaded for the
# page instead of querying per row (e.g. the clients' advance credit of a page of invoices).
PAGE_LOADERS: dict[type, list[tuple[Callable, tuple[str, ...]]]] = {}


def page_loader(model, fn: Callable, *, doors: tuple[str, ...] = ("grid", "api")) -> None:
    """Register ``fn(rows)`` for pages of ``model`` shown by ``doors`` ("grid": the admin list,
    "api": the API's list)."""
    PAGE_LOADERS.setdefault(model, []).append((fn, doors))


def preload_collection(rows, name: str) -> None:
    """Fill the one-to-many ``name`` of ``rows`` (loaded objects of one class) with one query, as
    the relationship itself would load it row by row (its order_by, else the primary key)."""
    rows = [r for r in rows if name not in inspect(r).dict]
    if not rows:
        return
    rel = inspect(type(rows[0])).relationships[name]
    (local, remote), = rel.local_remote_pairs
    target = rel.mapper.class_
    by_key = {getattr(r, local.key): r for r in rows}
    found: dict = {k: [] for k in by_key}
    order = rel.order_by or list(rel.mapper.primary_key)
    for child in db.session.query(target).filter(remote.in_(list(by_key))).order_by(*order):
        found[getattr(child, rel.mapper.get_property_by_column(remote).key)].append(child)
    for key, row in by_key.items():
        set_committed_value(row, name, found[key])


def load_page(model, rows, door: str) -> None:
    """Run the loaders registered for ``model`` and ``door`` on a page of its rows."""
    if rows:
        for fn, doors in PAGE_LOADERS.get(model, ()):
            if door in doors:
                fn(rows)


def api_value(model, name: str, fn: Callable) -> None:
    API_VALUES.setdefault(model, {})[name] = fn


# A record as the JSON API returns it: the API declares its serialiser at app creation, so that
# a webhook posts a record in the same shape without importing the API.
_json_of: Callable | None = None


def serialise_with(fn: Callable) -> None:
    global _json_of
    _json_of = fn


def json_of(obj) -> dict:
    if _json_of is None or inspect(type(obj), raiseerr=False) is None:
        return {}
    return _json_of(obj)
