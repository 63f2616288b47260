"""Lead actions through every entry point a person uses: grid button, API, CLI."""
from __future__ import annotations

from crm.core.extensions import db
from tests.conftest import api_token, assign_lead, csrf_from, login, make_role, make_staff


def _lead(app, lead_id):
    from crm.sales.models.clients import Lead

    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        db.session.expunge(lead)
        return lead


def test_grid_button_converts_lead_to_opportunity_and_lead_stays(app, admin_client, lead_id):
    from crm.core.models.records import ActivityLog
    from crm.sales.models.clients import Lead

    page = admin_client.get("/admin/leads/").get_data(as_text=True)
    assert 'data-action="convert_to_opportunity"' in page
    resp = admin_client.post(f"/admin/leads/run-action/convert_to_opportunity/{lead_id}?url=/admin/leads/",
                             data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "Opportunity #" in html and "created" in html
    with app.app_context():
        opp = db.session.query(Lead).filter_by(is_opportunity=True).one()
        assert (opp.name, opp.company, opp.email, opp.converted_from_lead) == \
            ("Ion Popescu", "Popescu Logistic SRL", "ion@popescu.ro", lead_id)
        assert opp.opportunity_status is not None
        assert not db.session.get(Lead, lead_id).is_opportunity  # the lead remains a lead
        assert db.session.query(ActivityLog).filter_by(rel_type="leads", rel_id=lead_id).count() == 1
    # listed apart: the opportunity in /admin/opportunities, not among leads
    assert "Ion Popescu" in admin_client.get("/admin/opportunities").get_data(as_text=True)
    leads_html = admin_client.get("/admin/leads/").get_data(as_text=True)
    assert leads_html.count(">Ion Popescu</td>") == 1  # one row (its cell's title repeats the name)


def test_grid_refuses_without_csrf(app, admin_client, lead_id):
    resp = admin_client.post(f"/admin/leads/run-action/mark_junk/{lead_id}", data={}, follow_redirects=True)
    assert "expired" in resp.get_data(as_text=True)
    assert not _lead(app, lead_id).junk


def test_mark_lost_needs_a_reason_and_unmark_restores_status(app, admin_client, lead_id):
    form = admin_client.get(f"/admin/leads/run-action/mark_lost/{lead_id}").get_data(as_text=True)
    assert 'name="reason"' in form
    resp = admin_client.post(f"/admin/leads/run-action/mark_lost/{lead_id}",
                             data={"csrf_token": csrf_from(form), "reason": ""})
    assert resp.status_code == 422
    assert "Say why the lead was lost" in resp.get_data(as_text=True)
    assert not _lead(app, lead_id).lost
    status_before = _lead(app, lead_id).status
    admin_client.post(f"/admin/leads/run-action/mark_lost/{lead_id}",
                      data={"csrf_token": csrf_from(form), "reason": "No budget this year"})
    lead = _lead(app, lead_id)
    assert lead.lost and lead.lost_reason == "No budget this year" and lead.last_lead_status == status_before
    # a lost lead cannot be converted: a clear message, not a 500
    page = admin_client.get("/admin/leads/").get_data(as_text=True)
    resp = admin_client.post(f"/admin/leads/run-action/convert_to_opportunity/{lead_id}",
                             data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert resp.status_code == 200
    assert "is marked lost; restore it first" in resp.get_data(as_text=True)
    admin_client.post(f"/admin/leads/run-action/unmark/{lead_id}", data={"csrf_token": csrf_from(page)})
    lead = _lead(app, lead_id)
    assert not lead.lost and lead.status == status_before and lead.last_lead_status is None


def test_api_actions(app, lead_id):
    client = app.test_client()
    headers = api_token(client)
    r = client.post(f"/api/v1/leads/{lead_id}/actions/mark_junk", json={}, headers=headers)
    assert r.status_code == 200 and r.get_json()["ok"]
    assert _lead(app, lead_id).junk
    r = client.post(f"/api/v1/leads/{lead_id}/actions/mark_junk", json={}, headers=headers)
    assert r.status_code == 409 and "marked junk" in r.get_json()["error"]
    r = client.post(f"/api/v1/leads/{lead_id}/actions/unmark", json={}, headers=headers)
    assert r.status_code == 200
    r = client.post(f"/api/v1/leads/{lead_id}/actions/mark_lost", json={}, headers=headers)
    assert r.status_code == 422 and r.get_json()["field"] == "reason"
    r = client.post(f"/api/v1/leads/{lead_id}/actions/mark_lost", json={"reason": "Chose a competitor"},
                    headers=headers)
    assert r.status_code == 200
    r = client.post("/api/v1/leads/999999/actions/mark_lost", json={"reason": "x"}, headers=headers)
    assert r.status_code == 404
    r = client.post(f"/api/v1/leads/{lead_id}/actions/no_such_action", json={}, headers=headers)
    assert r.status_code in (404, 405)


def test_api_action_needs_the_action_permission(app, lead_id):
    import json

    from crm.core.models.settings import Role

    with app.app_context():
        make_staff("wh@test.example", "Warehouse")
        role = db.session.query(Role).filter_by(name="SDR").one()
        assert "action:leads.mark_junk" in json.loads(role.permissions)
        assign_lead(lead_id, make_staff("sdr@test.example", "SDR"))
    client = app.test_client()
    r = client.post(f"/api/v1/leads/{lead_id}/actions/mark_junk", json={},
                    headers=api_token(client, "wh@test.example", "pass-1234"))
    assert r.status_code == 403
    assert not _lead(app, lead_id).junk
    r = client.post(f"/api/v1/leads/{lead_id}/actions/mark_junk", json={},
                    headers=api_token(client, "sdr@test.example", "pass-1234"))
    assert r.status_code == 200


def test_cli_action(app, lead_id):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "action", "leads", str(lead_id), "mark_lost", "reason=Went silent"])
    assert result.exit_code == 0, result.output
    assert _lead(app, lead_id).lost_reason == "Went silent"
    result = runner.invoke(args=["crm", "action", "leads", str(lead_id), "mark_lost", "reason=again"])
    assert result.exit_code == 1 and "marked lost" in result.output
    result = runner.invoke(args=["crm", "action", "leads", str(lead_id), "unmark"])
    assert result.exit_code == 0 and not _lead(app, lead_id).lost
    result = runner.invoke(args=["crm", "action", "nosuch", "1", "unmark"])
    assert result.exit_code == 2 and "Unknown resource" in result.output


def test_sdr_does_not_see_buttons_of_actions_it_may_not_run(app, lead_id):
    with app.app_context():
        make_role("Lead reader", ["leads.view"])
        make_staff("fin@test.example", "Lead reader")
    client = app.test_client()
    login(client, "fin@test.example", "pass-1234")
    # a role that may view leads but holds no lead actions
    html = client.get("/admin/leads/").get_data(as_text=True)
    assert "Ion Popescu" in html and 'data-action="mark_junk"' not in html
    page = client.get("/admin/leads/").get_data(as_text=True)
    resp = client.post(f"/admin/leads/run-action/mark_junk/{lead_id}", data={"csrf_token": csrf_from(page)},
                       follow_redirects=True)
    assert "do not have permission" in resp.get_data(as_text=True)
    assert not _lead(app, lead_id).junk


def test_details_page_offers_the_actions(app, admin_client, lead_id):
    html = admin_client.get(f"/admin/leads/details/?id={lead_id}").get_data(as_text=True)
    assert 'data-testid="detail-actions"' in html and 'data-action="mark_junk"' in html


def test_a_converted_lead_is_converted_once_and_leaves_the_board(app, admin_client, lead_id):
    from crm.sales.models.clients import Lead

    page = admin_client.get("/admin/leads/").get_data(as_text=True)
    admin_client.post(f"/admin/leads/run-action/convert_to_opportunity/{lead_id}",
                      data={"csrf_token": csrf_from(page)})
    converted_on = _lead(app, lead_id).date_converted
    assert converted_on is not None
    # the button is gone, and pressing it anyway (a stale page) says why
    page = admin_client.get("/admin/leads/").get_data(as_text=True)
    assert 'data-action="convert_to_opportunity"' not in page
    resp = admin_client.post(f"/admin/leads/run-action/convert_to_opportunity/{lead_id}",
                             data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "was already converted to an opportunity" in resp.get_data(as_text=True)
    r = admin_client.post(f"/api/v1/leads/{lead_id}/actions/convert_to_opportunity", json={},
                          headers=api_token(admin_client))
    assert r.status_code == 409 and "already converted" in r.get_json()["error"]
    with app.app_context():
        assert db.session.query(Lead).filter_by(converted_from_lead=lead_id).count() == 1
    assert _lead(app, lead_id).date_converted == converted_on
    # the board shows open leads: the converted one is no longer a card
    assert "Ion Popescu" not in admin_client.get("/admin/leads/board").get_data(as_text=True)


def test_the_opportunity_keeps_the_leads_probability_and_close_date(app, admin_client, lead_id):
    from datetime import date
    from decimal import Decimal

    from crm.sales.models.clients import Lead

    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        lead.lead_value, lead.probability, lead.estimated_close_date = \
            Decimal("12500.00"), Decimal("40"), date(2031, 3, 15)
        db.session.commit()
    r = admin_client.post(f"/api/v1/leads/{lead_id}/actions/convert_to_opportunity", json={},
                          headers=api_token(admin_client))
    assert r.status_code == 200, r.get_json()
    html = admin_client.get("/admin/opportunities/pipeline/").get_data(as_text=True)
    assert "weighted <strong>5000.00 RON</strong>" in html  # 12,500.00 × 40 %
    by_month = html.split('data-testid="by-month"')[1].split("</table>")[0]
    assert "2031-03" in by_month
