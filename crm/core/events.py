"""Business events: what happened, in words other parts of the system (and the outside world) react to.

Events come from one place: a session listener that looks, after each flush, at the rows created and
at the status columns that changed, and announces them just before the transaction commits. So an
event fires the same way whichever door the change came through (an admin button, the API, the
portal, a job) and never fires for a change that was rolled back: subscribers write their own rows
(webhook deliveries, notifications) in the same transaction, and may query and flush.
Events that are not a row or a status (an email sent, a document opened) are announced by the
action with ``emit``.

A subscriber is ``fn(name, obj, actor, data)``. The app's are stages of the commit pipeline
(crm/core/commit_pipeline.py states their order; create_app wires them); ``subscribe`` adds one after them.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import inspect

from crm.core.extensions import db

# name -> what it means (shown where people pick events, e.g. webhook settings). Empty here: each
# area declares the events of its own tables with ``register`` (crm/sales/events.py, ...).
EVENTS: dict[str, str] = {}

# Rows whose creation is an event.
CREATED: dict[type, str] = {}

# (model, status column, new code) -> event. Several names of one code (aliases) share one entry.
STATUS_CHANGED: dict[tuple[type, str, object], str] = {}

# Status events announced also for a row created in that status, not only changed to it: those
# whose subscribers keep other tables right (a sales order entered already accepted, through the
# API or the grid, reserves its stock as one accepted later does). The others tell of a change a
# person made, and are not announced for rows entered, imported or copied in that status.
ANNOUNCED_ON_CREATE: set[str] = set()

_subscribers: list[Callable] = []


def subscribe(fn: Callable) -> Callable:
    if fn not in _subscribers:
        _subscribers.append(fn)
    return fn


def emit(name: str, obj, actor=None, **data) -> None:
    """Announce ``name`` about ``obj``; subscribers run now, inside the caller's transaction."""
    if name not in EVENTS:
        raise KeyError(f"unknown event {name!r}")
    for fn in list(_subscribers):
        fn(name, obj, actor, data)


def register(model, created: str | None = None, statuses: dict[object, str] | None = None, column="status",
             described: dict[str, str] | None = None, on_create: tuple[str, ...] = ()) -> None:
    """Declare the events of an area's table: ``created`` when a row is inserted, ``statuses`` (code ->
    name) when ``column`` changes to a code, ``described`` the names and what they mean; ``on_create``:
    status events announced also for a row inserted in that status."""
    EVENTS.update(described or {})
    if created:
        CREATED[model] = created
    for code, name in (statuses or {}).items():
        STATUS_CHANGED[(model, column, code)] = name
    ANNOUNCED_ON_CREATE.update(on_create)


_SAID = "crm_action_said"


def listen_for_words(session) -> None:
    """The action runner (crm/core/registry.py) collects what subscribers say about its transaction."""
    session.info[_SAID] = []


def say(text: str) -> None:
    """A subscriber tells the person who ran the action what it did too (an accepted order's
    reservation: "reserved 3 of 5 Pallet jack"); added to the action's message."""
    said = db.session().info.get(_SAID)
    if said is not None and text:
        said.append(text)


def words_said(session) -> list[str]:
    return session.info.pop(_SAID, None) or []


def _watched_columns() -> dict[type, set[str]]:
    """model -> its status columns that announce events (STATUS_CHANGED regrouped, kept in step)."""
    global _watched, _watched_size
    if _watched_size != len(STATUS_CHANGED):
        _watched = {}
        for model, column, _ in STATUS_CHANGED:
            _watched.setdefault(model, set()).add(column)
        _watched_size = len(STATUS_CHANGED)
    return _watched


_watched: dict[type, set[str]] = {}
_watched_size = -1


def _status_changes(obj, columns) -> list[str]:
    model, found = type(obj), []
    for column in columns:
        history = inspect(obj).attrs[column].history
        if history.added and history.added[0] not in history.deleted:
            if name := STATUS_CHANGED.get((model, column, history.added[0])):
                found.append(name)
    return found


def _signed_in():
    """The staff member behind a generic create/edit (admin form, API), when there is one."""
    from flask import g, has_request_context
    from flask_login import current_user

    if not has_request_context():
        return None
    if getattr(g, "api_user", None) is not None:
        return g.api_user
    return current_user._get_current_object() if current_user.is_authenticated else None


_PENDING = "crm_pending_events"


def _collect(session, flush_context) -> None:
    # After a flush ids are known and attribute history still shows what changed; but a session
    # cannot be used while it flushes, so subscribers run just before the commit (_announce).
    found = [(CREATED[type(o)], o) for o in session.new if type(o) in CREATED]
    watched = _watched_columns()
    found += [(name, o) for o in session.dirty if type(o) in watched
              for name in _status_changes(o, watched[type(o)])]
    found += [(name, o) for o in session.new if type(o) in watched
              for name in _status_changes(o, watched[type(o)]) if name in ANNOUNCED_ON_CREATE]
    if found:
        actor = session.info.get("actor") or _signed_in()
        session.info.setdefault(_PENDING, []).extend((name, obj, actor) for name, obj in found)


def later(session, name: str, obj, actor=None) -> None:
    """Announce ``name`` just before the commit, with the events found by the flush: for a
    session listener that notices an event while the session flushes (when it cannot be used)."""
    if name not in EVENTS:
        raise KeyError(f"unknown event {name!r}")
    session.info.setdefault(_PENDING, []).append((name, obj, actor or session.info.get("actor") or _signed_in()))


def _announce(session) -> None:
    """Run the subscribers of what this transaction did, inside it; what they write is announced too."""
    for _ in range(10):  # subscribers' own rows may announce events in turn; never loop forever
        session.flush()
        pending = session.info.pop(_PENDING, None)
        if not pending:
            return
        for name, obj, actor in pending:
            emit(name, obj, actor)


def _forget(session) -> None:
    session.info.pop(_PENDING, None)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_flush", "events.collect", _collect)
    add("before_commit", "events.announce", _announce)
    add("after_rollback", "events.forget", _forget)
