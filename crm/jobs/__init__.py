"""Background jobs on RQ, through a transactional outbox.

``enqueue(func, ...)`` writes the job as a row of tbljob_outbox in the current transaction; it is
dispatched only after that transaction commits (a rollback drops the row with the rest), so a job
never sees uncommitted or rolled-back state and is never lost. With ``REDIS_URL`` set the job goes
to Redis for ``rq worker --with-scheduler``; unset, the same function runs in-process, in its own
app context and session, right after commit. A dispatch that fails (Redis unreachable) is logged
and leaves the row pending: the answer of the action that asked for it does not depend on the
queue, and the periodic sweeper (crm.jobs.outbox) dispatches it again with backoff.
Job functions are wrapped with :func:`job` so they also work inside an RQ worker process; they
must be safe to run twice (a row whose dispatch outlived its lease may be dispatched again).
"""
from __future__ import annotations

import functools
import importlib
import json
import logging
from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import inspect

log = logging.getLogger(__name__)
_PENDING = "crm_pending_jobs"
_worker_app = None


def job(func):
    """Make ``func`` runnable by an RQ worker: it gets an app context if it has none."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        global _worker_app
        if _worker_app is None:
            from .. import create_app

            _worker_app = create_app()
        with _worker_app.app_context():
            return func(*args, **kwargs)

    return wrapper


def redis_connection():
    from redis import Redis

    url = current_app.config.get("REDIS_URL")
    # a Redis that does not answer must not hold a request for the system's TCP timeout
    return Redis.from_url(url, socket_connect_timeout=5) if url else None


def queue():
    from rq import Queue

    conn = redis_connection()
    return Queue(current_app.config.get("RQ_QUEUE", "default"), connection=conn) if conn else None


def func_path(func) -> str:
    """Where a job function is found again: ``module:qualified.name``."""
    return f"{func.__module__}:{func.__qualname__}"


def resolve(path: str):
    module, _, name = path.partition(":")
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def enqueue(func, *args, **kwargs) -> None:
    """Dispatch ``func(*args, **kwargs)`` after the current transaction commits. ``func`` must be a
    module-level function and the arguments JSON values (they are stored in tbljob_outbox)."""
    from ..extensions import db
    from ..models import JobOutbox
    from .outbox import LEASE

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


def run_inline(func, args, kwargs) -> str | None:
    """Run a job now, in a fresh app context (its own session), as a worker would. Returns the error
    of a job that failed (logged and recorded in the activity log), None when it ran."""
    app = current_app._get_current_object()
    with app.app_context():
        try:
            func(*args, **kwargs)
            return None
        except Exception as exc:  # a failed job must not break the request that queued it
            log.exception("job %s failed", func.__name__)
            from ..extensions import db
            from ..actions.activity import log_activity

            db.session.rollback()
            log_activity(None, f"Job {func.__module__}.{func.__name__} failed: {exc}", rel_type="job")
            db.session.commit()
            return f"{type(exc).__name__}: {exc}"


def _after_commit(session):
    if session.in_nested_transaction():
        return  # a savepoint was released (SQLAlchemy signals that too): its jobs wait for the real commit
    pending = session.info.pop(_PENDING, None)
    if not pending or not has_app_context():
        return  # rows left to the sweeper
    from .outbox import dispatch

    written = [(inspect(row), func, args, kwargs) for row, func, args, kwargs in pending]
    dispatch([(state.identity[0], 0, func, args, kwargs) for state, func, args, kwargs in written
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
    """Its stages of the commit pipeline (crm/commit_pipeline.py)."""
    add("after_commit", "jobs.dispatch", _after_commit)
    add("after_soft_rollback", "jobs.forget", _after_rollback)
