"""Saved grid views (per staff member, shareable, deletable by their owner only) and search
everywhere (by number, name, email or phone, only over the tables a person may open)."""
from __future__ import annotations

import re

import pytest

from crm.core.extensions import db
from tests.conftest import csrf_from, login, make_role, make_staff
from tests.sales.test_sales_support import base_data, make_client, make_invoice


def _save(client, grid, name, query="", shared=False):
    page = client.get(f"/admin/{grid}/").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "grid": grid, "name": name, "query": query}
    if shared:
        data["shared"] = "1"
    return client.post("/admin/grid-views/", data=data)


def _menu(html):
    return re.search(r'data-testid="saved-views".*?</li>', html, re.S).group(0)


def test_save_list_share_and_delete_own_views(app, admin_client):
    from crm.core.models.settings import SavedView

    with app.app_context():
        make_staff("ana@crm.test", admin=True)
    r = _save(admin_client, "leads", "Hot leads", "sort=2&desc=1&search=radu&page=3&flt0_status_equals=1")
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin/leads/?sort=2&desc=1&search=radu&flt0_status_equals=1")
    assert _save(admin_client, "leads", "Team pipeline", "sort=1", shared=True).status_code == 303
    menu = _menu(admin_client.get("/admin/leads/").get_data(as_text=True))
    assert "Hot leads" in menu and "Team pipeline" in menu and "(shared)" in menu
    assert 'href="/admin/leads/?sort=2&amp;desc=1&amp;search=radu&amp;flt0_status_equals=1"' in menu
    assert "Hot leads" not in _menu(admin_client.get("/admin/clients/").get_data(as_text=True))  # per grid

    ana = app.test_client()
    login(ana, "ana@crm.test", "pass-1234")
    menu = _menu(ana.get("/admin/leads/").get_data(as_text=True))
    assert "Team pipeline" in menu and "Hot leads" not in menu  # shared only
    assert 'data-testid="shared-view"' in menu and "delete-view" not in menu
    with app.app_context():
        mine, shared = (db.session.query(SavedView).filter_by(name=n).one().id for n in ("Hot leads", "Team pipeline"))
    token = csrf_from(ana.get("/admin/leads/").get_data(as_text=True))
    assert ana.post(f"/admin/grid-views/{shared}/delete", data={"csrf_token": token}).status_code == 403
    assert ana.post(f"/admin/grid-views/{mine}/delete", data={"csrf_token": token}).status_code == 404  # not even seen
    assert ana.post(f"/admin/grid-views/{shared}/delete", data={}).status_code in (302, 400)  # no CSRF token: refused
    token = csrf_from(admin_client.get("/admin/leads/").get_data(as_text=True))
    r = admin_client.post(f"/admin/grid-views/{mine}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "View “Hot leads” deleted." in r.get_data(as_text=True)
    with app.app_context():
        assert [v.name for v in db.session.query(SavedView)] == ["Team pipeline"]


def test_a_view_needs_a_name_and_a_grid_one_may_open(app, admin_client):
    from crm.core.models.settings import SavedView

    r = _save(admin_client, "leads", "   ")
    assert r.status_code == 303
    page = admin_client.get("/admin/leads/").get_data(as_text=True)
    assert admin_client.post("/admin/grid-views/", data={"csrf_token": csrf_from(page), "grid": "no_such_grid",
                                                         "name": "X"}).status_code == 404
    with app.app_context():
        make_role("Stock only", {"stock.view"})
        make_staff("stock@crm.test", "Stock only")
    other = app.test_client()
    login(other, "stock@crm.test", "pass-1234")
    page = other.get("/admin/warehouse/inventory_manage/").get_data(as_text=True)
    r = other.post("/admin/grid-views/", data={"csrf_token": csrf_from(page), "grid": "leads", "name": "Peek"})
    assert r.status_code == 404
    with app.app_context():
        assert db.session.query(SavedView).count() == 0


@pytest.fixture
def found(app):
    from crm.sales.models.clients import Client, Contact, Lead

    with app.app_context():
        ids = base_data()
        client = make_client("Nordic Trade SRL", "buyer@nordic.ro")
        inv = make_invoice(ids, client)
        db.session.add(Lead(name="Radu Marin", company="Marin Bau SRL", email="radu@marinbau.ro",
                            phonenumber="0722 111 333"))
        db.session.commit()
        contact = db.session.query(Contact).filter_by(userid=client.userid).one()
        return {"invoice": inv.id, "number": inv.formatted_number, "client": client.userid, "contact": contact.id,
                "client_name": db.session.get(Client, client.userid).company}


def _results(client, q):
    return client.get("/admin/search/", query_string={"q": q, "format": "json"}).get_json()["results"]


def test_search_by_number_name_email_and_phone(admin_client, found):
    by_number = _results(admin_client, found["number"])
    assert by_number[0]["type"] == "Invoice" and by_number[0]["name"] == found["number"]
    assert by_number[0]["status"] == "Unpaid" and by_number[0]["url"] == f"/admin/invoices/details/?id={found['invoice']}"
    assert [(h["type"], h["name"]) for h in _results(admin_client, "marin bau")] == [("Lead", "Radu Marin (Marin Bau SRL)")]
    assert ("Contact", "buyer@nordic.ro") in [(h["type"], h["detail"].split(" · ")[0]) for h in
                                              _results(admin_client, "buyer@nordic")] or \
        any(h["type"] == "Contact" for h in _results(admin_client, "buyer@nordic"))
    assert [h["type"] for h in _results(admin_client, "0722 111")] == ["Lead"]
    assert {h["type"] for h in _results(admin_client, "Nordic")} >= {"Client"}
    html = admin_client.get("/admin/search/?q=Radu").get_data(as_text=True)
    assert 'data-testid="search-hit"' in html and "Radu Marin" in html and 'data-testid="hit-type">Lead<' in html
    assert "Nothing found" in admin_client.get("/admin/search/?q=zzzqqq").get_data(as_text=True)


def test_search_answers_only_from_tables_one_may_open(app, found):
    with app.app_context():
        make_role("Leads only", {"leads.view"})
        make_staff("sdr@crm.test", "Leads only")
    sdr = app.test_client()
    login(sdr, "sdr@crm.test", "pass-1234")
    assert _results(sdr, found["number"]) == []  # no invoices for this role
    assert _results(sdr, "Nordic") == []  # nor clients
    assert [h["type"] for h in _results(sdr, "Radu")] == ["Lead"]
    assert app.test_client().get("/admin/search/?q=Radu").status_code == 302  # signed out: to the login page


def test_search_asks_each_table_once_and_loads_its_rows_by_key(app, admin_client, found):
    """Each table is asked once for the keys of its matches (a LIMIT, no ORDER BY: the indexes of
    the searched columns serve it; on SQLite the newest from an FTS5 table, which serves its own
    order), and a table with matches once more for its rows by key."""
    from crm.admin_views.search import SEARCHED
    from tests.conftest import QueryCounter

    admin_client.get("/admin/search/?q=Radu")
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as q:
        hits = admin_client.get("/admin/search/?q=Nordic&format=json").get_json()["results"]
    matching = [s for s in q.statements if "LIKE " in s.upper()]
    assert 0 < len(matching) <= len(SEARCHED)
    assert all("LIMIT" in s.upper() and ("ORDER BY" not in s.upper() or re.search(r"ORDER BY \w+_fts\.rowid DESC", s))
               for s in matching)
    kinds = {h["type"] for h in hits}
    loads = [s for s in q.statements if "LIKE " not in s.upper() and " IN (" in s.upper() and "LIMIT" in s.upper()]
    assert len(loads) == len(kinds) and kinds == {"Client", "Contact"}


def test_search_shows_the_newest_matches_first_and_the_grid_past_five(app, admin_client):
    from crm.sales.models.clients import Lead

    with app.app_context():
        db.session.add_all([Lead(name=f"Ilie Newest {i}", email=f"ilie{i}@newest.example") for i in range(8)])
        db.session.add(Lead(name="Someone Else", email="else@elsewhere.example"))
        db.session.commit()
    hits = _results(admin_client, "newest")
    assert [h["name"] for h in hits[:5]] == [f"Ilie Newest {i}" for i in (7, 6, 5, 4, 3)]
    assert hits[5] == {"type": "Leads", "see_all": "/admin/leads/?search=newest"}


def test_a_common_term_still_shows_the_newest(app, admin_client, monkeypatch):
    """Past PROBE matches the newest are found by the primary key: the same answer."""
    from crm.admin_views import search
    from crm.sales.models.clients import Lead

    monkeypatch.setattr(search, "PROBE", 3)
    with app.app_context():
        db.session.add_all([Lead(name=f"Ilie Common {i}") for i in range(8)])
        db.session.commit()
    hits = _results(admin_client, "ilie common")
    assert [h["name"] for h in hits[:5]] == [f"Ilie Common {i}" for i in (7, 6, 5, 4, 3)] and hits[5]["see_all"]
    assert _results(admin_client, "ilie common 2")[0]["name"] == "Ilie Common 2"


def test_every_admin_page_has_the_search_box(admin_client):
    html = admin_client.get("/admin/leads/").get_data(as_text=True)
    assert 'data-testid="search-box"' in html and "vendor/htmx/htmx.min.js" in html and 'hx-get="/admin/search/"' in html


@pytest.mark.parametrize("url", ["/admin/search/?format=json&q=Owned", "/admin/leads/?search=Owned"])
def test_a_search_by_one_who_views_their_own_finds_only_theirs(app, url):
    """The keys are read with the staff member's own-rows condition: the rows loaded by key are
    theirs only, in Ctrl+K and in the grid."""
    from crm.sales.models.clients import Lead

    with app.app_context():
        make_role("Own leads", {"leads.view_own"})
        mine = make_staff("own@crm.test", "Own leads").staffid
        other = make_staff("other@crm.test", admin=True).staffid
        db.session.add_all([Lead(name="Owned Mine", assigned=mine, addedfrom=mine),
                            Lead(name="Owned Theirs", assigned=other, addedfrom=other)])
        db.session.commit()
    sdr = app.test_client()
    login(sdr, "own@crm.test", "pass-1234")
    body = sdr.get(url).get_data(as_text=True)
    assert "Owned Mine" in body and "Owned Theirs" not in body
