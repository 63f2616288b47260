"""Periodic marketing job (scheduled in crm/jobs/periodic.py PERIODIC)."""
from __future__ import annotations

from datetime import datetime

from crm.core.jobs import job
from crm.sales.actions.campaigns import send_scheduled


@job
def send_scheduled_campaigns(now: datetime | None = None) -> str:
    """Every 5 minutes: scheduled campaigns whose time has come start sending."""
    return f"{send_scheduled(now)} campaign(s) started"
