"""What a generic door (the API's create and update, the grid's forms) does to a record once its
fields are set, so that a record entered there keeps the rules the actions keep: the creator and
creation time from the signed-in staff member, totals computed on the server, an issued invoice
frozen, an invoice's status from its payments, a number once it is not a draft.

Action-owned columns (crm.resources.action_owned) never reach here from a request: the form leaves
them out and the API refuses them."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DateTime, inspect

from ..models.base import SERVER_SET
from . import invoices, numbering
from .totals import refresh as refresh_totals


def entered(record, actor=None) -> None:
    """Raises FieldError (naming the field) when the record asks for what only an action can do."""
    from ..models import Invoice

    if inspect(record).persistent:
        if isinstance(record, Invoice):
            invoices.refuse_frozen_change(record)
    else:
        _stamp_creator(record, actor)
    refresh_totals(record)
    if isinstance(record, Invoice):
        invoices.entered(record)
    numbering.entered(record)


def removing(record) -> None:
    """Raises FieldError when a generic door may not delete the record (an issued invoice that has
    payments or went to ANAF: it is cancelled and credited, never deleted)."""
    from ..models import Invoice

    if isinstance(record, Invoice) and (reason := invoices.frozen_because(record)):
        raise invoices.frozen_error("id", record, reason, "deleted")


def _stamp_creator(record, actor) -> None:
    """Who created the record and when: the server's to say (crm/models/base.py SERVER_SET)."""
    for column in type(record).__table__.columns:
        if column.key == "addedfrom":
            record.addedfrom = getattr(actor, "staffid", None)
        elif column.key in SERVER_SET:
            setattr(record, column.key, datetime.utcnow() if isinstance(column.type, DateTime) else date.today())
