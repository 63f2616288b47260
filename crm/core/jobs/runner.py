"""Running a job: in an RQ worker (which has no app until its first job), in-process after commit,
or from the sweeper; the Redis queue. Below crm.core.jobs (enqueue) and crm.core.jobs.outbox (dispatch)."""
from __future__ import annotations

import functools
import importlib
import logging

from flask import current_app, has_app_context
from redis import Redis
from rq import Queue

from crm.core.extensions import db

log = logging.getLogger("crm.core.jobs")


def job(func):
    """Mark ``func`` as a job: it runs inside the app, which the worker provides (crm/jobs/worker.py)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not has_app_context():
            raise RuntimeError(f"the job {func.__name__} runs inside the app: start the worker as "
                               "`rq worker -w crm.jobs.worker.AppWorker`")
        return func(*args, **kwargs)

    return wrapper


def redis_connection():
    url = current_app.config.get("REDIS_URL")
    # a Redis that does not answer must not hold a request for the system's TCP timeout
    return Redis.from_url(url, socket_connect_timeout=5) if url else None


def queue():
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
            from crm.core.activity import log_activity  # cycle: crm.actions (loads every action) -> crm.core.jobs

            db.session.rollback()
            log_activity(None, f"Job {func.__module__}.{func.__name__} failed: {exc}", rel_type="job")
            db.session.commit()
            return f"{type(exc).__name__}: {exc}"
