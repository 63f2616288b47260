"""Keeps the daily roll-ups (crm/reports/models.py) equal to the invoices, their lines and
their payments.

Each invoice, payment and invoiced line counts in one row of each of its roll-ups (its
*contribution*: the row's key and the figures it adds). Whatever changes such a row (grid, API,
actions, imports, jobs; an UPDATE/DELETE statement run through the session too), the session
reads, just before the first flush or statement that changes it, what the row and the rows its
change moves contributed: an invoice's own, and by the columns changed its payments' (counted
under its currency, rate, status, sale agent and client) and its lines' (its date, currency,
rate, invoiced or not). Just before the commit it reads the same rows again and writes the
difference, after minus before, as rows of tblreport_pending (*moves*, one INSERT): a commit reads
and writes the rows it changed and one INSERT, never a roll-up row or the rest of their day, so
it costs the same on a busy day as on a quiet one and two commits on the same day do not wait
for each other.

``fold`` moves the pending rows into the daily roll-ups (the job fold_report_rollups, asked for by
the commits every ``FOLD_EVERY`` moves a process writes, and every minute by the clock); every
reader reads a daily roll-up together with its pending moves (``current``, ``spanned``), so a
figure is the same before and after a fold. A roll-up row a move cannot apply to (missing, or left
with a count of zero and an amount) is recomputed from the raw rows of its cell: the roll-ups mend
themselves. ``rebuild()`` (``flask crm reports-rebuild``, the migration, the benchmark loader)
recomputes everything.

The client and item roll-ups also have monthly tables, a cache of finished months: a fold that
moves a day of a finished month takes that month out of tblreport_month (``spanned`` then reads
its days), and the hourly job build_report_months sums it again (``build_months``).

The commit's own statements (contributions, the moves, the lock) are Core statements run on the
session's connection, not through ``session.execute``: the ORM's execution (its compile step, the
session's statement hooks) adds nothing to them and cost most of a commit.

Concurrent writers: a commit that writes moves holds the roll-up lock shared until it ends; a fold,
a rebuild or a month build holds it alone (``_serialise``), so none of them sees half of a commit:
a cell recomputed from the raw rows never has a committed move left to add again.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import (
    Date,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)

from crm.core.bulk import InsertRows, insert_together
from crm.core.extensions import db
from crm.core.jobs.runner import job

CHUNK = 500  # cells (or ids) per IN list
SIDES = ("invoice", "payment", "item")  # the roll-ups of invoices, of payments, of invoiced lines
KINDS = {"invoice": "invoice", "payment": "payment", "item": "line"}  # the rows each side's roll-ups count
# columns whose change moves an invoice (or its payments) to another roll-up row
INVOICE_KEYS = ("date", "status", "total", "currency", "exchange_rate", "sale_agent", "clientid")
PAYMENT_KEYS = ("date", "amount", "invoiceid")
LINE_KEYS = ("rel_id", "rel_type", "qty", "rate", "discount_percent", "item_id", "description", "is_optional",
             "is_selected")
_LOCK = 7_340_181  # PostgreSQL advisory lock id of the roll-up refresh
_LOCK_ROW = "report_rollup_lock"  # its tbloptions row on MariaDB/MySQL


def specs():
    """(roll-up model, "invoice"|"payment", the invoice column of its key)."""
    # cycle: models -> models.report_rollup -> reports.rollup
    from crm.reports.models import ReportInvoiceClientDay, ReportInvoiceDay, ReportPaymentClientDay, ReportPaymentDay
    from crm.sales.models.documents import Invoice

    return [(ReportInvoiceDay, "invoice", Invoice.sale_agent), (ReportInvoiceClientDay, "invoice", Invoice.clientid),
            (ReportPaymentDay, "payment", Invoice.sale_agent), (ReportPaymentClientDay, "payment", Invoice.clientid)]


def own_rate():
    from crm.sales.models.documents import Invoice  # cycle: models -> models.report_rollup -> reports.rollup

    return func.nullif(Invoice.exchange_rate, 0, type_=Invoice.exchange_rate.type)  # typed: read back as Decimal


def _source(side: str, key, where=None):
    """The roll-up rows (of the cells ``where`` selects; None: all), computed from the raw tables."""
    from crm.sales.models.documents import (  # cycle: models -> models.report_rollup -> reports.rollup
        Invoice,
        InvoicePayment,
    )

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
    keys: list  # the columns of a row's key, in the order of a contribution's key
    sums: list  # its summed columns: the count first
    contribution: Callable  # a contribution (see _contributions) -> (key, figures)
    cell: tuple  # the key's positions naming a cell: the day, then the sale agent / client or item and text
    source: Callable  # source(where): the rows of the cells ``where`` selects, from the raw tables (None: all)
    exprs: list  # the source's expressions of the cell's columns


@cache  # the same five for the life of the process
def _rollups() -> tuple[_Rollup, ...]:
    # cycle: models -> models.report_rollup -> reports.rollup
    from crm.reports.models import ReportItemDay
    from crm.sales.models.documents import Invoice, InvoicePayment, ItemLine

    out = []
    for model, side, key in specs():
        by = 4 if key.key == "sale_agent" else 5  # a contribution: (day, currency, rate, status, agent, client, amount)
        out.append(_Rollup(side, model.__table__, ["day", "currency", "rate", "status", key.key], ["count", "amount"],
                           lambda c, by=by: ((*c[:4], c[by]), (1, c[6])), (0, 4),
                           lambda where, side=side, key=key: _source(side, key, where),
                           [Invoice.date if side == "invoice" else InvoicePayment.date, key]))
    out.append(_Rollup("item", ReportItemDay.__table__, ["day", "currency", "rate", "item_id", "text"],
                       ["lines", "quantity", "net"], lambda c: (c[:5], (1, c[5], c[6])), (0, 3, 4),
                       _item_source, [Invoice.date, ItemLine.item_id, line_text()]))
    return tuple(out)


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


def _chunks(items):
    items = sorted(items, key=repr)
    return (items[i:i + CHUNK] for i in range(0, len(items), CHUNK))


def _serialise(session) -> None:
    """The roll-up lock alone, until this transaction ends: one fold, rebuild or month build at a
    time (two folds must not both insert a roll-up row), and no commit writing moves meanwhile
    (``_share``). PostgreSQL: a transaction-level advisory lock. MariaDB/MySQL, which have none: the
    row lock of an upsert of one tbloptions row (created by the first one). SQLite has one writer at
    a time anyway."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    elif dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as upsert

        from crm.core.models.settings import Option  # cycle: models -> models.report_rollup -> reports.rollup

        session.connection().execute(upsert(Option.__table__).values(name=_LOCK_ROW, value="", autoload=False)
                                     .on_duplicate_key_update(value=""))


_SHARE_PG = select(func.pg_advisory_xact_lock_shared(_LOCK))


def _share(session) -> None:
    """The roll-up lock, shared with other commits writing moves, until this transaction ends: a
    fold, rebuild or month build (``_serialise``) waits for them and they for it."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection().execute(_SHARE_PG)
    elif dialect in ("mysql", "mariadb"):
        from crm.core.models.settings import Option  # cycle: models -> models.report_rollup -> reports.rollup

        t = Option.__table__
        row = session.connection().execute(select(t.c.name).where(t.c.name == _LOCK_ROW).with_for_update(read=True))
        if row.first() is None:  # (the first time: the row a share lock takes, never a gap)
            _serialise(session)


def _recompute(session, r: _Rollup, cells=None) -> None:
    """The roll-up's rows of ``cells`` (None: all) recomputed from the raw tables."""
    t = r.table
    filled = [t.c[c] for c in r.keys + r.sums]
    if cells is None:
        session.execute(delete(t))
        session.execute(insert(t).from_select(filled, r.source(None)))
        return
    columns = [t.c[r.keys[i]] for i in r.cell]
    for chunk in _chunks(cells):
        session.execute(delete(t).where(_cells_where(columns, chunk)))
        session.execute(insert(t).from_select(filled, r.source(_cells_where(r.exprs, chunk))))


def _rows(session, wanted: list) -> list[dict]:
    """The roll-up rows of the cells asked, [(roll-up, cells)] -> per roll-up {key: (id, figures)},
    read in one statement per shape of roll-up (the four of invoices and payments share theirs)."""
    by_shape: dict[tuple, list] = {}
    for i, (r, cells) in enumerate(wanted):
        t = r.table
        for chunk in _chunks(cells):
            by_shape.setdefault(tuple(r.sums), []).append(
                select(literal(i), t.c.id, *(t.c[c] for c in r.keys + r.sums))
                .where(_cells_where([t.c[r.keys[at]] for at in r.cell], chunk)))
    out = [{} for _ in wanted]
    for parts in by_shape.values():
        for i, row_id, *values in session.connection().execute(parts[0] if len(parts) == 1 else union_all(*parts)):
            n = len(wanted[i][0].keys)
            out[i][tuple(values[:n])] = (row_id, values[n:])
    return out


def _apply(session, r: _Rollup, moves: dict, rows: dict) -> None:
    """Move the roll-up's ``rows`` ({key: (id, figures)}) by ``moves`` ({key: figures to add}): a
    row left with nothing is deleted, a new key inserted; a cell a move does not fit is recomputed
    from the raw tables."""
    t = r.table
    changed, added, emptied, broken = [], [], [], set()
    for key, move in moves.items():
        row_id, had = rows.get(key, (None, (0,) * len(move)))
        figures = [a + b for a, b in zip(had, move)]
        if figures[0] > 0 and row_id:
            changed.append({"_id": row_id, **dict(zip(r.sums, figures))})
        elif figures[0] > 0:
            added.append(dict(zip(r.keys + r.sums, (*key, *figures))))
        elif figures[0] == 0 and not any(figures):
            if row_id:
                emptied.append(row_id)
        else:  # fewer than nothing: the row was not what the raw rows say
            broken.add(tuple(key[i] for i in r.cell))
    if changed:
        session.connection().execute(update(t).where(t.c.id == bindparam("_id")).values({s: bindparam(s) for s in r.sums}),
                        changed)
    if added:
        session.connection().execute(insert(t), added)
    if emptied:
        session.connection().execute(delete(t).where(t.c.id.in_(emptied)))
    if broken:
        _recompute(session, r, broken)


def _move(session, moves: list) -> None:
    """Apply [(roll-up, {key: figures})] (the non-zero moves) to the roll-up rows (a fold), then
    forget the finished months of the days moved."""
    moves = [(r, m) for r, m in ((r, {k: v for k, v in m.items() if any(v)}) for r, m in moves) if m]
    if not moves:
        return
    _serialise(session)
    found = _rows(session, [(r, {tuple(key[i] for i in r.cell) for key in m}) for r, m in moves])
    for (r, m), rows in zip(moves, found):
        _apply(session, r, m, rows)
    _forget_months(session, {key[0].replace(day=1) for _, m in moves for key in m if key[0] is not None})


# --- moves written by commits, folded in later ------------------------------------------------

FOLD_EVERY = 500  # pending moves a process writes before it asks for a fold


def _pending():
    from crm.reports.models import ReportPending  # cycle: models -> models.report_rollup -> reports.rollup

    return ReportPending.__table__


_written = [0]  # pending moves this process wrote since it last asked for a fold


@cache
def _pending_writer() -> InsertRows:
    p = _pending()
    return InsertRows(p, [c.name for c in p.c if c.name != "id"])


def _journal(session, moves: list) -> None:
    """Write [(roll-up, {key: figures})] (the non-zero moves) as pending rows, in one INSERT (on
    PostgreSQL the same statement takes the shared lock: one round trip); every
    ``FOLD_EVERY`` of them, ask for a fold after the commit."""
    p = _pending()
    blank = dict.fromkeys(c.name for c in p.c if c.name != "id")  # one shape for every row: one statement
    rows = [{**blank, "rollup": r.table.name, **dict(zip(r.keys, key)), **dict(zip(r.sums, figures))}
            for r, m in moves for key, figures in m.items() if any(figures)]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":  # the shared lock and the rows: one statement
        insert_together(session.connection(), [(_pending_writer(), rows)], then=_SHARE_PG)
    else:
        _share(session)
        session.connection().execute(insert(p), rows)
    _written[0] += len(rows)
    if _written[0] >= FOLD_EVERY:
        _written[0] = 0
        from crm.core.jobs import enqueue  # cycle: models -> models.report_rollup -> reports.rollup

        enqueue(fold_report_rollups)


def fold(session) -> int:
    """Move every committed pending row into its daily roll-up (mending the cells a move does not
    fit) and delete it; returns how many were folded. Holds the roll-up lock alone until the end
    of the transaction: commits writing moves wait for it, and it for them."""
    p = _pending()
    _serialise(session)
    found = session.connection().execute(select(p).with_for_update()).all()
    if not found:
        return 0
    by_table = {r.table.name: (r, {}) for r in _rollups()}
    for row in found:
        r, into = by_table[row.rollup]
        key, figures = tuple(row._mapping[k] for k in r.keys), [row._mapping[s] or 0 for s in r.sums]
        total = into.setdefault(key, [0] * len(figures))
        for i, f in enumerate(figures):
            total[i] += f
    _move(session, list(by_table.values()))
    ids = sorted(row.id for row in found)
    for at in range(0, len(ids), CHUNK):
        session.connection().execute(delete(p).where(p.c.id.in_(ids[at:at + CHUNK])))
    return len(found)


@job
def fold_report_rollups():
    """The job: fold the pending roll-up moves (crm/jobs/periodic.py also runs it every minute)."""
    folded = fold(db_session())
    db_session().commit()
    return f"{folded} pending report roll-up move(s) folded"


def differences(session) -> list[str]:
    """The cells where a daily roll-up, read with its pending moves as the reports read it, differs
    from its raw rows (empty: exact). Reads every raw row: a check (the load test), not a report."""
    out = []
    for r in _rollups():
        t, n = r.table, len(r.keys)
        want = {tuple(row[:n]): tuple(row[n:]) for row in session.execute(r.source(None))}
        both = _as_it_stands(t)
        got = {tuple(row[:n]): tuple(row[n:]) for row in session.execute(
            select(*(both.c[k] for k in r.keys), *(func.sum(both.c[s]) for s in r.sums))
            .group_by(*(both.c[k] for k in r.keys)))
            if any(row[n:])}
        for key in sorted(want.keys() | got.keys(), key=repr):
            if tuple(v or 0 for v in want.get(key, ())) != tuple(v or 0 for v in got.get(key, ())):
                out.append(f"{t.name} {key}: the raw rows say {want.get(key)}, the roll-up {got.get(key)}")
    return out


def _as_it_stands(table):
    """A daily roll-up's rows and its pending moves, one UNION ALL subquery with the table's columns
    (a key may come more than once: sum its figures)."""
    p = _pending()
    names = [c.name for c in table.c]
    return union_all(select(*(table.c[n] for n in names)),
                     select(*(p.c[n] for n in names)).where(p.c.rollup == table.name)).subquery()


def current(day_model):
    """``day_model`` as it stands: its rows and the pending moves not folded into them yet (an
    alias of ``day_model``: read it as the table; sum its figures, as a row may come twice)."""
    from sqlalchemy.orm import aliased

    return aliased(day_model, _as_it_stands(day_model.__table__), adapt_on_names=True)


# --- monthly roll-ups (crm/reports/models.py: a cache of finished months) --------------

def monthly():
    """(daily roll-up, its monthly roll-up): the keys too large for a year of daily rows."""
    # cycle: models -> models.report_rollup -> reports.rollup
    from crm.reports.models import (
        ReportInvoiceClientDay,
        ReportInvoiceClientMonth,
        ReportItemDay,
        ReportItemMonth,
        ReportPaymentClientDay,
        ReportPaymentClientMonth,
    )

    return [(ReportInvoiceClientDay, ReportInvoiceClientMonth), (ReportPaymentClientDay, ReportPaymentClientMonth),
            (ReportItemDay, ReportItemMonth)]


def _summed(day_model) -> tuple[list[str], list[str]]:
    """A daily roll-up's key columns and summed columns."""
    names = [c.name for c in day_model.__table__.c if c.name not in ("id", "day")]
    sums = [n for n in names if n in ("count", "amount", "lines", "quantity", "net")]
    return [n for n in names if n not in sums], sums


def _forget_months(session, months) -> None:
    """Take the months (all: None) out of tblreport_month: their days are read until they are built again."""
    from crm.reports.models import ReportMonth  # cycle: models -> models.report_rollup -> reports.rollup

    t = ReportMonth.__table__
    if months is None:
        session.execute(delete(t))
    elif months := sorted(m for m in months if m < date.today().replace(day=1)):  # only finished ones are built
        session.connection().execute(delete(t).where(t.c.month.in_(months)))


def _month_end(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def build_months(session, today: date | None = None) -> int:
    """Sum the finished months that are not in tblreport_month from their daily rows. Returns how
    many months were built."""
    from crm.reports.models import ReportMonth  # cycle: models -> models.report_rollup -> reports.rollup

    first_open = (today or date.today()).replace(day=1)
    fold(session)  # (holds the lock: no commit writes moves until this transaction ends)
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
    """``day_model`` for ``period``, read from ``month_model`` for the whole built months it covers,
    from ``day_model`` for its other days, and the period's pending moves (an alias of ``day_model``:
    reports use it alike, summing its figures)."""
    from sqlalchemy.orm import aliased

    from crm.reports.models import ReportMonth  # cycle: models -> models.report_rollup -> reports.rollup

    session = db_session()
    settle(session)  # this transaction's own changes are read too
    months = session.execute(select(ReportMonth.month, ReportMonth.last_day).where(
        ReportMonth.month >= period.start, ReportMonth.last_day <= period.end).order_by(ReportMonth.month)).all()
    if not months:
        return current(day_model)
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
    p = _pending()  # every pending move of the period: a fold takes a month it moves out of tblreport_month
    parts.append(select(p.c.id, p.c.day, *(p.c[c] for c in keys + sums))
                 .where(p.c.rollup == d.name, p.c.day.between(period.start, period.end)))
    return aliased(day_model, union_all(*parts).subquery(), adapt_on_names=True)


def db_session():
    return db.session


def line_net():
    """A line's net amount: qty × price less the line discount, before tax."""
    from crm.sales.models.documents import ItemLine  # cycle: models -> models.report_rollup -> reports.rollup

    return ItemLine.qty * ItemLine.rate * (100 - func.coalesce(ItemLine.discount_percent, 0)) / 100


def line_text():
    """What names a line without a catalog item: its description (NULL when it has an item)."""
    from crm.sales.models.documents import ItemLine  # cycle: models -> models.report_rollup -> reports.rollup

    return case((ItemLine.item_id.is_(None), ItemLine.description), else_=None)


def _invoiced_lines(*columns):
    """``columns`` of the lines the item roll-up counts: of invoiced invoices, optional ones only
    when selected."""
    from crm.sales.invoice_status import invoiced_statuses  # cycle: models -> models.report_rollup -> reports.rollup
    from crm.sales.models.documents import Invoice, ItemLine  # cycle: models -> models.report_rollup -> reports.rollup

    return (select(*columns).select_from(ItemLine)
            .join(Invoice, (Invoice.id == ItemLine.rel_id) & (ItemLine.rel_type == "invoice"))
            .where(Invoice.status.in_(invoiced_statuses()),
                   or_(ItemLine.is_optional.is_(False), ItemLine.is_selected.is_(True))))


def _item_source(where=None):
    from crm.sales.models.documents import Invoice, ItemLine  # cycle: models -> models.report_rollup -> reports.rollup

    groups = (Invoice.date, Invoice.currency, own_rate(), ItemLine.item_id, line_text())
    q = _invoiced_lines(*groups, func.count(ItemLine.id), func.sum(ItemLine.qty), func.sum(line_net()))
    q = q.group_by(*groups)
    return q if where is None else q.where(where)


def rebuild(session=None) -> None:
    """Every daily roll-up from the raw tables, then every finished month."""
    session = session or db_session()
    _serialise(session)
    for r in _rollups():
        _recompute(session, r)
    session.execute(delete(_pending()))  # (the commits that wrote them are in the raw rows just read)
    _forget_months(session, None)
    build_months(session)


# --- what the rows of a transaction contributed, before and after ----------------------------
# Per side, so a commit reads only what its change can move: a payment moves no invoiced line, a
# new invoice no payment, a changed total no line.

PAYMENT_SIDE_KEYS = {"status", "currency", "exchange_rate", "sale_agent", "clientid"}  # of the invoice
ITEM_SIDE_KEYS = {"date", "currency", "exchange_rate"}
COUNTS = {"invoice": set(INVOICE_KEYS), "payment": PAYMENT_SIDE_KEYS, "item": ITEM_SIDE_KEYS,
          "line": set(LINE_KEYS), "paid": set(PAYMENT_KEYS)}


@cache  # built once: the ids are bound at each run (expanding IN), so only the rows read cost
def _contribution_queries() -> dict:
    """The statements reading contributions: {"invoice"|"payment"|"both": invoices and/or
    payments (same columns, one statement), "line": invoiced lines}."""
    from crm.sales.models.documents import (  # cycle: models -> models.report_rollup -> reports.rollup
        Invoice,
        InvoicePayment,
        ItemLine,
    )

    def ids(name):
        return bindparam(name, expanding=True)

    invoices = (select(literal("invoice"), Invoice.id, Invoice.date, Invoice.currency, own_rate(), Invoice.status,
                       Invoice.sale_agent, Invoice.clientid, Invoice.total).where(Invoice.id.in_(ids("inv"))))
    payments = (select(literal("payment"), InvoicePayment.id, InvoicePayment.date, Invoice.currency, own_rate(),
                       Invoice.status, Invoice.sale_agent, Invoice.clientid, InvoicePayment.amount)
                .join(Invoice, Invoice.id == InvoicePayment.invoiceid)
                .where(or_(InvoicePayment.id.in_(ids("pay")), InvoicePayment.invoiceid.in_(ids("pay_of")))))
    lines = (_invoiced_lines(ItemLine.id, Invoice.date, Invoice.currency, own_rate(), ItemLine.item_id, line_text(),
                             ItemLine.qty, line_net())
             .where(or_(ItemLine.id.in_(ids("lin")), ItemLine.rel_id.in_(ids("lin_of")))))
    return {"invoice": invoices, "payment": payments, "both": union_all(invoices, payments), "line": lines}


def _contributions(session, invoices=(), payments=(), payments_of=(), lines=(), lines_of=()) -> dict:
    """What rows count in the roll-ups now, as {kind: {id: contribution}}: ``invoices``;
    ``payments`` and the payments of the invoices ``payments_of`` (day, currency, rate, status,
    sale agent, client, amount); ``lines`` and the lines of the invoices ``lines_of`` (day,
    currency, rate, item, text, quantity, net). A row that counts nowhere is left out."""
    queries = _contribution_queries()
    out = {kind: {} for kind in KINDS.values()}
    ids = [sorted(i) for i in (invoices, payments, payments_of, lines, lines_of)]
    for at in range(0, max(map(len, ids)), CHUNK):
        inv, pay, pay_of, lin, lin_of = (i[at:at + CHUNK] for i in ids)
        which = "both" if inv and (pay or pay_of) else "invoice" if inv else "payment" if pay or pay_of else None
        if which:  # invoices and payments in one statement
            rows = session.connection().execute(queries[which], {"inv": inv, "pay": pay, "pay_of": pay_of})
            for kind, row_id, *c in rows:
                out[kind][row_id] = tuple(c)
        if lin or lin_of:
            rows = session.connection().execute(queries["line"], {"lin": lin, "lin_of": lin_of})
            out["line"].update((row_id, tuple(c)) for row_id, *c in rows)
    return out


def _notes(session) -> dict:
    """``before``: {kind: {id: contribution or None}} of every row followed, as the transaction
    found it; ``families``: {kind: invoice ids} whose payments / lines are all followed."""
    return session.info.setdefault("report_rollup", {"before": {kind: {} for kind in KINDS.values()},
                                                     "families": {"payment": set(), "line": set()}})


def _follow(session, invoices: dict, payments=(), lines=()) -> None:
    """Follow these rows from now: invoices by the sides their change moves ({side: ids}: the
    invoice, its payments, its lines), payments and lines by id. Rows followed already keep
    what the transaction found."""
    notes = _notes(session)
    before, families = notes["before"], notes["families"]
    todo = {"invoices": set(invoices.get("invoice", ())) - before["invoice"].keys(),
            "payments": set(payments) - before["payment"].keys(),
            "payments_of": set(invoices.get("payment", ())) - families["payment"],
            "lines": set(lines) - before["line"].keys(),
            "lines_of": set(invoices.get("item", ())) - families["line"]}
    if not any(todo.values()):
        return
    with session.no_autoflush:
        found = _contributions(session, **todo)
    for kind, asked in (("invoice", todo["invoices"]), ("payment", todo["payments"]), ("line", todo["lines"])):
        for row_id in asked | found[kind].keys():
            before[kind].setdefault(row_id, found[kind].get(row_id))  # None: counted nowhere
    families["payment"] |= todo["payments_of"]
    families["line"] |= todo["lines_of"]


def _new(session, obj) -> None:
    """A row inserted by this transaction counted nowhere before it."""
    from crm.sales.models.documents import (  # cycle: models -> models.report_rollup -> reports.rollup
        Invoice,
        InvoicePayment,
        ItemLine,
    )

    if isinstance(obj, Invoice):
        notes = _notes(session)
        notes["before"]["invoice"].setdefault(obj.id, None)
        notes["families"]["payment"].add(obj.id)  # (its payments and lines are new too)
        notes["families"]["line"].add(obj.id)
    elif isinstance(obj, InvoicePayment):
        _notes(session)["before"]["payment"].setdefault(obj.id, None)
    elif isinstance(obj, ItemLine) and obj.rel_type == "invoice":
        _notes(session)["before"]["line"].setdefault(obj.id, None)


def _changed(state, names) -> set:
    return {n for n in names if state.attrs[n].history.has_changes()}


def _crosses_invoiced(state) -> bool:
    """The status moved into or out of the invoiced ones (the item roll-up counts only those)."""
    from crm.sales.invoice_status import invoiced_statuses  # cycle: models -> models.report_rollup -> reports.rollup

    history = state.attrs.status.history
    if not history.deleted:
        return True  # set without its old value loaded: it may have moved
    after = (history.added or [None])[0]
    return (history.deleted[0] in invoiced_statuses()) != (after in invoiced_statuses())


def _touched(session, objs):
    """Among ``objs`` (changed or deleted), the rows whose change moves a contribution: invoices
    by the sides it moves ({side: ids}), payments, invoice lines. Deleted rows count whole."""
    from crm.sales.models.documents import (  # cycle: models -> models.report_rollup -> reports.rollup
        Invoice,
        InvoicePayment,
        ItemLine,
    )

    inv, pay, lines = {side: set() for side in SIDES}, set(), set()
    for obj in objs:
        whole = obj in session.deleted
        state = inspect(obj)
        if isinstance(obj, ItemLine):
            was_invoice = "invoice" in (obj.rel_type, *state.attrs.rel_type.history.deleted)
            if was_invoice and obj.id is not None and (whole or _changed(state, COUNTS["line"])):
                lines.add(obj.id)
        elif isinstance(obj, Invoice) and obj.id is not None:
            changed = set(INVOICE_KEYS) if whole else _changed(state, COUNTS["invoice"])
            if changed:
                inv["invoice"].add(obj.id)
            if changed & COUNTS["payment"]:
                inv["payment"].add(obj.id)
            if whole or changed & COUNTS["item"] or ("status" in changed and _crosses_invoiced(state)) \
                    or _changed(state, ("items",)):  # (a line taken out is deleted by the flush: not seen here)
                inv["item"].add(obj.id)
            if _changed(state, ("payments",)):
                inv["payment"].add(obj.id)
        elif isinstance(obj, InvoicePayment) and obj.id is not None and (whole or _changed(state, COUNTS["paid"])):
            pay.add(obj.id)
    return inv, pay, lines


def _note_before_flush(session, flush_context, instances) -> None:
    """What the rows this flush changes or deletes contributed, read before it changes them."""
    inv, pay, lines = _touched(session, (*session.dirty, *session.deleted))
    if any(inv.values()) or pay or lines:
        _follow(session, inv, pay, lines)


def _note_after_flush(session, flush_context) -> None:
    for obj in session.new:
        _new(session, obj)


def _note_bulk(orm_execute_state) -> None:
    """UPDATE/DELETE statements on invoices, payments or lines run through the session: follow
    their rows before the statement changes them (an invoice on every side: the statement's
    values are not looked into)."""
    from crm.sales.models.documents import (  # cycle: models -> models.report_rollup -> reports.rollup
        Invoice,
        InvoicePayment,
        ItemLine,
    )

    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    stmt = orm_execute_state.statement
    model = {m.__tablename__: m for m in (Invoice, InvoicePayment, ItemLine)}.get(
        getattr(getattr(stmt, "table", None), "name", None))
    if model is None:
        return
    if orm_execute_state.is_update:
        values = {getattr(c, "key", str(c)) for c in (stmt._values or {})}
        if not values & set({Invoice: INVOICE_KEYS, InvoicePayment: PAYMENT_KEYS, ItemLine: LINE_KEYS}[model]):
            return
    session = orm_execute_state.session
    q = select(model.id)
    if stmt.whereclause is not None:
        q = q.where(stmt.whereclause)
    ids = set(session.scalars(q))
    if ids:
        _follow(session, dict.fromkeys(SIDES, ids) if model is Invoice else {},
                ids if model is InvoicePayment else (), ids if model is ItemLine else ())


def _moves(session, notes) -> list:
    """[(roll-up, {key: figures})]: what every followed row contributes now less what it did."""
    before, families = notes["before"], notes["families"]
    now = _contributions(session, before["invoice"], before["payment"], families["payment"], before["line"],
                         families["line"])
    moves = []
    for r in _rollups():
        kind, into = KINDS[r.side], {}
        moves.append((r, into))
        for contributions, sign in ((before[kind], -1), (now[kind], 1)):
            for c in contributions.values():
                if c is None:
                    continue
                key, figures = r.contribution(c)
                total = into.setdefault(key, [0] * len(figures))
                for i, f in enumerate(figures):
                    total[i] += sign * (f or 0)  # (a NULL amount adds nothing, as SUM has it)
    return moves


def settle(session) -> None:
    """Bring the roll-ups up to date with what this session changed so far. Runs before every
    commit, after every stage that writes rows (crm/core/commit_pipeline.py); figures read from the
    roll-ups call it first, so a transaction sees its own changes."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # follows what is still pending (the commit would flush it after this hook)
    if "report_rollup" not in session.info:
        return
    notes = session.info.pop("report_rollup")
    _journal(session, _moves(session, notes))


def _forget(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop("report_rollup", None)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("before_flush", "rollups.note", _note_before_flush)
    add("after_flush", "rollups.note", _note_after_flush)
    add("do_orm_execute", "rollups.note", _note_bulk)
    add("before_commit", "rollups.settle", settle)
    add("after_soft_rollback", "rollups.forget", _forget)
