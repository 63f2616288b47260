"""Keeps the daily roll-ups (crm/models/report_rollup.py) equal to the invoices, their lines and
their payments.

Whatever changes an invoice, an invoice line or a payment (grid, API, actions, imports, jobs; an
UPDATE/DELETE statement on invoices or payments run through the session too), the session notes
the days it touched: the invoice's date before and after (a line counts as its invoice), a
payment's date before and after, and the payment dates of a changed invoice (its payments are
counted under its currency, rate, status, sale agent and client). Just before the commit, each noted day is recomputed from the
raw tables with one GROUP BY per roll-up (delete + insert), so a roll-up is right by construction.
``rebuild()`` (``flask crm reports-rebuild``, the migration, the benchmark loader) does every day.

Concurrent writers: the recompute takes the roll-up's days in one short critical section at the
end of the transaction; on PostgreSQL a transaction-level advisory lock serialises it, so two
commits touching the same day cannot both insert that day's rows."""
from __future__ import annotations

from sqlalchemy import case, delete, func, insert, inspect, or_, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

CHUNK = 500  # days (or ids) per IN list
# columns whose change moves an invoice (or its payments) to another roll-up row
INVOICE_KEYS = ("date", "status", "total", "currency", "exchange_rate", "sale_agent", "clientid")
PAYMENT_KEYS = ("date", "amount", "invoiceid")
LINE_KEYS = ("rel_id", "rel_type", "qty", "rate", "discount_percent", "item_id", "description", "is_optional",
             "is_selected")
_LOCK = 7_340_181  # PostgreSQL advisory lock id of the roll-up refresh


def specs():
    """(roll-up model, "invoice"|"payment", the invoice column of its key)."""
    from ..models import Invoice, ReportInvoiceClientDay, ReportInvoiceDay, ReportPaymentClientDay, ReportPaymentDay

    return [(ReportInvoiceDay, "invoice", Invoice.sale_agent), (ReportInvoiceClientDay, "invoice", Invoice.clientid),
            (ReportPaymentDay, "payment", Invoice.sale_agent), (ReportPaymentClientDay, "payment", Invoice.clientid)]


def own_rate():
    from ..models import Invoice

    return func.nullif(Invoice.exchange_rate, 0)


def _source(side: str, key, days):
    """The roll-up rows of ``days`` (None: all days), computed from the raw tables."""
    from ..models import Invoice, InvoicePayment

    if side == "invoice":
        day, amount, counted, q = Invoice.date, Invoice.total, Invoice.id, select().select_from(Invoice)
    else:
        day, amount, counted = InvoicePayment.date, InvoicePayment.amount, InvoicePayment.id
        q = select().select_from(InvoicePayment).join(Invoice, Invoice.id == InvoicePayment.invoiceid)
    groups = (day, Invoice.currency, own_rate(), Invoice.status, key)
    q = q.add_columns(*groups, func.count(counted), func.sum(amount)).group_by(*groups)
    return q if days is None else q.where(day.in_(days))


def refresh(session, days=None) -> None:
    """Recompute the roll-up rows of ``days`` (an iterable of dates; None: rebuild everything)."""
    if days is not None:
        days = sorted({d for d in days if d is not None})
        if not days:
            return
    from ..models import ReportItemDay

    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    tables = [(m.__table__, ["day", "currency", "rate", "status", key.key, "count", "amount"],
               lambda chunk, side=side, key=key: _source(side, key, chunk)) for m, side, key in specs()]
    tables.append((ReportItemDay.__table__, ["day", "currency", "rate", "item_id", "text", "lines", "quantity",
                                             "net"], _item_source))
    chunks = [None] if days is None else [days[i:i + CHUNK] for i in range(0, len(days), CHUNK)]
    for t, cols, source in tables:
        for chunk in chunks:
            session.execute(delete(t) if chunk is None else delete(t).where(t.c.day.in_(chunk)))
            session.execute(insert(t).from_select([t.c[c] for c in cols], source(chunk)))


def line_net():
    """A line's net amount: qty × price less the line discount, before tax."""
    from ..models import ItemLine

    return ItemLine.qty * ItemLine.rate * (100 - func.coalesce(ItemLine.discount_percent, 0)) / 100


def line_text():
    """What names a line without a catalog item: its description (NULL when it has an item)."""
    from ..models import ItemLine

    return case((ItemLine.item_id.is_(None), ItemLine.description), else_=None)


def _item_source(days):
    from ..models import Invoice, ItemLine
    from .sales import invoiced_statuses

    groups = (Invoice.date, Invoice.currency, own_rate(), ItemLine.item_id, line_text())
    q = (select(*groups, func.count(ItemLine.id), func.sum(ItemLine.qty), func.sum(line_net()))
         .select_from(ItemLine).join(Invoice, (Invoice.id == ItemLine.rel_id) & (ItemLine.rel_type == "invoice"))
         .where(Invoice.status.in_(invoiced_statuses()),
                or_(ItemLine.is_optional.is_(False), ItemLine.is_selected.is_(True)))
         .group_by(*groups))
    return q if days is None else q.where(Invoice.date.in_(days))


def rebuild(session=None) -> None:
    from ..extensions import db

    refresh(session or db.session, None)


# --- noting what a transaction touched -------------------------------------------------------

def _notes(session) -> dict:
    return session.info.setdefault("report_rollup", {"days": set(), "invoices": set(), "payments": set()})


def _changed(state, names) -> bool:
    return any(state.attrs[n].history.has_changes() for n in names)


def _touched(session, objs):
    """Invoices and payments among ``objs`` whose reported columns change (a changed invoice line
    counts as its invoice): their ids."""
    from ..models import Invoice, InvoicePayment, ItemLine

    inv, pay = set(), set()
    for obj in objs:
        if isinstance(obj, ItemLine):
            if obj.rel_type != "invoice":
                continue
            if obj in session.deleted or obj in session.new or _changed(inspect(obj), LINE_KEYS):
                inv.update(v for v in (obj.rel_id, *inspect(obj).attrs.rel_id.history.deleted) if v is not None)
        elif isinstance(obj, (Invoice, InvoicePayment)) and obj.id is not None and (
                obj in session.deleted or obj in session.new
                or _changed(inspect(obj), INVOICE_KEYS if isinstance(obj, Invoice) else PAYMENT_KEYS)):
            (inv if isinstance(obj, Invoice) else pay).add(obj.id)
    return inv, pay


def _days_of(session, invoices=(), payments=()) -> set:
    """Dates of these invoices, of their payments and of these payments, as the database has them."""
    from ..models import Invoice, InvoicePayment

    days = set()
    for ids, queries in ((sorted(invoices), (
            lambda c: select(Invoice.date).where(Invoice.id.in_(c)),
            lambda c: select(InvoicePayment.date).distinct().where(InvoicePayment.invoiceid.in_(c)))),
            (sorted(payments), (lambda c: select(InvoicePayment.date).where(InvoicePayment.id.in_(c)),))):
        for i in range(0, len(ids), CHUNK):
            for q in queries:
                days.update(session.execute(q(ids[i:i + CHUNK])).scalars())
    return days


@sa_event.listens_for(Session, "before_flush")
def _note_before_flush(session, flush_context, instances) -> None:
    """The days changed or deleted rows are counted under now, read before the flush changes them."""
    inv, pay = _touched(session, (*session.dirty, *session.deleted))
    if inv or pay:  # (lines of a new invoice have no id to read yet: noted after the flush)
        with session.no_autoflush:
            _notes(session)["days"].update(_days_of(session, inv, pay))


@sa_event.listens_for(Session, "after_flush")
def _note_after_flush(session, flush_context) -> None:
    """New rows' days; changed rows are read again at commit (their days after the change)."""
    from ..models import Invoice, InvoicePayment

    new = [o for o in session.new if isinstance(o, (Invoice, InvoicePayment))]
    inv, pay = _touched(session, (*session.new, *session.dirty))
    if new or inv or pay:
        notes = _notes(session)
        notes["days"].update(o.date for o in new)
        notes["invoices"].update(inv)
        notes["payments"].update(pay)


@sa_event.listens_for(Session, "do_orm_execute")
def _note_bulk(orm_execute_state) -> None:
    """UPDATE/DELETE statements on invoices or payments run through the session: note their rows."""
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
    q = select(model.id, model.date)
    if stmt.whereclause is not None:
        q = q.where(stmt.whereclause)
    notes = _notes(orm_execute_state.session)
    for id_, day in orm_execute_state.session.execute(q):
        notes["days"].add(day)
        notes["invoices" if model is Invoice else "payments"].add(id_)


@sa_event.listens_for(Session, "before_commit")
def settle(session) -> None:
    """Bring the roll-ups up to date with what this session changed so far. Runs before every
    commit; figures read from the roll-ups call it first, so a transaction sees its own changes."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # notes what is still pending (the commit would flush it after this hook)
    if "report_rollup" not in session.info:
        return
    notes = session.info.pop("report_rollup")
    refresh(session, notes["days"] | _days_of(session, notes["invoices"], notes["payments"]))


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop("report_rollup", None)
