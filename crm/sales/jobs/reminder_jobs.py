"""Follow-up reminders (tblreminders) that fell due: one email each to the staff member.

Scheduled every 5 minutes in crm/jobs/periodic.py PERIODIC. Each reminder is claimed with one
conditional UPDATE (isnotified 0 → 1) and its email is queued in the outbox in the same commit,
so two runs, even at the same time, never email a reminder twice; a run that fails before the
commit leaves the reminder for the next run.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update

from crm.core import options
from crm.core.documents import base_url
from crm.core.extensions import db
from crm.core.jobs import job
from crm.core.mail import queue_email, render_email
from crm.core.models.settings import Staff
from crm.sales.models.clients import Lead, Reminder

log = logging.getLogger(__name__)
BATCH = 500  # reminders handled per run; the rest wait 5 minutes


def _about(reminder) -> tuple[str, str]:
    """What the reminder is about and the address of that record."""
    if reminder.rel_type == "lead":
        lead = db.session.get(Lead, reminder.rel_id)
        if lead is not None:
            name = lead.name + (f" ({lead.company})" if lead.company else "")
            kind = "Opportunity" if lead.is_opportunity else "Lead"
            url = "opportunities" if lead.is_opportunity else "leads"
            return f"{kind} {name}", f"{base_url()}/admin/{url}/details/?id={lead.id}"
    return f"{reminder.rel_type} #{reminder.rel_id}", base_url() + "/admin/"


def _email(reminder) -> bool:
    """Queue the reminder's email; False when there is nobody or nothing to send."""
    staff = db.session.get(Staff, reminder.staff)
    if not reminder.notify_by_email or staff is None or not staff.active or not staff.email:
        return False
    about, link = _about(reminder)
    mail = render_email("staff-reminder", {
        "staff_name": staff.full_name, "reminder_description": reminder.description or "",
        "reminder_date": f"{reminder.date:%Y-%m-%d %H:%M}", "reminder_about": about, "reminder_link": link,
        "companyname": options.get("companyname")})
    if mail is None:  # an admin switched the template off
        return False
    queue_email(staff.email, mail.subject, mail.html, mail.text, rel_type=reminder.rel_type,
                rel_id=reminder.rel_id, template=mail.slug)
    return True


@job
def send_due_reminders(now: datetime | None = None) -> str:
    """Every 5 minutes: reminders whose date has come are emailed once and marked notified."""
    now = now or datetime.utcnow()
    due = [rid for (rid,) in db.session.query(Reminder.id)
           .filter(Reminder.date <= now, Reminder.isnotified == False)  # noqa: E712
           .order_by(Reminder.date, Reminder.id).limit(BATCH)]
    emailed = silent = 0
    for rid in due:
        try:
            claimed = db.session.execute(
                update(Reminder).where(Reminder.id == rid, Reminder.isnotified == False)  # noqa: E712
                .values(isnotified=True).execution_options(synchronize_session=False)).rowcount == 1
            if not claimed:  # another run took it
                db.session.rollback()
                continue
            reminder = db.session.get(Reminder, rid, populate_existing=True)
            if _email(reminder):
                emailed += 1
            else:
                silent += 1
            db.session.commit()
        except Exception:  # noqa: BLE001 - one bad reminder must not stop the others; it is retried
            db.session.rollback()
            log.exception("reminder #%s could not be sent", rid)
    return f"{emailed} reminder email(s) queued, {silent} due without email"
