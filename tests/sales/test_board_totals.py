"""The board's column totals (count, value, weighted value) match its cards; Won and Lost are drop targets."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import QueryCounter, csrf_from
from tests.e2e.test_e2e_browser import live_url, page, sign_in  # noqa: F401  (browser fixtures)


@pytest.fixture
def board(app):
    from crm.sales.models.clients import Lead, LeadStatus, Pipeline

    with app.app_context():
        direct = Pipeline(name="Direct", isdefault=True)
        db.session.add(direct)
        db.session.flush()
        new = LeadStatus(name="New", statusorder=1, pipeline=direct.id)
        qualified = LeadStatus(name="Qualified", statusorder=2, pipeline=direct.id)
        db.session.add_all([new, qualified])
        db.session.flush()
        leads = [Lead(name="Radu Marin", company="Marin Bau SRL", email="radu@marinbau.ro", status=new.id,
                      pipeline=direct.id, lead_value=Decimal("10000.00"), probability=Decimal("20")),
                 Lead(name="Ioana Pop", status=new.id, pipeline=direct.id, lead_value=Decimal("2500.50"),
                      probability=Decimal("50")),
                 Lead(name="No value", status=new.id, pipeline=direct.id),
                 Lead(name="Big deal", status=qualified.id, pipeline=direct.id, lead_value=Decimal("40000.00"),
                      probability=Decimal("75")),
                 Lead(name="Gone", status=new.id, pipeline=direct.id, lead_value=Decimal("999.00"), lost=True)]
        db.session.add_all(leads)
        db.session.commit()
        return {"new": new.id, "qualified": qualified.id, "lead": leads[0].id, "pop": leads[1].id,
                "pipeline": direct.id}


def _column(html, status_id):
    col = re.search(rf'data-testid="col-{status_id}".*?(?=<div class="board-col"|<div class="board-zones"|</div>\s*<div id=)',
                    html, re.S).group(0)
    figure = {k: re.search(rf'data-total="{k}">([^<]+)<', col).group(1) for k in ("count", "value", "weighted")}
    return figure, re.findall(r'data-testid="card-(\d+)"', col), re.findall(r'data-value="([^"]+)"', col)


def test_column_totals_match_the_cards(app, admin_client, board):
    html = admin_client.get("/admin/leads/board").get_data(as_text=True)
    new, cards, values = _column(html, board["new"])
    assert new == {"count": "3", "value": "12,500.50", "weighted": "3,250.25"}
    assert len(cards) == 3 and sum(Decimal(v) for v in values) == Decimal("12500.50")
    qualified, cards, _ = _column(html, board["qualified"])
    assert qualified == {"count": "1", "value": "40,000.00", "weighted": "30,000.00"} and len(cards) == 1
    assert "Gone" not in html


def test_totals_cost_one_query_whatever_the_number_of_cards(app, admin_client, board):
    from crm.sales.models.clients import Lead

    admin_client.get("/admin/leads/board")
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as before:
        admin_client.get("/admin/leads/board")
    with app.app_context():
        db.session.add_all([Lead(name=f"Extra {i}", status=board["new"], pipeline=board["pipeline"], lead_value=Decimal("1"))
                            for i in range(15)])
        db.session.commit()
    with QueryCounter(engine) as after:
        html = admin_client.get("/admin/leads/board").get_data(as_text=True)
    assert after.count == before.count
    assert _column(html, board["new"])[0]["count"] == "18"


def test_drop_on_won_converts_to_a_customer_and_answers_the_new_totals(app, admin_client, board):
    from crm.sales.models.clients import Client, Lead

    page = admin_client.get("/admin/leads/board").get_data(as_text=True)
    assert 'data-testid="zone-won"' in page and 'data-testid="zone-lost"' in page
    r = admin_client.post("/admin/leads/board/move", data={"csrf_token": csrf_from(page), "lead": board["lead"],
                                                           "to": "won"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    with app.app_context():
        client = db.session.query(Client).one()
        assert db.session.get(Lead, board["lead"]).client_id == client.userid
    assert body["message"] == f"Customer “Marin Bau SRL” (#{client.userid}) created"
    assert {"resource": "clients", "id": client.userid, "url": f"/admin/clients/details/?id={client.userid}"}.items() \
        <= next(c for c in body["created"] if c["resource"] == "clients").items()
    assert body["totals"][str(board["new"])] == {"count": 2, "value": "2,500.50", "weighted": "1,250.25"}
    r = admin_client.post("/admin/leads/board/move", data={"csrf_token": csrf_from(page), "lead": board["pop"],
                                                           "to": "won"})
    assert r.status_code == 409 and "has no email" in r.get_json()["message"]  # the action's refusal, said


def test_drop_on_lost_asks_why(app, admin_client, board):
    from crm.sales.models.clients import Lead

    page = admin_client.get("/admin/leads/board").get_data(as_text=True)
    r = admin_client.post("/admin/leads/board/move", data={"csrf_token": csrf_from(page), "lead": board["pop"], "to": "lost"})
    assert r.status_code == 422 and "Say why the lead was lost" in r.get_json()["message"]
    r = admin_client.post("/admin/leads/board/move", data={"csrf_token": csrf_from(page), "lead": board["pop"],
                                                           "to": "lost", "reason": "Budget cut"})
    assert r.status_code == 200 and r.get_json()["message"] == "Marked lost: Budget cut"
    with app.app_context():
        assert db.session.get(Lead, board["pop"]).lost


@pytest.mark.e2e
def test_drag_a_card_to_won(app, board, live_url, page):  # noqa: F811
    from crm.sales.models.clients import Lead

    sign_in(page, live_url)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_url}/admin/leads/board")
    page.screenshot(path="/tmp/board_before.png", full_page=True)
    page.drag_and_drop(f"[data-testid=card-{board['lead']}]", "[data-testid=zone-won]")
    page.wait_for_selector(f"[data-testid=zone-won] [data-testid=card-{board['lead']}]")
    message = page.locator("[data-testid=board-message]")
    message.wait_for(state="visible")
    assert "Customer “Marin Bau SRL”" in message.inner_text()
    assert page.locator(f"[data-testid=col-{board['new']}] [data-total=count]").inner_text() == "2"
    page.screenshot(path="/tmp/board_after_won.png", full_page=True)
    with app.app_context():
        assert db.session.get(Lead, board["lead"]).client_id is not None


def test_lost_asks_in_the_actions_own_form_not_a_browser_prompt(admin_client, board):
    html = admin_client.get("/admin/leads/board").get_data(as_text=True)
    assert "prompt(" not in html
    dialog = html[html.index('data-testid="drop-form-lost"'):]
    dialog = dialog[:dialog.index("</form>")]
    assert "Mark as lost" in dialog and 'name="csrf_token"' in dialog and 'name="reason"' in dialog
    assert '<label for="reason">Reason</label>' in dialog


@pytest.mark.e2e
def test_drag_a_card_to_lost_asks_why_in_a_dialog(app, board, live_url, page):  # noqa: F811
    from crm.sales.models.clients import Lead

    sign_in(page, live_url)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_url}/admin/leads/board")
    assert page.locator("h3", has_text="Pipeline board").count() + page.locator("h1, h2", has_text="Pipeline board").count() == 1
    page.on("dialog", lambda d: (_ for _ in ()).throw(AssertionError("a browser prompt was shown")))
    page.drag_and_drop(f"[data-testid=card-{board['pop']}]", "[data-testid=zone-lost]")
    dialog = page.locator("[data-testid=drop-form-lost]")
    dialog.wait_for(state="visible")
    assert "Ioana Pop" in dialog.inner_text()
    page.click("[data-testid=drop-form-submit]")  # no reason: the field says so, the card stays
    page.wait_for_selector("[data-testid=drop-form-lost] .is-invalid")
    assert "Say why the lead was lost" in dialog.inner_text()
    assert page.locator(f"[data-testid=col-{board['new']}] [data-testid=card-{board['pop']}]").count() == 1
    page.fill("[data-testid=drop-form-lost] input[name=reason]", "Budget cut")
    page.wait_for_timeout(300)
    page.screenshot(path="/tmp/board_lost_form.png", full_page=True)
    page.click("[data-testid=drop-form-submit]")
    page.wait_for_selector(f"[data-testid=zone-lost] [data-testid=card-{board['pop']}]")
    dialog.wait_for(state="hidden")
    assert "Marked lost: Budget cut" in page.locator("[data-testid=board-message]").inner_text()
    page.screenshot(path="/tmp/board_after_lost.png", full_page=True)
    with app.app_context():
        lead = db.session.get(Lead, board["pop"])
        assert lead.lost and lead.lost_reason == "Budget cut"
