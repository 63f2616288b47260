"""What a generic door (the API's create and update, the grid's forms) does to a record once its
fields are set, so that a record entered there keeps the rules the actions keep: the creator and
creation time from the signed-in staff member, what a new sales order or invoice takes from its
client and the settings when left empty (addresses, due date), totals computed on the server, an
issued invoice frozen, an invoice's status from its payments, a number once it is not a draft.

Action-owned columns (crm.core.resources.action_owned) never reach here from a request: the form leaves
them out and the API refuses them."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, inspect

from crm.core.totals import refresh as refresh_totals
from crm.core import numbering
from crm.core.extensions import db
from crm.core.models.base import SERVER_SET
from crm.sales.actions import conversions, invoices
from crm.sales.models.clients import Client
from crm.sales.models.documents import Estimate, Invoice


def entered(record, actor=None) -> None:
    """Raises FieldError (naming the field) when the record asks for what only an action can do."""
    if inspect(record).persistent:
        if isinstance(record, Invoice):
            invoices.refuse_frozen_change(record)
    else:
        _stamp_creator(record, actor)
        _client_defaults(record)
    refresh_totals(record)
    if isinstance(record, Invoice):
        invoices.entered(record)
    numbering.entered(record)


def removing(record) -> None:
    """Raises FieldError when a generic door may not delete the record (an issued invoice that has
    payments or went to ANAF: it is cancelled and credited, never deleted)."""
    if isinstance(record, Invoice) and (reason := invoices.frozen_because(record)):
        raise invoices.frozen_error("id", record, reason, "deleted")


def _client_defaults(record) -> None:
    """A new sales order or invoice, as the conversions make them: the client's billing and shipping
    addresses, and an invoice's due date from ``invoice_due_after``; only where the person left
    the whole address (or the due date) empty."""
    if not isinstance(record, (Estimate, Invoice)):
        return
    if isinstance(record, Invoice) and record.duedate is None:
        record.duedate = conversions.due_date(record.date or date.today())
    client = db.session.get(Client, record.clientid) if record.clientid is not None else None
    if client is None:
        return  # a missing client is refused by the door itself
    given = conversions.client_addresses(client)
    for kind in ("billing", "shipping"):
        columns = [f"{kind}_{p}" for p in conversions.ADDRESS_PARTS]
        if not any(getattr(record, c) for c in columns):
            for c in columns:
                setattr(record, c, given[c])
    if record.include_shipping is None:  # not asked: shown when the client has a shipping address
        record.include_shipping = given["include_shipping"]


def _stamp_creator(record, actor) -> None:
    """Who created the record and when: the server's to say (crm/core/models/base.py SERVER_SET)."""
    for column in type(record).__table__.columns:
        if column.key == "addedfrom":
            record.addedfrom = getattr(actor, "staffid", None)
        elif column.key in SERVER_SET:
            setattr(record, column.key, datetime.utcnow() if isinstance(column.type, DateTime) else date.today())
