"""Sales figures: revenue invoiced and collected over a period, in the base currency.

Invoiced: invoices issued in the period (by invoice date) whose status is Unpaid (1), Partially
paid (3), Paid (2) or Overdue (4); drafts (6) are not issued and cancelled ones (5) are void.
Amounts are invoice totals (tax included). Collected: payments (tblinvoicepaymentrecords) by
payment date, whatever their invoice's status. Every figure is one GROUP BY over the daily
roll-ups (crm/reports/models.py: count and amount per day, currency, own rate, status and
sale agent or client; invoiced lines per day and item), kept equal to the invoices, lines and
payments at every commit by crm/reports/rollup.py (the client and item breakdowns read whole
finished months from their monthly roll-ups, the rest of the period from the daily ones). They are converted to the base currency as
single invoices are (amount × rate, the same rate for every row of a roll-up row), so the sums
are exactly those of the raw rows; Python only adds up the grouped rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import case, func, or_, select

from crm.catalog.models import Currency, Item
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.models.settings import Staff
from crm.reports.currency import base_currency, missing_warning, rate, rolled_rate
from crm.reports.models import (
    ReportInvoiceClientDay,
    ReportInvoiceClientMonth,
    ReportInvoiceDay,
    ReportItemDay,
    ReportItemMonth,
    ReportPaymentClientDay,
    ReportPaymentClientMonth,
    ReportPaymentDay,
)
from crm.reports.period import Period, bucket, bucket_label
from crm.reports.rollup import current, settle, spanned
from crm.sales.invoice_status import invoiced_statuses
from crm.sales.models.clients import Client
from crm.sales.models.documents import InvoiceStatus as S

TOP = 25  # rows of a breakdown; the rest is one "other" row, so the page stays readable


def rolled(rollup, *cols):
    """SELECT ``cols`` from a roll-up table with its currency outer-joined (the roll-ups brought
    up to date with this session's own changes first)."""
    settle(db.session)
    return select(*cols).select_from(rollup).outerjoin(Currency, Currency.id == rollup.currency)


def invoiced_in(rollup, period: Period) -> list:
    return [period.covers(rollup.day), rollup.status.in_(invoiced_statuses())]


def count(rollup):
    return func.sum(rollup.count)


def in_base_sum(rollup, base):
    return func.sum(rollup.amount * rolled_rate(rollup, base))


def _unconverted(rollup, base):
    return func.sum(case((rolled_rate(rollup, base).is_(None), rollup.count), else_=0))


def _int(n) -> int:
    return int(n or 0)  # SUM of a count is a Decimal on MariaDB


def missing_rates(rollup, where, base: str) -> list[dict]:
    """Currencies whose amounts ``where`` selects but cannot be converted: code, count, amount."""
    q = (rolled(rollup, Currency.name, count(rollup), func.sum(rollup.amount))
         .where(*where, rolled_rate(rollup, base).is_(None)).group_by(Currency.name).order_by(Currency.name))
    return [{"currency": name, "count": _int(n), "amount": money(total)} for name, n, total in db.session.execute(q)]


@dataclass
class Revenue:
    """Invoiced and collected over a period: per bucket, per invoice status, in total."""

    buckets: list[dict] = field(default_factory=list)  # bucket, label, invoices, invoiced, payments, collected
    statuses: list[dict] = field(default_factory=list)  # status, invoices, invoiced
    invoices: int = 0
    invoiced: Decimal = Decimal("0.00")
    payments: int = 0
    collected: Decimal = Decimal("0.00")
    warnings: list[str] = field(default_factory=list)


def revenue(period: Period, base: str | None = None) -> Revenue:
    """Two queries (invoices by bucket × status, payments by bucket), plus one per side that has
    amounts in a currency without a rate, to name it."""
    base = base_currency() if base is None else base
    I, P = current(ReportInvoiceDay), current(ReportPaymentDay)  # noqa: N806  (the daily roll-ups as they stand)
    b_inv = bucket(I.day, period.grain).label("bucket")
    inv_rows = db.session.execute(
        rolled(I, b_inv, I.status, count(I), in_base_sum(I, base), _unconverted(I, base))
        .where(*invoiced_in(I, period)).group_by(b_inv, I.status)).all()
    b_pay = bucket(P.day, period.grain).label("bucket")
    pay_rows = db.session.execute(
        rolled(P, b_pay, count(P), in_base_sum(P, base), _unconverted(P, base))
        .where(period.covers(P.day)).group_by(b_pay)).all()

    out = Revenue()
    buckets: dict[str, dict] = {}
    statuses: dict[int, dict] = {}

    def slot(start):
        label = bucket_label(start, period.grain)
        return buckets.setdefault(label, {"bucket": label, "invoices": 0, "invoiced": Decimal(0),
                                          "payments": 0, "collected": Decimal(0)})

    missing_inv = missing_pay = 0
    for start, status, n, amount, unconverted in inv_rows:
        row, n = slot(start), _int(n)
        row["invoices"] += n
        row["invoiced"] += Decimal(str(amount or 0))
        st = statuses.setdefault(status, {"status": status, "invoices": 0, "invoiced": Decimal(0)})
        st["invoices"] += n
        st["invoiced"] += Decimal(str(amount or 0))
        missing_inv += unconverted or 0
    for start, n, amount, unconverted in pay_rows:
        row, n = slot(start), _int(n)
        row["payments"] += n
        row["collected"] += Decimal(str(amount or 0))
        missing_pay += unconverted or 0
    for row in buckets.values():
        row["invoiced"], row["collected"] = money(row["invoiced"]), money(row["collected"])
    for st in statuses.values():
        st["invoiced"] = money(st["invoiced"])
    out.buckets = [buckets[k] for k in sorted(buckets)]
    out.statuses = [statuses[k] for k in invoiced_statuses() if k in statuses]
    out.invoices = sum(r["invoices"] for r in out.buckets)
    out.payments = sum(r["payments"] for r in out.buckets)
    out.invoiced = money(sum((r["invoiced"] for r in out.buckets), Decimal(0)))
    out.collected = money(sum((r["collected"] for r in out.buckets), Decimal(0)))
    if missing_inv:
        out.warnings += missing_warning("invoice(s)", missing_rates(I, invoiced_in(I, period), base), base)
    if missing_pay:
        out.warnings += missing_warning("payment(s)", missing_rates(P, [period.covers(P.day)], base), base)
    return out


# --- breakdowns --------------------------------------------------------------------------------

def _keys_in(key, keys):
    present = [k for k in keys if k is not None]
    cond = key.in_(present) if present else None
    if None in keys:
        cond = key.is_(None) if cond is None else or_(cond, key.is_(None))
    return cond if cond is not None else key.in_([])


def per_currency(rollup, key, where):
    """``rollup``'s rows summed per ``key``, currency and own rate (subquery: key, currency, rate,
    n, amount): converting these few rows gives the same sums as converting every row."""
    settle(db.session)
    return (select(key.label("key"), rollup.currency.label("currency"), rollup.rate.label("rate"),
                   func.sum(rollup.count).label("n"), func.sum(rollup.amount).label("amount"))
            .where(*where).group_by(key, rollup.currency, rollup.rate).subquery())


def in_base_rate(sub, base):
    """:func:`~.currency.rate` of a :func:`per_currency` row (Currency outer-joined on it)."""
    return rate(base, sub.c.currency, sub.c.rate)


def _two_sided(period: Period, base: str, invoices, payments, key: str, names: tuple, join):
    """Top invoiced groups of ``key`` (a roll-up column: sale_agent or clientid) with what was
    collected on their invoices.

    One query ranks the groups by amount invoiced (LIMIT TOP) on the invoices' roll-up; a second
    sums the payments' roll-up for the same groups. ``join`` (target, column it matches ``key``
    on) names the groups. Returns rows of key, names..., invoices, invoiced, payments, collected."""
    target, on = join
    inv_key, pay_key = getattr(invoices, key), getattr(payments, key)
    per_rate = per_currency(invoices, inv_key, invoiced_in(invoices, period))
    invoiced = func.sum(per_rate.c.amount * in_base_rate(per_rate, base))
    top = (select(per_rate.c.key, func.sum(per_rate.c.n).label("n"), invoiced.label("invoiced"))
           .select_from(per_rate).outerjoin(Currency, Currency.id == per_rate.c.currency)
           .group_by(per_rate.c.key).order_by(invoiced.desc(), per_rate.c.key).limit(TOP).subquery())
    inv = db.session.execute(
        select(top.c.key, *names, top.c.n, top.c.invoiced).select_from(top).outerjoin(target, on == top.c.key)
        .order_by(top.c.invoiced.desc(), top.c.key)).all()
    keys = [r[0] for r in inv]
    pay = {r[0]: r[1:] for r in db.session.execute(
        rolled(payments, pay_key, count(payments), in_base_sum(payments, base))
        .where(period.covers(payments.day), _keys_in(pay_key, keys)).group_by(pay_key))} if keys else {}
    rows = []
    for k, *rest in inv:
        *name_values, n, amount = rest
        n_pay, collected = pay.get(k, (0, 0))
        rows.append({"key": k, "names": name_values, "invoices": _int(n), "invoiced": money(amount or 0),
                     "payments": _int(n_pay), "collected": money(collected or 0)})
    return rows


def _with_other(rows: list[dict], totals: Revenue, label_key: str, other_label: str) -> list[dict]:
    """The rows plus one for the groups past the TOP, so a breakdown adds up to the period's totals
    (to the cent of rounding each row)."""
    rest = {"invoices": totals.invoices - sum(r["invoices"] for r in rows),
            "invoiced": money(totals.invoiced - sum((r["invoiced"] for r in rows), Decimal(0))),
            "payments": totals.payments - sum(r["payments"] for r in rows),
            "collected": money(totals.collected - sum((r["collected"] for r in rows), Decimal(0)))}
    # Only when there are other groups: each row's money is rounded on its own, so the amounts alone
    # may differ from the total by a cent without any group left out.
    if rest["invoices"] or rest["payments"]:
        rows.append({label_key: other_label, **rest})
    return rows


def by_agent(period: Period, totals: Revenue, base: str) -> list[dict]:
    rows = _two_sided(period, base, current(ReportInvoiceDay), current(ReportPaymentDay), "sale_agent",
                      (Staff.firstname, Staff.lastname), (Staff, Staff.staffid))
    out = [{"agent": (f"{first or ''} {last or ''}".strip() if r["key"] is not None else "No sale agent"),
            "agent_id": r["key"], **{k: r[k] for k in ("invoices", "invoiced", "payments", "collected")}}
           for r in rows for first, last in [r["names"]]]
    return _with_other(out, totals, "agent", "Other sale agents")


def by_client(period: Period, totals: Revenue, base: str) -> list[dict]:
    rows = _two_sided(period, base, spanned(ReportInvoiceClientDay, ReportInvoiceClientMonth, period),
                      spanned(ReportPaymentClientDay, ReportPaymentClientMonth, period), "clientid",
                      (Client.company,), (Client, Client.userid))
    out = [{"client": r["names"][0], "client_id": r["key"],
            **{k: r[k] for k in ("invoices", "invoiced", "payments", "collected")}} for r in rows]
    return _with_other(out, totals, "client", "Other clients")


def by_currency(period: Period, base: str) -> list[dict]:
    """Per currency: amounts as invoiced/paid and in the base currency (blank when no rate)."""
    code = func.coalesce(Currency.name, base)
    I, P = current(ReportInvoiceDay), current(ReportPaymentDay)  # noqa: N806  (the daily roll-ups as they stand)
    inv = db.session.execute(
        rolled(I, code, count(I), func.sum(I.amount), in_base_sum(I, base), _unconverted(I, base))
        .where(*invoiced_in(I, period)).group_by(code)).all()
    pay = db.session.execute(
        rolled(P, code, count(P), func.sum(P.amount), in_base_sum(P, base), _unconverted(P, base))
        .where(period.covers(P.day)).group_by(code)).all()
    rows: dict[str, dict] = {}
    for prefix, result in (("invoiced", inv), ("collected", pay)):
        count_key = "invoices" if prefix == "invoiced" else "payments"
        for cur, n, amount, converted, unconverted in result:
            row = rows.setdefault(cur, {"currency": cur, "invoices": 0, "invoiced_original": Decimal("0.00"),
                                        "invoiced": Decimal("0.00"), "payments": 0,
                                        "collected_original": Decimal("0.00"), "collected": Decimal("0.00"),
                                        "rate_missing": False})
            row[count_key] = _int(n)
            row[f"{prefix}_original"] = money(amount or 0)
            row[prefix] = money(converted or 0)
            row["rate_missing"] = row["rate_missing"] or bool(unconverted)
    for row in rows.values():
        if row["rate_missing"]:
            row["note"] = "no exchange rate: left out of the totals"
    return [rows[k] for k in sorted(rows)]


def by_item(period: Period, base: str) -> list[dict]:
    """Invoice lines of the period's invoices by catalog item (or by description when a line has
    no item): quantity and net amount (qty × rate less the line discount, before tax).

    Read from the item roll-up (lines already summed per day, item id and currency) before the
    item names are joined to the TOP rows kept."""
    L = spanned(ReportItemDay, ReportItemMonth, period)
    per_rate = (select(L.item_id, L.text, L.currency, L.rate, func.sum(L.lines).label("n"),
                       func.sum(L.quantity).label("qty"), func.sum(L.net).label("net"))
                .where(period.covers(L.day)).group_by(L.item_id, L.text, L.currency, L.rate).subquery())
    amount = func.sum(per_rate.c.net * in_base_rate(per_rate, base))
    lines = (select(per_rate.c.item_id, per_rate.c.text, func.sum(per_rate.c.n).label("n"),
                    func.sum(per_rate.c.qty).label("qty"), amount.label("amount"))
             .select_from(per_rate).outerjoin(Currency, Currency.id == per_rate.c.currency)
             .group_by(per_rate.c.item_id, per_rate.c.text).order_by(amount.desc(), per_rate.c.item_id)
             .limit(TOP).subquery())
    name = func.coalesce(Item.commodity_name, Item.description, lines.c.text)
    q = (select(lines.c.item_id, name, lines.c.n, lines.c.qty, lines.c.amount)
         .outerjoin(Item, Item.id == lines.c.item_id).order_by(lines.c.amount.desc(), name))
    return [{"item": label, "item_id": item_id, "lines": _int(n),
             "quantity": Decimal(str(qty or 0)).quantize(Decimal("0.001")),
             "net": money(value or 0)} for item_id, label, n, qty, value in db.session.execute(q)]


def open_statuses() -> tuple[int, ...]:
    return (S.UNPAID.value, S.PARTIALLY_PAID.value, S.OVERDUE.value)


def outstanding(base: str | None = None) -> tuple[list[dict], list[str]]:
    """What clients owe now, per open status (Unpaid, Partially paid, Overdue): invoice totals less
    the payments recorded on them, in the base currency. Two GROUP BY queries."""
    base = base_currency() if base is None else base
    I, P = current(ReportInvoiceDay), current(ReportPaymentDay)  # noqa: N806  (the daily roll-ups as they stand)
    where = [I.status.in_(open_statuses())]
    totals = {s: (_int(n), amount, unconverted) for s, n, amount, unconverted in db.session.execute(
        rolled(I, I.status, count(I), in_base_sum(I, base), _unconverted(I, base)).where(*where).group_by(I.status))}
    paid = {s: amount for s, amount in db.session.execute(
        rolled(P, P.status, in_base_sum(P, base)).where(P.status.in_(open_statuses())).group_by(P.status))}
    rows = []
    missing = 0
    for status in open_statuses():
        n, amount, unconverted = totals.get(status, (0, 0, 0))
        missing += unconverted or 0
        rows.append({"status": status, "invoices": n, "total": money(amount or 0), "paid": money(paid.get(status) or 0),
                     "due": money(Decimal(str(amount or 0)) - Decimal(str(paid.get(status) or 0)))})
    warnings = []
    if missing:
        warnings = missing_warning("open invoice(s)", missing_rates(I, where, base), base)
    return rows, warnings
