"""How a value reads on every admin screen, one way: money with thousands separators and its
currency (right-aligned in a table), quantities without useless zeros, dates as YYYY-MM-DD and
times to the minute, lists of ids as the names of what they point at.

The functions are also jinja filters (``{{ total|money(currency) }}``, ``{{ qty|qty }}``,
``{{ date|when }}``, ``{{ taxname|tax(rate) }}``) for the screens written by hand.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask import g
from markupsafe import Markup, escape
from sqlalchemy import select

from crm.core.extensions import db
from crm.core.labels import tax_label
from crm.core.links import web_link


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


def _currency_name(currency) -> str:
    if currency is None:
        return ""
    return str(getattr(currency, "name", currency) or "")


def format_money(value, currency=None) -> str:
    """``14500`` → ``14,500.00 RON`` (no currency: ``14,500.00``); empty for no value."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None or value == "" else str(value)
    name = _currency_name(currency)
    text = f"{amount:,.2f}"
    return f"{text} {name}" if name else text


def money_cell(value, currency=None) -> Markup:
    """Money in a table cell: right-aligned (crm_base.html's .crm-money), never wrapped."""
    text = format_money(value, currency)
    return Markup(f'<span class="crm-money">{escape(text)}</span>') if text else Markup("")


def format_qty(value) -> str:
    """``5.000`` → ``5``, ``2.500`` → ``2.5``, ``12000`` → ``12,000``."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    if number == number.to_integral_value():
        return f"{number.quantize(Decimal(1)):,f}"
    return f"{number.normalize():,f}"


def qty_cell(value) -> Markup:
    text = format_qty(value)
    return Markup(f'<span class="crm-number">{escape(text)}</span>') if text else Markup("")


def format_when(value) -> str:
    """A date as 2026-03-01, a time as 2026-03-01 14:05 (no seconds, no microseconds)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def parse_ids(raw) -> list[int]:
    """The ids a list column holds: a JSON list (``[1, 5]``) or comma-separated (``3,1``)."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, (list, tuple)):
        values = raw
    else:
        text = str(raw).strip()
        try:
            values = json.loads(text) if text.startswith("[") else text.split(",")
        except ValueError:
            values = text.strip("[]").split(",")
    out = []
    for v in values:
        v = str(v).strip().strip('"')
        if v.isdigit():
            out.append(int(v))
    return out


def names_of(target, ids, name_columns) -> list[str]:
    """The names of ``target``'s rows ``ids``, from one query per request for the whole (small)
    table: a list page shows them at the same cost at any page size."""
    cache = g.setdefault("_crm_names_of", {})
    if target not in cache:
        pk = db.inspect(target).primary_key[0]
        cols = [getattr(target, c) for c in name_columns]
        cache[target] = {row[0]: " ".join(str(v) for v in row[1:] if v not in (None, ""))
                         for row in db.session.execute(select(pk, *cols))}
    known = cache[target]
    return [known.get(i) or f"#{i} (removed)" for i in ids]


def init_app(app) -> None:
    app.jinja_env.filters.update(money=format_money, qty=format_qty, when=format_when, tax=tax_label,
                                 web_link=web_link)
