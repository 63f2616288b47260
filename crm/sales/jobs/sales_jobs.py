"""Periodic sales jobs. Schedule in crm/jobs/periodic.py PERIODIC:
``"expire_estimates": (expire_estimates, "30 1 * * *"),`` (import it from .sales_jobs)."""
from __future__ import annotations

from crm.core.jobs import job
from crm.sales.actions.estimates import expire_sent


@job
def expire_estimates():
    """Daily: sent sales orders past their expiry date become Expired (5)."""
    return f"{expire_sent()} sales order(s) marked expired"
