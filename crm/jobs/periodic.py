"""Periodic jobs and their schedules (cron syntax, UTC). Registered with RQ's cron scheduler
by crm/jobs/cron.py; `flask --app wsgi crm cron` runs them once without Redis."""
from __future__ import annotations

from crm.capture.email_pipe import poll_leads_mailbox
from crm.capture.facebook import retry_facebook_leads
from crm.core.extensions import db
from crm.core.jobs import job
from crm.core.jobs.outbox import dispatch_job_outbox
from crm.core.mail.flush import flush_outbox
from crm.efactura.oauth import refresh_if_due
from crm.efactura.received import fetch_received
from crm.efactura.service import auto_send, poll_pending
from crm.purchasing.actions.replenishment import run_replenishment
from crm.reports.rollup import build_months, fold_report_rollups
from crm.sales.actions.goals import settle_goals as settle
from crm.sales.actions.invoices import sweep_overdue
from crm.sales.actions.payment_emails import send_overdue_reminders
from crm.sales.jobs.campaign_jobs import send_scheduled_campaigns
from crm.sales.jobs.contract_jobs import send_contract_expiry_reminders
from crm.sales.jobs.reminder_jobs import send_due_reminders
from crm.sales.jobs.sales_jobs import expire_estimates
from crm.shipping.actions import retry_due_bookings, track_awbs as track
from crm.webhooks.delivery import retry_webhook_deliveries


@job
def sweep_overdue_invoices():
    """Daily: invoices past their due date with nothing paid become Overdue (4); clients get the
    overdue reminder on the schedule the options set."""
    return f"{sweep_overdue()} invoice(s) marked overdue; {send_overdue_reminders()} overdue reminder(s) emailed"


@job
def track_awbs():
    """Every 30 minutes: where is each open AWB (Innoship tracking)."""
    return track()


@job
def retry_awb_bookings():
    """Every 5 minutes: book again the AWBs a 5xx or a timeout left pending."""
    return retry_due_bookings()


@job
def replenish_stock():
    """Daily, when purchase_auto_replenishment is on: RFQs for items below their minimum stock."""
    return run_replenishment()


@job
def settle_goals(today=None):
    """Daily: goals that reached their target, or ended, tell their staff member (or the admins) once."""
    settled, told = settle(today)
    return f"{settled} goal(s) settled, {told} with a notification"


@job
def build_report_months():
    """Hourly: the monthly roll-ups of finished months that are missing or were changed."""
    built = build_months(db.session)
    db.session.commit()
    return f"{built} month(s) of report roll-ups built"


PERIODIC = {
    "sweep_overdue_invoices": (sweep_overdue_invoices, "15 1 * * *"),
    "poll_leads_mailbox": (poll_leads_mailbox, "*/5 * * * *"),
    "expire_estimates": (expire_estimates, "30 1 * * *"),
    "send_due_reminders": (send_due_reminders, "*/5 * * * *"),
    "track_awbs": (track_awbs, "*/30 * * * *"),
    "retry_awb_bookings": (retry_awb_bookings, "*/5 * * * *"),
    "retry_facebook_leads": (retry_facebook_leads, "*/5 * * * *"),
    "send_contract_expiry_reminders": (send_contract_expiry_reminders, "0 7 * * *"),
    "send_scheduled_campaigns": (send_scheduled_campaigns, "*/5 * * * *"),
    "replenish_stock": (replenish_stock, "0 5 * * *"),
    "retry_webhook_deliveries": (retry_webhook_deliveries, "* * * * *"),
    "flush_outbox": (flush_outbox, "*/5 * * * *"),
    "dispatch_job_outbox": (dispatch_job_outbox, "* * * * *"),
    "settle_goals": (settle_goals, "0 6 * * *"),
    "build_report_months": (build_report_months, "20 * * * *"),
    "fold_report_rollups": (fold_report_rollups, "* * * * *"),  # also asked for by the commits (FOLD_EVERY)
}


@job
def efactura_check_pending():
    """Every 5 minutes: ask ANAF about uploads awaiting validation whose next check (backoff) is due."""
    return f"{poll_pending()} e-Factura upload(s) checked"


@job
def efactura_auto_send():
    """Hourly: with Auto-send eFactura ON, send invoices issued efactura_auto_send_after_days ago."""
    return f"{auto_send()} invoice(s) sent to ANAF"


@job
def efactura_refresh_token():
    """Daily: refresh the ANAF token before it expires."""
    return refresh_if_due()


@job
def efactura_fetch_received():
    """Hourly: received e-Factura invoices (FACTURA PRIMITA) become vendor invoices."""
    return fetch_received()


PERIODIC.update({
    "efactura_check_pending": (efactura_check_pending, "*/5 * * * *"),
    "efactura_auto_send": (efactura_auto_send, "10 * * * *"),
    "efactura_refresh_token": (efactura_refresh_token, "40 3 * * *"),
    "efactura_fetch_received": (efactura_fetch_received, "25 * * * *"),
})
