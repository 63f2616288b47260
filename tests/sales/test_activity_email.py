"""Emails written by staff, delivered for real to an SMTP server on loopback (aiosmtpd): from a lead's
activity tab (typed or from a template with merge fields, logged, listed in the tab with their
delivery state) and from a client's grid button."""
from __future__ import annotations

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from
from tests.core.test_mail_sending import free_port, no_smtp, smtp  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _instance_in_tmp(app, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


def _tab(client, lead_id) -> str:
    resp = client.get(f"/admin/leads/details/?id={lead_id}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _send(client, lead_id, **data):
    page = _tab(client, lead_id)
    back = f"/admin/leads/details/?id={lead_id}"
    return client.post(f"/admin/leads/run-action/send_email/{lead_id}?url={back}",
                       data={"csrf_token": csrf_from(page), **data}, follow_redirects=True)


def _rows(app, model, **filters):
    with app.app_context():
        rows = db.session.query(model).filter_by(**filters).order_by(model.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def test_send_a_written_email_from_the_tab(app, admin_client, lead_id, smtp):  # noqa: F811
    from crm.core.models.messaging import EmailOutbox
    from crm.sales.models.clients import LeadActivityLog

    page = _tab(admin_client, lead_id)
    assert 'data-testid="email-form"' in page and 'name="to" value="ion@popescu.ro"' in page
    resp = _send(admin_client, lead_id, to="ion@popescu.ro", subject="Our offer, {lead_name}",
                 body="Hello {lead_name},\n\nthe price list is <attached> & ready.\nBest")
    assert resp.status_code == 200 and "Email to ion@popescu.ro queued for sending" in resp.get_data(as_text=True)

    (msg,) = smtp.inbox.to("ion@popescu.ro")
    assert msg["Subject"] == "Our offer, Ion Popescu"
    text = msg.get_body(("plain",)).get_content()
    assert "Hello Ion Popescu," in text and "the price list is <attached> & ready." in text
    html = msg.get_body(("html",)).get_content()
    assert "&lt;attached&gt; &amp; ready.<br>Best" in html  # typed text is escaped, line breaks kept
    (row,) = _rows(app, EmailOutbox, rel_type="lead", rel_id=lead_id)
    assert row.status == "sent" and row.staffid is not None
    logs = [(a.description, a.additional_data) for a in _rows(app, LeadActivityLog, leadid=lead_id)]
    assert logs == [("Sent an email to ion@popescu.ro: Our offer, Ion Popescu", f"outbox #{row.id}")]

    # the tab lists it with its delivery state
    page = _tab(admin_client, lead_id)
    assert 'data-kind="email" data-state="sent"' in page and "Our offer, Ion Popescu → ion@popescu.ro" in page


def test_template_with_merge_fields_and_another_address(app, admin_client, lead_id, smtp):  # noqa: F811
    from crm.core.mail import ensure_email_templates

    with app.app_context():
        ensure_email_templates()
        db.session.commit()
    page = _tab(admin_client, lead_id)
    assert '<option value="lead-follow-up">Follow-up to a lead</option>' in page
    resp = _send(admin_client, lead_id, to="office@popescu.ro", template="lead-follow-up", subject="", body="")
    assert "queued for sending" in resp.get_data(as_text=True)
    (msg,) = smtp.inbox.to("office@popescu.ro")
    assert msg["Subject"] == "CRMConnect Demo SRL: following up, Ion Popescu"
    assert "what Popescu Logistic SRL needs" in msg.get_body(("plain",)).get_content()
    # what the person types wins over the template's subject
    _send(admin_client, lead_id, template="lead-follow-up", subject="Quick question", body="")
    (msg,) = smtp.inbox.to("ion@popescu.ro")  # "to" left empty: the lead's own address
    assert msg["Subject"] == "Quick question" and "Popescu Logistic SRL" in msg.get_body(("plain",)).get_content()


def test_refusals_name_the_field_and_send_nothing(app, admin_client, lead_id, smtp):  # noqa: F811
    from crm.core.models.messaging import EmailOutbox
    from crm.sales.models.clients import Lead

    client = app.test_client()
    h = api_token(client)
    r = client.post(f"/api/v1/leads/{lead_id}/actions/send_email", headers=h, json={"body": "Hi"})
    assert r.status_code == 422 and r.get_json()["field"] == "subject" and "choose a template" in r.get_json()["error"]
    r = client.post(f"/api/v1/leads/{lead_id}/actions/send_email", headers=h,
                    json={"to": "not-an-address", "subject": "Hi", "body": "Hi"})
    assert r.status_code == 422 and r.get_json()["field"] == "to"
    r = client.post(f"/api/v1/leads/{lead_id}/actions/send_email", headers=h,
                    json={"subject": "Hi", "template": "no-such-template"})
    assert r.status_code == 422 and r.get_json()["field"] == "template"
    resp = _send(admin_client, lead_id, subject="No body")
    assert resp.status_code == 422 and "Write the message or choose a template" in resp.get_data(as_text=True)

    with app.app_context():
        db.session.get(Lead, lead_id).email = None
        db.session.commit()
    page = _tab(admin_client, lead_id)
    assert 'data-testid="email-form"' not in page
    assert "Lead Ion Popescu has no email address; add one to the lead before emailing it." in page
    r = client.post(f"/api/v1/leads/{lead_id}/actions/send_email", headers=h, json={"to": "x@y.ro", "subject": "Hi",
                                                                                    "body": "Hi"})
    assert r.status_code == 409 and "has no email address" in r.get_json()["error"]
    assert _rows(app, EmailOutbox) == [] and smtp.inbox.messages == []


def test_a_failed_delivery_shows_in_the_tab(app, admin_client, lead_id, monkeypatch, no_smtp):  # noqa: F811
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
    _send(admin_client, lead_id, subject="Hello", body="Are you there?")
    page = _tab(admin_client, lead_id)
    assert 'data-kind="email" data-state="failed"' in page and "Failed" in page


def test_email_a_client_from_its_grid_button(app, admin_client, smtp):  # noqa: F811
    from crm.core.models.messaging import EmailOutbox
    from crm.sales.models.clients import Contact
    from tests.sales.test_sales_support import make_client, press

    with app.app_context():
        client_id = make_client().userid
    resp = press(admin_client, "clients", "send_email", client_id,
                 {"subject": "Your account, {contact_firstname}", "body": "Dear {contact_name} of {client_company}"})
    assert "Email to buyer@nordic.ro queued for sending" in resp.get_data(as_text=True)
    (msg,) = smtp.inbox.to("buyer@nordic.ro")
    assert msg["Subject"] == "Your account, Bogdan"
    assert "Dear Bogdan Buyer of Nordic Trade SRL" in msg.get_body(("plain",)).get_content()
    assert [r.status for r in _rows(app, EmailOutbox, rel_type="client", rel_id=client_id)] == ["sent"]

    with app.app_context():
        db.session.query(Contact).update({"is_primary": False})
        db.session.commit()
    api = app.test_client()
    r = api.post(f"/api/v1/clients/{client_id}/actions/send_email", headers=api_token(api),
                 json={"to": "x@nordic.ro", "subject": "Hi", "body": "Hi"})
    assert r.status_code == 409 and "has no primary contact with an email" in r.get_json()["error"]
    assert len(smtp.inbox.messages) == 1
