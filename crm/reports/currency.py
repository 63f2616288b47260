"""Invoice amounts in the base currency, converted in SQL.

A currency's ``exchange_rate`` is units of the base currency per unit of it; an invoice may carry
the rate it was issued at (``tblinvoices.exchange_rate``), which wins over the currency's current
one. An invoice without a currency, or in the base currency (option ``base_currency``), has rate 1.
A foreign invoice with neither rate (NULL or 0) has no rate: :func:`rate` is NULL, so SUM() leaves
it out, and :func:`missing_rates` lists what was left out so the page can say so."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import case, func, literal, select

from crm.catalog.models import Currency
from crm.core import options
from crm.core.extensions import db
from crm.core.models.base import money
from crm.sales.models.documents import Invoice


def base_currency() -> str:
    return options.get("base_currency") or ""


def rate(base: str | None = None, currency=None, own=None):
    """The invoice's rate to the base currency (NULL when unknown); needs Currency outer-joined.

    ``currency`` and ``own`` (the invoice's own rate, NULL when none) default to the invoice's
    columns; a roll-up row passes its own (crm/reports/models.py)."""
    base = base_currency() if base is None else base
    currency = Invoice.currency if currency is None else currency
    own = func.nullif(Invoice.exchange_rate, 0) if own is None else own
    return case((currency.is_(None), literal(Decimal(1))),
                (Currency.name == base, literal(Decimal(1))),
                else_=func.coalesce(own, func.nullif(Currency.exchange_rate, 0)))


def rolled_rate(rollup, base: str | None = None):
    """:func:`rate` for the rows of a roll-up table (Currency outer-joined on its currency)."""
    return rate(base, rollup.currency, rollup.rate)


def in_base(amount, base: str | None = None):
    """``amount`` (a column of the invoice or of something joined to it) in the base currency."""
    return amount * rate(base)


def with_currency(query):
    """``query`` (selecting from tblinvoices) with the invoice's currency outer-joined."""
    return query.outerjoin(Currency, Currency.id == Invoice.currency)


def missing_rates(amount, where, base: str | None = None, joins=()) -> list[dict]:
    """Currencies whose amounts ``where`` selects but cannot be converted: code, count, amount."""
    q = select(Currency.name, func.count(), func.sum(amount)).select_from(Invoice)
    for target, on in joins:
        q = q.join(target, on)
    q = (q.outerjoin(Currency, Currency.id == Invoice.currency)
         .where(*where, rate(base).is_(None)).group_by(Currency.name).order_by(Currency.name))
    return [{"currency": name, "count": n, "amount": money(total)} for name, n, total in db.session.execute(q)]


def missing_warning(what: str, rows: list[dict], base: str) -> list[str]:
    return [f"{r['count']} {what} in {r['currency']} ({r['amount']:,.2f} {r['currency']}) are left out of the "
            f"{base} totals: {r['currency']} has no exchange rate. Set one under Settings → Currencies."
            for r in rows]
