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
