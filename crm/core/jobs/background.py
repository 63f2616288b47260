"""The embedded default's queue: without Redis, a commit's jobs run on a background thread of the process.

The action's transaction wrote each job as a tbljob_outbox row, leased to this process; after
its commit the rows are handed to this thread (one per process and app, daemon, started at the
first request or the first job) and the request answers at once. The thread runs them one by one,
in order, each through the same dispatch as before (crm.core.jobs.outbox: its own app context and
session, the row marked dispatched exactly once, a failure recorded on the row and in the activity
log). It also sweeps the outbox when it starts and every ``SWEEP_EVERY`` seconds, so rows another
run left pending (a stop before they ran, a crash) run after a restart; a stop hands the rows it
could not run back at once (their lease ends now), a crash leaves them to the sweeper when the
lease runs out. ``JOBS_INLINE = True`` keeps the old way (run in the request's thread after the
commit): the tests use it, so that a job's effects are there when the request answers.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue as stdqueue
import threading
import time
from datetime import datetime

from flask import current_app
from sqlalchemy import update

from crm.core.extensions import db
from crm.core.jobs.outbox import dispatch, dispatch_job_outbox
from crm.core.models.jobs import JobOutbox

log = logging.getLogger("crm.core.jobs")

SWEEP_EVERY = 60.0  # seconds between the thread's sweeps of the outbox
STOP_WAIT = 5.0  # seconds a stopping process waits for the queued jobs before handing them back
_KEY = "crm_job_worker"
_STOP = object()
_SWEEP = object()
_start_lock = threading.Lock()


def in_background(app) -> bool:
    """True when the jobs of a commit go to the thread: no Redis, and not ``JOBS_INLINE``."""
    return not app.config.get("REDIS_URL") and not app.config.get("JOBS_INLINE")


class Worker:
    """The thread and its queue of owned outbox rows: (row id, attempts seen, func, args, kwargs)."""

    def __init__(self, app, sweep_every: float = SWEEP_EVERY):
        self.app = app
        self.pid = os.getpid()
        self.sweep_every = sweep_every
        self.items: stdqueue.Queue = stdqueue.Queue()
        self.stopped = False
        self.items.put(_SWEEP)  # first: rows an earlier run left pending, whose time has come
        self.thread = threading.Thread(target=self._run, name="crm-jobs", daemon=True)
        self.thread.start()

    def submit(self, items) -> None:
        for item in items:
            self.items.put(item)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every job handed to the thread has run; False when ``timeout`` ran out first."""
        deadline = time.monotonic() + timeout
        with self.items.all_tasks_done:
            while self.items.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0 or not self.items.all_tasks_done.wait(left):
                    return not self.items.unfinished_tasks
        return True

    def stop(self, wait: float = STOP_WAIT) -> list[int]:
        """Stop the thread: the queued jobs get ``wait`` seconds to run; the rows of those still
        queued then are handed back (their lease ends now, so the next start runs them). Returns
        their ids."""
        if self.stopped:
            return []
        self.stopped = True
        self.drain(wait)
        left = []
        while True:
            try:
                item = self.items.get_nowait()
            except stdqueue.Empty:
                break
            if item is not _SWEEP:
                left.append(item[0])
            self.items.task_done()
        if left:
            try:
                with self.app.app_context(), db.engine.begin() as conn:
                    conn.execute(update(JobOutbox)
                                 .where(JobOutbox.id.in_(left), JobOutbox.dispatched_at.is_(None))
                                 .values(next_attempt_at=datetime.utcnow()))
            except Exception:  # noqa: BLE001 - the lease runs out and the next start's sweep runs them anyway
                log.exception("job outbox: %d queued job(s) not handed back at stop", len(left))
        self.items.put(_STOP)
        return left

    def _sweep(self) -> None:
        try:
            with self.app.app_context():
                dispatch_job_outbox()
        except Exception:  # noqa: BLE001 - e.g. the database is down: the next sweep tries again
            log.exception("job outbox sweep failed")

    def _run(self) -> None:
        last_sweep = time.monotonic()
        while True:
            try:
                item = self.items.get(timeout=max(0.1, self.sweep_every - (time.monotonic() - last_sweep)))
            except stdqueue.Empty:
                item = None
            if item is _STOP:
                self.items.task_done()
                return
            if item is _SWEEP:
                self._sweep()
                self.items.task_done()
            elif item is not None:
                try:
                    with self.app.app_context():
                        dispatch([item])  # never raises; a failed job is recorded on its row
                except Exception:  # noqa: BLE001 - the thread must go on with the next job
                    log.exception("job outbox #%s: dispatch failed", item[0])
                finally:
                    self.items.task_done()
            if time.monotonic() - last_sweep >= self.sweep_every:
                self._sweep()
                last_sweep = time.monotonic()


def worker(app=None) -> Worker:
    """This process's worker for ``app`` (the current one), started on first use (and again in a
    forked child, which does not inherit its parent's thread)."""
    app = app or current_app._get_current_object()
    found = app.extensions.get(_KEY)
    if found is not None and found.pid == os.getpid() and not found.stopped:
        return found
    with _start_lock:
        found = app.extensions.get(_KEY)
        if found is None or found.pid != os.getpid() or found.stopped:
            found = app.extensions[_KEY] = Worker(app, sweep_every=app.config.get("JOBS_SWEEP_EVERY", SWEEP_EVERY))
            atexit.register(found.stop)
    return found


def submit(items) -> None:
    """Hand a commit's owned rows to the thread, or run them here with ``JOBS_INLINE`` (or to RQ)."""
    app = current_app._get_current_object()
    if in_background(app):
        worker(app).submit(items)
    else:
        dispatch(items)


def drain(app=None, timeout: float = 30.0) -> bool:
    """Wait for the jobs handed to the thread to have run (tests, a command before it exits)."""
    app = app or current_app._get_current_object()
    found = app.extensions.get(_KEY)
    return True if found is None else found.drain(timeout)


def stop(app=None, wait: float = STOP_WAIT) -> list[int]:
    """Stop ``app``'s thread (the next job or request starts a new one); ids of the rows handed back."""
    app = app or current_app._get_current_object()
    found = app.extensions.pop(_KEY, None)
    return [] if found is None else found.stop(wait)


def init_app(app) -> None:
    """Start the thread with the first request, so that rows left pending by an earlier run are
    swept at start; commands (migrations, the CLI) start none unless they queue a job."""

    @app.before_request
    def _start_job_worker():
        if _KEY not in app.extensions and in_background(app):
            worker(app)
