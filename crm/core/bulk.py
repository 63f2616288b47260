"""Many rows of one table written in one statement, whatever their number.

On PostgreSQL the rows travel as one array per column, unnested into a derived table
(``unnest(:t_a, :t_b) AS t(a, b)``): the statement's text never changes, so SQLAlchemy compiles it
once and the server prepares it once, where one UPDATE per row or a CASE with a branch per row
would be a new statement for every count. MariaDB and SQLite take a CASE update (one statement)
and an executemany insert (MariaDB's driver makes it one multi-row INSERT; SQLite runs it in
process).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable, Sequence

from sqlalchemy import Integer, Numeric, Table, bindparam, case, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from crm.core.extensions import db


def postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def arrays(name: str, columns: dict):
    """PostgreSQL: ``unnest(:name_a, :name_b) AS name(a, b)``, one typed array parameter per column."""
    params = [bindparam(f"{name}_{col}", type_=ARRAY(sqltype)) for col, sqltype in columns.items()]
    return func.unnest(*params).table_valued(*columns).render_derived(name=name)


def array_params(name: str, columns: Iterable[str], rows: Sequence[dict], decimals=()) -> dict[str, list]:
    """The parameters of :func:`arrays` for these rows (dicts by column name). The driver sends a
    list of one type only: in the ``decimals`` columns an int (a sum that started at 0) is made a Decimal."""
    return {f"{name}_{col}": [Decimal(v) if col in decimals and isinstance(v, int) else v
                              for v in (row[col] for row in rows)] for col in columns}


class UpdateById:
    """``UPDATE table SET <columns> WHERE id = ...`` for many rows at once, by primary key ``id``."""

    def __init__(self, table: Table, *columns: str):
        self.table, self.columns, self.name = table, columns, f"new_{table.name}"
        rows = arrays(self.name, {"id": Integer, **{c: table.c[c].type for c in columns}})
        self.pg = table.update().where(table.c.id == rows.c.id).values({c: rows.c[c] for c in columns})

    def __call__(self, rows: dict[int, dict]) -> None:
        """``rows``: the new values by row id."""
        if not rows:
            return
        if postgresql():
            values = [{"id": row_id, **row} for row_id, row in rows.items()]
            db.session.execute(self.pg, array_params(self.name, ("id", *self.columns), values))
        else:
            t = self.table
            db.session.execute(t.update().where(t.c.id.in_(list(rows))).values(
                {c: case({row_id: row[c] for row_id, row in rows.items()}, value=t.c.id) for c in self.columns}))


class InsertRows:
    """``INSERT INTO table (<columns>)`` of many rows at once. Every row gives every column: the
    columns' Python-side defaults are not applied (:func:`with_defaults` fills them)."""

    def __init__(self, table: Table, columns: Sequence[str]):
        self.table, self.columns, self.name = table, tuple(columns), f"new_{table.name}"
        rows = arrays(self.name, {c: table.c[c].type for c in self.columns})
        self.pg = table.insert().from_select(self.columns, select(*rows.c), include_defaults=False)
        self.decimals = {c for c in self.columns if isinstance(table.c[c].type, Numeric)}

    def __call__(self, rows: Sequence[dict]) -> None:
        if rows:
            insert_together(db.session.connection(), [(self, rows)])


def with_defaults(table: Table, rows: Sequence[dict]) -> list[dict]:
    """``rows`` with the Python-side scalar and callable defaults of the columns they leave out."""
    missing = [c for c in table.c if c.default is not None and not c.default.is_sequence
               and any(c.key not in row for row in rows)]
    if not missing:
        return list(rows)
    filled = {c.key: c.default.arg(None) if c.default.is_callable else c.default.arg for c in missing}
    return [{**filled, **row} for row in rows]


_together: dict = {}  # (the tables' writers, the statement run with them) -> one PostgreSQL statement


def insert_together(connection, writes: Sequence[tuple[InsertRows, Sequence[dict]]], then=None) -> None:
    """The rows of several tables, and ``then`` (a SELECT whose result is not wanted, a lock for
    instance), with as few round trips as the database allows. PostgreSQL: one statement, each
    INSERT a data-modifying CTE (run to completion whether or not the statement reads it) under
    ``then`` or ``SELECT 1``; its text depends only on which tables are written, so it is compiled
    and prepared once. Elsewhere: one statement per table, then ``then``."""
    writes = [(writer, rows) for writer, rows in writes if rows]
    if connection.dialect.name != "postgresql":
        for writer, rows in writes:
            connection.execute(writer.table.insert(), [{c: row[c] for c in writer.columns} for row in rows])
        if then is not None:
            connection.execute(then)
        return
    if not writes and then is None:
        return
    key = (tuple(writer.name for writer, _ in writes), id(then))
    stmt = _together.get(key)
    if stmt is None:
        ctes = [writer.pg.cte(f"wrote_{writer.table.name}") for writer, _ in writes]
        stmt = _together[key] = (then if then is not None else select(literal(1))).add_cte(*ctes)
    params: dict = {}
    for writer, rows in writes:
        params.update(array_params(writer.name, writer.columns, rows, writer.decimals))
    connection.execute(stmt, params)
