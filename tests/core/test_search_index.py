"""SQLite's FTS5 search tables (crm/core/search_index.py, migration srch3fts0001) hold what their
tables hold, whichever way a row is written, and the migration builds them from the rows there."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from crm.core import search_index
from crm.core.extensions import db
from tests.sales.test_sales_support import base_data, make_client, make_invoice


def _index_tables() -> set[str]:
    with db.engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars()
        return {n for n in names if search_index.is_index_table(n)}


def _check_in_step() -> None:
    """FTS5's integrity check, rank 1: the index against its external content table (raises when
    a row is missing from it, or there in an old version)."""
    with db.engine.begin() as conn:
        for table in search_index.SEARCHED:
            fts = search_index.fts_name(table)
            conn.exec_driver_sql(f"INSERT INTO {fts} ({fts}, rank) VALUES ('integrity-check', 1)")


@pytest.fixture
def sqlite_only(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the FTS5 search tables are SQLite's")


def test_each_index_stays_in_step_with_its_table(app, ctx, sqlite_only):
    from crm.sales.models.clients import Client, Contact, Lead

    ids = base_data()
    client = make_client("Vardo Shipping SRL", "ops@vardo.example")
    make_invoice(ids, client)
    leads = [Lead(name=f"Lead {i}", email=f"lead{i}@step.example") for i in range(4)]
    db.session.add_all(leads)
    db.session.commit()
    leads[0].email = "changed@step.example"  # a searched column
    leads[1].lead_value = 500  # another column: the index is not touched
    db.session.get(Client, client.userid).company = "Vardo Logistics SRL"
    db.session.delete(leads[2])
    db.session.commit()
    with db.engine.begin() as conn:  # SQL outside the ORM: the triggers see it too
        conn.execute(text("UPDATE tblcontacts SET phonenumber = '0700 000 001' WHERE userid = :c"),
                     {"c": client.userid})
        conn.execute(text("DELETE FROM tblleads WHERE name = 'Lead 3'"))
    db.session.add(Lead(name="Lead 3 again"))  # may take the deleted row's id
    db.session.commit()
    _check_in_step()
    assert db.session.query(Contact).filter_by(phonenumber="0700 000 001").count() == 1


def test_the_migration_builds_them_from_the_rows_there_and_drops_them(app, admin_client, sqlite_only):
    from crm.sales.models.clients import Lead

    with app.app_context():
        db.session.add(Lead(name="Before The Index", email="early@before.example"))
        db.session.commit()
        every = _index_tables()
        assert {search_index.fts_name(t) for t in search_index.SEARCHED} <= every
        try:
            downgrade(revision="srch2trgm0001")
            assert _index_tables() == set()
        finally:
            upgrade()
        assert _index_tables() == every
        _check_in_step()
    hits = admin_client.get("/admin/search/?q=early@before&format=json").get_json()["results"]
    assert [h["name"] for h in hits] == ["Before The Index"]
