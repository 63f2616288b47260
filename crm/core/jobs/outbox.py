"""Dispatching the job outbox (tbljob_outbox), after commit and from the periodic sweeper.

A row is owned by whoever holds its lease (``next_attempt_at`` in the future): the process whose
commit wrote it, or a sweeper that claimed it with one conditional UPDATE (still pending, due, and
as many attempts as it read), so two sweepers never dispatch the same row. The owner then
dispatches it and settles it with another conditional UPDATE: dispatched (exactly once), or its
error and the time of the next attempt (backoff). Bookkeeping goes through its own connection, as
the after-commit hook cannot use the session that just committed.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func as sql, select, update

from crm.core.extensions import db
from crm.core.jobs.runner import job, queue, resolve, run_inline
from crm.core.models.jobs import JobOutbox

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # how long a dispatch may take before the sweeper tries again
BACKOFF = (60, 300, 900, 3600)  # seconds to the next attempt after the 1st, 2nd, 3rd and later failures
KEEP = timedelta(days=7)  # dispatched rows are kept this long, to look at
BATCH = 500  # rows per sweep; the rest wait for the next
OUTBOX_META = "outbox_id"  # key of the RQ job's meta naming the tbljob_outbox row it came from


def _settle(row_id: int, seen: int, **values) -> bool:
    """Write the outcome of the attempt that found ``seen`` attempts; False when another owner did."""
    with db.engine.begin() as conn:
        return conn.execute(
            update(JobOutbox)
            .where(JobOutbox.id == row_id, JobOutbox.dispatched_at.is_(None), JobOutbox.attempts == seen)
            .values(attempts=seen + 1, **values)).rowcount == 1


def _failed(row_id: int, seen: int, error: str) -> None:
    delay = BACKOFF[min(seen, len(BACKOFF) - 1)]
    try:
        _settle(row_id, seen, last_error=error[:2000], next_attempt_at=datetime.utcnow() + timedelta(seconds=delay))
    except Exception:  # noqa: BLE001 - the lease runs out and the sweeper tries again anyway
        log.exception("job outbox #%s: the failed dispatch could not be recorded", row_id)


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _dispatch_one(q, row_id: int, seen: int, func, args, kwargs) -> str | None:
    """Hand one owned row to RQ (or run it here when ``q`` is None); the dispatch error, or None."""
    try:
        if q is not None:
            # args and kwargs as given (a job's own keyword such as ``timeout`` is not taken for an
            # RQ option); the row's id in the job's meta, so each RQ run can be traced to its row
            q.enqueue_call(func, args=tuple(args), kwargs=dict(kwargs), meta={OUTBOX_META: row_id})
            error = None
        else:
            error = run_inline(func, args, kwargs)  # a job that fails here is not dispatched again
    except Exception as exc:  # noqa: BLE001 - e.g. Redis unreachable: the row waits for the sweeper
        log.warning("job outbox #%s (%s) not dispatched: %s", row_id, func.__name__, exc)
        _failed(row_id, seen, _error(exc))
        return _error(exc)
    try:
        _settle(row_id, seen, dispatched_at=datetime.utcnow(), last_error=error)
    except Exception:  # noqa: BLE001 - dispatched all the same; at worst the sweeper dispatches it again
        log.exception("job outbox #%s: dispatched but not marked so", row_id)
    return None


def _open_queue():
    """(the RQ queue or None to run in-process, None) or (None, the error that keeps it closed)."""
    try:
        return queue(), None
    except Exception as exc:  # noqa: BLE001 - e.g. a malformed REDIS_URL: nothing is dispatched
        log.warning("the job queue cannot be opened: %s", exc)
        return None, _error(exc)


def dispatch(items) -> int:
    """Dispatch rows this process owns, in order: (row_id, attempts seen, func, args, kwargs) each.
    Returns how many went. Never raises: a failure is logged and recorded on its row, which stays
    pending for the sweeper; once the queue refuses one, the rest are not tried (each would wait on
    the same unreachable Redis) and wait likewise."""
    q, error = _open_queue()
    done = 0
    for row_id, seen, func, args, kwargs in items:
        if error is None:
            error = _dispatch_one(q, row_id, seen, func, args, kwargs)
            done += error is None
        else:
            _failed(row_id, seen, error)
    return done


def _claim(row_id: int, seen: int, now: datetime) -> bool:
    """Take a due pending row for LEASE; False when someone else has it (or dispatched it)."""
    with db.engine.begin() as conn:
        return conn.execute(
            update(JobOutbox)
            .where(JobOutbox.id == row_id, JobOutbox.dispatched_at.is_(None), JobOutbox.attempts == seen,
                   JobOutbox.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE)).rowcount == 1


@job
def dispatch_job_outbox(now: datetime | None = None) -> str:
    """Every minute: jobs whose dispatch failed (Redis was down) or never happened (the process
    stopped) are dispatched again once their time has come, each by one sweeper only."""
    now = now or datetime.utcnow()
    due = db.session.execute(
        select(JobOutbox.id, JobOutbox.func, JobOutbox.args, JobOutbox.attempts)
        .where(JobOutbox.dispatched_at.is_(None), JobOutbox.next_attempt_at <= now)
        .order_by(JobOutbox.next_attempt_at, JobOutbox.id).limit(BATCH)).all()
    db.session.rollback()  # no snapshot kept open while dispatching
    q, error = _open_queue()
    dispatched = 0
    for row_id, path, payload, seen in due:
        if error is not None:
            break  # the queue is down: the rest stay due for the next sweep
        if not _claim(row_id, seen, now):
            continue  # another sweeper has it
        try:
            func, call = resolve(path), json.loads(payload)
        except Exception as exc:  # noqa: BLE001 - code moved or row damaged: shown on the row, retried
            log.error("job outbox #%s: %s cannot be run: %s", row_id, path, exc)
            _failed(row_id, seen, _error(exc))
            continue
        error = _dispatch_one(q, row_id, seen, func, call.get("args", []), call.get("kwargs", {}))
        dispatched += error is None
    # by primary key, so that no index range is locked against the actions writing new rows
    old = db.session.scalars(select(JobOutbox.id).where(JobOutbox.dispatched_at < now - KEEP).limit(BATCH)).all()
    if old:
        db.session.execute(delete(JobOutbox).where(JobOutbox.id.in_(old)))
    db.session.commit()
    waiting = db.session.scalar(select(sql.count()).select_from(JobOutbox).where(JobOutbox.dispatched_at.is_(None)))
    db.session.rollback()
    return f"{dispatched} waiting job(s) dispatched, {waiting} still waiting" + (f" ({error})" if error else "")
