"""The schema mirrors the documents: table, column and status names, honest types, migrations."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Numeric, inspect

from crm.core import search_index
from crm.core.extensions import db
from crm.core.resources import status_enum
from crm.models import all_models

DOCUMENTED_STATUSES = {
    ("tblproposals", "status"): {6: "Draft", 4: "Sent", 1: "Open", 7: "Sent manually", 3: "Accepted",
                                 2: "Declined", 5: "Revised"},
    ("tblestimates", "status"): {1: "Draft", 2: "Sent", 3: "Declined", 4: "Accepted", 5: "Expired"},
    ("tblinvoices", "status"): {6: "Draft", 1: "Unpaid", 3: "Partially paid", 2: "Paid", 4: "Overdue",
                                5: "Cancelled"},
    ("tblpur_request", "status"): {1: "Draft", 2: "Approved", 3: "Rejected", 4: "Canceled"},
    ("tblpur_estimates", "status"): {1: "Pending", 2: "Accepted", 3: "Rejected", 4: "Canceled"},
    ("tblpur_orders", "status"): {1: "Draft", 2: "Approved", 3: "Rejected", 4: "Canceled"},
    ("tblpur_orders", "order_status"): {1: "Not started", 2: "In progress", 3: "Completed"},
    ("tblpur_orders", "delivery_status"): {0: "Not delivered", 1: "Delivered"},
    ("tblpur_invoices", "payment_status"): {"unpaid": "Unpaid", "partially_paid": "Partially paid", "paid": "Paid"},
    ("tblgoods_receipt", "approval"): {0: "Draft", 1: "Approved"},
    ("tblgoods_delivery", "approval"): {0: "Draft", 1: "Approved"},
    ("tblgoods_delivery", "type_of_delivery"): {"total": "", "partial": ""},
    ("tblgoods_transaction_detail", "status"): {1: "Receipt", 2: "Delivery", 3: "", 4: ""},
    ("tblwh_packing_lists", "delivery_status"): {"wh_ready_to_deliver": "", "wh_in_transit": "",
                                                 "wh_delivered": ""},
    ("tblwh_loss_adjustment", "status"): {0: "", 1: "", -1: ""},
}


def _table(name):
    return next(m for m in all_models() if m.__tablename__ == name)


def test_documented_status_codes_and_labels():
    for (table, column), codes in DOCUMENTED_STATUSES.items():
        enum_cls = status_enum(inspect(_table(table)).columns[column])
        assert enum_cls is not None, f"{table}.{column} has no status enum"
        for code, label in codes.items():
            assert enum_cls(code).label.lower().startswith(label.lower()), (table, column, code)


def test_every_status_column_has_an_enum_and_an_index():
    for model in all_models():
        for col in inspect(model).columns:
            if col.key in ("status", "approval", "order_status", "delivery_status", "payment_status") \
                    and not col.foreign_keys:
                assert status_enum(col) is not None, f"{model.__tablename__}.{col.key}"
                assert col.index, f"{model.__tablename__}.{col.key} is not indexed"


def test_money_and_quantities_are_decimal_never_float():
    for model in all_models():
        for col in inspect(model).columns:
            if isinstance(col.type, Numeric):
                assert col.type.asdecimal, f"{model.__tablename__}.{col.key}"
            assert col.type.__class__.__name__ != "Float", f"{model.__tablename__}.{col.key} is a float"
    inv = inspect(_table("tblinvoices")).columns
    assert (inv["total"].type.precision, inv["total"].type.scale) == (15, 2)


def test_foreign_keys_are_real_and_indexed():
    cols = inspect(_table("tblgoods_delivery")).columns
    assert list(cols["invoice_id"].foreign_keys)[0].target_fullname == "tblinvoices.id"
    for model in all_models():
        for col in inspect(model).columns:
            if col.foreign_keys and not col.primary_key:
                assert col.index or col.unique, f"{model.__tablename__}.{col.key}"


def test_migrations_build_exactly_the_models(app, ctx):
    """`flask db upgrade` (run by the fixture) produced the schema the models declare."""
    with db.engine.connect() as conn:
        # (PostgreSQL's trigram search indexes and SQLite's FTS5 search tables, of that database
        # only, are not in the models)
        skip_search = lambda obj, name, type_, reflected, other: not (  # noqa: E731
            (type_ == "index" and (name or "").endswith("_trgm"))
            or (type_ == "table" and search_index.is_index_table(name or "")))
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False,
                                                                      "include_object": skip_search}), db.metadata)
    assert diff == []


def test_search_tables_have_fts5_trigram_tables_on_sqlite(app, ctx):
    """SQLite: each searched table has its FTS5 trigram table (with its shadow tables) and the
    three triggers that keep it in step; the other databases have none."""
    from sqlalchemy import text

    with db.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            assert not any(search_index.is_index_table(t) for t in inspect(conn).get_table_names())
            return
        rows = conn.execute(text("SELECT type, name, sql FROM sqlite_master")).all()
    sql = {name: stmt or "" for _type, name, stmt in rows}
    for table, (_pk, cols) in search_index.SEARCHED.items():
        fts = search_index.fts_name(table)
        assert "tokenize='trigram'" in sql[fts] and f"content='{table}'" in sql[fts]
        assert all(c in sql[fts] for c in cols)
        assert {f"{fts}_insert", f"{fts}_delete", f"{fts}_update", f"{fts}_data", f"{fts}_idx"} <= set(sql)


def test_search_columns_have_trigram_indexes_on_postgresql(app, ctx):
    """PostgreSQL: each column the grids and the search box match with ILIKE has a GIN trigram index."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's")
    from sqlalchemy import text

    from crm.admin_views.search import findable_columns
    from crm.sales.models.clients import Lead

    with db.engine.connect() as conn:
        names = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%\\_trgm'")).scalars())
    for table, cols in [("tblinvoices", ["formatted_number"]), ("tblclients", ["company", "phonenumber"]),
                        ("tblleads", [c.key for c in findable_columns(Lead)]), ("tblcontacts", ["email", "phonenumber"])]:
        for col in cols:
            assert f"ix_{table}_{col}_trgm" in names
