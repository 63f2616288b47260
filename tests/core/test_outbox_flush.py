"""Messages queued while no SMTP was configured go out once SMTP_URL is set, through the periodic
outbox flush (`crm cron flush_outbox`), each exactly once."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crm.core.extensions import db
from tests.core.test_mail_sending import SmtpServer, _attachments_in_tmp, _outbox, free_port, no_smtp  # noqa: F401


def queue(app, subject, age=timedelta(minutes=5)):
    from crm.core.mail import queue_email
    from crm.core.models.messaging import EmailOutbox

    with app.app_context():
        row = queue_email("ana@example.com", subject, f"<p>{subject}</p>")
        db.session.commit()
        db.session.get(EmailOutbox, row.id).datecreated = datetime.utcnow() - age
        db.session.commit()
        return row.id


def cron(app, name="flush_outbox"):
    result = app.test_cli_runner().invoke(args=["crm", "cron", name])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def server():
    s = SmtpServer(free_port())
    s.start()
    yield s
    s.stop()


def test_waiting_messages_are_sent_once_smtp_is_configured(app, monkeypatch, no_smtp, server):
    from crm.core.mail import NO_SMTP

    first, second = queue(app, "First"), queue(app, "Second")
    fresh = queue(app, "Just queued", age=timedelta(seconds=0))
    assert {r.note for r in _outbox(app)} == {NO_SMTP} and {r.status for r in _outbox(app)} == {"queued"}
    assert NO_SMTP in cron(app)  # still no SMTP: nothing to do

    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    assert "2 waiting message(s)" in cron(app)
    assert sorted(m["Subject"] for _, m in server.inbox.messages) == ["First", "Second"]
    rows = {r.id: r for r in _outbox(app)}
    assert (rows[first].status, rows[second].status, rows[fresh].status) == ("sent", "sent", "queued")
    # the fresh one is its own job's; a later flush sends it, and never the others again
    with app.app_context():
        from crm.core.mail.flush import flush_outbox

        flush_outbox(now=datetime.utcnow() + timedelta(minutes=2))
        flush_outbox(now=datetime.utcnow() + timedelta(minutes=10))
    assert sorted(m["Subject"] for _, m in server.inbox.messages) == ["First", "Just queued", "Second"]
    assert all(r.attempts == 1 for r in _outbox(app))


def test_a_message_being_sent_is_left_alone(app, monkeypatch, no_smtp, server):
    from crm.core.models.messaging import EmailOutbox

    mid = queue(app, "Busy")
    with app.app_context():
        db.session.get(EmailOutbox, mid).status = "sending"
        db.session.commit()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    assert "0 waiting message(s)" in cron(app)
    assert server.inbox.messages == []
