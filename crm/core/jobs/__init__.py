"""Background jobs on RQ, through a transactional outbox.

``enqueue(func, ...)`` writes the job as a row of tbljob_outbox in the current transaction; it is
dispatched only after that transaction commits (a rollback drops the row with the rest), so a job
never sees uncommitted or rolled-back state and is never lost. With ``REDIS_URL`` set the job goes
to Redis for ``rq worker --with-scheduler``; unset, the same function runs in-process, in its own
app context and session, on the process's background thread (crm.core.jobs.background), so the
request answers without waiting for it; ``JOBS_INLINE = True`` runs it in the committing thread
right after the commit instead (the tests do, so its effects are there when the request answers). A dispatch that fails (Redis unreachable) is logged
and leaves the row pending: the answer of the action that asked for it does not depend on the
queue, and the periodic sweeper (crm.core.jobs.outbox) dispatches it again with backoff.
Job functions are wrapped with :func:`job` so they also work inside an RQ worker process; they
must be safe to run twice (a row whose dispatch outlived its lease may be dispatched again).
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

from flask import has_app_context
from sqlalchemy import inspect

from crm.core.extensions import db
from crm.core.jobs.background import drain, init_app, submit  # noqa: F401  (drain, init_app: used by the app and tests)
from crm.core.jobs.outbox import LEASE
from crm.core.jobs.runner import func_path, job, resolve  # noqa: F401  (job: the decorator every job module takes from here)
from crm.core.models.jobs import JobOutbox

log = logging.getLogger(__name__)
_PENDING = "crm_pending_jobs"


def enqueue(func, *args, **kwargs) -> None:
    """Dispatch ``func(*args, **kwargs)`` after the current transaction commits. ``func`` must be a
    module-level function and the arguments JSON values (they are stored in tbljob_outbox)."""
    path = func_path(func)
    try:
        found = resolve(path)
    except (ImportError, AttributeError):
        found = None
    if found is not func:
        raise ValueError(f"job {path} is not a module-level function; it could not be found again")
    try:
        payload = json.dumps({"args": args, "kwargs": kwargs})
    except TypeError as exc:
        raise ValueError(f"the arguments of job {path} must be JSON values: {exc}") from None
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any SQL, drops the job
    now = datetime.utcnow()
    # Born leased to this process, which dispatches it after commit: the sweeper leaves it alone
    # until the lease ends (so the two never both dispatch it unless this process stalls or dies).
    row = JobOutbox(func=path, args=payload, created=now, attempts=0, next_attempt_at=now + LEASE)
    session.add(row)
    session.info.setdefault(_PENDING, []).append((row, func, args, kwargs))


def _after_commit(session):
    if session.in_nested_transaction():
        return  # a savepoint was released (SQLAlchemy signals that too): its jobs wait for the real commit
    pending = session.info.pop(_PENDING, None)
    if not pending or not has_app_context():
        return  # rows left to the sweeper
    written = [(inspect(row), func, args, kwargs) for row, func, args, kwargs in pending]
    submit([(state.identity[0], 0, func, args, kwargs) for state, func, args, kwargs in written
            if state.persistent and state.identity])


def _after_rollback(session, previous_transaction):
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if session.in_transaction():  # a savepoint rolled back: its rows went, the others stay
        session.info[_PENDING] = [p for p in pending if p[0] in session]
    else:
        session.info.pop(_PENDING, None)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_commit", "jobs.dispatch", _after_commit)
    add("after_soft_rollback", "jobs.forget", _after_rollback)
