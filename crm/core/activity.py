"""The activity log: every state change records who, when, what and on which document.

History lines (tblactivity_log, tbllead_activity_log, tblsales_activity) are only ever added,
never read back by the code that writes them, so they are not ORM objects: each is queued on
the session and all of a transaction's lines go in with one multi-row INSERT per table just
before it commits (after the business events' subscribers, which log too: the order of
crm/core/commit_pipeline.py); on PostgreSQL the tables' INSERTs are one statement (crm/core/bulk.py).
A rollback drops them with the rest. A query of the ORM in the same transaction writes them first,
so the transaction still sees its own history, as it did when they were flushed with the rest.
"""
from __future__ import annotations

from crm.core import bulk
from crm.core.extensions import db
from crm.core.models.records import ActivityLog

_QUEUED = "crm_history_lines"


def queue_line(model, values: dict, id_of=None, id_column: str = "rel_id") -> None:
    """Add a history line to the current transaction. ``id_of``: the document it is about, whose
    id is read when the line is written (a document created in the same transaction has none yet)."""
    db.session().info.setdefault(_QUEUED, []).append((model.__table__, values, id_of, id_column))


def write_queued(session) -> None:
    """INSERT the queued lines: one statement per table, or one in all (:func:`bulk.insert_together`)."""
    queued = session.info.pop(_QUEUED, None)
    if not queued:
        return
    if any(id_of is not None and id_of.id is None for _, _, id_of, _ in queued):
        session.flush()  # a document created in this transaction gets its id
    by_table: dict = {}
    for table, values, id_of, id_column in queued:
        if id_of is not None:
            values[id_column] = id_of.id
        by_table.setdefault(table, []).append(values)
    bulk.insert_together(session.connection(), [_writer(table, rows) for table, rows in by_table.items()])


_writers: dict = {}  # (table, its columns) -> bulk.InsertRows: three shapes of history line in all


def _writer(table, rows: list) -> tuple:
    rows = bulk.with_defaults(table, rows)  # (the date each line is written)
    columns = tuple(sorted(set().union(*rows)))
    writer = _writers.get((table, columns))
    if writer is None:
        writer = _writers[(table, columns)] = bulk.InsertRows(table, columns)
    return writer, [{c: row.get(c) for c in columns} for row in rows]


def _before_read(state) -> None:
    session = state.session
    if _QUEUED in session.info and state.is_select and not session._flushing:
        write_queued(session)


def _forget(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction (a savepoint's rollback keeps them)
        session.info.pop(_QUEUED, None)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("do_orm_execute", "history.write", _before_read)
    add("before_commit", "history.write", write_queued)
    add("after_transaction_end", "history.forget", _forget)


def log_activity(actor, description: str, rel_type: str | None = None, rel_id: int | None = None):
    queue_line(ActivityLog, {"description": description, "staffid": getattr(actor, "staffid", None),
                             "rel_type": rel_type, "rel_id": rel_id})

