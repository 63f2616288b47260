"""Marketing campaigns: the audience (leads by status / source / pipeline, client contacts), sending
through the outbox to a real SMTP server, nobody twice however often the job runs, scheduling,
the unsubscribe link honoured by later campaigns, and the counts on the campaign's page."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from
from tests.core.test_mail_sending import no_smtp, smtp  # noqa: F401  (fixtures)
from tests.sales.test_sales_support import press


@pytest.fixture(autouse=True)
def _instance_in_tmp(app, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


@pytest.fixture
def world(app):
    """Two pipelines, statuses, sources; leads of every kind; a client with an active and an inactive contact."""
    from crm.sales.models.clients import Client, Contact, Lead, LeadSource, LeadStatus, Pipeline

    with app.app_context():
        p1, p2 = Pipeline(name="Direct"), Pipeline(name="Partners")
        web, fair = LeadSource(name="Web"), LeadSource(name="Fair")
        db.session.add_all([p1, p2, web, fair])
        db.session.flush()
        s1, s2, s3 = LeadStatus(name="New", pipeline=p1.id), LeadStatus(name="Qualified", pipeline=p1.id), \
            LeadStatus(name="New", pipeline=p2.id)
        db.session.add_all([s1, s2, s3])
        db.session.flush()

        def lead(name, email, status=s1, source=web, pipeline=p1, **kw):
            row = Lead(name=name, company=f"{name} SRL", email=email, status=status.id, source=source.id,
                       pipeline=pipeline.id, **kw)
            db.session.add(row)
            return row

        leads = {"ana": lead("Ana", "ana@example.ro"), "bob": lead("Bob", "bob@example.ro", source=fair),
                 "noemail": lead("Cici", None, status=s2), "dup": lead("Ana Again", " ANA@example.ro "),
                 "lost": lead("Lost", "lost@example.ro", lost=True), "junk": lead("Junk", "junk@example.ro", junk=True),
                 "partner": lead("Paul", "paul@example.ro", status=s3, pipeline=p2)}
        client = Client(company="Nordic Trade SRL")
        db.session.add(client)
        db.session.flush()
        db.session.add_all([Contact(userid=client.userid, firstname="Bogdan", lastname="Buyer", email="bogdan@nordic.ro",
                                    is_primary=True),
                            Contact(userid=client.userid, firstname="Old", lastname="Contact", email="old@nordic.ro",
                                    active=False)])
        db.session.commit()
        return {"p1": p1.id, "p2": p2.id, "web": web.id, "fair": fair.id, "s1": s1.id, "s2": s2.id,
                **{k: v.id for k, v in leads.items()}}


def _campaign(app, **kw):
    from crm.sales.models.marketing import MarketingCampaign

    with app.app_context():
        fields = dict(name="Spring offer", subject="Spring offer for {company}",
                      body="<p>Hello {firstname},</p><p>20% off for {company} this spring.</p>")
        fields.update(kw)
        c = MarketingCampaign(**fields)
        db.session.add(c)
        db.session.commit()
        return c.id


def _audience(app, cid):
    from crm.sales.actions.campaigns import audience
    from crm.sales.models.marketing import MarketingCampaign

    with app.app_context():
        members, no_email = audience(db.session.get(MarketingCampaign, cid))
        return [e for e, _m in members], no_email


def _counts(admin_client, cid) -> dict:
    page = admin_client.get(f"/admin/marketing/campaigns/details/?id={cid}").get_data(as_text=True)
    assert 'data-testid="campaign-counts"' in page
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', page)}


def _rows(app, model, **filters):
    with app.app_context():
        rows = db.session.query(model).filter_by(**filters).order_by(model.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def test_audience_by_status_source_pipeline_and_contacts(app, world):
    # every lead (not lost, not junk), each address once whatever its case; a lead without email is counted
    assert _audience(app, _campaign(app)) == (["ana@example.ro", "bob@example.ro", "paul@example.ro"], 1)
    assert _audience(app, _campaign(app, lead_status=world["s1"], lead_source=world["web"],
                                    lead_pipeline=world["p1"])) == (["ana@example.ro"], 0)
    assert _audience(app, _campaign(app, lead_source=world["fair"])) == (["bob@example.ro"], 0)
    assert _audience(app, _campaign(app, lead_pipeline=world["p2"])) == (["paul@example.ro"], 0)
    assert _audience(app, _campaign(app, lead_status=world["s2"])) == ([], 1)
    assert _audience(app, _campaign(app, lead_pipeline=world["p1"], include_lost=True))[0] == \
        ["ana@example.ro", "bob@example.ro", "lost@example.ro"]
    # client contacts: active ones only; with leads, an address shared by both is sent once
    assert _audience(app, _campaign(app, audience_leads=False, audience_contacts=True)) == (["bogdan@nordic.ro"], 0)
    assert _audience(app, _campaign(app, lead_pipeline=world["p2"], audience_contacts=True))[0] == \
        ["paul@example.ro", "bogdan@nordic.ro"]


def test_send_from_the_grid_reaches_each_address_once(app, admin_client, world, smtp):  # noqa: F811
    from crm.core.models.messaging import EmailOutbox
    from crm.sales.actions.campaigns import deliver_campaign
    from crm.sales.models.marketing import CampaignRecipient, MarketingCampaign

    cid = _campaign(app, lead_pipeline=world["p1"], audience_contacts=True)
    assert _counts(admin_client, cid)["audience"] == 3
    resp = press(admin_client, "marketing/campaigns", "send", cid)
    assert "Sending to 3 address(es); 1 without email skipped" in resp.get_data(as_text=True)

    got = {rcpts[0]: m for rcpts, m in smtp.inbox.messages}
    assert sorted(got) == ["ana@example.ro", "bob@example.ro", "bogdan@nordic.ro"]
    ana = got["ana@example.ro"]
    assert ana["Subject"] == "Spring offer for Ana SRL"
    text = ana.get_body(("plain",)).get_content()
    assert "Hello Ana," in text and "20% off for Ana SRL" in text
    assert "Spring offer for Nordic Trade SRL" == got["bogdan@nordic.ro"]["Subject"]
    links = re.findall(r"http://[^\s)]+/portal/unsubscribe/[\w-]+", text)
    assert len(links) == 1
    recipients = _rows(app, CampaignRecipient, campaign_id=cid)
    assert sorted(r.email for r in recipients) == sorted(got) and all(r.outbox_id for r in recipients)
    assert links[0].endswith(next(r.token for r in recipients if r.email == "ana@example.ro"))

    assert _counts(admin_client, cid) == {"recipients": 3, "sent": 3, "failed": 0, "waiting": 0,
                                          "skipped_unsubscribed": 0, "skipped_no_email": 1, "unsubscribed": 0}
    # the job again (as after a crash, the campaign still Sending): nobody gets it twice
    with app.app_context():
        assert "nothing to do" in deliver_campaign(cid)
        db.session.get(MarketingCampaign, cid).status = "sending"
        db.session.commit()
        assert deliver_campaign(cid).startswith(f"campaign #{cid}: 0 email(s) queued")
    assert len(smtp.inbox.messages) == 3 and len(_rows(app, EmailOutbox, rel_type="campaign")) == 3
    # the unique (campaign, address) holds even when the job's own check is bypassed
    from crm.sales.actions.campaigns import _add
    from crm.sales.models.clients import Lead

    with app.app_context():
        c, lead = db.session.get(MarketingCampaign, cid), db.session.get(Lead, world["ana"])
        assert _add(c, "ana@example.ro", lead, set()) == "had"
    assert len(_rows(app, CampaignRecipient, campaign_id=cid)) == 3

    # a sent campaign is not sent again
    r = app.test_client().post(f"/api/v1/marketing_campaigns/{cid}/actions/send", headers=api_token(app.test_client()))
    assert r.status_code == 409 and "is Sent; a campaign is sent once" in r.get_json()["error"]


def test_unsubscribe_is_honoured_by_later_campaigns(app, admin_client, world, smtp):  # noqa: F811
    from crm.sales.models.marketing import CampaignRecipient, MarketingUnsubscribe

    first = _campaign(app, lead_pipeline=world["p1"])
    press(admin_client, "marketing/campaigns", "send", first)
    (bob,) = [r for r in _rows(app, CampaignRecipient, campaign_id=first) if r.email == "bob@example.ro"]

    visitor = app.test_client()
    page = visitor.get(f"/portal/unsubscribe/{bob.token}")
    assert page.status_code == 200 and "bob@example.ro" in page.get_data(as_text=True)
    assert _rows(app, MarketingUnsubscribe) == []  # opening the link (a mail scanner) changes nothing
    assert visitor.get("/portal/unsubscribe/not-a-token").status_code == 404
    resp = visitor.post(f"/portal/unsubscribe/{bob.token}",
                        data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 200 and "will receive no more campaigns" in resp.get_data(as_text=True)
    visitor.post(f"/portal/unsubscribe/{bob.token}", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    (opt_out,) = _rows(app, MarketingUnsubscribe)
    assert (opt_out.email, opt_out.campaign_id) == ("bob@example.ro", first)
    assert _counts(admin_client, first)["unsubscribed"] == 1

    smtp.inbox.messages.clear()
    second = _campaign(app, name="Summer", subject="Summer", lead_pipeline=world["p1"])
    press(admin_client, "marketing/campaigns", "send", second)
    assert [rcpts for rcpts, _m in smtp.inbox.messages] == [["ana@example.ro"]]
    skipped = [r for r in _rows(app, CampaignRecipient, campaign_id=second) if r.email == "bob@example.ro"]
    assert [(r.status, r.outbox_id) for r in skipped] == [("unsubscribed", None)]
    counts = _counts(admin_client, second)
    assert (counts["recipients"], counts["sent"], counts["skipped_unsubscribed"]) == (1, 1, 1)


def test_schedule_then_the_job_sends_it_once(app, admin_client, world, smtp):  # noqa: F811
    from crm.jobs.periodic import PERIODIC
    from crm.sales.jobs.campaign_jobs import send_scheduled_campaigns
    from crm.sales.models.marketing import MarketingCampaign

    assert "send_scheduled_campaigns" in PERIODIC
    cid = _campaign(app, lead_pipeline=world["p2"])
    client = app.test_client()
    h = api_token(client)
    r = client.post(f"/api/v1/marketing_campaigns/{cid}/actions/schedule", headers=h,
                    json={"scheduled_at": "2020-01-01T10:00"})
    assert r.status_code == 422 and r.get_json()["field"] == "scheduled_at" and "in the past" in r.get_json()["error"]
    when = (datetime.utcnow() + timedelta(days=1)).replace(second=0, microsecond=0)
    r = client.post(f"/api/v1/marketing_campaigns/{cid}/actions/schedule", headers=h,
                    json={"scheduled_at": when.strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        assert send_scheduled_campaigns(when - timedelta(minutes=1)) == "0 campaign(s) started"
    assert smtp.inbox.messages == []
    with app.app_context():
        assert send_scheduled_campaigns(when + timedelta(minutes=1)) == "1 campaign(s) started"
        assert send_scheduled_campaigns(when + timedelta(minutes=6)) == "0 campaign(s) started"
    assert [rcpts for rcpts, _m in smtp.inbox.messages] == [["paul@example.ro"]]
    with app.app_context():
        c = db.session.get(MarketingCampaign, cid)
        assert (c.status, c.sent_at is not None) == ("sent", True)


def test_an_audience_without_addresses_is_refused(app, admin_client, world, no_smtp):  # noqa: F811
    cid = _campaign(app, lead_status=world["s2"])
    r = app.test_client().post(f"/api/v1/marketing_campaigns/{cid}/actions/send",
                               headers=api_token(app.test_client()))
    assert r.status_code == 409 and "has nobody to send to" in r.get_json()["error"] and "1 without one" in \
        r.get_json()["error"]
    nobody = _campaign(app, audience_leads=False)
    r = app.test_client().post(f"/api/v1/marketing_campaigns/{nobody}/actions/send",
                               headers=api_token(app.test_client()))
    assert r.status_code == 409 and "has no audience" in r.get_json()["error"]


def test_deleting_a_sent_campaign_removes_its_recipients_not_the_opt_outs(app, admin_client, world, smtp):  # noqa: F811
    from crm.core.models.messaging import EmailOutbox
    from crm.sales.actions.campaigns import unsubscribe
    from crm.sales.models.marketing import CampaignRecipient, MarketingCampaign, MarketingUnsubscribe

    cid = _campaign(app, lead_pipeline=world["p2"])
    press(admin_client, "marketing/campaigns", "send", cid)
    (row,) = _rows(app, CampaignRecipient, campaign_id=cid)
    with app.app_context():
        unsubscribe(row.token)
    page = admin_client.get("/admin/marketing/campaigns/").get_data(as_text=True)
    resp = admin_client.post("/admin/marketing/campaigns/delete/", data={"id": cid, "csrf_token": csrf_from(page)})
    assert resp.status_code == 302
    assert _rows(app, MarketingCampaign) == [] and _rows(app, CampaignRecipient) == []
    (opt_out,) = _rows(app, MarketingUnsubscribe)
    assert (opt_out.email, opt_out.campaign_id) == ("paul@example.ro", None)
    assert len(_rows(app, EmailOutbox, rel_type="campaign")) == 1  # what was sent stays in the outbox
