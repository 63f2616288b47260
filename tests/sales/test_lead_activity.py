"""The lead activity tab: notes, calls, SMS, reminders (and their emails), attachments."""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crm.core.extensions import db
from tests.conftest import QueryCounter, api_token, assign_lead, csrf_from, login, make_role, make_staff


def _rows(app, model, **filters):
    with app.app_context():
        rows = db.session.query(model).filter_by(**filters).order_by(model.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def _lead(app, lead_id):
    from crm.sales.models.clients import Lead

    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        db.session.expunge(lead)
        return lead


def _details(client, lead_id):
    resp = client.get(f"/admin/leads/details/?id={lead_id}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


# --- notes, calls, SMS ------------------------------------------------------------------------

def test_details_buttons_add_note_call_and_sms(app, admin_client, lead_id):
    from crm.sales.models.clients import LeadActivityLog, Note

    page = _details(admin_client, lead_id)
    assert 'data-testid="lead-activity"' in page
    for name in ("add_note", "log_call", "log_sms", "add_reminder"):
        assert f'data-action="{name}"' in page
    form = admin_client.get(f"/admin/leads/run-action/add_note/{lead_id}").get_data(as_text=True)
    assert 'name="description"' in form
    token = csrf_from(form)
    back = f"/admin/leads/details/?id={lead_id}"

    # a note needs its text, and is refused without CSRF
    resp = admin_client.post(f"/admin/leads/run-action/add_note/{lead_id}", data={"csrf_token": token,
                                                                                 "description": " "})
    assert resp.status_code == 422 and "Write the note" in resp.get_data(as_text=True)
    admin_client.post(f"/admin/leads/run-action/add_note/{lead_id}", data={"description": "no token"})
    assert _rows(app, Note) == []

    resp = admin_client.post(f"/admin/leads/run-action/add_note/{lead_id}?url={back}",
                             data={"csrf_token": token, "description": "Budget approved for Q3"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(back)
    assert _lead(app, lead_id).lastcontact is None  # a note is not a contact unless it says so

    before = datetime.utcnow()
    resp = admin_client.post(f"/admin/leads/run-action/log_call/{lead_id}?url={back}",
                             data={"csrf_token": token, "outcome": "No answer", "notes": "Try after 16:00"},
                             follow_redirects=True)
    assert "Call logged (No answer)" in resp.get_data(as_text=True)
    admin_client.post(f"/admin/leads/run-action/log_sms/{lead_id}",
                      data={"csrf_token": token, "text": "Hello Ion, when can we talk?"})

    notes = _rows(app, Note, rel_type="lead", rel_id=lead_id)
    assert [n.description for n in notes] == ["Budget approved for Q3", "Call: No answer — Try after 16:00",
                                              "SMS: Hello Ion, when can we talk?"]
    assert notes[0].date_contacted is None and notes[1].date_contacted >= before.replace(microsecond=0)
    assert all(n.addedfrom is not None for n in notes)
    lead = _lead(app, lead_id)
    assert lead.lastcontact is not None and lead.lastcontact >= notes[1].date_contacted
    logs = [a.description for a in _rows(app, LeadActivityLog, leadid=lead_id)]
    assert logs == ["Added a note", "Logged a call (No answer)", "Logged an SMS"]

    html = _details(admin_client, lead_id)
    section = html[html.index('data-testid="lead-activity"'):]
    for text in ("Budget approved for Q3", "No answer — Try after 16:00", "Hello Ion, when can we talk?",
                 "Logged a call (No answer)"):
        assert text in section
    kinds = [k for k in ("data-kind=\"sms\"", "data-kind=\"call\"", "data-kind=\"note\"")]
    assert all(k in section for k in kinds)


def test_call_in_the_future_is_refused_and_past_call_does_not_move_lastcontact_back(app, lead_id):
    from crm.sales.models.clients import Lead, Note

    client = app.test_client()
    headers = api_token(client)
    url = f"/api/v1/leads/{lead_id}/actions/log_call"
    future = (datetime.utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    r = client.post(url, json={"outcome": "Connected", "date_contacted": future}, headers=headers)
    assert r.status_code == 422 and r.get_json()["field"] == "date_contacted"
    r = client.post(url, json={"outcome": "Maybe"}, headers=headers)
    assert r.status_code == 422 and r.get_json()["field"] == "outcome"
    r = client.post(url, json={"outcome": "Connected", "notes": "Interested"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["message"] == "Call logged (Connected)"
    latest = _lead(app, lead_id).lastcontact
    r = client.post(url, json={"outcome": "Busy", "date_contacted": "2024-03-01 09:30"}, headers=headers)
    assert r.status_code == 200
    assert _lead(app, lead_id).lastcontact == latest
    with app.app_context():
        assert db.session.query(Note).filter_by(rel_id=lead_id).count() == 2
        old = db.session.query(Note).filter(Note.description.like("Call: Busy%")).one()
        assert old.date_contacted == datetime(2024, 3, 1, 9, 30)
        assert db.session.get(Lead, lead_id).lastcontact == latest


def test_api_note_with_contact_date_and_sms(app, lead_id):
    client = app.test_client()
    headers = api_token(client)
    r = client.post(f"/api/v1/leads/{lead_id}/actions/add_note", json={}, headers=headers)
    assert r.status_code == 422 and r.get_json()["field"] == "description"
    r = client.post(f"/api/v1/leads/{lead_id}/actions/add_note",
                    json={"description": "Met at the fair", "date_contacted": "2025-05-20 11:00"}, headers=headers)
    assert r.status_code == 200
    assert _lead(app, lead_id).lastcontact == datetime(2025, 5, 20, 11, 0)
    r = client.post(f"/api/v1/leads/{lead_id}/actions/log_sms", json={"text": ""}, headers=headers)
    assert r.status_code == 422 and r.get_json()["field"] == "text"
    r = client.post(f"/api/v1/leads/{lead_id}/actions/log_sms", json={"text": "See you Monday"}, headers=headers)
    assert r.status_code == 200 and _lead(app, lead_id).lastcontact > datetime(2025, 5, 20, 11, 0)


def test_cli_note_call_sms(app, lead_id):
    from crm.sales.models.clients import Note

    runner = app.test_cli_runner()
    for args in (["add_note", "description=Prefers email"], ["log_call", "outcome=Connected", "notes=Demo booked"],
                 ["log_sms", "text=Demo link sent"]):
        result = runner.invoke(args=["crm", "action", "leads", str(lead_id), *args])
        assert result.exit_code == 0, result.output
    result = runner.invoke(args=["crm", "action", "leads", str(lead_id), "log_call"])
    assert result.exit_code == 1 and "outcome" in result.output
    assert [n.description for n in _rows(app, Note, rel_id=lead_id)] == \
        ["Prefers email", "Call: Connected — Demo booked", "SMS: Demo link sent"]


def test_activity_actions_need_their_permission(app, lead_id):
    from crm.sales.models.clients import Note

    with app.app_context():
        make_staff("wh@test.example", "Warehouse")
        assign_lead(lead_id, make_staff("sdr@test.example", "SDR"))
    client = app.test_client()
    r = client.post(f"/api/v1/leads/{lead_id}/actions/add_note", json={"description": "x"},
                    headers=api_token(client, "wh@test.example", "pass-1234"))
    assert r.status_code == 403
    r = client.post(f"/api/v1/leads/{lead_id}/actions/add_note", json={"description": "from the SDR"},
                    headers=api_token(client, "sdr@test.example", "pass-1234"))
    assert r.status_code == 200
    assert [n.description for n in _rows(app, Note)] == ["from the SDR"]


# --- reminders ---------------------------------------------------------------------------------

def test_reminder_in_the_past_is_refused_naming_the_date(app, admin_client, lead_id):
    from crm.sales.models.clients import Reminder

    form = admin_client.get(f"/admin/leads/run-action/add_reminder/{lead_id}").get_data(as_text=True)
    assert 'name="date"' in form and 'name="staff"' in form and 'name="notify_by_email"' in form
    past = (datetime.utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    resp = admin_client.post(f"/admin/leads/run-action/add_reminder/{lead_id}",
                             data={"csrf_token": csrf_from(form), "date": past, "description": "Call back"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "date:" in html and "is in the past" in html
    client = app.test_client()
    r = client.post(f"/api/v1/leads/{lead_id}/actions/add_reminder", json={"date": past, "description": "x"},
                    headers=api_token(client))
    assert r.status_code == 422 and r.get_json()["field"] == "date" and "in the past" in r.get_json()["error"]
    assert _rows(app, Reminder) == []


def test_reminder_defaults_to_the_actor_and_another_staff_can_be_chosen(app, admin_client, lead_id):
    from crm.sales.models.clients import Reminder

    with app.app_context():
        agent = make_staff("agent@test.example", "Sales Agent").staffid
    when = (datetime.utcnow() + timedelta(days=2)).replace(second=0, microsecond=0)
    form = admin_client.get(f"/admin/leads/run-action/add_reminder/{lead_id}").get_data(as_text=True)
    assert "Agent Test" in form  # the staff select lists active staff
    resp = admin_client.post(f"/admin/leads/run-action/add_reminder/{lead_id}",
                             data={"csrf_token": csrf_from(form), "date": when.strftime("%Y-%m-%dT%H:%M"),
                                   "description": "Send the offer", "staff": "", "notify_by_email": "True"})
    assert resp.status_code == 302
    client = app.test_client()
    r = client.post(f"/api/v1/leads/{lead_id}/actions/add_reminder",
                    json={"date": when.isoformat(), "description": "Check the offer", "staff": agent,
                          "notify_by_email": False}, headers=api_token(client))
    assert r.status_code == 200, r.get_json()
    r = client.post(f"/api/v1/leads/{lead_id}/actions/add_reminder",
                    json={"date": when.isoformat(), "description": "x", "staff": 99999}, headers=api_token(client))
    assert r.status_code == 422 and r.get_json()["field"] == "staff"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "action", "leads", str(lead_id), "add_reminder",
                                 f"date={when:%Y-%m-%d %H:%M}", "description=From the CLI"])
    assert result.exit_code == 0, result.output

    rows = _rows(app, Reminder, rel_type="lead", rel_id=lead_id)
    with app.app_context():
        from crm.core.models.settings import Staff

        admin_id = db.session.query(Staff).filter_by(admin=True).one().staffid
    assert [(r.description, r.staff, r.notify_by_email, r.isnotified, r.date) for r in rows] == [
        ("Send the offer", admin_id, True, False, when), ("Check the offer", agent, False, False, when),
        ("From the CLI", admin_id, True, False, when)]
    assert all(r.creator == admin_id for r in rows)
    assert "Send the offer" in _details(admin_client, lead_id)


def test_due_reminders_are_emailed_once_through_the_outbox(app, lead_id):
    from crm.core.models.messaging import EmailOutbox
    from crm.jobs.periodic import PERIODIC
    from crm.sales.jobs.reminder_jobs import send_due_reminders
    from crm.sales.models.clients import Reminder

    assert PERIODIC["send_due_reminders"] == (send_due_reminders, "*/5 * * * *")
    with app.app_context():
        agent = make_staff("agent@test.example", "Sales Agent")
        now = datetime.utcnow()
        db.session.add_all([
            Reminder(rel_type="lead", rel_id=lead_id, date=now - timedelta(minutes=1), description="Call <Ion> back",
                     staff=agent.staffid, notify_by_email=True),
            Reminder(rel_type="lead", rel_id=lead_id, date=now - timedelta(minutes=1), description="No email",
                     staff=agent.staffid, notify_by_email=False),
            Reminder(rel_type="lead", rel_id=lead_id, date=now + timedelta(days=1), description="Not yet",
                     staff=agent.staffid, notify_by_email=True),
        ])
        db.session.commit()
    with app.app_context():
        assert send_due_reminders() == "1 reminder email(s) queued, 1 due without email"
    with app.app_context():
        assert send_due_reminders() == "0 reminder email(s) queued, 0 due without email"
    mails = _rows(app, EmailOutbox)
    assert len(mails) == 1
    mail = mails[0]
    assert mail.to_email == "agent@test.example" and mail.status == "queued"  # no SMTP: it waits
    assert mail.subject == "Reminder: Lead Ion Popescu (Popescu Logistic SRL)"
    assert "Call &lt;Ion&gt; back" in mail.body_html and f"/admin/leads/details/?id={lead_id}" in mail.body_html
    assert (mail.rel_type, mail.rel_id, mail.template) == ("lead", lead_id, "staff-reminder")
    assert [r.isnotified for r in _rows(app, Reminder)] == [True, True, False]
    # the CLI runs the periodic jobs once, too: still one email
    result = app.test_cli_runner().invoke(args=["crm", "cron"])
    assert result.exit_code == 0, result.output
    assert len(_rows(app, EmailOutbox)) == 1


# --- the details page costs a few queries ---------------------------------------------------------

def test_activity_tab_loads_in_a_few_queries(app, lead_id, admin):
    from crm.sales.models.clients import Lead, LeadActivityLog, Note, Reminder
    from crm.sales.views.lead_activity import activity_context

    for i in range(30):
        db.session.add_all([
            Note(rel_type="lead", rel_id=lead_id, description=f"Call: Connected — #{i}", addedfrom=admin.staffid,
                 date_contacted=datetime(2025, 1, 1) + timedelta(hours=i)),
            Reminder(rel_type="lead", rel_id=lead_id, date=datetime(2030, 1, 1) + timedelta(hours=i),
                     description=f"r{i}", staff=admin.staffid),
            LeadActivityLog(leadid=lead_id, description=f"log {i}", staffid=admin.staffid)])
    db.session.commit()
    lead = db.session.get(Lead, lead_id)
    with app.test_request_context():
        from flask_login import login_user

        login_user(admin)
        activity_context(lead)  # warm up (the user's role)
        with QueryCounter(db.engine) as qc:
            ctx = activity_context(lead)
    assert qc.count <= 6  # notes, reminders, log lines, emails, attachments, email templates
    assert len(ctx["entries"]) == 90
    dates = [e["when"] for e in ctx["entries"]]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert ctx["entries"][0]["kind"] == "reminder"


# --- attachments -------------------------------------------------------------------------------

def _upload_dir(app, lead_id) -> Path:
    return Path(app.config["UPLOAD_FOLDER"]) / "lead" / str(lead_id)


@pytest.fixture
def clean_uploads(app, tmp_path, monkeypatch):
    """Uploads go to a temporary folder, never to the instance folder a developer uses."""
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))


def _attach(client, lead_id, name, content, token):
    return client.post(f"/admin/leads/run-action/attach_file/{lead_id}?url=/admin/leads/details/?id={lead_id}",
                       data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_attach_and_download(app, admin_client, lead_id, clean_uploads):
    from crm.core.models.records import File
    from crm.sales.models.clients import LeadActivityLog

    page = _details(admin_client, lead_id)
    assert 'data-testid="attach-form"' in page
    resp = _attach(admin_client, lead_id, "Ofertă 2025.pdf", b"%PDF-1.4 offer", csrf_from(page))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    rows = _rows(app, File, rel_type="lead", rel_id=lead_id)
    assert len(rows) == 1
    row = rows[0]
    assert row.size == len(b"%PDF-1.4 offer") and row.staffid is not None
    stored = list(_upload_dir(app, lead_id).iterdir())
    assert [p.name for p in stored] == [row.file_name]
    assert len(row.file_name.split("-", 1)[0]) == 32 and row.file_name.endswith(".pdf")
    assert stored[0].read_bytes() == b"%PDF-1.4 offer"
    assert "Attached a file" in [a.description for a in _rows(app, LeadActivityLog, leadid=lead_id)]

    html = _details(admin_client, lead_id)
    # listed and downloaded under its safe name (the disk name without the random part)
    assert "Oferta_2025.pdf</a>" in html and f"/admin/leads/attachment/{row.id}" in html
    resp = admin_client.get(f"/admin/leads/attachment/{row.id}")
    assert resp.status_code == 200 and resp.data == b"%PDF-1.4 offer"
    assert 'filename=Oferta_2025.pdf' in resp.headers["Content-Disposition"]
    assert "attachment" in resp.headers["Content-Disposition"] and resp.mimetype == "application/pdf"
    assert admin_client.get("/admin/leads/attachment/999999").status_code == 404
    # not through another view's URL
    assert admin_client.get(f"/admin/invoices/attachment/{row.id}").status_code == 404
    # the same action from the grid button's form, and a clear refusal through the JSON API
    form = admin_client.get(f"/admin/leads/run-action/attach_file/{lead_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form
    resp = admin_client.post(f"/admin/leads/run-action/attach_file/{lead_id}",
                             data={"csrf_token": csrf_from(form), "file": (io.BytesIO(b"a,b\n"), "list.csv")},
                             content_type="multipart/form-data")
    assert resp.status_code == 302 and len(_rows(app, File)) == 2
    client = app.test_client()
    r = client.post(f"/api/v1/leads/{lead_id}/actions/attach_file", json={"file": "x"}, headers=api_token(client))
    assert r.status_code == 422 and "multipart" in r.get_json()["error"]


def test_attachment_download_refused_to_a_reader_without_the_attach_action(app, admin_client, lead_id,
                                                                           clean_uploads):
    from crm.core.models.records import File

    _attach(admin_client, lead_id, "contract.pdf", b"%PDF secret", csrf_from(_details(admin_client, lead_id)))
    file_id = _rows(app, File)[0].id
    with app.app_context():
        make_role("Lead reader", ["leads.view"])
        make_staff("wh@test.example", "Lead reader")
        assign_lead(lead_id, make_staff("sdr@test.example", "SDR"))
    wh = app.test_client()
    login(wh, "wh@test.example", "pass-1234")
    html = _details(wh, lead_id)  # a reader may look leads up (leads.view)...
    assert f"/admin/leads/attachment/{file_id}" not in html and 'data-testid="attach-form"' not in html
    assert wh.get(f"/admin/leads/attachment/{file_id}").status_code == 403  # ...but not read their files
    resp = _attach(wh, lead_id, "x.pdf", b"%PDF", csrf_from(html))
    assert resp.status_code == 403 and "do not have permission" in resp.get_data(as_text=True)
    sdr = app.test_client()
    login(sdr, "sdr@test.example", "pass-1234")
    resp = sdr.get(f"/admin/leads/attachment/{file_id}")
    assert resp.status_code == 200 and resp.data == b"%PDF secret"
    assert len(_rows(app, File)) == 1


def test_attachment_too_big_or_wrong_type_leaves_nothing(app, admin_client, lead_id, clean_uploads):
    from crm.core import options
    from crm.core.models.records import File
    from crm.sales.models.clients import LeadActivityLog

    token = csrf_from(_details(admin_client, lead_id))
    resp = _attach(admin_client, lead_id, "setup.exe", b"MZ...", token)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 415
    assert "setup.exe" in html and "files of type .exe are not allowed" in html
    with app.app_context():
        options.set("attachment_max_mb", 1)
        db.session.commit()
    resp = _attach(admin_client, lead_id, "scan.pdf", b"x" * (1024 * 1024 + 1), token)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 413
    assert "scan.pdf" in html and "the limit is 1 MB" in html
    resp = _attach(admin_client, lead_id, "empty.txt", b"", token)
    assert resp.status_code == 422 and "empty.txt" in resp.get_data(as_text=True)
    resp = admin_client.post(f"/admin/leads/run-action/attach_file/{lead_id}", data={"csrf_token": token},
                             content_type="multipart/form-data")
    assert resp.status_code == 422 and "Choose a file" in resp.get_data(as_text=True)
    assert _rows(app, File) == []
    assert not _upload_dir(app, lead_id).exists() or list(_upload_dir(app, lead_id).iterdir()) == []
    assert _rows(app, LeadActivityLog, leadid=lead_id) == []
    # a file just under the limit goes in
    assert _attach(admin_client, lead_id, "scan.PDF", b"x" * (1024 * 1024), token).status_code == 302
    assert len(_rows(app, File)) == 1


def test_attach_needs_csrf(app, admin_client, lead_id, clean_uploads):
    from crm.core.models.records import File

    admin_client.post(f"/admin/leads/run-action/attach_file/{lead_id}", data={"file": (io.BytesIO(b"%PDF"), "a.pdf")},
                      content_type="multipart/form-data")
    assert _rows(app, File) == []

