"""Stock reservation for accepted sales orders (option ``warehouse_reserve_on_accept``, off by default:
the seed's documented behaviour is that nothing is reserved).

With the option on:

* accepting a sales order (the Accept button, the client in the portal, converting a sent order to an
  invoice, any other door that sets status 4) reserves the quantities of its stock-tracked lines;
* available = on hand - reserved, per warehouse x item, wherever stock is shown (item page, delivery
  note stock check, stock-vs-minimum report, the Stock reservations grid and API);
* a delivery note may not take stock reserved for another order: it is refused naming the item, what
  it needs and what is available after the other orders' reservations; the order's own reservation
  counts as available to the notes of the invoice made from it;
* approving such a note consumes the reservation (``delivered`` grows; Delivered when all went out);
* the order declined or expired, or its invoice cancelled, releases what is still held;
* the lines of an accepted order edited (grid, line editor, API): what it holds is released and
  reserved again for the new quantities, less what was already delivered.

Why a table and not ``tblinventory_manage.reserved_quantity``: a sales order promises "5 pallet jacks
from the main warehouse", not lot L-17; the lot a delivery takes is chosen by FIFO/FEFO when the note
is approved. Holding the promise per (order, item, warehouse) keeps the balance rows and the ledger
exactly as they are (a balance is still the sum of its ledger; a reservation moves no goods), shows a
warehouse person who holds what and since when, and leaves lots free to be drained in their order.

Short at acceptance: the order is accepted anyway and reserves what there is, and says so (the
action's message and the order's history: "reserved 3 of 5 Pallet jack, 2 not in stock"). Accepting
records the client's decision (often the client's own click in the portal), so a sales team expects
it to stand and the shortfall to be stated; the rest is then ordered (backorder) as without
reservation. Warehouses are drawn on default warehouse first, then the others in id order. The
shortfall is kept as a "Waiting for stock" row: when a goods receipt brings the item in, waiting
orders reserve it, the earliest accepted first (:func:`top_up`), before anyone else can promise it.

Concurrency: reserving locks the stock rows of each (warehouse, item) with :func:`stock.lock` (the
same rows a delivery approval locks first) and reads the reservations with a locking read, so two
acceptances, or an acceptance and a delivery, wait for each other and never promise the same units.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm.util import identity_key

from crm.catalog.models import Item
from crm.core import events, options
from crm.core.extensions import db
from crm.sales.actions.sales_activity import log_sales_activity
from crm.sales.models.documents import Estimate, EstimateStatus, ItemLine
from crm.warehouse.actions import stock
from crm.warehouse.models import InventoryBalance, ReservationStatus, StockReservation, Warehouse

events.register(None, described={"estimate.lines_changed": "The lines of an accepted sales order were changed"})

ZERO = Decimal("0")
RESERVED, DELIVERED, RELEASED, WAITING = (s.value for s in (
    ReservationStatus.RESERVED, ReservationStatus.DELIVERED, ReservationStatus.RELEASED, ReservationStatus.WAITING))
OPEN = (RESERVED, WAITING)
R = StockReservation
HELD = R.quantity - R.delivered
_DONE = "reservation_orders_done"  # orders reserved in this transaction (the action and the event both ask)


def on() -> bool:
    return bool(options.get("warehouse_reserve_on_accept"))


# --- reading -----------------------------------------------------------------------------------

def held(warehouse_id: int, commodity_id: int, besides: int | None = None, locked: bool = False) -> Decimal:
    """Quantity of an item held in a warehouse for accepted orders (``besides``: not counting that
    order's own). ``locked``: a locking read, for a caller that holds the stock rows and decides on
    it (sees the last committed reservations under MariaDB's repeatable read too)."""
    where = [R.warehouse_id == warehouse_id, R.commodity_id == commodity_id, R.status == RESERVED]
    if besides is not None:
        where.append(R.estimate_id != besides)
    if locked:  # no aggregate with FOR UPDATE: the rows, summed here
        rows = db.session.execute(select(R.quantity, R.delivered).where(*where).with_for_update()).all()
        return sum((Decimal(q) - Decimal(d or 0) for q, d in rows), ZERO)
    return Decimal(db.session.execute(select(func.coalesce(func.sum(HELD), 0)).where(*where)).scalar())


def held_by_warehouse(commodity_id: int) -> dict[int, Decimal]:
    """warehouse id -> quantity held of an item (the item page)."""
    return {wh: Decimal(q) for wh, q in db.session.execute(
        select(R.warehouse_id, func.sum(HELD)).where(R.commodity_id == commodity_id, R.status == RESERVED)
        .group_by(R.warehouse_id)).all()}


def held_per_item():
    """Subquery (commodity_id, qty): what accepted orders hold of each item, all warehouses."""
    return (select(R.commodity_id, func.sum(HELD).label("qty")).where(R.status == RESERVED)
            .group_by(R.commodity_id).subquery())


def order_of_note(note) -> int | None:
    """The sales order a delivery note serves (through its invoice), whose reservation it may use."""
    if not note.invoice_id or not on():
        return None
    return db.session.execute(select(Estimate.id).where(Estimate.invoiceid == note.invoice_id)).scalar()


def shortage_words() -> str:
    """Said in a refused delivery's message: the available quantity is net of other orders' holds."""
    return " after the reservations of other sales orders" if on() else ""


# --- reserving ---------------------------------------------------------------------------------

def _wanted(e: Estimate) -> dict[int, Decimal]:
    """item id -> quantity of the order's stock-tracked lines (optional lines only when selected),
    less what its earlier reservations already saw delivered."""
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in e.items:
        if line.item_id is None or (line.is_optional and not line.is_selected) or (line.qty or ZERO) <= 0:
            continue
        out[line.item_id] += Decimal(line.qty)
    for item, delivered in db.session.execute(select(R.commodity_id, func.sum(R.delivered))
                                              .where(R.estimate_id == e.id).group_by(R.commodity_id)):
        if item in out:
            out[item] -= Decimal(delivered or 0)
    out = {item: q for item, q in out.items() if q > 0}
    items = db.session.execute(select(Item).where(Item.id.in_(list(out)))).scalars().all() if out else []
    return {it.id: out[it.id] for it in sorted(items, key=lambda i: i.id) if stock.is_tracked(it)}


def _warehouses_in_stock(item_ids) -> dict[int, list[int]]:
    """item id -> the warehouses holding some, in the order delivery notes draw on them."""
    from crm.warehouse.actions.deliveries import (
        delivery_warehouses,  # cycle: actions.deliveries -> actions.reservations
    )

    rank = {wh: n for n, wh in enumerate(delivery_warehouses())}
    rows = db.session.execute(select(InventoryBalance.commodity_id, InventoryBalance.warehouse_id)
                              .where(InventoryBalance.commodity_id.in_(list(item_ids)), stock.IN_STOCK)
                              .distinct()).all()
    out: dict[int, list[int]] = defaultdict(list)
    for item, wh in rows:
        out[item].append(wh)
    for whs in out.values():
        whs.sort(key=lambda w: (rank.get(w, len(rank)), w))
    return out


def _has_reservation(e: Estimate) -> bool:
    return db.session.execute(select(R.id).where(R.estimate_id == e.id, R.status.in_(OPEN)).limit(1)) \
        .first() is not None


def _home_warehouse(in_stock: list[int]) -> int | None:
    """Where a shortfall is wanted: the first warehouse the item was drawn from, else the default one."""
    from crm.warehouse.actions.goods_receipts import (
        default_warehouse_id,  # cycle: actions.goods_receipts -> actions.reservations
    )

    if in_stock:
        return in_stock[0]
    return default_warehouse_id() or db.session.execute(select(func.min(Warehouse.warehouse_id))).scalar()


def reserve(e: Estimate, actor=None) -> str:
    """Reserve what the accepted order ``e`` needs, as far as stock goes; returns what was done in
    words ("" when the option is off or it was done already)."""
    done = db.session.info.setdefault(_DONE, set())
    if not on() or e.id in done or _has_reservation(e):
        return ""
    done.add(e.id)
    wanted = _wanted(e)
    if not wanted:
        return ""
    where = _warehouses_in_stock(wanted)
    locked = stock.lock([(wh, item) for item, whs in where.items() for wh in whs])
    fefo_on, parts = stock.fefo(), []
    for item, need in wanted.items():
        left = need
        for wh in where.get(item, []):
            if left <= 0:
                break
            free = stock.on_hand(locked[(wh, item)], fefo_on=fefo_on) - held(wh, item, locked=True)
            take = min(left, free)
            if take > 0:
                db.session.add(R(estimate_id=e.id, commodity_id=item, warehouse_id=wh, quantity=take,
                                 delivered=ZERO, status=RESERVED, date_reserved=datetime.utcnow()))
                left -= take
        name = str(db.session.get(Item, item))
        home = _home_warehouse(where.get(item, []))
        if left > 0 and home is not None:
            db.session.add(R(estimate_id=e.id, commodity_id=item, warehouse_id=home, quantity=left,
                             delivered=ZERO, status=WAITING, date_reserved=datetime.utcnow()))
        if left > 0:
            parts.append(f"{stock.qty(need - left)} of {stock.qty(need)} {name} ({stock.qty(left)} not in stock, "
                         "reserved when it comes in)")
        else:
            parts.append(f"{stock.qty(need)} {name}")
    text = "Stock reserved: " + "; ".join(parts)

    log_sales_activity(e, actor, text)
    return text


# --- consuming and releasing -------------------------------------------------------------------

def consume(note) -> None:
    """A delivery note of the order's invoice was approved: what it took out is no longer held.
    Same warehouse first; a quantity sent from another warehouse frees the order's hold elsewhere."""
    order = order_of_note(note)
    if order is None:
        return
    sent: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for line in note.items:
        wh = line.warehouse_id or note.warehouse_id
        if line.commodity_code is not None and wh is not None:
            sent[(wh, line.commodity_code)] += Decimal(line.quantities or 0)
    rows = db.session.execute(select(R).where(R.estimate_id == order, R.status.in_(OPEN),
                                              R.commodity_id.in_({i for _, i in sent}))
                              .order_by(R.id).with_for_update()).scalars().all()
    for (wh, item), quantity in sorted(sent.items()):
        # what is held first (this warehouse, then others), then what was still waiting for stock
        mine = sorted((r for r in rows if r.commodity_id == item),
                      key=lambda r: (r.status == WAITING, r.warehouse_id != wh, r.id))
        for r in mine:
            if quantity <= 0:
                break
            part = min(quantity, r.quantity - r.delivered)
            if part <= 0:
                continue
            quantity -= part
            if r.status == WAITING:  # delivered from free stock: no longer wanted
                r.quantity -= part
                if r.quantity <= 0:
                    db.session.delete(r)
                continue
            r.delivered += part
            if r.delivered >= r.quantity:
                r.status, r.date_closed = DELIVERED, datetime.utcnow()


def top_up(received, source: str, actor=None) -> list[str]:
    """Stock came in at these (warehouse, item) pairs: accepted orders waiting for the items reserve
    it, the earliest accepted first. Returns "EST-000002 (2 Pallet jack)" per order served."""
    received = sorted(set(received))
    if not on() or not received:
        return []
    waiting = db.session.execute(select(R).where(R.status == WAITING, R.commodity_id.in_({i for _, i in received}))
                                 .order_by(R.date_reserved, R.id).with_for_update()).scalars().all()
    if not waiting:
        return []
    locked, fefo_on = stock.lock(received), stock.fefo()
    free = {p: stock.on_hand(rows, fefo_on=fefo_on) - held(*p, locked=True) for p, rows in locked.items()}
    served: dict[int, list[str]] = defaultdict(list)
    for w in waiting:
        for wh, item in sorted((p for p in free if p[1] == w.commodity_id), key=lambda p: (p[0] != w.warehouse_id, p)):
            take = min(w.quantity, free[(wh, item)])
            if take <= 0:
                continue
            db.session.add(R(estimate_id=w.estimate_id, commodity_id=item, warehouse_id=wh, quantity=take,
                             delivered=ZERO, status=RESERVED, date_reserved=datetime.utcnow()))
            free[(wh, item)] -= take
            w.quantity -= take
            served[w.estimate_id].append(f"{stock.qty(take)} {db.session.get(Item, item)}")
        if w.quantity <= 0:
            db.session.delete(w)

    said = []
    for order_id, parts in served.items():
        order = db.session.get(Estimate, order_id)
        log_sales_activity(order, actor, f"Stock reserved on receipt of {source}: {', '.join(parts)}")
        said.append(f"{order} ({', '.join(parts)})")
    return said


def release(estimate_id: int, reason: str) -> int:
    """Free what an order still holds; returns how many reservations were released."""
    rows = db.session.execute(select(R).where(R.estimate_id == estimate_id, R.status.in_(OPEN))
                              .with_for_update()).scalars().all()
    for r in rows:
        r.status, r.date_closed, r.note = RELEASED, datetime.utcnow(), reason
    return len(rows)


def _on_event(name, obj, actor, data):
    # Every door that accepts, declines or cancels (buttons, API, portal, daily sweep) ends here.
    if not on():
        return
    if name == "estimate.accepted":  # the action that accepted it says what was reserved
        events.say(reserve(obj, actor))
    elif name in ("estimate.declined", "estimate.expired"):
        status = "declined" if name == "estimate.declined" else "expired"
        if release(obj.id, f"Sales order {status}"):
            log_sales_activity(obj, actor, "Stock reservation released")
    elif name == "estimate.lines_changed" and obj.status == EstimateStatus.ACCEPTED.value \
            and obj.id not in db.session.info.get(_DONE, ()):  # (not when accepted in this transaction)
        released = release(obj.id, "Sales order lines changed")
        said = reserve(obj, actor)
        if released or said:
            log_sales_activity(obj, actor, f"Lines changed: stock reserved again. {said}".strip())
    elif name == "invoice.cancelled":
        order = db.session.execute(select(Estimate).where(Estimate.invoiceid == obj.id)).scalar()
        if order is not None and release(order.id, f"Invoice {obj} cancelled"):
            log_sales_activity(order, actor, "Stock reservation released")


def _note_line_changes(session, flush_context) -> None:
    """Lines of an accepted sales order added, changed or removed: announced before the commit."""
    if not any(isinstance(o, ItemLine) for o in (*session.new, *session.dirty, *session.deleted)):
        return
    orders = {o.rel_id for o in (*session.new, *session.dirty, *session.deleted)
              if isinstance(o, ItemLine) and o.rel_type == "estimate" and o.rel_id is not None}
    for order_id in sorted(orders):
        order = session.identity_map.get(identity_key(Estimate, order_id))
        if order is not None and order.status == EstimateStatus.ACCEPTED.value:
            events.later(session, "estimate.lines_changed", order)


def _forget(session, *args) -> None:
    session.info.pop(_DONE, None)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_flush", "reservations.collect", _note_line_changes)
    add("after_commit", "reservations.forget", _forget)
    add("after_soft_rollback", "reservations.forget", _forget)
    add("business_event", "reservations.react", _on_event)
