"""Periodic jobs and their schedules (cron syntax, UTC). Registered with RQ's cron scheduler
by crm/jobs/cron.py; `flask --app wsgi crm cron` runs them once without Redis."""
from __future__ import annotations

from . import job
from ..capture.email_pipe import poll_leads_mailbox
from .reminder_jobs import send_due_reminders
from .sales_jobs import expire_estimates
from ..mail.flush import flush_outbox
from ..webhooks.delivery import retry_webhook_deliveries


@job
def sweep_overdue_invoices():
    """Daily: invoices past their due date with nothing paid become Overdue (4)."""
    from ..actions.invoices import sweep_overdue

    return f"{sweep_overdue()} invoice(s) marked overdue"


PERIODIC = {
    "sweep_overdue_invoices": (sweep_overdue_invoices, "15 1 * * *"),
    "poll_leads_mailbox": (poll_leads_mailbox, "*/5 * * * *"),
    "expire_estimates": (expire_estimates, "30 1 * * *"),
    "send_due_reminders": (send_due_reminders, "*/5 * * * *"),
    "retry_webhook_deliveries": (retry_webhook_deliveries, "* * * * *"),
    "flush_outbox": (flush_outbox, "*/5 * * * *"),
}
