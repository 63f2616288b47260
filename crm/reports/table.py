"""A report as the page shows it: headline figures, tables and warnings.

The page, the JSON endpoint and the CSV/Excel exports all render the same :class:`Report`, so a
number cannot differ between them. Money and rates are Decimal; JSON carries them as strings."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crm.reports.period import GRAINS, Period

KINDS = ("text", "int", "money", "qty", "percent", "days")


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # KINDS: how the value is shown and exported


@dataclass
class Figure:
    key: str
    label: str
    value: Any
    kind: str = "money"
    link: str | None = None  # the filtered list behind the figure
    note: str | None = None


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)  # a row's "_links": {column key: url}
    total: dict | None = None
    note: str | None = None
    chart: dict | None = None  # {"type": "bar"|"line", "label": key, "series": [keys]} drawn by Chart.js


@dataclass
class Report:
    key: str
    title: str
    period: Period | None
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    currency: str = ""
    notes: list[str] = field(default_factory=list)


def json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


def shown(value, kind: str) -> str:
    """A value as the page shows it: money 1,234.50, percent 33.33 %, days 12.5."""
    if value is None:
        return "—"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "percent":
        return f"{value:.2f} %"
    if kind == "days":
        return f"{value:.1f}"
    if kind == "qty":
        return f"{value:,.3f}"
    return str(value)


def to_json(report: Report) -> dict:
    def row(r, cols):
        return {c.key: json_value(r.get(c.key)) for c in cols}

    period = report.period
    return {
        "report": report.key,
        "title": report.title,
        "currency": report.currency,
        "period": None if period is None else {
            "from": period.start.isoformat(), "to": period.end.isoformat(), "group": period.grain,
            "group_label": GRAINS[period.grain], "preset": period.preset},
        "figures": {f.key: json_value(f.value) for f in report.figures},
        "tables": {t.key: {"title": t.title, "columns": [{"key": c.key, "label": c.label, "kind": c.kind}
                                                           for c in t.columns],
                           "rows": [row(r, t.columns) for r in t.rows],
                           "total": row(t.total, t.columns) if t.total else None,
                           "chart": t.chart}
                   for t in report.tables},
        "warnings": report.warnings,
    }
