"""Many rows of one table written in one statement, whatever their number.

On PostgreSQL the rows travel as one array per column, unnested into a derived table
(``unnest(:t_a, :t_b) AS t(a, b)``): the statement's text never changes, so SQLAlchemy compiles it
once and the server prepares it once, where one UPDATE per row or a CASE with a branch per row
would be a new statement for every count. MariaDB and SQLite take a CASE update (one statement)
and an executemany insert (MariaDB's driver makes it one multi-row INSERT; SQLite runs it in
process).
"""
from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy import Integer, Table, bindparam, case, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from crm.core.extensions import db


def postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def arrays(name: str, columns: dict):
    """PostgreSQL: ``unnest(:name_a, :name_b) AS name(a, b)``, one typed array parameter per column."""
    params = [bindparam(f"{name}_{col}", type_=ARRAY(sqltype)) for col, sqltype in columns.items()]
    return func.unnest(*params).table_valued(*columns).render_derived(name=name)


def array_params(name: str, columns: Iterable[str], rows: Sequence[dict]) -> dict[str, list]:
    """The parameters of :func:`arrays` for these rows (dicts by column name)."""
    return {f"{name}_{col}": [row[col] for row in rows] for col in columns}


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
    """``INSERT INTO table (<columns>)`` of many rows at once."""

    def __init__(self, table: Table, columns: Sequence[str]):
        self.table, self.columns, self.name = table, tuple(columns), f"new_{table.name}"
        rows = arrays(self.name, {c: table.c[c].type for c in self.columns})
        self.pg = table.insert().from_select(self.columns, select(*rows.c))

    def __call__(self, rows: Sequence[dict]) -> None:
        if not rows:
            return
        if postgresql():
            db.session.execute(self.pg, array_params(self.name, self.columns, rows))
        else:
            db.session.execute(self.table.insert(), [{c: row[c] for c in self.columns} for row in rows])
