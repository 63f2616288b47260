"""Telling people how their goals went (tblgoals.notified: once per goal).

A goal is settled once: when it reaches its target (told at once if notify_when_achieve), or the
day after its end date, achieved or not (told if notify_when_achieve / notify_when_fail; otherwise
just marked). The staff member is told, or the administrators for a company-wide goal (the rules
in crm.notifications.rules), by a notification and an email. ``notified`` is claimed with one
conditional UPDATE, so two runs at the same time never tell anyone twice; extending a settled
goal's end date into the future opens it again, as in Perfex.
"""
from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import event as sa_event, inspect, or_, update

from crm.core import events
from crm.core.activity import log_activity
from crm.core.extensions import db
from crm.sales import goals
from crm.sales.models.documents import Goal

log = logging.getLogger(__name__)

events.register(None, described={
    "goal.achieved": "A goal reached its target",
    "goal.failed": "A goal ended short of its target",
})


def _shown(goal, value) -> str:
    return f"{value:,.2f}" if goals.is_money(goal) else f"{value:,.0f}"


def settle_goals(today: date | None = None) -> tuple[int, int]:
    """Settle the goals due; returns (goals settled, of which someone was told)."""
    today = today or date.today()
    due = (db.session.query(Goal)
           .filter(Goal.notified.is_(False), Goal.start_date <= today,
                   or_(Goal.end_date < today, Goal.notify_when_achieve.is_(True)))
           .order_by(Goal.end_date, Goal.id).all())
    found = goals.progress(due)  # one query for all of them
    settled = told = 0
    for goal in due:
        p, ended = found[goal.id], goal.end_date < today
        if not p.achieved and not ended:
            continue
        outcome = "achieved" if p.achieved else "failed"
        tell = goal.notify_when_achieve if p.achieved else goal.notify_when_fail
        try:
            claimed = db.session.execute(
                update(Goal).where(Goal.id == goal.id, Goal.notified.is_(False)).values(notified=True)
                .execution_options(synchronize_session=False)).rowcount == 1
            if not claimed:  # another run took it
                db.session.rollback()
                continue
            if tell:
                events.emit(f"goal.{outcome}", goal, None, total=_shown(goal, p.total),
                            target=_shown(goal, goal.achievement or 0), percent=p.percent,
                            end=f"{goal.end_date:%d.%m.%Y}")
                told += 1
            log_activity(None, f"Goal #{goal.id} {outcome}: {_shown(goal, p.total)} of "
                               f"{_shown(goal, goal.achievement or 0)}" + ("" if tell else " (nobody told)"),
                         rel_type="goals", rel_id=goal.id)
            db.session.commit()
            settled += 1
        except Exception:  # noqa: BLE001 - one bad goal must not stop the others; retried next run
            db.session.rollback()
            log.exception("settling goal #%s failed", goal.id)
    return settled, told


@sa_event.listens_for(Goal.end_date, "set")
def _reopen_when_extended(goal, value, old, initiator):
    """A settled goal whose end date moves to today or later is open again (told again when due)."""
    if goal.notified and value != old and value is not None and value >= date.today() and inspect(goal).persistent:
        goal.notified = False
