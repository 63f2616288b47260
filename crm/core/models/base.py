"""Building blocks every model uses: money/quantity types, status enums, resource metadata.

A table is declared once, as a model in this package. The optional ``__crm__`` attribute
(a :class:`Resource`) carries what the generated admin, API and permissions need to know
beyond the columns themselves: its menu group, the URL the seed documents use, its lines.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

# Amounts are Numeric(15,2), quantities Numeric(15,3) and unit prices Numeric(17,4): a washer at
# 0.005 is written as it is priced (e-Factura limits amounts to 2 decimals, not prices or
# quantities). All come back as Decimal; a value with more decimals than its column is refused
# (crm/core/limits.py), never rounded by a door.
MONEY = Numeric(15, 2, asdecimal=True)
QTY = Numeric(15, 3, asdecimal=True)
UNIT_PRICE = Numeric(17, 4, asdecimal=True)
RATE = Numeric(7, 2, asdecimal=True)  # percentages: tax rates, discounts, probability
CENT = Decimal("0.01")
# an address a lead, a web form or an import may be given
EMAIL_RE = re.compile(r"^[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[A-Za-z0-9-]{2,}$")


def money(value: Any) -> Decimal:
    """Round to 2 places, half-up, the one way every amount in the system is rounded: once, where
    the totals rule (crm/core/totals.py) says, never on the way in."""
    return Decimal(str(value if value is not None else 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def unit_price(value: Any) -> Decimal:
    """A price to the 4 places UNIT_PRICE keeps, half-up: for prices the system derives (a received
    e-Factura's price per base quantity); prices a person types are refused with more places."""
    return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


class StatusEnum(enum.Enum):
    """An enum of documented status codes with a label and a Bootstrap colour.

    Members are written ``DRAFT = (6, "Draft", "secondary")``; ``.value`` is the code stored
    in the column (int or str), so ``?status=4`` and the database agree.
    """

    def __new__(cls, code, label, color="secondary"):
        obj = object.__new__(cls)
        obj._value_ = code
        obj.label = label
        obj.color = color
        return obj

    @classmethod
    def choices(cls) -> list[tuple[Any, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def label_of(cls, code) -> str:
        try:
            return cls(code).label
        except ValueError:
            return str(code)

    @classmethod
    def shown_for(cls, row, code) -> tuple[str, str] | None:
        """(label, colour) a person sees for ``code`` on ``row``, None for a code not documented. A
        status whose code covers states that other columns of the row tell apart overrides it."""
        try:
            member = cls(code)
        except ValueError:
            return None
        return member.label, member.color

    @classmethod
    def row_label(cls, row, code) -> str:
        shown = cls.shown_for(row, code)
        return shown[0] if shown else str(code)


def status_column(enum_cls: type[StatusEnum], default=None, nullable=False, **kw):
    """A status column holding the documented codes, indexed, with its enum attached."""
    sample = next(iter(enum_cls)).value
    coltype = Integer() if isinstance(sample, int) else String(40)
    if default is None:
        default = sample
    return mapped_column(coltype, default=default, nullable=nullable, index=True,
                         info={"enum": enum_cls}, **kw)


def fk(target: str, nullable=True, ondelete: str | None = None, **kw):
    """A real, indexed foreign key (Perfex declares none; we do).

    Default on delete: SET NULL for optional links, CASCADE for required ones (detail lines).
    """
    ondelete = ondelete or ("SET NULL" if nullable else "CASCADE")
    return mapped_column(ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True, **kw)


class BillingShipping:
    """billing_* and shipping_* address columns, as Perfex has them on clients, vendors and documents."""

    billing_street: Mapped[str | None] = mapped_column(String(200), sort_order=10)
    billing_city: Mapped[str | None] = mapped_column(String(100), sort_order=10)
    billing_state: Mapped[str | None] = mapped_column(String(100), sort_order=10)
    billing_zip: Mapped[str | None] = mapped_column(String(100), sort_order=10)
    billing_country: Mapped[str | None] = mapped_column(String(100), sort_order=10)
    shipping_street: Mapped[str | None] = mapped_column(String(200), sort_order=10)
    shipping_city: Mapped[str | None] = mapped_column(String(100), sort_order=10)
    shipping_state: Mapped[str | None] = mapped_column(String(100), sort_order=10)
    shipping_zip: Mapped[str | None] = mapped_column(String(100), sort_order=10)
    shipping_country: Mapped[str | None] = mapped_column(String(100), sort_order=10)


class FieldError(ValueError):
    """A value a model refuses; ``field`` names the column so forms and the API can point at it.
    ``status`` is what the API answers: 422, or 403 for a value that names what the person may not see."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


# Columns owned by the server or the actions on every table that has them (see Resource.action_owned).
SERVER_SET = ("addedfrom", "datecreated", "dateadded", "created_at", "date_create")  # creator and creation time
ALWAYS_OWNED = ("number", "formatted_number", "hash", "sent", "datesend", "signed", "marked_as_signed",
                "signature", "acceptance_firstname", "acceptance_lastname", "acceptance_email", "acceptance_date",
                "acceptance_ip", "file_name", "stored_path", "label_path", "date_converted",
                "isnotified", "notified")  # (a reminder's, a goal's: told once, by their job)
LINE_TOTALS = ("subtotal", "total_tax", "total")  # a document's totals, computed from its lines


@dataclass
class Resource:
    """Per-table metadata for the generated admin, API and permissions.

    name      API resource and permission key; default: table name without 'tbl'.
    label     menu label.
    category  menu group: Sales, Warehouse, Purchasing, Finance, Settings (None: not in menu).
    url       admin URL under /admin/ (the one the seed documents give); default: name.
    aliases   extra list URLs under ``url`` (e.g. 'list_invoices').
    lines     relationship holding the document's lines, nested as ``items`` in the API.
    admin     small declarative Flask-Admin overrides (column_list, can_create, ...).
    action_owned  columns no person writes through a generic door (the grid's form, the API's
              POST/PATCH/PUT, the CLI): statuses, numbers, sent/accepted/signed fields, stored file
              names, links a conversion sets. Only the table's actions write them. Every table also
              owns, without listing them, the columns named in :data:`SERVER_SET` (creator and
              creation time, set by the server from the signed-in staff member), :data:`ALWAYS_OWNED`
              (numbers, portal hashes, signatures, sent flags, stored files), and, on a document with
              lines, :data:`LINE_TOTALS` (computed from the lines). The generated form leaves them
              out; the API shows them read-only and answers 422 naming the field and who writes it (a
              column written by another table's action says which: ``info={"written_by": ...}``).
              ``crm.core.resources.action_owned`` gives the whole set.
    module    the permission module (crm/core/permissions.py MODULES): ``<module>.<verb>`` keys govern the
              table in every door. Required: every table says where it belongs.
    labels    column -> the label a person reads, where the default (crm/core/labels.py) is not right
              (a column may also say it itself: ``info={"label": ...}``).
    form      the create/edit form's sections in the order a person fills them: ``(("Client",
              ("clientid", "currency")), ("Dates", ("date", "duedate")), ...)``; a column not named
              follows in the generated default order (crm/admin_views/forms.py).
    lookup    a small table (statuses, units, taxes...) its links pick from a plain select; None: a
              Settings table without dates (no log, no outbox) is one.
    own       the columns that make a row the staff member's own (assigned to or created by them), for
              "view own": a staff id column, or ``relationship.column`` (a contact: its client's creator).
    document  its details page is a document page (header, lines, totals, actions, chain, timeline):
              True for a table with ``lines`` unless set False; set True for a document without lines.
    party     the relationship to the client or vendor the document is for (shown and linked in its header).
    payments  the relationship holding its payments (listed on its page).
    own_door  a document's lines that also have a door of their own (a count's lines, each counted as it
              is found); other lines are written only with their document (crm.core.resources.writable).
              What only the actions write on them is declared ``action_owned`` as on any table.
    main_actions  its actions in the order one is the main button of a row or page (the first that may run);
              without one: the first action that may run.
    flags     yes/no columns that mark a row apart, with their badge colour (a lead's ``{"lost": "danger"}``):
              shown as a badge beside its status in the grid and on its page, not as a column of their own.
    written_as  what the rows are part of, for a table written only with another record (a record's custom
              field values): no generic door of its own (crm.core.resources.writable), the refusal says where
              they are written; unlike ``readonly``, a change to them is audited (as its record's).
    creator   the column naming the staff member who created the row, where it is not ``addedfrom`` (a loss
              adjustment's ``addfrom``, a reminder's ``creator``): set by the server from the signed-in staff
              member and owned like :data:`SERVER_SET`.
    totals    columns computed from the lines besides :data:`LINE_TOTALS` (a goods receipt's ``total_money``,
              a delivery note's ``sub_total``...), or on a line from its quantity, price, discount and tax
              (a purchase order line's ``total``): owned like them; the area's totals refresh computes them
              (crm/core/totals.py ``refresh_with``).
    rel_types the names a ``rel_type`` column gives this table besides its resource name (Perfex's ``lead``,
              ``customer``, ``invoice``...): a note, reminder or proposal attached through a generic door
              must point at a row of a table named so, that the staff member sees (crm/core/entry.py).
    """

    label: str | None = None
    category: str | None = None
    url: str | None = None
    name: str | None = None
    aliases: tuple[str, ...] = ()
    lines: str | None = None
    admin: dict = field(default_factory=dict)
    api: bool = True
    readonly: bool = False
    action_owned: tuple[str, ...] = ()
    module: str | None = None
    own: tuple[str, ...] = ()
    document: bool | None = None
    party: str | None = None
    payments: str | None = None
    main_actions: tuple[str, ...] = ()
    own_door: bool = False
    labels: dict = field(default_factory=dict)
    form: tuple = ()
    lookup: bool | None = None
    flags: dict = field(default_factory=dict)
    written_as: str | None = None
    creator: str | None = None
    totals: tuple[str, ...] = ()
    rel_types: tuple[str, ...] = ()


__all__ = ["ALWAYS_OWNED", "LINE_TOTALS", "SERVER_SET", "BillingShipping", "FieldError", "MONEY", "QTY", "RATE", "UNIT_PRICE", "money", "unit_price", "StatusEnum", "status_column", "fk", "Resource",
           "date", "datetime", "Decimal"]
