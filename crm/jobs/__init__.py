"""Worker entry points: the periodic jobs (periodic.py) and the `rq cron` config (cron.py).
The job queue itself is crm.core.jobs."""
