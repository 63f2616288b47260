"""Sales jobs (scheduled in crm.jobs.periodic)."""
