"""Web-to-lead forms: configured in /admin/leads/forms, submitted through /forms/wtl/<form_key>."""
from __future__ import annotations

import json

import pytest

from crm.core.extensions import db
from tests.conftest import csrf_from


@pytest.fixture
def pipeline(app):
    from crm.sales.models.clients import LeadStatus, Pipeline

    with app.app_context():
        other = Pipeline(name="Partners", pipeline_order=0)
        p = Pipeline(name="Direct", isdefault=True, pipeline_order=1)
        db.session.add_all([other, p])
        db.session.flush()
        db.session.add_all([LeadStatus(name="Contacted", statusorder=2, pipeline=p.id),
                            LeadStatus(name="New", statusorder=1, pipeline=p.id),
                            LeadStatus(name="Partner new", statusorder=0, pipeline=other.id)])
        db.session.commit()
        return p.id


def _form(app, **kw):
    from crm.capture.models import WebToLead

    with app.app_context():
        f = WebToLead(name=kw.pop("name", "Contact us"), **kw)
        db.session.add(f)
        db.session.commit()
        return f.id, f.form_key


def _leads(app):
    from crm.sales.models.clients import Lead

    with app.app_context():
        rows = db.session.query(Lead).order_by(Lead.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def test_admin_creates_a_form_and_sees_the_embed_snippet(app, admin_client):
    page = admin_client.get("/admin/leads/forms/new/")
    assert page.status_code == 200
    fields = json.dumps([{"field": "name", "label": "Your name", "required": True},
                         {"field": "email", "label": "Work email", "required": True},
                         {"field": "company", "label": "Company"}])
    r = admin_client.post("/admin/leads/forms/new/", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "name": "Pricing page", "form_data": fields,
        "submit_btn_name": "Send", "honeypot_field": "website_url", "active": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    from crm.capture.models import WebToLead

    with app.app_context():
        f = db.session.query(WebToLead).one()
        assert len(f.form_key) == 32 and [x["label"] for x in f.fields] == ["Your name", "Work email", "Company"]
        fid, key = f.id, f.form_key
    html = admin_client.get(f"/admin/leads/forms/details/?id={fid}").get_data(as_text=True)
    assert f'&lt;iframe src="http://localhost/forms/wtl/{key}"' in html
    assert f'&lt;form method="POST" action="http://localhost/forms/wtl/{key}"' in html
    assert 'name="website_url"' in html.replace("&#34;", '"') or "website_url" in html
    edit = admin_client.get(f"/admin/leads/forms/edit/?id={fid}").get_data(as_text=True)
    assert f"/forms/wtl/{key}" in edit


@pytest.mark.parametrize("form_data, message", [
    ("[{\"field\": \"name\"", "not valid JSON"),
    ('[{"field": "salary", "required": true}]', "salary&#39; is not a lead field"),
    ('[{"field": "email", "required": true}]', "must ask for the name"),
])
def test_admin_refuses_a_bad_field_list_naming_it(app, admin_client, form_data, message):
    page = admin_client.get("/admin/leads/forms/new/")
    r = admin_client.post("/admin/leads/forms/new/", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "name": "Broken", "form_data": form_data,
        "submit_btn_name": "Send", "honeypot_field": "website_url"})
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    from crm.capture.models import WebToLead

    with app.app_context():
        assert db.session.query(WebToLead).count() == 0


def test_public_form_renders_without_login_and_is_embeddable(app, pipeline):
    _, key = _form(app)
    r = app.test_client().get(f"/forms/wtl/{key}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'name="email"' in html and 'name="website_url"' in html and "csrf_token" not in html
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Frame-Options" not in r.headers
    assert app.test_client().options(f"/forms/wtl/{key}").status_code == 204
    assert app.test_client().get("/forms/wtl/nope").status_code == 404


def test_submission_creates_a_lead_with_source_default_status_and_activity(app, pipeline):
    from crm.sales.models.clients import LeadActivityLog, LeadSource, LeadStatus

    fid, key = _form(app, success_submit_msg="Thanks! We will call you.")
    r = app.test_client().post(f"/forms/wtl/{key}", data={
        "name": "Ana Ionescu", "email": "ana@firma.ro", "phonenumber": "+40 722 111 222",
        "company": "Firma SRL", "description": "Need 20 licences", "website_url": ""},
        headers={"Origin": "https://www.example.com"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "Thanks! We will call you." in r.get_data(as_text=True)
    [lead] = _leads(app)
    assert (lead.name, lead.email, lead.company, lead.from_form_id) == ("Ana Ionescu", "ana@firma.ro", "Firma SRL", fid)
    with app.app_context():
        assert db.session.get(LeadSource, lead.source).name == "Web form"
        status = db.session.get(LeadStatus, lead.status)
        assert (status.name, lead.pipeline) == ("New", pipeline)  # the default pipeline's first status
        log = db.session.query(LeadActivityLog).filter_by(leadid=lead.id).one()
        assert "web form" in log.description
    # A second submission reuses the source row rather than creating another.
    app.test_client().post(f"/forms/wtl/{key}", data={"name": "B", "email": "b@b.ro"})
    with app.app_context():
        assert db.session.query(LeadSource).count() == 1


def test_form_status_source_and_responsible_are_used(app, pipeline, admin):
    from crm.sales.models.clients import LeadSource, LeadStatus

    st = db.session.query(LeadStatus).filter_by(name="Contacted").one()
    src = LeadSource(name="Landing page")
    db.session.add(src)
    db.session.commit()
    _, key = _form(app, lead_status=st.id, lead_source=src.id, responsible=admin.staffid)
    # The request shares this test's app context: end its snapshot (MariaDB reads repeatably).
    db.session.rollback()
    assert app.test_client().post(f"/forms/wtl/{key}", data={"name": "C", "email": "c@c.ro"}).status_code == 200
    [lead] = _leads(app)
    assert (lead.status, lead.source, lead.assigned, lead.pipeline) == (st.id, src.id, admin.staffid, pipeline)


def test_bad_submission_is_422_naming_each_field_and_writes_nothing(app, pipeline):
    _, key = _form(app)
    r = app.test_client().post(f"/forms/wtl/{key}", data={"name": "", "email": "not-an-email"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "Name is required." in html
    assert "Email: “not-an-email” is not a valid email address." in html
    assert 'value="not-an-email"' in html  # what was typed is kept
    r = app.test_client().post(f"/forms/wtl/{key}", json={"email": "x@y.ro", "company": "A" * 300})
    assert r.status_code == 422
    body = r.get_json()
    assert body["errors"]["name"] == ["Name is required."]
    assert body["errors"]["company"] == ["Company: at most 191 characters (300 given)."]
    assert _leads(app) == []


def test_json_submission_answers_201(app, pipeline):
    _, key = _form(app)
    r = app.test_client().post(f"/forms/wtl/{key}", json={"name": "Dan", "email": "dan@x.ro"})
    assert r.status_code == 201 and r.get_json()["ok"] is True
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert [lead.name for lead in _leads(app)] == ["Dan"]


def test_honeypot_is_accepted_silently_without_a_lead(app, pipeline):
    _, key = _form(app, honeypot_field="fax_number")
    r = app.test_client().post(f"/forms/wtl/{key}", data={"name": "Bot", "email": "bot@spam.ru",
                                                          "fax_number": "http://spam"})
    assert r.status_code == 200 and "Thank you" in r.get_data(as_text=True)
    assert _leads(app) == []


def test_rate_limit_per_client_ip(app, pipeline):
    _, key = _form(app)
    client = app.test_client()
    for i in range(10):
        r = client.post(f"/forms/wtl/{key}", data={"name": f"L{i}", "email": f"l{i}@x.ro"},
                        environ_base={"REMOTE_ADDR": "203.0.113.7"})
        assert r.status_code == 200
    r = client.post(f"/forms/wtl/{key}", data={"name": "L11", "email": "l11@x.ro"},
                    environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert r.status_code == 429
    assert "Too many submissions" in r.get_data(as_text=True) and int(r.headers["Retry-After"]) > 0
    # Another address is not affected.
    r = client.post(f"/forms/wtl/{key}", data={"name": "Other", "email": "o@x.ro"},
                    environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert r.status_code == 200
    assert len(_leads(app)) == 11


def test_inactive_form_is_404(app, pipeline):
    _, key = _form(app, active=False)
    assert app.test_client().post(f"/forms/wtl/{key}", data={"name": "X"}).status_code == 404
    assert _leads(app) == []


def test_no_pipeline_is_a_clear_error_and_no_lead(app):
    _, key = _form(app)
    r = app.test_client().post(f"/forms/wtl/{key}", json={"name": "Eve", "email": "eve@x.ro"})
    assert r.status_code == 503
    assert "No lead pipeline exists" in r.get_json()["message"]
    assert _leads(app) == []
