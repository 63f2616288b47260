"""Job functions the job tests queue (importable by an RQ worker, as real jobs are)."""
from crm.jobs import job


@job
def write_note(text):
    from crm.actions.activity import log_activity
    from crm.extensions import db

    log_activity(None, text, rel_type="test-job")
    db.session.commit()
    return text


@job
def explode(text):
    raise RuntimeError(f"SMTP refused: {text}")


@job
def read_then_wait(working, go_on, text):
    """A long job: it reads, then waits (as one waiting on a mail server or ANAF would), then writes."""
    from crm.actions.activity import log_activity
    from crm.extensions import db
    from crm.models import ActivityLog

    db.session.query(ActivityLog).count()
    working.set()
    go_on.wait(60)
    log_activity(None, text, rel_type="test-job")
    db.session.commit()
    return text
