"""The action registry: one declaration per business operation.

An action is a plain function ``func(obj, actor, **params)`` registered with :func:`action`.
The declaration gives, without more code: a row button in the admin grid, the API endpoint
``POST /api/v1/<resource>/<id>/actions/<name>``, the CLI entry ``crm action``, the permission
``action:<resource>.<name>`` and an activity-log line. :func:`run` is the single entry point
all of them use; it validates, checks permission and precondition, and runs in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask import has_request_context, url_for
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.routing import BuildError
from werkzeug.datastructures import MultiDict
from wtforms import DecimalField, Form

from crm.core import events
from crm.core.activity import log_activity
from crm.core.extensions import db
from crm.core.limits import INT_MAX, too_many_places
from crm.core.numbering import SERIES, shown
from crm.core.permissions import can, sees
from crm.core.resources import LINES, SERVER, action_owned, primary_key, resource_name, resource_of, written_with


class ActionError(Exception):
    """A business rule refused the operation. The message tells a person what to do."""

    status = 409

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ActionInvalid(ActionError):
    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first_field, msgs = next(iter(errors.items()))
        super().__init__(f"{first_field}: {msgs[0]}", field=first_field)


class ActionForbidden(ActionError):
    status = 403


class ActionNotFound(ActionError):
    status = 404


@dataclass
class ActionDef:
    model: type
    name: str
    label: str
    func: Callable
    form: type[Form] | None = None  # WTForms class describing the parameters
    precondition: Callable[[Any], str | None] | None = None
    destructive: bool = False
    confirm: str | None = None
    icon: str = "fa-bolt"
    extra: dict = field(default_factory=dict)
    # What the form shows filled in for obj (the amount left to pay), and the figures shown above it
    # (total, paid, balance): obj -> {field: value} and obj -> [(label, text)].
    defaults: Callable[[Any], dict] | None = None
    summary: Callable[[Any], list[tuple[str, str]]] | None = None
    # The models whose new rows the answer names (None: any record a person opens from the menu).
    creates: tuple[type, ...] | None = None

    @property
    def resource(self) -> str:
        return resource_name(self.model)

    @property
    def permission(self) -> str:
        return f"action:{self.resource}.{self.name}"

    def refusal(self, obj) -> str | None:
        """Why the action cannot run on obj now, or None when it can."""
        return self.precondition(obj) if self.precondition else None

    @property
    def params(self):
        return list(self.form()) if self.form else []


_REGISTRY: dict[tuple[type, str], ActionDef] = {}


def action(model, name: str, label: str, *, form=None, precondition=None, destructive=False,
           confirm=None, icon="fa-bolt", defaults=None, summary=None, creates=None):
    """Register ``func(obj, actor, **params)`` as an action on ``model``."""

    def decorate(func):
        _REGISTRY[(model, name)] = ActionDef(model, name, label, func, form, precondition,
                                             destructive, confirm, icon, defaults=defaults, summary=summary,
                                             creates=tuple(creates) if creates is not None else None)
        return func

    return decorate


def actions_for(model) -> list[ActionDef]:
    return [a for (m, _), a in _REGISTRY.items() if m is model]


def all_actions() -> list[ActionDef]:
    return list(_REGISTRY.values())


def who_writes(model, key: str) -> str:
    """A sentence for a person who tried to write an action-owned column through a generic door."""
    kind = action_owned(model).get(key)
    if kind == SERVER:
        return "set by the server (who created the record and when), never taken from a request"
    if kind == LINES:
        if written_with(model):  # a line's own amounts
            return "computed by the server from the line's quantity, price, discount and tax"
        return "computed by the server from the lines"
    written_by = inspect(model).columns[key].info.get("written_by")  # an action of another table (a line's parent)
    if written_by:
        return f"written only by {written_by}"
    names = ", ".join(a.name for a in actions_for(model))
    if not names:
        return "written only by the system"
    return (f"changed only by this record's actions ({names}): "
            f"POST /api/v1/{resource_of(model).name}/<id>/actions/<action>")


def get_action(model, name: str) -> ActionDef:
    try:
        return _REGISTRY[(model, name)]
    except KeyError:
        raise ActionNotFound(f"There is no action {name!r} on {model.__tablename__}.") from None


def parse_params(adef: ActionDef, data) -> dict:
    """Validate parameters with the action's form; the same rules for grid, API and CLI."""
    if adef.form is None:
        return {}
    formdata = data if isinstance(data, MultiDict) else MultiDict(
        {k: ("" if v is None else str(v)) for k, v in (data or {}).items()})
    form = adef.form(formdata=formdata, meta={"csrf": False})
    errors = {} if form.validate() else {k: list(v) for k, v in form.errors.items()}
    for f in form:  # a DecimalField's places only format it: 10.005 is refused, not rounded later
        if isinstance(f, DecimalField) and f.places and f.name not in errors \
                and (message := too_many_places(f.data, f.places)):
            errors[f.name] = [message]
    if errors:
        raise ActionInvalid(errors)
    return {f.name: f.data for f in form if f.name != "csrf_token"}


# --- what an action created ----------------------------------------------------------------

BUSINESS_CATEGORIES = ("Sales", "Warehouse", "Purchasing", "Finance")
# obj -> its admin page or None; an entry point adds one for records shown by a view of part of a table.
DETAILS_URL_RESOLVERS: list[Callable[[Any], str | None]] = []


@dataclass
class Created:
    """A record an action created, as a person (a link) and a client (ids, URLs) needs it."""

    resource: str
    id: Any
    name: str
    url: str | None  # its admin page
    api_url: str

    def as_dict(self) -> dict:
        return {"resource": self.resource, "id": self.id, "name": self.name, "url": self.url,
                "api_url": self.api_url}


@dataclass
class Outcome:
    result: Any
    created: list[Created] = field(default_factory=list)

    def message(self, adef: ActionDef) -> str:
        return self.result if isinstance(self.result, str) else f"{adef.label}: done."


def details_url(obj) -> str | None:
    if not has_request_context():
        return None
    for resolve in DETAILS_URL_RESOLVERS:
        if (found := resolve(obj)) is not None:
            return found
    try:
        return url_for(f"{resource_name(type(obj))}.details_view", id=getattr(obj, primary_key(type(obj))))
    except BuildError:
        return None


def _worth_naming(adef: ActionDef, model) -> bool:
    if adef.creates is not None:
        return model in adef.creates
    res = resource_of(model)
    return res.category in BUSINESS_CATEGORIES and not res.readonly


def _described(obj) -> Created:
    model = type(obj)
    res = resource_of(model)
    pk = getattr(obj, primary_key(model))
    name = shown(obj) if model.__tablename__ in SERIES else str(obj)
    return Created(resource=res.name, id=pk, name=name, url=details_url(obj),
                   api_url=f"/api/v1/{res.name}/{pk}")


def _named(obj) -> str:
    """A record as a person names it in the activity: its document number, else its title."""
    if getattr(obj, "__tablename__", None) in SERIES:
        return shown(obj)
    return str(obj)


def _log_text(adef, obj, result) -> str:
    """The activity line of an action: "Approve: #PO000001", and what the action said when it said
    something ("Record payment: Payment of 2,532.32 EUR recorded on INV-000003; ..."), which is
    enough alone when it names the record."""
    name = _named(obj)
    if not isinstance(result, str) or not result:
        return f"{adef.label}: {name}"
    return f"{adef.label}: {result}" if name in result else f"{adef.label}: {name} ({result})"


def run(model, obj_id, name: str, actor, data=None):
    """Run an action as ``actor`` (see :func:`run_outcome`); returns what the action returns."""
    return run_outcome(model, obj_id, name, actor, data).result


def run_outcome(model, obj_id, name: str, actor, data=None) -> Outcome:
    """Run an action as ``actor``: permission, parameters, precondition, one transaction.

    Returns the action's result (usually a message) and the records it created (an invoice from a
    proposal, a payment): the grid's message links them, the API's answer gives their ids and URLs.
    Raises ActionError (or a subclass) with a message for a person; nothing is written then.
    """
    adef = get_action(model, name)
    if not can(actor, adef.permission):
        raise ActionForbidden(f"You do not have permission to {adef.label.lower()} ({adef.permission}).")
    params = parse_params(adef, data)
    # The lock reads the row as it is now, even when this session already holds the object.
    ids_fit = not isinstance(obj_id, int) or abs(obj_id) <= INT_MAX  # a larger id names no row (INTEGER keys)
    obj = db.session.get(model, obj_id, with_for_update=True, populate_existing=True) if ids_fit else None
    if obj is None or not sees(actor, obj):  # view own: a colleague's record is not theirs to act on
        raise ActionNotFound(f"{adef.resource} #{obj_id} does not exist.")
    refusal = adef.refusal(obj)
    if refusal:
        raise ActionError(refusal)
    session = db.session()
    session.info["actor"] = actor  # events raised by this transaction name who did it
    events.listen_for_words(session)
    made: list = []
    outer = session.info.get(_MADE)  # an action run by another action: both name what it made
    session.info[_MADE] = made  # rows this transaction inserts (_note_made)
    try:
        result = adef.func(obj, actor, **params)
        log_activity(actor, _log_text(adef, obj, result), rel_type=adef.resource, rel_id=obj_id)
        _commit_keeping_state(session)
    except (ActionError, SQLAlchemyError):
        session.rollback()
        raise
    finally:
        session.info.pop("actor", None)
        said = events.words_said(session)
        if outer is None:
            session.info.pop(_MADE, None)
        else:
            outer.extend(made)
            session.info[_MADE] = outer
    made = [o for o in made if _worth_naming(adef, type(o))]
    if said and isinstance(result, str):  # what the subscribers did too (events.say)
        result = ". ".join([result.rstrip("."), *said])
    return Outcome(result, [_described(o) for o in dict.fromkeys(made) if not db.inspect(o).deleted
                            and not db.inspect(o).was_deleted])


_MADE = "crm_action_made"


def _note_made(session, instance) -> None:
    """A row an action's transaction inserted: the outcome names the ones worth naming. One
    listener for every session (the commit pipeline's), not one added and removed per run."""
    made = session.info.get(_MADE)
    if made is not None:
        made.append(instance)


def register_stages(add) -> None:
    """Its stage of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("pending_to_persistent", "actions.made", _note_made)


def _commit_keeping_state(session) -> None:
    """Commit without expiring what the session holds: what the action just wrote is what the
    caller shows next (the API's answer, the grid's message, the next action of a chain), so it
    is not read again. The next action locks and re-reads its own row (populate_existing above)."""
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep
