"""A document's lines written through a generic door (the API's ``items``, the grid's line editor),
the same way for every document: a line sent with its id (one of this document's lines) is updated
in place, keeping its id and what only the actions write on it (a delivered or received quantity, a
count's book quantity and lot); a line sent without id is added; a line of the document not sent is
removed. Anything that names a line by its id (a delivery note's line, a goods receipt's line, a
printed count sheet, a reservation) keeps naming it.

What the warehouse already did with a line stays true: a line column declared
``info={"done_of": "<quantity column>", "done": "delivered"}`` counts how much of the line's quantity
the warehouse delivered or received; such a line cannot be removed, nor its quantity set below it.
Every refusal is a FieldError naming the field (``items.N.<field>``), raised before anything is
written: the door's transaction is rolled back whole.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Callable, Iterable

from sqlalchemy import inspect

from crm.core.models.base import FieldError
from crm.core.resources import compositions


def done_columns(model) -> list[tuple[str, str, str]]:
    """(done column, quantity column, what was done) of a line model, e.g.
    ("wh_delivered_quantity", "qty", "delivered")."""
    return [(c.key, c.info["done_of"], c.info.get("done", "handled"))
            for c in inspect(model).columns if c.info.get("done_of")]


def _name(line, n: int) -> str:
    words = str(line) if type(line).__str__ is not object.__str__ else ""
    return f"line {n} ({words})" if words else f"line {n}"


def _amount(value) -> str:
    value = Decimal(value or 0)
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")


def merge(model, existing: Iterable, sent_ids: list, build: Callable, path: str = "items.") -> list:
    """The document's new list of lines.

    ``existing``: its lines as stored; ``sent_ids``: the id sent with each line, in order (None: a
    new line); ``build(index, line or None)`` sets the sent values on the line (a new one when None)
    and returns it. Raises FieldError naming ``items.N.id`` for an id that is not one of this
    document's lines (or is sent twice), ``items.N.<quantity>`` for a quantity below what was done,
    and ``items`` for a line left out that the warehouse already handled."""
    existing = list(existing)
    pk = inspect(model).primary_key[0].key
    by_id = {getattr(line, pk): line for line in existing if getattr(line, pk) is not None}
    done = done_columns(model)
    kept, seen = [], set()
    for i, line_id in enumerate(sent_ids):
        line = None
        if line_id is not None:
            line = by_id.get(line_id)
            if line is None or line_id in seen:
                why = "sent twice" if line_id in seen else "not one of this document's lines"
                raise FieldError(f"{path}{i}.{pk}", f"line #{line_id} is {why}; send a new line without its id.")
            seen.add(line_id)
        line = build(i, line)
        _not_below_done(line, done, f"{path}{i}.")
        kept.append(line)
    for n, line in enumerate(existing, 1):
        if getattr(line, pk) not in seen:
            _not_handled(line, n, done, path.rstrip("."), "removed", " (send it with its id)")
    return kept


def _not_below_done(line, done, path: str) -> None:
    for done_key, qty_key, verb in done:
        already = getattr(line, done_key) or 0
        if already and Decimal(getattr(line, qty_key) or 0) < already:
            raise FieldError(f"{path}{qty_key}",
                             f"the warehouse already {verb} {_amount(already)} of this line, so its quantity "
                             f"cannot be less ({_amount(getattr(line, qty_key))} sent).")


def _not_handled(line, n: int, done, field: str, verb_done: str, hint: str = "") -> None:
    for done_key, _, verb in done:
        already = getattr(line, done_key) or 0
        if already:
            raise FieldError(field, f"{_name(line, n)} cannot be {verb_done}: the warehouse already {verb} "
                                    f"{_amount(already)} of it{hint}.")


def keep_handled(record, removing: bool = False) -> None:
    """What the warehouse did with a stored document's lines holds at every generic door, however
    its lines were written (the API's items and the line editor through :func:`merge`, the grid's
    inline line forms, which delete a line from the session): no handled line leaves the document,
    none is set below what was handled, and a document with one is not deleted (``removing``).
    Lines not loaded were not touched: nothing is read for them, except to delete."""
    state = inspect(record)
    if not state.persistent:
        return
    deleted = set(state.session.deleted) if state.session is not None else set()
    for rel in compositions(type(record)):
        done = done_columns(rel.mapper.class_)
        if not done or (rel.key in state.unloaded and not removing):
            continue
        lines = list(getattr(record, rel.key) or [])
        if removing:
            for n, line in enumerate(lines, 1):
                _not_handled(line, n, done, "id", "deleted with its document")
            continue
        gone = [*state.attrs[rel.key].history.deleted, *(line for line in lines if line in deleted)]
        for n, line in enumerate(lines):
            if line not in gone:
                _not_below_done(line, done, f"{rel.key}.{n}.")
        for n, line in enumerate(gone, 1):
            _not_handled(line, n, done, rel.key, "removed")


def order_column(rel) -> str | None:
    """The column a document's lines are ordered by (a line's position, e.g. ``item_order``), when
    the relationship orders by one of the line's own columns other than its id: the lines sent keep
    the order they were sent in, a line added after kept ones included."""
    model = rel.mapper.class_
    order = rel.order_by or ()
    pk = inspect(model).primary_key[0].key
    keys = [getattr(c, "key", None) for c in order]
    if len(keys) == 1 and keys[0] in inspect(model).columns and keys[0] != pk:
        return keys[0]
    return None


def changed(doc, relationship: str) -> bool:
    """Whether the lines in ``doc.<relationship>`` differ from what is stored: a line added or
    removed, or a value of a kept line changed (in place, as :func:`merge` updates them), its own
    nested rows (a line's taxes) included."""
    state = inspect(doc)
    if state.attrs[relationship].history.has_changes():
        return True
    for line in getattr(doc, relationship) or []:
        line_state = inspect(line)
        if not line_state.persistent:
            return True
        if any(line_state.attrs[attr.key].history.has_changes() for attr in line_state.mapper.column_attrs):
            return True
        if any(changed(line, sub.key) for sub in compositions(type(line))):
            return True
    return False
