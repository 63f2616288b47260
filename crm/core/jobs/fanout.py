"""Run one job per item: on the RQ workers when there is Redis (in parallel), else here, one by one."""
from __future__ import annotations

import logging

from crm.core.extensions import db
from crm.core.jobs.runner import queue

log = logging.getLogger(__name__)


def fan_out(func, arg_lists) -> bool:
    """Call ``func(*args)`` for each of ``arg_lists``; True when they went to Redis. The jobs must be
    safe to run twice (they claim their row), as a periodic run may overlap another."""
    q = queue()
    for args in arg_lists:
        if q is not None:
            q.enqueue(func, *args)
            continue
        try:
            func(*args)
        except Exception:  # noqa: BLE001 - one bad item must not stop the others; the next run retries
            db.session.rollback()
            log.exception("%s%r failed", func.__name__, tuple(args))
    return q is not None
