"""Keeps the daily roll-ups (crm/models/report_rollup.py) equal to the invoices, their lines and
their payments.

Whatever changes an invoice, an invoice line or a payment (grid, API, actions, imports, jobs; an
UPDATE/DELETE statement on invoices or payments run through the session too), the session notes
the cells it touched, before and after the change: an invoice's (day, sale agent, client), its
lines' (day, item, text), its payments' (day, sale agent, client) when its change moves them (they
are counted under its currency, rate, status, sale agent and client). Just before the commit, the
rows of those cells are recomputed from the raw tables with one GROUP BY per roll-up (delete +
insert), so a roll-up is right by construction, and a commit costs the same on a busy day as on a
quiet one (one client's rows of the day, not the whole day's).
``rebuild()`` (``flask crm reports-rebuild``, the migration, the benchmark loader) does every day.

The client and item roll-ups also have monthly tables, a cache of finished months: a commit that
touches a day of a finished month takes that month out of tblreport_month (``spanned`` then reads
its days), and the hourly job build_report_months sums it again (``build_months``).

Concurrent writers: the recompute takes the roll-up's cells in one short critical section at the
end of the transaction, serialised by a lock held until the commit (``_serialise``), so two
commits touching the same cell cannot both insert its row."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import NamedTuple

from sqlalchemy import Date, and_, case, delete, func, insert, inspect, literal, or_, select, text, tuple_, union_all
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

CHUNK = 500  # cells (or ids) per IN list
SIDES = ("invoice", "payment", "item")  # the roll-ups of invoices, of payments, of invoiced lines
# columns whose change moves an invoice (or its payments) to another roll-up row
INVOICE_KEYS = ("date", "status", "total", "currency", "exchange_rate", "sale_agent", "clientid")
PAYMENT_KEYS = ("date", "amount", "invoiceid")
LINE_KEYS = ("rel_id", "rel_type", "qty", "rate", "discount_percent", "item_id", "description", "is_optional",
             "is_selected")
_LOCK = 7_340_181  # PostgreSQL advisory lock id of the roll-up refresh
_LOCK_ROW = "report_rollup_lock"  # its tbloptions row on MariaDB/MySQL


def specs():
    """(roll-up model, "invoice"|"payment", the invoice column of its key)."""
    from ..models import Invoice, ReportInvoiceClientDay, ReportInvoiceDay, ReportPaymentClientDay, ReportPaymentDay

    return [(ReportInvoiceDay, "invoice", Invoice.sale_agent), (ReportInvoiceClientDay, "invoice", Invoice.clientid),
            (ReportPaymentDay, "payment", Invoice.sale_agent), (ReportPaymentClientDay, "payment", Invoice.clientid)]


def own_rate():
    from ..models import Invoice

    return func.nullif(Invoice.exchange_rate, 0)


def _source(side: str, key, where=None):
    """The roll-up rows (of the cells ``where`` selects; None: all), computed from the raw tables."""
    from ..models import Invoice, InvoicePayment

    if side == "invoice":
        day, amount, counted, q = Invoice.date, Invoice.total, Invoice.id, select().select_from(Invoice)
    else:
        day, amount, counted = InvoicePayment.date, InvoicePayment.amount, InvoicePayment.id
        q = select().select_from(InvoicePayment).join(Invoice, Invoice.id == InvoicePayment.invoiceid)
    groups = (day, Invoice.currency, own_rate(), Invoice.status, key)
    q = q.add_columns(*groups, func.count(counted), func.sum(amount)).group_by(*groups)
    return q if where is None else q.where(where)


class _Rollup(NamedTuple):
    side: str  # "invoice", "payment", "item"
    table: object
    columns: list  # what the source's columns fill, in order
    source: Callable  # source(where): the rows of the cells ``where`` selects (None: all)
    keys: list  # the table's columns naming a cell: the day, then the key
    exprs: list  # the source's expressions of the same
    pick: tuple  # their positions in the side's cells: (day, sale agent, client) or (day, item, text)


def _rollups() -> list[_Rollup]:
    from ..models import Invoice, InvoicePayment, ItemLine, ReportItemDay

    out = []
    for model, side, key in specs():
        t = model.__table__
        out.append(_Rollup(side, t, ["day", "currency", "rate", "status", key.key, "count", "amount"],
                           lambda where, side=side, key=key: _source(side, key, where), [t.c.day, t.c[key.key]],
                           [Invoice.date if side == "invoice" else InvoicePayment.date, key],
                           (0, 1 if key.key == "sale_agent" else 2)))
    t = ReportItemDay.__table__
    out.append(_Rollup("item", t, ["day", "currency", "rate", "item_id", "text", "lines", "quantity", "net"],
                       _item_source, [t.c.day, t.c.item_id, t.c.text], [Invoice.date, ItemLine.item_id, line_text()],
                       (0, 1, 2)))
    return out


def _cells_where(columns, cells):
    """``columns`` (the day, then the key) equal to one of ``cells``; NULL keys match NULL."""
    by_nulls: dict[tuple, list] = {}
    for cell in cells:
        by_nulls.setdefault(tuple(v is None for v in cell), []).append(tuple(v for v in cell if v is not None))
    parts = []
    for nulls, values in sorted(by_nulls.items()):
        kept = [c for c, null in zip(columns, nulls) if not null]
        match = kept[0].in_([v[0] for v in values]) if len(kept) == 1 else tuple_(*kept).in_(sorted(values))
        parts.append(and_(*(c.is_(None) for c, null in zip(columns, nulls) if null), match))
    return or_(*parts)


def _serialise(session) -> None:
    """One refresh (or month build) at a time, until this transaction ends: two commits touching
    the same cell must not both insert its row. PostgreSQL: a transaction-level advisory lock.
    MariaDB/MySQL, which have none: the row lock of an upsert of one tbloptions row (created by
    the first refresh). SQLite has one writer at a time anyway."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    elif dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as upsert

        from ..models import Option

        session.execute(upsert(Option.__table__).values(name=_LOCK_ROW, value="", autoload=False)
                        .on_duplicate_key_update(value=""))


def refresh(session, cells=None) -> None:
    """Recompute the roll-up rows of ``cells``: {side: cells} ("invoice", "payment": (day, sale
    agent, client); "item": (day, item, text)), or None (rebuild everything)."""
    if cells is not None:
        cells = {side: sorted({c for c in cells.get(side, ()) if c[0] is not None}, key=repr) for side in SIDES}
        if not any(cells.values()):
            return
    _serialise(session)
    for r in _rollups():
        fill = insert(r.table).from_select
        columns = [r.table.c[c] for c in r.columns]
        if cells is None:
            session.execute(delete(r.table))
            session.execute(fill(columns, r.source(None)))
            continue
        own = sorted({tuple(cell[i] for i in r.pick) for cell in cells[r.side]}, key=repr)
        for chunk in (own[i:i + CHUNK] for i in range(0, len(own), CHUNK)):
            session.execute(delete(r.table).where(_cells_where(r.keys, chunk)))
            session.execute(fill(columns, r.source(_cells_where(r.exprs, chunk))))
    _forget_months(session, None if cells is None else {c[0].replace(day=1) for cs in cells.values() for c in cs})


# --- monthly roll-ups (crm/models/report_rollup.py: a cache of finished months) --------------

def monthly():
    """(daily roll-up, its monthly roll-up): the keys too large for a year of daily rows."""
    from ..models import (ReportInvoiceClientDay, ReportInvoiceClientMonth, ReportItemDay, ReportItemMonth,
                          ReportPaymentClientDay, ReportPaymentClientMonth)

    return [(ReportInvoiceClientDay, ReportInvoiceClientMonth), (ReportPaymentClientDay, ReportPaymentClientMonth),
            (ReportItemDay, ReportItemMonth)]


def _summed(day_model) -> tuple[list[str], list[str]]:
    """A daily roll-up's key columns and summed columns."""
    names = [c.name for c in day_model.__table__.c if c.name not in ("id", "day")]
    sums = [n for n in names if n in ("count", "amount", "lines", "quantity", "net")]
    return [n for n in names if n not in sums], sums


def _forget_months(session, months) -> None:
    """Take the months (all: None) out of tblreport_month: their days are read until they are built again."""
    from ..models import ReportMonth

    t = ReportMonth.__table__
    if months is None:
        session.execute(delete(t))
    elif months := sorted(m for m in months if m < date.today().replace(day=1)):  # only finished ones are built
        session.execute(delete(t).where(t.c.month.in_(months)))


def _month_end(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def build_months(session, today: date | None = None) -> int:
    """Sum the finished months that are not in tblreport_month from their daily rows. Returns how
    many months were built."""
    from ..models import ReportMonth

    first_open = (today or date.today()).replace(day=1)
    _serialise(session)  # not while a commit refreshes
    starts = [session.scalar(select(func.min(day.day))) for day, _ in monthly()]
    starts = [d for d in starts if d is not None]
    if not starts:
        return 0
    built = set(session.scalars(select(ReportMonth.month)))
    month, todo = min(starts).replace(day=1), []
    while month < first_open:
        if month not in built:
            todo.append(month)
        month = _month_end(month) + timedelta(days=1)
    for first in todo:
        last = _month_end(first)
        for day_model, month_model in monthly():
            keys, sums = _summed(day_model)
            d, m = day_model.__table__, month_model.__table__
            session.execute(delete(m).where(m.c.month == first))
            q = (select(literal(first, Date), *(d.c[k] for k in keys), *(func.sum(d.c[s]) for s in sums))
                 .where(d.c.day.between(first, last)).group_by(*(d.c[k] for k in keys)))
            session.execute(insert(m).from_select(["month", *keys, *sums], q))
        session.execute(insert(ReportMonth.__table__).values(month=first, last_day=last))
    return len(todo)


def spanned(day_model, month_model, period):
    """``day_model`` for ``period``, read from ``month_model`` for the whole built months it covers
    and from ``day_model`` for its other days (an alias of ``day_model``: reports use it alike)."""
    from sqlalchemy.orm import aliased

    from ..models import ReportMonth

    session = db_session()
    settle(session)  # this transaction's own changes take their months out first
    months = session.execute(select(ReportMonth.month, ReportMonth.last_day).where(
        ReportMonth.month >= period.start, ReportMonth.last_day <= period.end).order_by(ReportMonth.month)).all()
    if not months:
        return day_model
    ranges, start = [], period.start
    for first, last in months:
        if start < first:
            ranges.append((start, first - timedelta(days=1)))
        start = last + timedelta(days=1)
    if start <= period.end:
        ranges.append((start, period.end))
    keys, sums = _summed(day_model)
    d, m = day_model.__table__, month_model.__table__
    parts = [select(m.c.id, m.c.month.label("day"), *(m.c[c] for c in keys + sums))
             .where(m.c.month.in_([first for first, _ in months]))]
    if ranges:
        parts.append(select(d.c.id, d.c.day, *(d.c[c] for c in keys + sums))
                     .where(or_(*(d.c.day.between(a, b) for a, b in ranges))))
    return aliased(day_model, union_all(*parts).subquery(), adapt_on_names=True)


def db_session():
    from ..extensions import db

    return db.session


def line_net():
    """A line's net amount: qty × price less the line discount, before tax."""
    from ..models import ItemLine

    return ItemLine.qty * ItemLine.rate * (100 - func.coalesce(ItemLine.discount_percent, 0)) / 100


def line_text():
    """What names a line without a catalog item: its description (NULL when it has an item)."""
    from ..models import ItemLine

    return case((ItemLine.item_id.is_(None), ItemLine.description), else_=None)


def _item_source(where=None):
    from ..models import Invoice, ItemLine
    from .sales import invoiced_statuses

    groups = (Invoice.date, Invoice.currency, own_rate(), ItemLine.item_id, line_text())
    q = (select(*groups, func.count(ItemLine.id), func.sum(ItemLine.qty), func.sum(line_net()))
         .select_from(ItemLine).join(Invoice, (Invoice.id == ItemLine.rel_id) & (ItemLine.rel_type == "invoice"))
         .where(Invoice.status.in_(invoiced_statuses()),
                or_(ItemLine.is_optional.is_(False), ItemLine.is_selected.is_(True)))
         .group_by(*groups))
    return q if where is None else q.where(where)


def rebuild(session=None) -> None:
    """Every daily roll-up from the raw tables, then every finished month."""
    session = session or db_session()
    refresh(session, None)
    build_months(session)


# --- noting what a transaction touched -------------------------------------------------------
# Per side, so a commit recomputes only the roll-ups its change can move: a payment moves no
# invoiced line, a new invoice no payment, a changed total no line.

PAYMENT_SIDE_KEYS = {"status", "currency", "exchange_rate", "sale_agent", "clientid"}  # of the invoice
ITEM_SIDE_KEYS = {"date", "currency", "exchange_rate"}


def _notes(session) -> dict:
    return session.info.setdefault("report_rollup", {"cells": {side: set() for side in SIDES},
                                                     "invoices": {side: set() for side in SIDES},
                                                     "payments": set()})


def _changed(state, names) -> set:
    return {n for n in names if state.attrs[n].history.has_changes()}


def _crosses_invoiced(state) -> bool:
    """The status moved into or out of the invoiced ones (the item roll-up counts only those)."""
    from .sales import invoiced_statuses

    history = state.attrs.status.history
    if not history.deleted:
        return True  # set without its old value loaded: it may have moved
    after = (history.added or [None])[0]
    return (history.deleted[0] in invoiced_statuses()) != (after in invoiced_statuses())


# what moves a row to other cells (the after-flush read at commit covers every other change)
MOVES = {"invoice": {"date", "sale_agent", "clientid"}, "payment": {"sale_agent", "clientid"}, "item": {"date"},
         "line": {"rel_id", "rel_type", "item_id", "description"}, "paid": {"date", "invoiceid"}}
# what changes a row's figures (or its cells)
COUNTS = {"invoice": set(INVOICE_KEYS), "payment": PAYMENT_SIDE_KEYS, "item": ITEM_SIDE_KEYS,
          "line": set(LINE_KEYS), "paid": set(PAYMENT_KEYS)}


def _touched(session, objs, keys=COUNTS):
    """Invoices among ``objs`` by the sides a change of their ``keys`` moves (a changed invoice line
    moves its invoice's items), and payments with such a change: ({side: ids}, ids). New and
    deleted rows count whole."""
    from ..models import Invoice, InvoicePayment, ItemLine

    inv, pay = {side: set() for side in SIDES}, set()
    for obj in objs:
        whole = obj in session.deleted or obj in session.new
        if isinstance(obj, ItemLine):
            if obj.rel_type == "invoice" and (whole or _changed(inspect(obj), keys["line"])):
                inv["item"].update(v for v in (obj.rel_id, *inspect(obj).attrs.rel_id.history.deleted)
                                   if v is not None)
        elif isinstance(obj, Invoice) and obj.id is not None:
            state = inspect(obj)
            changed = set(INVOICE_KEYS) if whole else _changed(state, keys["invoice"])
            if changed:
                inv["invoice"].add(obj.id)
            if changed & keys["payment"]:
                inv["payment"].add(obj.id)
            if whole or changed & keys["item"] or (keys is COUNTS and "status" in changed and _crosses_invoiced(state)):
                inv["item"].add(obj.id)
        elif isinstance(obj, InvoicePayment) and obj.id is not None and (
                whole or _changed(inspect(obj), keys["paid"])):
            pay.add(obj.id)
    return inv, pay


def _read(session, query, *ids) -> set:
    """The rows of ``query(*chunks)`` over the id lists ``ids``, CHUNK ids of each per statement."""
    rows = set()
    ids = [sorted(i) for i in ids]
    for at in range(0, max(map(len, ids)), CHUNK):
        rows.update(tuple(r) for r in session.execute(query(*(i[at:at + CHUNK] for i in ids))))
    return rows


def _cells_of(session, invoices: dict, payments=()) -> dict:
    """{side: cells} of these invoices (by side: their own cells, their lines', their payments')
    and payments, as the database has them."""
    from ..models import Invoice, InvoicePayment, ItemLine

    def paid(of_invoices, own):
        return (select(InvoicePayment.date, Invoice.sale_agent, Invoice.clientid).distinct()
                .join(Invoice, Invoice.id == InvoicePayment.invoiceid)
                .where(or_(InvoicePayment.invoiceid.in_(of_invoices), InvoicePayment.id.in_(own))))

    return {"invoice": _read(session, lambda c: select(Invoice.date, Invoice.sale_agent, Invoice.clientid)
                             .where(Invoice.id.in_(c)), invoices.get("invoice", ())),
            "item": _read(session, lambda c: select(Invoice.date, ItemLine.item_id, line_text()).distinct()
                          .join(Invoice, (Invoice.id == ItemLine.rel_id) & (ItemLine.rel_type == "invoice"))
                          .where(Invoice.id.in_(c)), invoices.get("item", ())),
            "payment": _read(session, paid, invoices.get("payment", ()), payments)}


def _add_cells(notes, cells: dict) -> None:
    for side, cs in cells.items():
        notes["cells"][side].update(cs)


@sa_event.listens_for(Session, "before_flush")
def _note_before_flush(session, flush_context, instances) -> None:
    """The cells of deleted rows and of rows about to move to other cells, read before the flush
    changes them (the cells after it are read at commit)."""
    inv, pay = _touched(session, (*session.dirty, *session.deleted), MOVES)
    if any(inv.values()) or pay:  # (lines of a new invoice have no id to read yet: noted after the flush)
        with session.no_autoflush:
            _add_cells(_notes(session), _cells_of(session, inv, pay))


@sa_event.listens_for(Session, "after_flush")
def _note_after_flush(session, flush_context) -> None:
    """New and changed rows, read again at commit (their cells after the change)."""
    inv, pay = _touched(session, (*session.new, *session.dirty))
    if any(inv.values()) or pay:
        notes = _notes(session)
        for side, ids in inv.items():
            notes["invoices"][side].update(ids)
        notes["payments"].update(pay)


@sa_event.listens_for(Session, "do_orm_execute")
def _note_bulk(orm_execute_state) -> None:
    """UPDATE/DELETE statements on invoices or payments run through the session: note their rows
    (every side: the statement's values are not looked into)."""
    from ..models import Invoice, InvoicePayment

    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    stmt = orm_execute_state.statement
    table = getattr(stmt, "table", None)
    if table is None or table.name not in (Invoice.__tablename__, InvoicePayment.__tablename__):
        return
    model = Invoice if table.name == Invoice.__tablename__ else InvoicePayment
    if orm_execute_state.is_update:
        values = {getattr(c, "key", str(c)) for c in (stmt._values or {})}
        if not values & set(INVOICE_KEYS if model is Invoice else PAYMENT_KEYS):
            return
    session = orm_execute_state.session
    q = select(model.id)
    if stmt.whereclause is not None:
        q = q.where(stmt.whereclause)
    ids = set(session.scalars(q))
    invoices = dict.fromkeys(SIDES, ids) if model is Invoice else {}
    payments = ids if model is InvoicePayment else set()
    notes = _notes(session)
    _add_cells(notes, _cells_of(session, invoices, payments))  # before the statement; after it at commit
    for side, ids in invoices.items():
        notes["invoices"][side].update(ids)
    notes["payments"].update(payments)


@sa_event.listens_for(Session, "before_commit")
def settle(session) -> None:
    """Bring the roll-ups up to date with what this session changed so far. Runs before every
    commit; figures read from the roll-ups call it first, so a transaction sees its own changes."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # notes what is still pending (the commit would flush it after this hook)
    if "report_rollup" not in session.info:
        return
    notes = session.info.pop("report_rollup")
    _add_cells(notes, _cells_of(session, notes["invoices"], notes["payments"]))
    refresh(session, notes["cells"])


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop("report_rollup", None)
