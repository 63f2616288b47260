"""What a generic door (the API's create and update, the grid's forms) does to a record once its
fields are set, so that a document entered there keeps the rules the actions keep: totals computed
on the server, an invoice's status from its payments, a number once it is not a draft."""
from __future__ import annotations

from . import invoices, numbering
from .totals import refresh as refresh_totals


def entered(record) -> None:
    """Raises FieldError (naming the field) when the record asks for what only an action can do."""
    from ..models import Invoice

    refresh_totals(record)
    if isinstance(record, Invoice):
        invoices.entered(record)
    numbering.entered(record)
