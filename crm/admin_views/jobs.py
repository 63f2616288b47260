"""Settings → Jobs: jobs waiting in the outbox to be dispatched; queued, running and failed RQ jobs,
with their errors and a retry button."""
from __future__ import annotations

from flask import abort, flash, redirect
from flask_admin import expose
from flask_wtf import FlaskForm
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job

from crm.admin_views.access import StaffView
from crm.core.extensions import db
from crm.core.jobs.runner import queue
from crm.core.models.jobs import JobOutbox
from crm.core.models.records import ActivityLog


class JobsView(StaffView):
    permission = "settings.view"

    @expose("/")
    def index(self):
        q = queue()
        groups, unreachable = {}, None
        if q is not None:
            def load(ids):
                return [j for j in Job.fetch_many(ids[:200], connection=q.connection) if j is not None]

            try:
                groups = {
                    "Queued": q.get_jobs(length=200),
                    "Running": load(q.started_job_registry.get_job_ids()),
                    "Scheduled": load(q.scheduled_job_registry.get_job_ids()),
                    "Failed": load(q.failed_job_registry.get_job_ids()),
                }
            except RedisError as exc:  # the screen to look at when Redis is down must still open
                unreachable = f"{type(exc).__name__}: {exc}"
        inline_failures = (db.session.query(ActivityLog).filter(ActivityLog.rel_type == "job")
                           .order_by(ActivityLog.id.desc()).limit(50).all()) if q is None else []
        # written by a committed action but not handed over yet (e.g. Redis was unreachable)
        waiting = (db.session.query(JobOutbox).filter(JobOutbox.dispatched_at.is_(None))
                   .order_by(JobOutbox.next_attempt_at, JobOutbox.id).limit(200).all())
        return self.render("admin/crm_jobs.html", groups=groups, inline=q is None,
                           inline_failures=inline_failures, waiting=waiting, unreachable=unreachable,
                           form=FlaskForm())

    @expose("/retry/<job_id>", methods=["POST"])
    def retry(self, job_id):
        if not FlaskForm().validate_on_submit():
            abort(400, "The form expired; reload the page.")
        q = queue()
        if q is None:
            abort(404)

        try:
            job = Job.fetch(job_id, connection=q.connection)
        except NoSuchJobError:
            flash(f"Job {job_id} no longer exists.", "error")
            return redirect(self.get_url(".index"))
        q.failed_job_registry.requeue(job)
        flash(f"Job {job.func_name} queued again.", "success")
        return redirect(self.get_url(".index"))
