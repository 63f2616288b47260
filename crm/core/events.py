"""Business events: what happened, in words other parts of the system (and the outside world) react to.

Events come from one place: a session listener that looks, after each flush, at the rows created and
at the status columns that changed, and announces them just before the transaction commits. So an
event fires the same way whichever door the change came through (an admin button, the API, the
portal, a job) and never fires for a change that was rolled back: subscribers write their own rows
(webhook deliveries, notifications) in the same transaction, and may query and flush.
Events that are not a row or a status (an email sent, a document opened) are announced by the
action with ``emit``.

A subscriber is ``fn(name, obj, actor, data)``. The app's are stages of the commit pipeline
(crm/core/commit_pipeline.py states their order; create_app wires them); ``subscribe`` adds one after them.
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import inspect

from crm.purchasing.models import PurchaseOrder, PurchaseOrderStatus
from crm.sales.models.clients import Client, Lead
from crm.sales.models.documents import (
    Estimate,
    EstimateStatus,
    Invoice,
    InvoicePayment,
    InvoiceStatus,
    Proposal,
    ProposalStatus,
)
from crm.warehouse.models import GoodsDelivery, GoodsReceipt, WarehouseApproval

# name -> what it means (shown where people pick events, e.g. webhook settings)
EVENTS: dict[str, str] = {
    "lead.created": "A lead was created (form, email, import, Facebook, API or by hand)",
    "client.created": "A customer was created",
    "proposal.sent": "A proposal was emailed to the client",
    "proposal.viewed": "The client opened a proposal in the portal",
    "proposal.accepted": "A proposal was accepted",
    "proposal.declined": "A proposal was declined",
    "estimate.sent": "A sales order was emailed to the client",
    "estimate.accepted": "A sales order was accepted",
    "estimate.declined": "A sales order was declined",
    "estimate.expired": "A sent sales order passed its expiry date",
    "invoice.created": "An invoice was created",
    "invoice.sent": "An invoice was emailed to the client",
    "invoice.overdue": "An invoice passed its due date unpaid",
    "invoice.paid": "An invoice was paid in full",
    "invoice.cancelled": "An invoice was cancelled",
    "payment.recorded": "A payment was recorded on an invoice",
    "purchase_order.approved": "A purchase order was approved",
    "goods_receipt.approved": "A goods receipt was approved and its goods put in stock",
    "delivery_note.approved": "A delivery note was approved and its goods taken out of stock",
}

# Rows whose creation is an event.
CREATED: dict[type, str] = {
    Lead: "lead.created",
    Client: "client.created",
    Invoice: "invoice.created",
    InvoicePayment: "payment.recorded",
}

# (model, status column, new code) -> event. Several names of one code (aliases) share one entry.
STATUS_CHANGED: dict[tuple[type, str, object], str] = {
    (Proposal, "status", ProposalStatus.ACCEPTED.value): "proposal.accepted",
    (Proposal, "status", ProposalStatus.DECLINED.value): "proposal.declined",
    (Estimate, "status", EstimateStatus.ACCEPTED.value): "estimate.accepted",
    (Estimate, "status", EstimateStatus.DECLINED.value): "estimate.declined",
    (Estimate, "status", EstimateStatus.EXPIRED.value): "estimate.expired",
    (Invoice, "status", InvoiceStatus.OVERDUE.value): "invoice.overdue",
    (Invoice, "status", InvoiceStatus.PAID.value): "invoice.paid",
    (Invoice, "status", InvoiceStatus.CANCELLED.value): "invoice.cancelled",
    (PurchaseOrder, "status", PurchaseOrderStatus.APPROVED.value): "purchase_order.approved",
    (GoodsReceipt, "approval", WarehouseApproval.APPROVED.value): "goods_receipt.approved",
    (GoodsDelivery, "approval", WarehouseApproval.APPROVED.value): "delivery_note.approved",
}

# Status events announced also for a row created in that status, not only changed to it: those
# whose subscribers keep other tables right (a sales order entered already accepted, through the
# API or the grid, reserves its stock as one accepted later does). The others tell of a change a
# person made, and are not announced for rows entered, imported or copied in that status.
ANNOUNCED_ON_CREATE = {"estimate.accepted"}

_subscribers: list[Callable] = []


def subscribe(fn: Callable) -> Callable:
    if fn not in _subscribers:
        _subscribers.append(fn)
    return fn


def emit(name: str, obj, actor=None, **data) -> None:
    """Announce ``name`` about ``obj``; subscribers run now, inside the caller's transaction."""
    if name not in EVENTS:
        raise KeyError(f"unknown event {name!r}")
    for fn in list(_subscribers):
        fn(name, obj, actor, data)


def register(model, created: str | None = None, statuses: dict[object, str] | None = None, column="status",
             described: dict[str, str] | None = None) -> None:
    """Let another module declare events of its own tables (contracts, packing lists, ...)."""
    EVENTS.update(described or {})
    if created:
        CREATED[model] = created
    for code, name in (statuses or {}).items():
        STATUS_CHANGED[(model, column, code)] = name


def _watched_columns() -> dict[type, set[str]]:
    """model -> its status columns that announce events (STATUS_CHANGED regrouped, kept in step)."""
    global _watched, _watched_size
    if _watched_size != len(STATUS_CHANGED):
        _watched = {}
        for model, column, _ in STATUS_CHANGED:
            _watched.setdefault(model, set()).add(column)
        _watched_size = len(STATUS_CHANGED)
    return _watched


_watched: dict[type, set[str]] = {}
_watched_size = -1


def _status_changes(obj, columns) -> list[str]:
    model, found = type(obj), []
    for column in columns:
        history = inspect(obj).attrs[column].history
        if history.added and history.added[0] not in history.deleted:
            if name := STATUS_CHANGED.get((model, column, history.added[0])):
                found.append(name)
    return found


def _signed_in():
    """The staff member behind a generic create/edit (admin form, API), when there is one."""
    from flask import g, has_request_context
    from flask_login import current_user

    if not has_request_context():
        return None
    if getattr(g, "api_user", None) is not None:
        return g.api_user
    return current_user._get_current_object() if current_user.is_authenticated else None


_PENDING = "crm_pending_events"


def _collect(session, flush_context) -> None:
    # After a flush ids are known and attribute history still shows what changed; but a session
    # cannot be used while it flushes, so subscribers run just before the commit (_announce).
    found = [(CREATED[type(o)], o) for o in session.new if type(o) in CREATED]
    watched = _watched_columns()
    found += [(name, o) for o in session.dirty if type(o) in watched
              for name in _status_changes(o, watched[type(o)])]
    found += [(name, o) for o in session.new if type(o) in watched
              for name in _status_changes(o, watched[type(o)]) if name in ANNOUNCED_ON_CREATE]
    if found:
        actor = session.info.get("actor") or _signed_in()
        session.info.setdefault(_PENDING, []).extend((name, obj, actor) for name, obj in found)


def later(session, name: str, obj, actor=None) -> None:
    """Announce ``name`` just before the commit, with the events found by the flush: for a
    session listener that notices an event while the session flushes (when it cannot be used)."""
    if name not in EVENTS:
        raise KeyError(f"unknown event {name!r}")
    session.info.setdefault(_PENDING, []).append((name, obj, actor or session.info.get("actor") or _signed_in()))


def _announce(session) -> None:
    """Run the subscribers of what this transaction did, inside it; what they write is announced too."""
    for _ in range(10):  # subscribers' own rows may announce events in turn; never loop forever
        session.flush()
        pending = session.info.pop(_PENDING, None)
        if not pending:
            return
        for name, obj, actor in pending:
            emit(name, obj, actor)


def _forget(session) -> None:
    session.info.pop(_PENDING, None)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_flush", "events.collect", _collect)
    add("before_commit", "events.announce", _announce)
    add("after_rollback", "events.forget", _forget)
