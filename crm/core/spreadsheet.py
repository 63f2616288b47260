"""Cells written to a CSV or Excel export: text that a spreadsheet would run as a formula is made
plain text.

Exports carry what anyone typed, the public web forms included: a lead named
``=HYPERLINK("http://x","y")`` would become a live formula (a link, or worse, DDE) in the
spreadsheet of whoever opens the export. As OWASP recommends for CSV injection, a text value that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width forms,
which some spreadsheets read the same way) gets a single quote in front, so it is shown as the
text it is. Only text is touched: numbers, dates and Decimal money (a negative total included)
stay numbers. Every export writes its cells through :func:`safe_cell` / :func:`safe_row`.
"""
from __future__ import annotations

from datetime import date, time
from numbers import Number
from typing import Any, Iterable

FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def safe_cell(value: Any) -> Any:
    """``value`` as an export writes it: numbers, dates and None unchanged; anything else is
    written as its text (a linked record as its name), quoted when it looks like a formula."""
    if value is None or isinstance(value, (Number, date, time)):
        return value
    text = value if isinstance(value, str) else str(value)
    if text[:1] in FORMULA_STARTS or text.lstrip(" ")[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def safe_row(values: Iterable[Any]) -> list:
    return [safe_cell(v) for v in values]
