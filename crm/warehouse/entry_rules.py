"""The warehouse documents at the generic doors (grid forms, the API's update and delete, ``crm
record``): what crm/core/entry.py runs for them. Once approved or rejected, a goods receipt, delivery
note, packing list or client return has moved stock (or been refused) as its lines say, and the
ledger rows name them: a generic door changes only its notes, and never deletes it."""
from __future__ import annotations

from sqlalchemy import inspect

from crm.core import lines as doc_lines
from crm.core.entry import rules
from crm.core.extensions import db
from crm.core.models.base import FieldError
from crm.warehouse.models import GoodsDelivery, GoodsReceipt, OrderReturn, PackingList, WarehouseApproval

SETTLED_DOCUMENTS = (GoodsReceipt, GoodsDelivery, PackingList, OrderReturn)
NOTES = ("description", "note", "admin_note", "client_note", "return_reason")  # still written after approval


def _settled_as(doc) -> str | None:
    """The label of the approval it had before this change (None: a draft, free to change)."""
    history = inspect(doc).attrs.approval.history
    before = history.deleted[0] if history.deleted else doc.approval
    if before in (None, WarehouseApproval.DRAFT.value):
        return None
    return WarehouseApproval.label_of(before)


def _refused(doc, field: str, state: str, verb: str) -> FieldError:
    return FieldError(field, f"{doc} is {state}: the stock moved as it says, so its "
                             f"{field.replace('_', ' ')} cannot be {verb}.")


def refuse_settled_change(doc) -> None:
    with db.session.no_autoflush:
        state = _settled_as(doc)
        if state is None:
            return
        for attr in inspect(doc).attrs:
            if attr.key not in NOTES and attr.history.has_changes():
                raise _refused(doc, attr.key, state, "changed")
        if doc_lines.changed(doc, "items"):  # a line updated in place (sent with its id)
            raise _refused(doc, "items", state, "changed")


def refuse_settled_removal(doc) -> None:
    state = _settled_as(doc)
    if state is not None:
        raise _refused(doc, "id", state, "deleted")


for _model in SETTLED_DOCUMENTS:
    rules(_model, changed=refuse_settled_change, removing=refuse_settled_removal)
