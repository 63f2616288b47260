"""Configuration for `rq cron crm/jobs/cron.py` (RQ's cron scheduler), from crm.jobs.periodic."""
from rq import cron

from crm.jobs.periodic import PERIODIC

for _name, (_func, _schedule) in PERIODIC.items():
    cron.register(_func, queue_name="default", cron=_schedule)
