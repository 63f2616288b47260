"""Document numbers, one helper for every series (schema.md, "Numbers").

Format 1: PREFIX + number zero-padded to ``number_padding_prefixes``  (INV-000001)
Format 2: PREFIX + YYYY/ + padded                                      (INV-2026/000001)
Format 3: PREFIX + padded + -YY                                        (INV-000001-26)
Format 4: PREFIX + padded + /MM/YYYY                                   (INV-000001/11/2026)
The year and month are the document's date.

The next number lives in a ``next_*_number`` row of tbloptions. :func:`take_next` advances it
with one ``UPDATE ... RETURNING`` (PostgreSQL, SQLite); MariaDB has no UPDATE ... RETURNING, so
there it reads the row with SELECT ... FOR UPDATE and writes it back. Either way the row stays
locked until commit, so a second transaction numbering the same series waits for the first and
then gets the next value (on SQLite it waits for the database's write lock, crm.sqlite). A number is
taken only when a document is really numbered: a draft shows PREFIX + "DRAFT" and is numbered
when it leaves draft (:func:`assign`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, Text, cast, select, true
from sqlalchemy.dialects.mysql import insert as mysql_insert

from crm.core import options
from crm.core.extensions import db
from crm.core.models.settings import Option
from crm.core.resources import status_enum

FORMATS = (1, 2, 3, 4)


@dataclass(frozen=True)
class Series:
    prefix_option: str
    next_option: str
    format_option: str | None = None  # None: always format 1


# Keyed by table name. Other series (warehouse, purchasing) can call take_next/format_number
# with their own options.
SERIES = {
    "tblinvoices": Series("invoice_prefix", "next_invoice_number", "invoice_number_format"),
    "tblestimates": Series("estimate_prefix", "next_estimate_number", "estimate_number_format"),
    # Perfex numbers proposals PREFIX + padded only.
    "tblproposals": Series("proposal_number_prefix", "next_proposal_number"),
}


def format_number(prefix: str, number: int, fmt: int = 1, on: date | None = None) -> str:
    on = on or date.today()
    padded = f"{number:0{int(options.get('number_padding_prefixes') or 0)}d}"
    if fmt == 2:
        return f"{prefix}{on:%Y}/{padded}"
    if fmt == 3:
        return f"{prefix}{padded}-{on:%y}"
    if fmt == 4:
        return f"{prefix}{padded}/{on:%m/%Y}"
    return f"{prefix}{padded}"


def _locked_option(name: str):
    query = (select(Option).where(Option.name == name).with_for_update()
             .execution_options(populate_existing=True))
    row = db.session.execute(query).scalar_one_or_none()
    if row is not None:
        return row
    # First number of the series: store the documented default, unless a concurrent first number
    # just did. An upsert, not an INSERT that fails on the unique name: on MariaDB the failed
    # INSERT's duplicate check leaves a shared lock, and two transactions each holding one and
    # then locking the row for update deadlock; the upsert takes the row lock itself.
    defn = options.OPTIONS.get(name)
    values = {"name": name, "value": str(defn.default if defn else 1), "autoload": True}
    table = Option.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        stmt = mysql_insert(table).values(**values).on_duplicate_key_update(name=table.c.name)
    else:  # PostgreSQL, SQLite
        upsert = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"]).insert
        stmt = upsert(table).values(**values).on_conflict_do_nothing(index_elements=["name"])
    db.session.execute(stmt)
    return db.session.execute(query).scalar_one()


def take_next(next_option: str) -> int:
    """Take the next number of a series and advance the counter (in the caller's transaction)."""
    connection = db.session.connection()
    if connection.dialect.update_returning:
        table = Option.__table__
        advanced = connection.execute(
            table.update().where(table.c.name == next_option)
            .values(value=cast(cast(table.c.value, Integer) + 1, Text)).returning(table.c.value)).scalar()
        if advanced is not None:
            options.remember(next_option, advanced)
            return int(advanced) - 1
    # MariaDB, or the first number of the series (no row yet): lock, read, write back.
    row = _locked_option(next_option)
    number = int(row.value)
    options.set(next_option, number + 1)  # the same locked row; clears the per-request cache
    db.session.flush()
    return number


def series_of(doc) -> Series:
    return SERIES[doc.__tablename__]


def _format_of(series: Series) -> int:
    if not series.format_option:
        return 1
    try:
        fmt = int(options.get(series.format_option) or 1)
    except (TypeError, ValueError):
        return 1
    return fmt if fmt in FORMATS else 1


def assign(doc) -> str:
    """Give a proposal, estimate or invoice its number if it has none; returns the number shown."""
    if doc.number is not None and doc.formatted_number:
        return doc.formatted_number
    series = series_of(doc)
    prefix = options.get(series.prefix_option) or ""
    fmt = _format_of(series)
    # Not flushed first: a new document is inserted once, with its number.
    with db.session.no_autoflush:
        while True:
            number = take_next(series.next_option)
            formatted = format_number(prefix, number, fmt, doc.date)
            # An admin may have moved the counter back: never hand out a number already in use.
            if not _in_use(doc, formatted):
                break
    doc.number, doc.formatted_number = number, formatted
    if hasattr(doc, "prefix"):
        doc.prefix = prefix
    if hasattr(doc, "number_format"):
        doc.number_format = fmt
    return formatted


def entered(doc) -> None:
    """A proposal, sales order or invoice created or edited through a generic door (the API, the
    grid's form): one that is not a draft gets its number as the actions give it (an invoice
    created Unpaid, a proposal moved from Draft to Sent); a draft shows PREFIX + DRAFT."""
    if getattr(doc, "__tablename__", None) not in SERIES or doc.number is not None:
        return

    if doc.status in (None, status_enum(type(doc).__table__.c.status).DRAFT.value):
        draft_prefix(doc)
    else:
        assign(doc)


def _in_use(doc, formatted: str) -> bool:
    model = type(doc)
    if any(type(o) is model and o is not doc and o.formatted_number == formatted for o in db.session.new):
        return True  # numbered earlier in this transaction, not written yet
    return db.session.query(model.id).filter(model.formatted_number == formatted,
                                             model.id != doc.id if doc.id else true()).first() is not None


def draft_prefix(doc) -> None:
    """A draft keeps the series' prefix so it shows PREFIX + DRAFT until it is numbered."""
    if hasattr(doc, "prefix") and not doc.prefix:
        doc.prefix = options.get(series_of(doc).prefix_option)


def shown(doc) -> str:
    """The number a person sees: the formatted number, PREFIX + DRAFT for a draft, else #id."""
    if doc.formatted_number:
        return doc.formatted_number
    prefix = getattr(doc, "prefix", None) or options.get(series_of(doc).prefix_option) or ""
    return f"{prefix}DRAFT" if doc.number is None else f"{prefix}{doc.number}"
