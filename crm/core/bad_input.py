"""The last line against bad input that gets past the forms and schemas: a value the database
cannot take is the sender's mistake (400 naming it where we can), never a server error.

* A NUL character in a query argument or form field (PostgreSQL text cannot hold one; no person
  types one) is refused before anything runs, naming the field.
* A grid filter whose value cannot be one of its column (text for a money, quantity, whole-number
  or date column: ``?total=abc``, Flask-Admin's ``?flt0_12=abc``) is refused with a 400 naming the
  filter and what it takes (:func:`column_filter_value`, :func:`check_grid_filter`).
* A value the database refuses as out of range or malformed (a page number or id past INTEGER in
  an address, a grid filter with a 30-digit number, ``?id=abc``) rolls the transaction back and is
  answered 400 instead of 500.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from flask import abort, current_app, request
from flask_admin.model import filters as admin_filters
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest

from crm.core.extensions import db

MESSAGE = ("A value in the address or the form is not valid for its field (a number too large, or text "
           "where a number belongs): {detail}. Check it and try again.")


def _refuse_nul() -> None:
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in value:
                abort(400, description=f"{key}: must not contain NUL (\\x00) characters.")


def _refuse_filter(name: str, raw: str, takes: str):
    abort(400, description=f"Filter {name}: {raw!r} is not valid here; it takes {takes}.")


def _number(raw: str) -> Decimal:
    value = Decimal(raw.strip())
    if not value.is_finite():  # NaN, Infinity: no column holds them
        raise InvalidOperation
    return value


# Column type -> (parse the text of a ?column= argument, what it takes in words)
_PARSERS = {
    int: (lambda raw: int(raw.strip()), "a whole number"),
    Decimal: (_number, "a number such as 1250.50"),
    float: (_number, "a number such as 1250.50"),
    date: (lambda raw: date.fromisoformat(raw.strip()), "a date as YYYY-MM-DD"),
    datetime: (lambda raw: datetime.fromisoformat(raw.strip()), "a date and time as YYYY-MM-DD HH:MM:SS"),
    time: (lambda raw: time.fromisoformat(raw.strip()), "a time as HH:MM:SS"),
}


def column_filter_value(column, key: str, raw):
    """The value of ``?<key>=<raw>`` (a grid filter by column) as the column's type; a 400 naming
    the filter when the text is not one (``?total=abc``, ``?date=yesterday``)."""
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return raw
    if kind is bool:
        return raw.lower() in ("1", "true", "yes")
    if isinstance(raw, kind) or kind not in _PARSERS:
        return raw
    parse, takes = _PARSERS[kind]
    try:
        return parse(raw)
    except (ValueError, TypeError, ArithmeticError):
        _refuse_filter(f"“{key}”", raw, takes)


def _takes(flt) -> str:
    """What a Flask-Admin filter accepts, in words."""
    if flt.options and not callable(flt.options):
        return "one of " + ", ".join(f"{code} ({label})" for code, label in flt.options)
    for base, words in ((admin_filters.BaseBooleanFilter, "1 (yes) or 0 (no)"),
                        (admin_filters.BaseDateBetweenFilter, "two dates as YYYY-MM-DD to YYYY-MM-DD"),
                        (admin_filters.BaseDateTimeBetweenFilter,
                         "two dates and times as YYYY-MM-DD HH:MM:SS to YYYY-MM-DD HH:MM:SS"),
                        (admin_filters.BaseTimeBetweenFilter, "two times as HH:MM:SS to HH:MM:SS"),
                        (admin_filters.BaseDateFilter, "a date as YYYY-MM-DD"),
                        (admin_filters.BaseDateTimeFilter, "a date and time as YYYY-MM-DD HH:MM:SS"),
                        (admin_filters.BaseTimeFilter, "a time as HH:MM:SS"),
                        (admin_filters.BaseIntFilter, "a whole number"),
                        (admin_filters.BaseFloatFilter, "a number")):
        if isinstance(flt, base):
            return words
    return "another value"


def check_grid_filter(arg: str, flt, raw: str) -> None:
    """A 400 naming Flask-Admin's filter ``?<arg>=<raw>`` (``flt0_...``) when it cannot take
    ``raw``, where Flask-Admin would drop it with a note (or a choice list's column would fail in
    the database): the person sees at once which filter to correct."""
    valid = flt.validate(raw)
    options = flt.options() if callable(flt.options) else flt.options  # a list read per request
    if valid and options:
        valid = raw in {str(code) for code, _ in options}
    if not valid:
        _refuse_filter(f"“{flt.name} {flt.operation()}” ({arg})", raw, _takes(flt))


def _too_large_for_sqlite(exc: OverflowError) -> bool:
    return "SQLite INTEGER" in str(exc)


def _bad_request(detail: str):
    """Answered like any 400 (JSON under /api/v1, Flask's page elsewhere), the transaction undone."""
    db.session.rollback()
    return current_app.handle_http_exception(BadRequest(description=MESSAGE.format(detail=detail)))


def init_bad_input(app) -> None:
    app.before_request(_refuse_nul)

    @app.errorhandler(DataError)
    def _data_error(exc):
        return _bad_request(str(exc.orig).splitlines()[0].strip())

    @app.errorhandler(OverflowError)
    def _overflow(exc):
        if not _too_large_for_sqlite(exc):
            raise exc
        return _bad_request("a number too large")
