"""Rows that every transaction reads and people seldom change (the options, the active webhooks),
read once and shared by the transactions of the process instead of read again by each one.

A :class:`Shared` value is kept per database (engine) and is forgotten:

* at once in this process when one of its transactions that changed its rows commits: an ORM
  change of a watched model (flushed, or still pending when the value is read), an UPDATE or
  DELETE statement on a watched table run through the session, or :func:`changed`; that
  transaction itself reads the rows again, so it sees its own change;
* in the other processes (other web workers, job workers, the CLI) after at most ``SECONDS``
  (``CRM_SHARED_CACHE_SECONDS``, default 2): a process re-reads a value that old. Rows changed by
  raw SQL are seen after that time too (or call :func:`forget_all`).

Inside one transaction the callers keep the value they first read (session.info), as before.
"""
from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable

SECONDS = float(os.environ.get("CRM_SHARED_CACHE_SECONDS", "2"))

_CHANGED = "crm_shared_changed"  # session.info: names of the values this transaction changed
_ALL: dict[str, "Shared"] = {}


class Shared:
    def __init__(self, name: str, read: Callable, models: Callable[[], tuple], ignore: Callable | None = None):
        """``read(session)`` returns the value; ``models()`` the ORM classes whose rows make it
        (imported late: models import this module's users); ``ignore(obj)``: a changed row of
        them that does not change the value (an option's number counter)."""
        self.name, self.read, self._models, self.ignore = name, read, models, ignore
        self._kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> (generation, until, value)
        self._generation = 0
        _ALL[name] = self

    @property
    def models(self) -> tuple:
        return self._models()

    def get(self, session):
        if self._changed_here(session):
            return self.read(session)
        bind = session.get_bind()
        now = time.monotonic()
        kept = self._kept.get(bind)
        if kept is not None and kept[0] == self._generation and kept[1] > now:
            return kept[2]
        generation = self._generation
        value = self.read(session)
        if generation == self._generation:  # not forgotten while it was read: it is not older than that
            self._kept[bind] = (generation, now + SECONDS, value)
        return value

    def forget(self) -> None:
        self._generation += 1
        self._kept = weakref.WeakKeyDictionary()

    def _changed_here(self, session) -> bool:
        if self.name in session.info.get(_CHANGED, ()):
            return True
        models = self.models
        return any(isinstance(o, models) and not (self.ignore and self.ignore(o)) for o in session.new)


def changed(session, name: str) -> None:
    """This transaction changed the rows of ``name``: it reads them itself, and its commit makes
    every transaction of the process read them again."""
    session.info.setdefault(_CHANGED, set()).add(name)


def forget_all() -> None:
    """Every shared value is read again (rows changed behind the application's back)."""
    for shared in _ALL.values():
        shared.forget()


def _note_flush(session, flush_context) -> None:
    flushed = (*session.new, *session.dirty, *session.deleted)
    for shared in _ALL.values():
        models = shared.models
        for obj in flushed:
            if isinstance(obj, models) and not (shared.ignore and shared.ignore(obj)):
                changed(session, shared.name)
                break


def _note_statement(orm_execute_state) -> None:
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    table = getattr(orm_execute_state.statement, "table", None)
    for shared in _ALL.values():
        if any(table is m.__table__ for m in shared.models):
            changed(orm_execute_state.session, shared.name)


def _forget_committed(session) -> None:
    for name in session.info.pop(_CHANGED, ()):
        _ALL[name].forget()


def _drop_notes(session, transaction) -> None:
    if transaction.parent is None:  # a rolled-back transaction changed nothing
        session.info.pop(_CHANGED, None)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_flush", "shared.note", _note_flush)
    add("do_orm_execute", "shared.note", _note_statement)
    add("after_commit", "shared.forget", _forget_committed)
    add("after_transaction_end", "shared.drop", _drop_notes)
