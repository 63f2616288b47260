"""What a column can hold, checked before the database is asked: one rule for the API's schemas
and the admin's forms, so a number too large is refused naming its field (never a database
error). INTEGER is 32 bits on PostgreSQL and MariaDB; NUMERIC(p, s) has p - s digits before the
point; no text column takes a NUL character (PostgreSQL cannot store one)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import BigInteger, Integer, Numeric, String

INT_MAX = 2**31 - 1


def integer_bounds(column) -> tuple[int, int] | None:
    t = column.type
    if isinstance(t, BigInteger):
        return -2**63, 2**63 - 1
    if isinstance(t, Integer):
        return -2**31, INT_MAX
    return None


def digits_before_point(column) -> int | None:
    t = column.type
    if isinstance(t, Numeric) and not isinstance(t, Integer) and t.precision:
        return t.precision - (t.scale or 0)
    return None


def decimal_places(column) -> int | None:
    """How many decimals a NUMERIC column keeps (None: not a decimal column)."""
    t = column.type
    if isinstance(t, Numeric) and not isinstance(t, Integer) and t.scale is not None:
        return t.scale
    return None


def too_many_places(value, places: int | None) -> str | None:
    """Why ``value`` would be rounded to ``places`` decimals (None: it is kept as written). Every door
    refuses such a value instead of rounding it: 10.005 is not 10.01, nor 10.00."""
    if places is None or value is None or isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return None
    try:
        exact = Decimal(str(value).strip())
        fits = not exact.is_finite() or exact == exact.quantize(Decimal(1).scaleb(-places))
    except InvalidOperation:
        return None  # not a number, or too large: the number check says so
    if fits:
        return None
    return f"At most {places} decimal places; {value} would have to be rounded."


def problem(column, value) -> str | None:
    """Why ``value`` cannot go in ``column`` (None: it can)."""
    if value is None:
        return None
    if isinstance(value, str):
        return "Must not contain NUL (\\x00) characters." if "\x00" in value and isinstance(column.type, String) \
            else None
    if isinstance(value, bool):
        return None
    bounds = integer_bounds(column)
    if bounds and isinstance(value, int) and not bounds[0] <= value <= bounds[1]:
        return f"Must be between {bounds[0]:,} and {bounds[1]:,}."
    digits = digits_before_point(column)
    if digits and isinstance(value, (int, Decimal, float)) and abs(Decimal(str(value))) >= Decimal(10) ** digits:
        return f"At most {digits} digits before the decimal point."
    if isinstance(value, (Decimal, float)):
        return too_many_places(value, decimal_places(column))
    return None
