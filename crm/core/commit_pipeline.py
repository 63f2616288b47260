"""The commit pipeline: every session-level hook of the app, run in one stated order.

SQLAlchemy runs a session event's listeners in the order they were registered, so listeners
declared by decorators ran in the order their modules happened to be imported: a subscriber that
recorded a payment on ``invoice.created`` ran after the roll-ups had been settled, and left them
stale. Here each session event has ONE listener (``runner(hook)``), which calls the stages
registered for it in the order ``ORDER`` states; the subscribers of the business events are
stages too, of one subscriber. Modules register their stage functions with
``add`` from ``register_stages``, called by create_app (``install``), never as a side effect of an
import; registering again (the app built twice) replaces a stage, it does not add a second one.
Nothing here knows a business area: a stage is a name and a function.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import event
from sqlalchemy.orm import Session

EVENT = "business_event"

# hook -> its stages, in the order they run; one comment per stage says why it is there.
ORDER: dict[str, list[str]] = {
    "before_flush": [
        "rollups.note",  # what the rows this flush changes counted in the roll-ups, read before it writes them
        "deliveries.check",  # a draft delivery note changed by any door is re-checked against stock, then flushed
        "counts.guard",  # the lines of a settled stock count do not change (raises: the flush writes nothing)
    ],
    "after_flush": [
        "rollups.note",  # rows the flush inserted counted nowhere before this transaction
        "events.collect",  # rows created and statuses changed: business events, announced before the commit
        "reservations.collect",  # lines of an accepted sales order changed: announced as an event too
        "assignment.collect",  # a lead's assignee changed: announced as an event too
        "audit.collect",  # the generic doors' changes, while attribute history still shows old -> new
        "shared.note",  # options or webhooks changed: the values the process shares are read again at commit
    ],
    "do_orm_execute": [
        "rollups.note",  # an UPDATE/DELETE statement on invoices, payments or lines: read what it moves first
        "history.write",  # a read of the transaction sees its own history lines: queued ones go in first
        "shared.note",  # an UPDATE/DELETE statement on options or webhooks, as a flush of them
    ],
    "before_commit": [
        "events.announce",  # 1. subscribers run and may write more rows (payments, deliveries, webhook rows,
        #                      outbox jobs, history lines); loops until no new event, so every stage below
        #                      sees the transaction's final rows
        "history.write",  # 2. the activity lines queued by actions and by the subscribers above
        "audit.write",  # 3. the audit rows of the generic doors' changes, flushed by now
        "rollups.settle",  # 4. last: the roll-ups move by what every row written above contributes
    ],
    # Not a session event: the subscribers of the business events (crm/core/events.py), called by
    # events.announce above for each event, in this order.
    EVENT: [
        "reservations.react",  # an accepted sales order reserves its stock (a cancelled invoice releases it)
        "shipping.book",  # an approved delivery note with a courier books its shipment
        "receiving.count",  # an approved goods receipt counts its lines received on the purchase order
        "purchase_orders.complete",  # a purchase order whose goods all arrived is complete
        "webhooks.queue",  # a delivery row (and its outbox job) per webhook that chose the event
        "receiving.create",  # an approved purchase order gets its draft goods receipt
        "backorders.request",  # a delivery note created short asks purchasing for the shortfall (option)
        "deliveries.react",  # invoice events keep the invoice's delivery notes in step
        "notifications.notify",  # staff notifications, last: after the rows the others wrote
    ],
    "pending_to_persistent": [
        "actions.made",  # an action's outcome names the records it created (crm/core/registry.py)
    ],
    "after_commit": [
        "jobs.dispatch",  # the outbox rows this commit wrote are handed to the queue (they exist now)
        "reservations.forget",  # per-transaction notes, forgotten once it ended
        "attachments.keep",  # uploaded files of a committed transaction stay
        "webhooks.forget",  # the active webhooks are read again by the next transaction
        "shared.forget",  # what it changed of the shared options and webhooks is read again by every one
    ],
    "after_soft_rollback": [
        "rollups.forget",  # nothing of a rolled-back transaction is settled
        "jobs.forget",  # its outbox rows are gone: no dispatch (a savepoint's keeps the others)
        "stock.forget",  # its unwritten stock moves
        "reservations.forget",  # the orders it reserved for
        "attachments.remove",  # files uploaded by a rolled-back transaction are deleted
        "webhooks.forget",  # the active webhooks it read
    ],
    "after_rollback": [
        "events.forget",  # events of rolled-back rows are never announced
    ],
    "after_transaction_end": [
        "options.forget",  # the cached tbloptions are read again by the next transaction
        "shared.drop",  # a rolled-back transaction changed nothing shared
        "history.forget",  # queued lines of a rolled-back transaction are dropped
        "audit.forget",  # its audit entries too
    ],
}

_stages: dict[str, dict[str, Callable]] = {hook: {} for hook in ORDER}
_runners: dict[str, Callable] = {}


def add(hook: str, name: str, fn: Callable) -> Callable:
    """Register ``fn`` as the stage ``name`` of the session event ``hook``; it runs where ORDER
    places it. A name ORDER does not state is refused: the order is decided there, not here."""
    if name not in ORDER.get(hook, ()):
        raise KeyError(f"{hook} stage {name!r} is not in crm.core.commit_pipeline.ORDER")
    _stages[hook][name] = fn  # again: replaced, never run twice
    return fn


def stages() -> dict[str, list[tuple[str, Callable]]]:
    """hook -> [(name, function)] of the registered stages, in the order they run."""
    return {hook: [(name, _stages[hook][name]) for name in names if name in _stages[hook]]
            for hook, names in ORDER.items()}


def runner(hook: str) -> Callable:
    """The one listener of ``hook``: calls its stages in order, with the event's arguments."""
    if hook not in _runners:
        names = ORDER[hook]
        registered = _stages[hook]

        def run(*args, **kwargs):
            for name in names:
                fn = registered.get(name)
                if fn is not None:
                    fn(*args, **kwargs)

        run.__name__ = run.__qualname__ = f"commit_pipeline_{hook}"
        _runners[hook] = run
    return _runners[hook]


def install(modules: Iterable, subscribe: Callable) -> None:
    """Called by create_app: each module's ``register_stages(add)``, then one listener per session
    event and one subscriber of the business events (``subscribe``: crm.core.events.subscribe), once
    per process whatever number of apps are built."""
    for module in modules:
        module.register_stages(add)
    missing = [f"{hook} {name}" for hook, names in ORDER.items() for name in names if name not in _stages[hook]]
    if missing:
        raise RuntimeError(f"commit pipeline stages without a function: {', '.join(missing)}")
    for hook in ORDER:
        if hook == EVENT:
            subscribe(runner(hook))  # (a subscriber already subscribed is not added again)
        elif not event.contains(Session, hook, runner(hook)):
            event.listen(Session, hook, runner(hook))
