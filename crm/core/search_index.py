"""Substring search from an index on SQLite: an FTS5 table with the trigram tokenizer per searched table.

The grids' search box and search everywhere (Ctrl+K) match ``LIKE '%term%'``, which no B-tree
serves: on SQLite each search scanned its table (0.2-0.8 s at 1,000,000 invoices). FTS5's trigram
tokenizer finds the rows holding a substring of 3 or more characters from an index,
case-insensitively. Each table below has one, named ``<table>_fts``: external content (it keeps
the trigrams only and reads the text from the table), filled by a 'rebuild' and kept in step by
triggers, so every write path (the ORM, bulk SQL, a script) updates it.

A search asks the index for the candidate keys and keeps its LIKE on those rows: the results are
the LIKE's, exactly. The index finds more than LIKE, never less (it folds non-ASCII case, É = é,
where SQLite's LIKE folds ASCII only; a pattern's wildcards are left out of what it is asked). A
pattern without 3 literal characters in a row has no trigram to look up: the LIKE scans as before.

Two ways, by what is asked (measured at 1,000,000 invoices and 200,000 leads, bench/README.md):
- ``any_like``, conditions for any query (a grid's count and page): the index is asked for at most
  CANDIDATES + 1 keys, a MATCH with a LIMIT, which stops there (3 ms for "INV-0", in every
  invoice). Up to CANDIDATES, the rows are among those keys. Past them the term is common: its
  LIKE alone, whose scan stops at the 10,001st match of a grid's capped count, where the keys of
  all its candidates would be read first (0.2-0.6 s for "INV-0").
- ``newest_keys``, the newest few matches (Ctrl+K): the index read newest first, joined to the
  table and each candidate tested by the LIKE, stops at the last one asked for, rare term or common
  (under 20 ms for "INV-0", "INV-000", "INV-01").

PostgreSQL has GIN trigram indexes on the same columns (migration srch2trgm0001), MariaDB nothing.
Created by migration srch3fts0001 (SQLite only). Changing SEARCHED takes a new migration that calls
``drop`` and ``create``; so does a migration that rebuilds one of these tables (Alembic's batch mode
on SQLite copies the table and drops the old one, and its triggers with it).
"""
from __future__ import annotations

import re

from sqlalchemy import and_, column, false, func, literal_column, or_, select, table

from crm.core.extensions import db

# table -> (its primary key, the columns the grids and Ctrl+K search there)
SEARCHED = {
    "tblinvoices": ("id", ("formatted_number",)),
    "tblproposals": ("id", ("formatted_number", "subject", "proposal_to", "email", "phone")),
    "tblestimates": ("id", ("formatted_number", "reference_no")),
    "tblclients": ("userid", ("company", "vat", "phonenumber")),
    "tblleads": ("id", ("name", "company", "email", "phonenumber")),
    "tblcontacts": ("id", ("firstname", "lastname", "email", "phonenumber", "title")),
}
MIN_RUN = 3  # the trigram: a shorter run of characters has nothing to look up
CANDIDATES = 10_000  # beyond, a common term: the LIKE scan (any_like); a grid counts up to 10,000 (COUNT_CAP)


def fts_name(table_name: str) -> str:
    return f"{table_name}_fts"


# FTS5 keeps each index in shadow tables named after it
_SHADOWS = ("data", "idx", "docsize", "config", "content")


def is_index_table(name: str) -> bool:
    """An FTS table or one of its shadow tables: not in the models (the schema comparison skips them)."""
    names = {fts_name(t) for t in SEARCHED}
    return name in names or any(name == f"{n}_{s}" for n in names for s in _SHADOWS)


def _statements(table_name: str) -> list[str]:
    pk, cols = SEARCHED[table_name]
    fts, listed = fts_name(table_name), ", ".join(cols)
    new, old = ", ".join(f"new.{c}" for c in cols), ", ".join(f"old.{c}" for c in cols)
    remove = f"INSERT INTO {fts} ({fts}, rowid, {listed}) VALUES ('delete', old.{pk}, {old});"
    add = f"INSERT INTO {fts} (rowid, {listed}) VALUES (new.{pk}, {new});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({listed}, content='{table_name}', content_rowid='{pk}', "
        "tokenize='trigram')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table_name} BEGIN {add} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table_name} BEGIN {remove} END",
        # only a change of a searched column (or the key) touches the index, not every status change
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {pk}, {listed} ON {table_name} BEGIN {remove} {add} END",
        f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')",  # the rows already there
    ]


def create(conn) -> None:
    """The FTS tables and their triggers, filled from the rows there (SQLite only: elsewhere nothing)."""
    if conn.dialect.name != "sqlite":
        return
    for table_name in SEARCHED:
        for statement in _statements(table_name):
            conn.exec_driver_sql(statement)


def drop(conn) -> None:
    if conn.dialect.name != "sqlite":
        return
    for table_name in SEARCHED:
        fts = fts_name(table_name)
        for trigger in ("insert", "delete", "update"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {fts}_{trigger}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {fts}")


def _quoted(text: str) -> str:
    """An FTS5 string: taken literally, whatever it holds (AND, OR, NEAR, *, ^, parentheses)."""
    return '"' + text.replace('"', '""') + '"'


def _candidates(table_name: str, names: list[str], pattern: str):
    """The keys of the rows whose ``names`` columns may match LIKE ``pattern``: every literal run of
    3+ characters of the pattern (between its % and _ wildcards) is in one of those columns, in
    ascending order. None when the pattern has no such run."""
    runs = [run for run in re.split(r"[%_]", pattern) if len(run) >= MIN_RUN]
    if not runs or "\x00" in pattern:  # FTS5's query parser ends a string at a NUL (requests refuse it)
        return None
    fts = fts_name(table_name)
    query = "{%s} : (%s)" % (" ".join(names), " AND ".join(_quoted(run) for run in runs))
    index = table(fts, column("rowid"))
    return select(index.c.rowid).where(literal_column(fts).op("MATCH")(query))


def _by_table(cols, likes):
    """The indexed columns by their table ({table: [(name, its condition)]}), and the other conditions."""
    by_table, rest = {}, []
    for c, cond in zip(cols, likes):
        expr = getattr(c, "expression", c)
        tbl = getattr(expr, "table", None)
        searched = SEARCHED.get(getattr(tbl, "name", None))
        if searched and expr.name in searched[1]:
            by_table.setdefault(tbl, []).append((expr.name, cond))
        else:
            rest.append(cond)
    return by_table, rest


def any_like(cols, pattern: str, like=lambda col, pattern: col.ilike(pattern)) -> list:
    """The conditions "``like(col, pattern)`` for one of ``cols``", to be ORed by the caller. On
    SQLite the columns of one indexed table make one condition: the key among the index's
    candidates, and the LIKE on those rows; or, for a term with more than CANDIDATES candidates,
    their LIKEs alone. Other columns (and other databases) keep one LIKE each."""
    likes = [like(c, pattern) for c in cols]
    if db.session.get_bind().dialect.name != "sqlite":
        return likes
    by_table, rest = _by_table(cols, likes)
    out = []
    for tbl, found in by_table.items():
        keys = _candidates(tbl.name, [name for name, _ in found], pattern)
        conds = [cond for _, cond in found]
        if keys is None:
            out += conds
            continue
        # At most CANDIDATES + 1 keys (the MATCH stops there), counted and gathered into one JSON
        # array by SQLite: one bound value, not one per key, and the MATCH is not run again by each
        # query. More: a common term, its LIKE alone, whose scan stops early (the module's docstring).
        probe = keys.limit(CANDIDATES + 1).subquery()
        count, listed = db.session.execute(
            select(func.count(), func.json_group_array(probe.c.rowid)).select_from(probe)).one()
        if count > CANDIDATES:
            out += conds
        elif not count:
            out.append(false())
        else:
            pk = tbl.c[SEARCHED[tbl.name][0]]
            out.append(and_(pk.in_(select(func.json_each(listed).table_valued("value").c.value)), or_(*conds)))
    return out + rest


def newest_keys(stmt, pk, cols, pattern: str, limit: int) -> list | None:
    """On SQLite, the keys of the ``limit`` newest rows of ``stmt`` (a select of ``pk``'s table)
    where one of ``cols`` matches ILIKE ``pattern``, when they are all columns of one indexed table:
    its FTS table is read newest first (FTS5 serves ORDER BY rowid DESC from the index) and each
    candidate tested by the LIKE, so the query stops at the ``limit``-th match, the term rare or
    common (a walk of the table from its newest row tests every row down to the matches, 0.3 s for
    the 100,000 old invoices of "INV-01"). None otherwise: the caller asks ``any_like``."""
    if db.session.get_bind().dialect.name != "sqlite":
        return None
    by_table, rest = _by_table(cols, [c.ilike(pattern) for c in cols])
    if rest or len(by_table) != 1:
        return None
    (tbl, found), = by_table.items()
    keys = _candidates(tbl.name, [name for name, _ in found], pattern)
    key_col = getattr(pk, "expression", pk)
    if keys is None or (key_col.table.name, key_col.name) != (tbl.name, SEARCHED[tbl.name][0]):
        return None
    rowid = keys.selected_columns[0]
    walk = stmt.with_only_columns(pk).where(rowid == pk, keys.whereclause, or_(*[cond for _, cond in found]))
    return db.session.scalars(walk.order_by(rowid.desc()).limit(limit)).all()
