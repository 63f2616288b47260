"""Job functions the job tests queue (importable by an RQ worker, as real jobs are)."""
from crm.core.jobs import job


@job
def write_note(text):
    from crm.core.activity import log_activity
    from crm.core.extensions import db

    log_activity(None, text, rel_type="test-job")
    db.session.commit()
    return text


@job
def write_described(text, description):
    """A job with a keyword RQ also has (``description``): it must reach the job, not RQ."""
    return write_note(f"{text}: {description}")


def explode(text):
    raise RuntimeError(f"SMTP refused: {text}")


# What a test and the long job below signal each other with (jobs take JSON arguments only).
SIGNALS: dict = {}


@job
def read_then_wait(signals, text):
    """A long job: it reads, then waits (as one waiting on a mail server or ANAF would), then writes.
    ``signals`` names the pair of threading.Event in SIGNALS the test set up."""
    from crm.core.activity import log_activity
    from crm.core.extensions import db
    from crm.core.models.records import ActivityLog

    working, go_on = SIGNALS[signals]
    db.session.query(ActivityLog).count()
    working.set()
    go_on.wait(60)
    log_activity(None, text, rel_type="test-job")
    db.session.commit()
    return text


@job
def note_thread(text):
    """Writes ``text`` and the name of the thread it ran on."""
    import threading

    from crm.core.activity import log_activity
    from crm.core.extensions import db

    log_activity(None, f"{text} on {threading.current_thread().name}", rel_type="test-job")
    db.session.commit()
    return text
