"""Staff changing a sent proposal's or sales order's status by hand: one rule for both."""
from __future__ import annotations

from crm.sales.actions.sales_activity import log_sales_activity


def label(status) -> str:
    """The short label ("Accepted" of "Accepted/Invoiced")."""
    return status.label.split("/")[0]


def refusal(doc, name: str, closed: str | None, to) -> str | None:
    """Why ``doc`` (shown as ``name``) cannot be set to ``to``: closed by a conversion, still a draft,
    or already there; None when it can."""
    if closed:
        return closed
    draft = next(iter(type(to)))  # each status enum lists Draft first
    if doc.status == draft.value:
        return f"{name} is Draft; send it (or mark it as sent) first."
    if doc.status == to.value:
        return f"{name} is already {label(to)}."
    return None


def set_status(doc, actor, name: str, to) -> str:
    before = type(to).label_of(doc.status)
    doc.status = to.value
    log_sales_activity(doc, actor, f"Status changed from {before} to {label(to)}")
    return f"{name} marked {label(to)}"
