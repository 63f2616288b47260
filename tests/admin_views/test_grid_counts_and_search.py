"""Grids on large tables: the row count stops at a cap ("10,000+", the exact count on demand), and
the invoices grid finds an invoice by its client's name."""
from __future__ import annotations

from datetime import date

import pytest

from crm.core.extensions import db


@pytest.fixture
def low_cap(app):
    app.config["GRID_COUNT_CAP"] = 3
    yield
    app.config.pop("GRID_COUNT_CAP")


def _clients(app, n):
    from crm.sales.models.clients import Client

    with app.app_context():
        db.session.add_all([Client(company=f"Counted {i:02d} SRL") for i in range(n)])
        db.session.commit()


def test_a_grid_past_the_cap_shows_the_cap_and_counts_exactly_on_demand(app, admin_client, low_cap):
    _clients(app, 7)
    html = admin_client.get("/admin/clients/").get_data(as_text=True)
    assert "List (3+)" in html and "List (7)" not in html
    assert 'data-testid="exact-count" href="/admin/clients/?exact_count=1"' in html  # the count, a click away
    assert "Counted 06 SRL" in html  # the page itself is whole
    exact = admin_client.get("/admin/clients/?exact_count=1").get_data(as_text=True)
    assert "List (7)" in exact
    # a search under the cap is counted exactly
    found = admin_client.get("/admin/clients/?search=Counted+0").get_data(as_text=True)
    assert "List (3+)" in found
    one = admin_client.get("/admin/clients/?search=Counted+05").get_data(as_text=True)
    assert "List (1)" in one


def test_a_grid_under_the_cap_counts_exactly(app, admin_client, low_cap):
    _clients(app, 3)
    assert "List (3)" in admin_client.get("/admin/clients/").get_data(as_text=True)


def test_the_count_reads_at_most_the_cap(app, admin_client, low_cap):
    from sqlalchemy import event

    _clients(app, 7)
    seen = []
    with app.app_context():
        engine = db.engine
    listen = lambda conn, cur, statement, *a: seen.append(" ".join(statement.split()))  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        admin_client.get("/admin/clients/")
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    counts = [s for s in seen if s.lower().startswith("select count(") and "tblclients" in s]
    assert counts and all("LIMIT" in s.upper() for s in counts)


def test_invoices_are_found_by_their_clients_name(app, admin_client):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice

    with app.app_context():
        a, b = Client(company="Alpha Foods SRL"), Client(company="Bravo Tools SA")
        db.session.add_all([a, b])
        db.session.flush()
        db.session.add_all([Invoice(clientid=a.userid, formatted_number="INV-A1", date=date(2026, 1, 1)),
                            Invoice(clientid=b.userid, formatted_number="INV-B1", date=date(2026, 1, 1))])
        db.session.commit()
    html = admin_client.get("/admin/invoices/?search=bravo").get_data(as_text=True)
    assert "INV-B1" in html and "INV-A1" not in html
    html = admin_client.get("/admin/invoices/?search=INV-A").get_data(as_text=True)
    assert "INV-A1" in html and "INV-B1" not in html


def _statements(app, client, url):
    from tests.conftest import QueryCounter

    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as q:
        html = client.get(url).get_data(as_text=True)
    return html, [" ".join(s.split()) for s in q.statements if "tblclients" in s]


def test_a_search_reads_its_matches_once_then_the_page_by_key(app, admin_client):
    """The matches' keys in no order (the columns' indexes serve it): they are the count, and
    the page is loaded by key, newest first, without searching again."""
    from crm.sales.models.clients import Client

    with app.app_context():
        db.session.add_all([Client(company=f"Keyed {i:02d} SRL") for i in range(25)] + [Client(company="Other SA")])
        db.session.commit()
        newest = db.session.query(Client.userid).filter(Client.company == "Keyed 24 SRL").scalar()
    html, seen = _statements(app, admin_client, "/admin/clients/?search=keyed")
    assert "List (25)" in html and "Other SA" not in html
    assert html.index("Keyed 24 SRL") < html.index("Keyed 23 SRL") and "Keyed 04 SRL" not in html
    searched = [s for s in seen if "LIKE" in s.upper()]
    assert len(searched) == 1 and "ORDER BY" not in searched[0] and "LIMIT" in searched[0]
    assert any("tblclients.userid IN (" in s and "LIKE" not in s.upper() for s in seen)
    assert f'value="{newest}"' in html
    second = admin_client.get("/admin/clients/?search=keyed&page=1").get_data(as_text=True)
    assert "Keyed 04 SRL" in second and "Keyed 00 SRL" in second and "Keyed 05 SRL" not in second
    assert "List (25)" in second and second.count('name="rowid"') == 5
    assert admin_client.get("/admin/clients/?search=keyed&page=2").get_data(as_text=True).count('name="rowid"') == 0


def test_a_search_past_the_cap_shows_the_cap_and_the_newest_page(app, admin_client, low_cap):
    """Past the cap the keys read are the capped count (no count query), and the page is found
    newest first as before; the exact count is a click away."""
    _clients(app, 7)
    html, seen = _statements(app, admin_client, "/admin/clients/?search=counted")
    assert "List (3+)" in html and "Counted 06 SRL" in html and "Counted 00 SRL" in html
    assert html.index("Counted 06 SRL") < html.index("Counted 00 SRL")
    # (on SQLite the FTS5 index is asked how many candidates it has, up to search_index.CANDIDATES)
    assert not any(s.lower().startswith("select count(") and "_fts" not in s for s in seen)


def test_an_exact_count_past_the_probe_counts_them_all(app, admin_client, monkeypatch):
    from crm.admin_views import factory

    monkeypatch.setattr(factory, "PROBE", 2)
    _clients(app, 7)
    html = admin_client.get("/admin/clients/?search=counted&exact_count=1").get_data(as_text=True)
    assert "List (7)" in html and html.index("Counted 06 SRL") < html.index("Counted 00 SRL")


def test_a_search_under_the_probe_is_still_capped_for_show(app, admin_client, low_cap):
    _clients(app, 7)
    assert "List (3+)" in admin_client.get("/admin/clients/?search=counted").get_data(as_text=True)
    assert "List (7)" in admin_client.get("/admin/clients/?search=counted&exact_count=1").get_data(as_text=True)


def test_a_search_sorted_by_a_column_keeps_that_order(app, admin_client):
    from crm.sales.models.clients import Client

    with app.app_context():
        db.session.add_all([Client(company=name) for name in ("Sorted B SRL", "Sorted C SRL", "Sorted A SRL")])
        db.session.commit()
    html = admin_client.get("/admin/clients/").get_data(as_text=True)
    assert 'href="/admin/clients/?sort=0&amp;page_size=20" title="Sort by Company"' in html
    page = admin_client.get("/admin/clients/?sort=0&search=sorted").get_data(as_text=True)
    assert page.index("Sorted A SRL") < page.index("Sorted B SRL") < page.index("Sorted C SRL")
