"""The pipeline board: columns are the pipeline's statuses; dragging a card changes the status."""
from __future__ import annotations

import pytest

from crm.core.extensions import db
from tests.conftest import csrf_from
from tests.e2e.test_e2e_browser import live_url, page, sign_in  # noqa: F401  (browser fixtures)


@pytest.fixture
def board(app):
    from crm.sales.models.clients import Lead, LeadStatus, Pipeline

    with app.app_context():
        direct, partners = Pipeline(name="Direct", isdefault=True), Pipeline(name="Partners")
        db.session.add_all([direct, partners])
        db.session.flush()
        new = LeadStatus(name="New", statusorder=1, pipeline=direct.id)
        qualified = LeadStatus(name="Qualified", statusorder=2, pipeline=direct.id)
        p_new = LeadStatus(name="Partner intro", statusorder=1, pipeline=partners.id)
        db.session.add_all([new, qualified, p_new])
        db.session.flush()
        lead = Lead(name="Radu Marin", company="Marin Bau SRL", status=new.id, pipeline=direct.id)
        lost = Lead(name="Gone Lead", status=new.id, pipeline=direct.id, lost=True)
        db.session.add_all([lead, lost])
        db.session.commit()
        return {"direct": direct.id, "partners": partners.id, "new": new.id, "qualified": qualified.id,
                "p_new": p_new.id, "lead": lead.id}


def test_board_shows_the_pipeline_statuses_and_open_leads(admin_client, board):
    html = admin_client.get("/admin/leads/board").get_data(as_text=True)
    assert f'data-testid="col-{board["new"]}"' in html and f'data-testid="col-{board["qualified"]}"' in html
    assert f'data-testid="col-{board["p_new"]}"' not in html  # another pipeline's status
    assert "Radu Marin" in html and "Gone Lead" not in html
    html = admin_client.get(f"/admin/leads/board?pipeline={board['partners']}").get_data(as_text=True)
    assert f'data-testid="col-{board["p_new"]}"' in html and "Radu Marin" not in html


def test_moving_a_card_changes_status_and_pipeline(app, admin_client, board):
    from crm.sales.models.clients import Lead, LeadActivityLog

    page = admin_client.get("/admin/leads/board").get_data(as_text=True)
    r = admin_client.post(f"/admin/leads/run-action/change_status/{board['lead']}",
                          data={"csrf_token": csrf_from(page), "status": board["p_new"]}, follow_redirects=True)
    assert "Radu Marin: New → Partner intro" in r.get_data(as_text=True)
    with app.app_context():
        lead = db.session.get(Lead, board["lead"])
        assert (lead.status, lead.pipeline) == (board["p_new"], board["partners"])
        assert db.session.query(LeadActivityLog).filter_by(leadid=lead.id).count() == 1


def test_pipeline_without_statuses_says_what_to_do(app, admin_client):
    from crm.sales.models.clients import Lead, Pipeline

    with app.app_context():
        db.session.add_all([Pipeline(name="Empty", isdefault=True), Lead(name="Nowhere")])
        db.session.commit()
    html = admin_client.get("/admin/leads/board").get_data(as_text=True)
    assert "has no statuses" in html and "/admin/leads/statuses" in html
    assert "1 open lead(s) have no pipeline" in html


@pytest.mark.e2e
def test_drag_a_card(app, board, live_url, page):  # noqa: F811
    from crm.sales.models.clients import Lead

    sign_in(page, live_url)
    page.goto(f"{live_url}/admin/leads/board")
    page.drag_and_drop(f"[data-testid=card-{board['lead']}]", f"[data-testid=col-{board['qualified']}]")
    page.wait_for_selector(f"[data-testid=col-{board['qualified']}] [data-testid=card-{board['lead']}]")
    with app.app_context():
        assert db.session.get(Lead, board["lead"]).status == board["qualified"]
