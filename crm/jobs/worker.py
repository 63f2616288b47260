"""The RQ worker of the Procfile (``rq worker -w crm.jobs.worker.AppWorker``): every job runs inside
the app (its settings, its database), in an app context of its own, so each job has a fresh session.
The app is built once per worker process, when the worker starts."""
from __future__ import annotations

from rq import SimpleWorker, Worker

from crm.app import create_app


class _InTheApp:
    def __init__(self, *args, app=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app or create_app()

    def perform_job(self, job, queue, *args, **kwargs):
        with self.app.app_context():
            return super().perform_job(job, queue, *args, **kwargs)


class AppWorker(_InTheApp, Worker):
    """Forks a work horse per job, as ``rq worker`` does."""


class SimpleAppWorker(_InTheApp, SimpleWorker):
    """Runs the jobs in its own process (tests, a platform that cannot fork)."""
