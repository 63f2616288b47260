"""Background jobs on RQ.

``enqueue(func, ...)`` records a job on the current database session; it is dispatched only
after that session commits (and dropped on rollback), so a job never sees uncommitted or
rolled-back state. With ``REDIS_URL`` set the job goes to Redis for ``rq worker --with-scheduler``;
unset, the same function runs in-process, in its own app context and session, right after commit.
Job functions are wrapped with :func:`job` so they also work inside an RQ worker process.
"""
from __future__ import annotations

import functools
import logging

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

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
    return Redis.from_url(url) if url else None


def queue():
    from rq import Queue

    conn = redis_connection()
    return Queue(current_app.config.get("RQ_QUEUE", "default"), connection=conn) if conn else None


def enqueue(func, *args, **kwargs) -> None:
    """Dispatch ``func(*args, **kwargs)`` after the current transaction commits."""
    from ..extensions import db

    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even before any SQL, drops the job
    session.info.setdefault(_PENDING, []).append((func, args, kwargs))


def run_inline(func, args, kwargs):
    """Run a job now, in a fresh app context (its own session), as a worker would."""
    app = current_app._get_current_object()
    with app.app_context():
        try:
            return func(*args, **kwargs)
        except Exception as exc:  # a failed job must not break the request that queued it
            log.exception("job %s failed", func.__name__)
            from ..extensions import db
            from ..actions.activity import log_activity

            db.session.rollback()
            log_activity(None, f"Job {func.__module__}.{func.__name__} failed: {exc}", rel_type="job")
            db.session.commit()
            return None


def _dispatch(jobs):
    q = queue()
    for func, args, kwargs in jobs:
        if q is not None:
            q.enqueue(func, *args, **kwargs)
        else:
            run_inline(func, args, kwargs)


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    jobs = session.info.pop(_PENDING, None)
    if jobs and has_app_context():
        _dispatch(jobs)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, previous_transaction):
    session.info.pop(_PENDING, None)
