"""SQLite as a database many threads write at once (``make run`` serves threaded).

Python's sqlite3 opens a transaction only at the first INSERT/UPDATE/DELETE, so whatever a
transaction read and checked before that ran outside it, and ``SELECT ... FOR UPDATE`` (which
SQLite does not have) locked nothing: two requests could both see the last 5 units, both pass
the check and both deliver. Here the driver's own transaction handling is off and the app opens
the transaction itself with ``BEGIN IMMEDIATE`` - which takes SQLite's write lock at once, or
waits for it - before the first statement that locks or writes: a locking read (``FOR UPDATE``,
as every check-then-write path on PostgreSQL and MariaDB already does), a write, or a savepoint.
From there the transaction holds the database's one write lock until it ends, so what it reads
stays true until it commits, as the row locks make it on the server databases.

Plain reads before that run as single statements, each seeing what was committed before it (as
READ COMMITTED does on PostgreSQL), and never take the write lock: pages, reports and read-only
API calls go on while a writer works (WAL), and a transaction that only reads holds nothing.
DDL keeps SQLite's own per-statement handling (``PRAGMA foreign_keys`` is a no-op inside a
transaction, and the schema tools switch it around their statements).
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

# How long a writer waits for another's write lock before giving up ("database is locked"):
# long enough for any request or job step to finish, as a server database would make it wait.
BUSY_TIMEOUT_MS = 30_000

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


def _is_sqlite(dbapi_connection) -> bool:
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record):
    """Foreign keys enforced, readers working while a writer commits (WAL), writers waiting for
    each other, and the driver's own transaction handling off (the app begins, see below)."""
    if not _is_sqlite(dbapi_connection):
        return
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


def _locks_or_writes(statement: str, context) -> bool:
    compiled = getattr(context, "compiled", None)
    if compiled is not None:
        if context.isinsert or context.isupdate or context.isdelete:
            return True
        # SQLite compiles FOR UPDATE to nothing: the statement object still says it locks.
        if getattr(compiled.statement, "_for_update_arg", None) is not None:
            return True
    return statement.lstrip().split(None, 1)[0].upper() in _WRITES if statement.strip() else False


@event.listens_for(Engine, "before_cursor_execute")
def _write_lock_first(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name != "sqlite":
        return
    driver = conn.connection.driver_connection
    if driver.in_transaction or driver.isolation_level is not None:
        return  # already in our transaction, or the driver was handed its own handling back
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return
    if _locks_or_writes(statement, context):
        cursor.execute("BEGIN IMMEDIATE")
