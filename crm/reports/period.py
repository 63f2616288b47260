"""The period a report covers (from/to dates, presets) and SQL date bucketing for every database.

``Period.from_args(request.args)`` reads ``preset`` or ``from``/``to`` plus ``group``; a bad value
raises :class:`PeriodError` naming the field, which report views turn into a 400. ``bucket(col,
grain)`` is the first day of the day/week/month/quarter/year a date falls in, compiled for SQLite,
PostgreSQL and MariaDB/MySQL, so a report groups with one GROUP BY whatever the database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, Float, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

GRAINS = {"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year"}
PRESETS = {"this_month": "This month", "last_month": "Last month", "this_quarter": "This quarter",
           "last_quarter": "Last quarter", "this_year": "This year", "last_year": "Last year",
           "last_12_months": "Last 12 months"}
DEFAULT_PRESET = "this_year"
MAX_DAYS = 366 * 20  # a report over more than 20 years is a typo, not a question


class PeriodError(ValueError):
    """A period argument a person typed that cannot be used; ``field`` names the argument."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def preset_range(name: str, today: date) -> tuple[date, date]:
    if name == "this_month":
        return today.replace(day=1), _month_end(today)
    if name == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if name == "this_quarter":
        start = _quarter_start(today)
        return start, _month_end(date(start.year, start.month + 2, 1))
    if name == "last_quarter":
        end = _quarter_start(today) - timedelta(days=1)
        return _quarter_start(end), end
    if name == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if name == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    if name == "last_12_months":  # this month and the eleven before it
        months = today.year * 12 + today.month - 1 - 11
        return date(months // 12, months % 12 + 1, 1), _month_end(today)
    raise PeriodError("preset", f"preset must be one of: {', '.join(PRESETS)}.")


def _parse_date(field: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise PeriodError(field, f"{field}: “{raw}” is not a date; write it as YYYY-MM-DD.") from None


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    grain: str = "month"
    preset: str | None = None

    @classmethod
    def from_args(cls, args, today: date | None = None, default_grain: str = "month") -> "Period":
        today = today or date.today()
        grain = (args.get("group") or default_grain).strip()
        if grain not in GRAINS:
            raise PeriodError("group", f"group must be one of: {', '.join(GRAINS)}.")
        raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
        preset = (args.get("preset") or "").strip() or None
        if preset and (raw_from or raw_to):
            raise PeriodError("preset", "preset cannot be combined with from/to; give one or the other.")
        if not (preset or raw_from or raw_to):
            preset = DEFAULT_PRESET
        if preset:
            start, end = preset_range(preset, today)
            return cls(start, end, grain, preset)
        start = _parse_date("from", raw_from) if raw_from else None
        end = _parse_date("to", raw_to) if raw_to else None
        if start is None:
            raise PeriodError("from", "from is missing: give a start date (YYYY-MM-DD) with to.")
        if end is None and start > today:
            raise PeriodError("from", f"from ({start}) is after today; give to as well.")
        end = end or today
        if end < start:
            raise PeriodError("to", f"to ({end}) is before from ({start}).")
        if (end - start).days > MAX_DAYS:
            raise PeriodError("to", "the period is longer than 20 years; choose a shorter one.")
        return cls(start, end, grain)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"

    def args(self, **extra) -> dict:
        """Query-string arguments that give this period back (links to the JSON and exports)."""
        base = {"preset": self.preset} if self.preset else {"from": self.start.isoformat(), "to": self.end.isoformat()}
        return {**base, "group": self.grain, **extra}

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end + 1 day) as datetimes, for DateTime columns (leads' dateadded)."""
        return datetime.combine(self.start, datetime.min.time()), \
            datetime.combine(self.end + timedelta(days=1), datetime.min.time())

    def covers(self, column):
        """``column`` (a Date) within the period, as a range the column's index can serve."""
        return column.between(self.start, self.end)

    def covers_datetime(self, column):
        lo, hi = self.bounds()
        return (column >= lo) & (column < hi)


def bucket_label(start, grain: str) -> str:
    """How a bucket is shown: 2026-11-23, 2026-W48, 2026-11, 2026-Q4, 2026."""
    if isinstance(start, str):  # SQLite hands date() results back as text in some expressions
        start = date.fromisoformat(start[:10])
    if isinstance(start, datetime):
        start = start.date()
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start.year}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


class bucket(FunctionElement):
    """First day of the ``grain`` (day/week/month/quarter/year) ``column`` falls in, as a DATE.

    Weeks start on Monday (ISO 8601) on every database."""

    type = Date()
    inherit_cache = True
    name = "bucket"

    def __init__(self, column, grain: str):
        if grain not in GRAINS:
            raise ValueError(grain)
        self.grain = grain
        # the grain as a second (unrendered) clause, so the statement cache tells grains apart
        super().__init__(column, literal_column(f"'{grain}'"))


@compiles(bucket)
def _bucket_sqlite(element, compiler, **kw):
    col = compiler.process(list(element.clauses)[0], **kw)
    return {
        "day": f"date({col})",
        # 'weekday 0' moves to the next Sunday (or stays on one); six days back is that week's Monday
        "week": f"date({col}, 'weekday 0', '-6 days')",
        "month": f"date({col}, 'start of month')",
        "quarter": f"date({col}, 'start of month', '-' || ((CAST(strftime('%m', {col}) AS INTEGER) - 1) % 3) "
                   f"|| ' months')",
        "year": f"date({col}, 'start of year')",
    }[element.grain]


@compiles(bucket, "postgresql")
def _bucket_postgresql(element, compiler, **kw):
    col = compiler.process(list(element.clauses)[0], **kw)
    if element.grain == "day":
        return f"CAST({col} AS DATE)"
    return f"CAST(date_trunc('{element.grain}', CAST({col} AS TIMESTAMP)) AS DATE)"


@compiles(bucket, "mysql")
@compiles(bucket, "mariadb")
def _bucket_mysql(element, compiler, **kw):
    col = compiler.process(list(element.clauses)[0], **kw)
    return {
        "day": f"DATE({col})",
        "week": f"DATE(DATE_SUB({col}, INTERVAL WEEKDAY({col}) DAY))",
        "month": f"DATE(DATE_SUB({col}, INTERVAL DAYOFMONTH({col}) - 1 DAY))",
        "quarter": f"MAKEDATE(YEAR({col}), 1) + INTERVAL (QUARTER({col}) - 1) QUARTER",
        "year": f"MAKEDATE(YEAR({col}), 1)",
    }[element.grain]


class days_between(FunctionElement):
    """``later - earlier`` in days (fractional) for two DATETIME columns, on every database."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({later}) - julianday({earlier}))"


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


@compiles(days_between, "mysql")
@compiles(days_between, "mariadb")
def _days_mysql(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(TIMESTAMPDIFF(SECOND, {earlier}, {later}) / 86400.0)"
