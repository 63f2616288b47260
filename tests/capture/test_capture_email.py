"""Email capture: `crm leads pipe` with real RFC 822 messages, and IMAP polling against a tiny
in-process IMAP server speaking the protocol on loopback."""
from __future__ import annotations

import re
import socketserver
import threading

import pytest

from crm.core.extensions import db
from tests.conftest import csrf_from

MESSAGE = b"""\
Return-Path: <maria@exemplu.ro>
From: =?utf-8?q?Maria_Dobrescu?= <Maria@Exemplu.ro>
To: leads@crmconnect.test
Subject: =?utf-8?q?Ofert=C4=83_pentru_50_de_licen=C8=9Be?=
Date: Tue, 24 Nov 2026 09:12:00 +0200
Message-ID: <20261124091200.1234@exemplu.ro>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Bun=C4=83 ziua,
Ave=C8=9Bi nevoie de 50 de licen=C8=9Be pentru echipa noastr=C4=83.

--b1
Content-Type: text/html; charset=utf-8

<p>Buna ziua (html)</p>
--b1--
"""


def _message(frm=b"Ion Pop <ion@pop.ro>", mid=b"<m2@pop.ro>", subject=b"Question", body=b"Hello there."):
    return (b"From: " + frm + b"\r\nTo: leads@crmconnect.test\r\nSubject: " + subject
            + (b"\r\nMessage-ID: " + mid if mid else b"") + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            + body + b"\r\n")


@pytest.fixture
def pipeline(app):
    from crm.sales.models.clients import LeadStatus, Pipeline

    with app.app_context():
        p = Pipeline(name="Direct", isdefault=True)
        db.session.add(p)
        db.session.flush()
        db.session.add(LeadStatus(name="New", statusorder=0, pipeline=p.id))
        db.session.commit()
        return p.id


def _pipe(app, raw: bytes):
    return app.test_cli_runner().invoke(args=["crm", "leads", "pipe"], input=raw)


def _leads(app):
    from crm.sales.models.clients import Lead

    with app.app_context():
        rows = db.session.query(Lead).order_by(Lead.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def test_pipe_creates_a_lead_from_a_real_message(app, pipeline):
    from crm.sales.models.clients import LeadActivityLog, LeadSource, LeadStatus

    r = _pipe(app, MESSAGE)
    assert r.exit_code == 0, r.output
    [lead] = _leads(app)
    assert r.output.strip() == f"Lead #{lead.id} created"
    assert (lead.name, lead.email, lead.pipeline) == ("Maria Dobrescu", "maria@exemplu.ro", pipeline)
    assert lead.description.startswith("Subject: Ofertă pentru 50 de licențe\n\n")
    assert "Aveți nevoie de 50 de licențe" in lead.description and "(html)" not in lead.description
    with app.app_context():
        assert db.session.get(LeadSource, lead.source).name == "Email"
        assert db.session.get(LeadStatus, lead.status).name == "New"
        assert "email from maria@exemplu.ro" in db.session.query(LeadActivityLog).one().description


def test_same_message_id_twice_creates_nothing(app, pipeline):
    from crm.capture.models import LeadEmailMessage
    from crm.sales.models.clients import Note

    assert _pipe(app, MESSAGE).exit_code == 0
    r = _pipe(app, MESSAGE)
    assert r.exit_code == 0 and r.output.startswith("Already captured")
    assert len(_leads(app)) == 1
    with app.app_context():
        assert db.session.query(LeadEmailMessage).count() == 1
        assert db.session.query(Note).count() == 0


def test_mail_from_a_known_lead_adds_a_note_not_a_duplicate(app, pipeline):
    from crm.sales.models.clients import LeadActivityLog, Note

    assert _pipe(app, MESSAGE).exit_code == 0
    [lead] = _leads(app)
    r = _pipe(app, _message(frm=b"maria@exemplu.ro", mid=b"<reply-1@exemplu.ro>", subject=b"Re: oferta",
                            body=b"Any news?"))
    assert r.exit_code == 0 and r.output.strip() == f"Note added to lead #{lead.id}"
    assert len(_leads(app)) == 1
    with app.app_context():
        note = db.session.query(Note).one()
        assert (note.rel_type, note.rel_id) == ("lead", lead.id)
        assert note.description == "Subject: Re: oferta\n\nAny news?"
        assert db.session.query(LeadActivityLog).filter(
            LeadActivityLog.description.like("Email received from maria@exemplu.ro%")).count() == 1


def test_message_without_message_id_is_still_captured_once(app, pipeline):
    raw = _message(mid=None)
    assert _pipe(app, raw).exit_code == 0
    assert _pipe(app, raw).output.startswith("Already captured")
    assert [lead.name for lead in _leads(app)] == ["Ion Pop"]


def test_bad_input_exits_nonzero_and_writes_nothing(app, pipeline):
    from crm.capture.models import LeadEmailMessage

    r = _pipe(app, b"")
    assert r.exit_code == 65 and "stdin is empty" in r.output
    r = _pipe(app, b"Subject: no sender\r\nMessage-ID: <x@y>\r\n\r\nhi\r\n")
    assert r.exit_code == 65 and "From: the message has no sender address" in r.output
    assert _leads(app) == []
    with app.app_context():
        assert db.session.query(LeadEmailMessage).count() == 0


def test_no_pipeline_is_a_clear_error(app):
    r = _pipe(app, MESSAGE)
    assert r.exit_code == 65 and "No lead pipeline exists" in r.output
    assert _leads(app) == []


def test_email_source_option_is_used(app, pipeline):
    from crm.core import options
    from crm.sales.models.clients import LeadSource

    with app.app_context():
        options.set("leads_email_source", "Inbound email")
        db.session.commit()
    assert _pipe(app, MESSAGE).exit_code == 0
    [lead] = _leads(app)
    with app.app_context():
        assert db.session.get(LeadSource, lead.source).name == "Inbound email"


# --- IMAP, against a fake server ------------------------------------------------------------

class FakeImap(socketserver.ThreadingTCPServer):
    """Just enough IMAP4rev1 for imaplib: LOGIN, SELECT, UID SEARCH UNSEEN, UID FETCH, UID STORE."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, messages: dict[int, bytes], user="leads", password="secret"):
        self.messages, self.seen, self.user, self.password = messages, set(), user, password
        self.commands = []
        super().__init__(("127.0.0.1", 0), _ImapHandler)


class _ImapHandler(socketserver.StreamRequestHandler):
    def _send(self, line: str | bytes):
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def handle(self):
        srv = self.server
        self._send("* OK IMAP4rev1 fake ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _, rest = line.decode().strip().partition(" ")
            cmd, _, args = rest.partition(" ")
            cmd = cmd.upper()
            srv.commands.append(rest)
            if cmd == "CAPABILITY":
                self._send("* CAPABILITY IMAP4rev1")
                self._send(f"{tag} OK CAPABILITY completed")
            elif cmd == "LOGIN":
                user, password = [a.strip('"') for a in args.split(" ", 1)]
                ok = (user, password) == (srv.user, srv.password)
                self._send(f"{tag} OK LOGIN completed" if ok else f"{tag} NO [AUTHENTICATIONFAILED] bad login")
            elif cmd == "SELECT":
                self._send(f"* {len(srv.messages)} EXISTS")
                self._send(f"{tag} OK [READ-WRITE] SELECT completed")
            elif cmd == "UID":
                sub, _, uargs = args.partition(" ")
                sub = sub.upper()
                if sub == "SEARCH":
                    unseen = " ".join(str(u) for u in sorted(srv.messages) if u not in srv.seen)
                    self._send(f"* SEARCH {unseen}".rstrip())
                elif sub == "FETCH":
                    uid = int(uargs.split(" ")[0])
                    raw = srv.messages[uid]
                    seq = sorted(srv.messages).index(uid) + 1
                    self._send(f"* {seq} FETCH (UID {uid} BODY[] {{{len(raw)}}}")
                    self.wfile.write(raw)
                    self._send(")")
                elif sub == "STORE":
                    uid = int(uargs.split(" ")[0])
                    if "\\Seen" in uargs:
                        srv.seen.add(uid)
                    seq = sorted(srv.messages).index(uid) + 1
                    self._send(f"* {seq} FETCH (UID {uid} FLAGS (\\Seen))")
                self._send(f"{tag} OK UID {sub} completed")
            elif cmd == "LOGOUT":
                self._send("* BYE logging out")
                self._send(f"{tag} OK LOGOUT completed")
                return
            else:
                self._send(f"{tag} BAD unknown command")


@pytest.fixture
def imap():
    servers = []

    def start(messages):
        srv = FakeImap(messages)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _configure(app, srv, password="secret"):
    from crm.core import options

    with app.app_context():
        for name, value in {"leads_imap_host": "127.0.0.1", "leads_imap_port": str(srv.server_address[1]),
                            "leads_imap_user": "leads", "leads_imap_password": password,
                            "leads_imap_ssl": "0", "leads_imap_folder": "INBOX"}.items():
            options.set(name, value)
        db.session.commit()


def test_periodic_job_polls_only_unseen_mail_and_marks_it_seen(app, pipeline, imap):
    from crm.jobs.periodic import PERIODIC

    srv = imap({1: MESSAGE, 2: _message(), 3: _message(frm=b"Maria@exemplu.ro", mid=b"<r@e.ro>", body=b"Again")})
    srv.seen.add(1)  # already read in the mailbox: left alone
    _configure(app, srv)
    func, schedule = PERIODIC["poll_leads_mailbox"]
    assert schedule == "*/5 * * * *"
    with app.app_context():
        assert func() == "2 lead, 0 note, 0 duplicate, 0 failed"
    assert srv.seen == {1, 2, 3}
    assert not any("FETCH 1 " in c for c in srv.commands)
    leads = _leads(app)
    assert [(lead.email, lead.description) for lead in leads] == [
        ("ion@pop.ro", "Subject: Question\n\nHello there."), ("maria@exemplu.ro", "Subject: Question\n\nAgain")]


def test_imap_poll_end_to_end(app, pipeline, imap):
    from crm.capture.email_pipe import poll_leads_mailbox
    from crm.sales.models.clients import Note

    srv = imap({7: MESSAGE, 8: _message(frm=b"maria@exemplu.ro", mid=b"<r1@e.ro>", body=b"Follow-up"),
                9: MESSAGE})  # 9: the same message delivered twice
    _configure(app, srv)
    with app.app_context():
        assert poll_leads_mailbox() == "1 lead, 1 note, 1 duplicate, 0 failed"
    assert srv.seen == {7, 8, 9}
    assert any(c.upper().startswith("UID FETCH 7 (BODY.PEEK[])") for c in srv.commands)
    [lead] = _leads(app)
    assert lead.email == "maria@exemplu.ro"
    with app.app_context():
        assert db.session.query(Note).one().rel_id == lead.id
        assert poll_leads_mailbox() == "0 lead, 0 note, 0 duplicate, 0 failed"  # nothing unseen left


def test_imap_not_configured_and_screen(app, admin_client, imap):
    from crm.capture.email_pipe import poll_leads_mailbox

    with app.app_context():
        assert poll_leads_mailbox().startswith("no IMAP mailbox configured")
    html = admin_client.get("/admin/leads/email_integration").get_data(as_text=True)
    assert "crm leads pipe" in html and 'name="leads_imap_host"' in html
    r = admin_client.post("/admin/leads/email_integration/", data={
        "csrf_token": csrf_from(html), "leads_imap_host": "imap.example.test", "leads_imap_port": "nine",
        "leads_imap_folder": "INBOX", "leads_email_source": "Email"})
    assert r.status_code == 422 and "leads_imap_port: expected a whole number" in r.get_data(as_text=True)


def test_poll_now_button(app, admin_client, pipeline, imap):
    srv = imap({1: _message()})
    _configure(app, srv)
    html = admin_client.get("/admin/leads/email_integration").get_data(as_text=True)
    r = admin_client.post("/admin/leads/email_integration/poll", data={"csrf_token": csrf_from(html)},
                          follow_redirects=True)
    assert "Mailbox polled: 1 lead" in r.get_data(as_text=True)
    assert re.search(r"ion@pop\.ro", r.get_data(as_text=True))
    _configure(app, srv, password="wrong")
    r = admin_client.post("/admin/leads/email_integration/poll", data={"csrf_token": csrf_from(html)},
                          follow_redirects=True)
    assert "Could not poll 127.0.0.1" in r.get_data(as_text=True)
