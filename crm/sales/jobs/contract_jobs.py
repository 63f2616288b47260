"""Periodic contract job (scheduled in crm/jobs/periodic.py PERIODIC)."""
from __future__ import annotations

from datetime import date

from crm.core.jobs import job
from crm.sales.actions.contracts import send_expiry_reminders


@job
def send_contract_expiry_reminders(today: date | None = None) -> str:
    """Daily: contracts ending within ``contract_expiration_before`` days are reminded once."""
    reminded, emails = send_expiry_reminders(today)
    return f"{reminded} contract(s) reminded, {emails} email(s) queued"
