"""Jobs: dispatched only after commit; inline without Redis; on a real Redis with RQ otherwise."""
from __future__ import annotations

import os
import uuid

import pytest

from crm.core.extensions import db
from crm.core.jobs import enqueue
from tests.conftest import csrf_from
from tests.jobs_sample import explode, read_then_wait, write_described, write_note


def _notes(app):
    from crm.core.models.records import ActivityLog

    with app.app_context():
        return [a.description for a in db.session.query(ActivityLog).filter_by(rel_type="test-job")]


def test_inline_job_runs_after_commit_only(app):
    with app.app_context():
        enqueue(write_note, "after commit")
        assert _notes(app) == []  # not before the commit
        db.session.commit()
    assert _notes(app) == ["after commit"]
    with app.app_context():
        enqueue(write_note, "rolled back")
        db.session.rollback()
        db.session.commit()
    assert _notes(app) == ["after commit"]


def test_a_long_job_locks_nothing_while_it_works(app):
    """A job runs after the change that queued it commits, in that request's thread: while it
    works, what it and that request read locks nothing, so another person's change saves at once."""
    import threading
    import time

    from crm.core.activity import log_activity
    from tests.jobs_sample import SIGNALS

    working, go_on = SIGNALS["long job"] = threading.Event(), threading.Event()

    def change_that_queues_the_job():
        with app.app_context():
            enqueue(read_then_wait, "long job", "long job done")
            log_activity(None, "queued", rel_type="test-job")
            db.session.commit()

    request = threading.Thread(target=change_that_queues_the_job)
    request.start()
    try:
        assert working.wait(30)
        with app.app_context():
            started = time.monotonic()
            log_activity(None, "saved meanwhile", rel_type="test-job")
            db.session.commit()
            assert time.monotonic() - started < 3
    finally:
        go_on.set()
        request.join(60)
    assert _notes(app) == ["queued", "saved meanwhile", "long job done"]


def test_inline_failure_is_recorded_and_shown(app, admin_client):
    with app.app_context():
        enqueue(explode, "mail.example")
        db.session.commit()
    html = admin_client.get("/admin/jobs/").get_data(as_text=True)
    assert "SMTP refused: mail.example" in html and "run in-process" in html


needs_redis = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not given")


@pytest.fixture
def redis_app(app):
    from redis import Redis
    from rq import Queue

    queue_name = f"test-{uuid.uuid4().hex[:8]}"
    app.config.update(REDIS_URL=os.environ["REDIS_URL"], RQ_QUEUE=queue_name)
    yield app
    Queue(queue_name, connection=Redis.from_url(os.environ["REDIS_URL"])).empty()
    app.config.update(REDIS_URL=None, RQ_QUEUE="default")


def _work(app):
    from crm.core.jobs.runner import queue
    from crm.jobs.worker import SimpleAppWorker

    with app.app_context():
        q = queue()
        conn = q.connection
    SimpleAppWorker([q], connection=conn, app=app).work(burst=True)  # the jobs run against the test database


@needs_redis
def test_redis_job_is_queued_after_commit_and_run_by_a_worker(redis_app):
    app = redis_app
    with app.app_context():
        enqueue(write_note, "via redis")
        from crm.core.jobs.runner import queue

        assert queue().count == 0
        db.session.commit()
        assert queue().count == 1
    assert _notes(app) == []  # queued, not run in-process
    _work(app)
    assert _notes(app) == ["via redis"]


@needs_redis
def test_redis_job_keeps_its_own_keywords_and_names_its_outbox_row(redis_app):
    """A job's keyword that RQ also knows reaches the job; the RQ job names the outbox row it came
    from (bench/load.py counts the runs of each row with it: none lost, none run twice)."""
    from crm.core.jobs.outbox import OUTBOX_META
    from crm.core.models.jobs import JobOutbox

    app = redis_app
    with app.app_context():
        enqueue(write_described, "note", description="from the job")
        db.session.commit()
        from crm.core.jobs.runner import queue

        [job] = queue().get_jobs()
        row = db.session.query(JobOutbox).filter_by(func="tests.jobs_sample:write_described").one()
        assert job.meta[OUTBOX_META] == row.id and row.dispatched_at is not None
    _work(app)
    assert _notes(app) == ["note: from the job"]


@needs_redis
def test_jobs_screen_lists_failed_jobs_and_retries(redis_app, admin_client):
    app = redis_app
    with app.app_context():
        enqueue(explode, "relay down")
        db.session.commit()
    _work(app)
    page = admin_client.get("/admin/jobs/").get_data(as_text=True)
    assert "tests.jobs_sample.explode" in page and "SMTP refused: relay down" in page
    with app.app_context():
        from crm.core.jobs.runner import queue

        q = queue()
        job_id = q.failed_job_registry.get_job_ids()[0]
    r = admin_client.post(f"/admin/jobs/retry/{job_id}", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302
    with app.app_context():
        q = queue()
        assert q.count == 1 and job_id not in q.failed_job_registry.get_job_ids()


def test_periodic_jobs_are_registered_with_rq_cron():
    """`rq cron crm.jobs.cron` (the Procfile's clock process) loads every periodic job."""
    from redis import Redis
    from rq.cron import CronScheduler

    from crm.jobs.periodic import PERIODIC

    sched = CronScheduler(connection=Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")))
    sched.load_config_from_file("crm.jobs.cron")
    assert {j.func.__name__ for j in sched._cron_jobs} == set(PERIODIC)
    assert all(j.cron for j in sched._cron_jobs)


# The embedded default without JOBS_INLINE: a background thread of the process runs the jobs.

@pytest.fixture
def threaded(app):
    from crm.core.jobs import background

    app.config["JOBS_INLINE"] = False
    yield app
    background.stop(app, wait=30)
    app.config["JOBS_INLINE"] = True


def _outbox(app):
    from crm.core.models.jobs import JobOutbox

    with app.app_context():
        return [(r.func.rsplit(":", 1)[1], r.attempts, r.dispatched_at is not None, r.last_error)
                for r in db.session.query(JobOutbox).order_by(JobOutbox.id)]


def test_the_commit_returns_before_the_job_runs_on_the_thread(threaded):
    import threading

    from crm.core.jobs import drain
    from tests.jobs_sample import SIGNALS

    app = threaded
    working, go_on = SIGNALS["background"] = threading.Event(), threading.Event()
    try:
        with app.app_context():
            enqueue(read_then_wait, "background", "background done")
            db.session.commit()  # returns while the job waits on the other thread
            assert working.wait(30)
            assert _notes(app) == []
            assert _outbox(app) == [("read_then_wait", 0, False, None)]  # still pending, leased
    finally:
        go_on.set()
    assert drain(app)
    assert _notes(app) == ["background done"]
    assert _outbox(app) == [("read_then_wait", 1, True, None)]


def test_each_job_runs_once_in_order_on_the_thread(threaded, admin_client):
    """Through a person's door too: the request answers, the thread runs what it queued."""
    from crm.core.jobs import drain
    from tests.jobs_sample import note_thread

    app = threaded
    with app.app_context():
        for n in range(5):
            enqueue(note_thread, f"job {n}")
        db.session.commit()
    assert admin_client.get("/admin/").status_code in (200, 302)
    assert drain(app)
    assert _notes(app) == [f"job {n} on crm-jobs" for n in range(5)]
    assert _outbox(app) == [("note_thread", 1, True, None)] * 5


def test_a_failing_job_on_the_thread_is_recorded_and_shown(threaded, admin_client):
    from crm.core.jobs import drain

    app = threaded
    with app.app_context():
        enqueue(explode, "relay gone")
        enqueue(write_note, "the next one runs")
        db.session.commit()
    assert drain(app)
    assert _outbox(app) == [("explode", 1, True, "RuntimeError: SMTP refused: relay gone"),
                            ("write_note", 1, True, None)]
    assert _notes(app) == ["the next one runs"]
    html = admin_client.get("/admin/jobs/").get_data(as_text=True)
    assert "SMTP refused: relay gone" in html


def test_a_job_left_queued_at_stop_runs_after_a_restart(threaded):
    import threading

    from crm.core.jobs import background, drain
    from tests.jobs_sample import SIGNALS

    app = threaded
    working, go_on = SIGNALS["busy"] = threading.Event(), threading.Event()
    try:
        with app.app_context():
            enqueue(read_then_wait, "busy", "long one done")
            db.session.commit()
            assert working.wait(30)
            enqueue(write_note, "left at stop")
            db.session.commit()
        old = app.extensions[background._KEY]
        assert len(background.stop(app, wait=0.2)) == 1  # the long job holds the thread: handed back
    finally:
        go_on.set()
    old.thread.join(30)
    assert _notes(app) == ["long one done"]
    assert _outbox(app)[1] == ("write_note", 0, False, None)  # pending: nothing lost
    background.worker(app)  # the next start (the first request of a new process) sweeps it
    assert drain(app)
    assert _notes(app) == ["long one done", "left at stop"]
    assert [row[1:3] for row in _outbox(app)] == [(1, True), (1, True)]
