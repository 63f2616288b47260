"""A fixed-window rate limit per key: in Redis when REDIS_URL is set, else in the database."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from ..extensions import db


def hit(key: str, limit: int, window: int) -> int | None:
    """Count one request for ``key``. Returns None when allowed, else the seconds to wait.

    The database variant adds a row to the caller's session: the caller commits it (even when it
    goes on to refuse the request), so refused submissions still count.
    """
    if limit <= 0:
        return None
    if current_app.config.get("REDIS_URL"):
        from ..jobs import redis_connection

        conn = redis_connection()
        rkey = f"crm:ratelimit:{key}"
        count = conn.incr(rkey)
        if count == 1:
            conn.expire(rkey, window)
        if count > limit:
            return max(int(conn.ttl(rkey)), 1)
        return None
    from ..models import RateLimitHit

    now = datetime.utcnow()
    since = now - timedelta(seconds=window)
    q = db.session.query(RateLimitHit).filter(RateLimitHit.key == key, RateLimitHit.date > since)
    if q.count() >= limit:
        oldest = q.order_by(RateLimitHit.date).first().date
        return max(int((oldest + timedelta(seconds=window) - now).total_seconds()) + 1, 1)
    # Forget what no window will look at again, then count this request.
    db.session.query(RateLimitHit).filter(RateLimitHit.key == key, RateLimitHit.date <= since).delete(
        synchronize_session=False)
    db.session.add(RateLimitHit(key=key, date=now))
    return None
