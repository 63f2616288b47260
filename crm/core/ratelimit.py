"""Rate limits on the table of counted hits (tblrate_limit_hits), one row per hit under a key that
says what is limited and for whom.

:func:`hit` is a fixed-window limit on requests (web forms; in Redis when REDIS_URL is set).
:func:`recent`, :func:`add` and :func:`forget` count only what the caller chooses (failed logins:
a success clears them), always in the database, so every worker sees the same counts.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func

from crm.core.extensions import db
from crm.core.jobs.runner import redis_connection
from crm.core.models.ratelimit import RateLimitHit


def hit(key: str, limit: int, window: int) -> int | None:
    """Count one request for ``key``. Returns None when allowed, else the seconds to wait.

    The database variant adds a row to the caller's session: the caller commits it (even when it
    goes on to refuse the request), so refused submissions still count.
    """
    if limit <= 0:
        return None
    if current_app.config.get("REDIS_URL"):
        conn = redis_connection()
        rkey = f"crm:ratelimit:{key}"
        count = conn.incr(rkey)
        if count == 1:
            conn.expire(rkey, window)
        if count > limit:
            return max(int(conn.ttl(rkey)), 1)
        return None
    now = datetime.utcnow()
    count, oldest, _ = recent(key, window, now)
    if count >= limit:
        return seconds_until(oldest + timedelta(seconds=window), now)
    add(key, now, forget_before=now - timedelta(seconds=window))
    return None


def recent(key: str, window: int, now: datetime | None = None) -> tuple[int, datetime | None, datetime | None]:
    """How many hits ``key`` has in the last ``window`` seconds, with the oldest and newest."""
    since = (now or datetime.utcnow()) - timedelta(seconds=window)
    count, oldest, newest = db.session.query(func.count(RateLimitHit.id), func.min(RateLimitHit.date),
                                             func.max(RateLimitHit.date)).filter(
        RateLimitHit.key == key, RateLimitHit.date > since).one()
    return count, oldest, newest


def add(key: str, now: datetime | None = None, forget_before: datetime | None = None) -> None:
    """Count one hit for ``key`` (in the caller's session, which commits it); ``forget_before``
    drops the key's hits no window will look at again."""
    if forget_before is not None:
        db.session.query(RateLimitHit).filter(RateLimitHit.key == key, RateLimitHit.date <= forget_before).delete(
            synchronize_session=False)
    db.session.add(RateLimitHit(key=key, date=now or datetime.utcnow()))


def forget(key: str) -> None:
    db.session.query(RateLimitHit).filter(RateLimitHit.key == key).delete(synchronize_session=False)


def seconds_until(moment: datetime, now: datetime) -> int:
    """Whole seconds to wait (at least 1), as a Retry-After header gives them."""
    return max(math.ceil((moment - now).total_seconds()), 1)
