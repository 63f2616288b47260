"""What a generic door (the API's create and update, the grid's forms) does to a record once its
fields are set, so that a record entered there keeps the rules the actions keep: the creator and
creation time from the signed-in staff member, totals computed on the server, a number once it is
not a draft, a note or reminder attached only to a record the staff member sees, and what each area
declares for its own tables with ``rules`` (a new sales order or
invoice takes its client's addresses and the due date; an issued invoice is frozen; an invoice's
status follows its payments: crm/sales/entry_rules.py).

Action-owned columns (crm.core.resources.action_owned) never reach here from a request: the form leaves
them out and the API refuses them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

from sqlalchemy import DateTime, inspect

from crm.core import numbering
from crm.core.extensions import db
from crm.core.lines import keep_handled
from crm.core.models.base import SERVER_SET, FieldError
from crm.core.permissions import may, sees
from crm.core.resources import attaches_to_any, creator_column, rel_type_models, resource_of
from crm.core.totals import refresh as refresh_totals


@dataclass(frozen=True)
class Rules:
    """One table's rules at the generic doors; each raises FieldError (naming the field) to refuse."""
    new: Callable | None = None  # a record being created, before its totals (defaults a person left empty)
    changed: Callable | None = None  # a stored record being edited (refuse a change it may not take)
    entered: Callable | None = None  # either, after its totals (derived columns such as a status)
    removing: Callable | None = None  # a stored record about to be deleted


_RULES: dict[type, Rules] = {}


def rules(model, **hooks: Callable) -> None:
    """Declare ``model``'s rules at the generic doors (see Rules)."""
    _RULES[model] = Rules(**hooks)


def entered(record, actor=None) -> None:
    """Raises FieldError (naming the field) when the record asks for what only an action can do."""
    declared = _RULES.get(type(record), Rules())
    _check_target(record, actor)
    if inspect(record).persistent:
        if declared.changed:
            declared.changed(record)
    else:
        _stamp_creator(record, actor)
        if declared.new:
            declared.new(record)
    keep_handled(record)  # a line the warehouse delivered or received stays, at least as much
    refresh_totals(record)
    if declared.entered:
        declared.entered(record)
    numbering.entered(record)


def removing(record) -> None:
    """Raises FieldError when a generic door may not delete the record (an issued invoice that has
    payments or went to ANAF: it is cancelled and credited, never deleted)."""
    declared = _RULES.get(type(record))
    if declared is not None and declared.removing:
        declared.removing(record)
    keep_handled(record, removing=True)


def _stamp_creator(record, actor) -> None:
    """Who created the record and when: the server's to say (crm/core/models/base.py SERVER_SET, and the
    table's declared ``creator`` column)."""
    creator = creator_column(type(record))
    for column in type(record).__table__.columns:
        if column.key == creator:
            setattr(record, creator, getattr(actor, "staffid", None))
        elif column.key in SERVER_SET:
            setattr(record, column.key, datetime.utcnow() if isinstance(column.type, DateTime) else date.today())


def _check_target(record, actor) -> None:
    """A row attached to a record of any table (``rel_type`` + ``rel_id``: a note, a reminder, a
    proposal's lead or client) points, when it is created or moved, at a record that exists and that
    ``actor`` sees (its table's view permission; with "view own", one of their own records). Raises
    FieldError naming rel_id (403 when the table is not theirs to see) or rel_type (a name of no table)."""
    model = type(record)
    if not attaches_to_any(model):
        return
    state = inspect(record)
    if state.persistent and not (state.attrs.rel_type.history.has_changes()
                                 or state.attrs.rel_id.history.has_changes()):
        return  # what it was attached to before is not this write's to check
    rel_type, rel_id = record.rel_type, record.rel_id
    if rel_id in (None, 0) and not rel_type:
        return  # attached to nothing (a proposal not yet for anyone)
    target = rel_type_models().get(rel_type or "")
    if target is None:
        raise FieldError("rel_type", f"{rel_type!r} names no kind of record: give a table's API name (leads, "
                                     "clients, invoices...) or lead, customer, proposal, estimate, invoice, contract.")
    name = resource_of(target).name
    if not may(actor, target, "view"):
        raise FieldError("rel_id", f"you may not view {name}, so nothing can be attached to one of them.", status=403)
    with db.session.no_autoflush:
        found = db.session.get(target, rel_id) if isinstance(rel_id, int) else None
        if found is None or not sees(actor, found):  # view own: another's record is not there for them
            raise FieldError("rel_id", f"no {name} with id {rel_id}.")
