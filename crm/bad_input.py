"""The last line against bad input that gets past the forms and schemas: a value the database
cannot take is the sender's mistake (400 naming it where we can), never a server error.

* A NUL character in a query argument or form field (PostgreSQL text cannot hold one; no person
  types one) is refused before anything runs, naming the field.
* A value the database refuses as out of range or malformed (a page number or id past INTEGER in
  an address, a grid filter with a 30-digit number, ``?id=abc``) rolls the transaction back and is
  answered 400 instead of 500.
"""
from __future__ import annotations

from flask import abort, current_app, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest

from .extensions import db

MESSAGE = ("A value in the address or the form is not valid for its field (a number too large, or text "
           "where a number belongs): {detail}. Check it and try again.")


def _refuse_nul() -> None:
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in value:
                abort(400, description=f"{key}: must not contain NUL (\\x00) characters.")


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
