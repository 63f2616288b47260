"""Periodic jobs and their schedules (cron syntax, UTC). Registered with RQ's cron scheduler
by crm/jobs/cron.py; `flask --app wsgi crm cron` runs them once without Redis."""
from __future__ import annotations

from . import job


@job
def sweep_overdue_invoices():
    """Daily: invoices past their due date with nothing paid become Overdue (4)."""
    from ..actions.invoices import sweep_overdue

    return f"{sweep_overdue()} invoice(s) marked overdue"


PERIODIC = {
    "sweep_overdue_invoices": (sweep_overdue_invoices, "15 1 * * *"),
}
