"""Stock movements: the one place that changes tblinventory_manage, always with its ledger row.

A balance row is one warehouse x item x lot x expiry x purchase price. Every movement locks the
balance rows of its (warehouse, item) with SELECT ... FOR UPDATE (PostgreSQL, MariaDB; SQLite
serialises writers), re-reads them, changes one row and writes one tblgoods_transaction_detail row
with the row's quantity before (``old_quantity``) and the signed change (``quantity``: + in, - out)
so that every balance equals the sum of its ledger. Nothing here lets a balance go negative: a
movement that would is refused with a message naming the item, what is needed and what there is.

Callers lock every (warehouse, item) they will touch first, in one sorted order (:func:`lock`), so
two documents touching the same items in a different order wait for each other instead of
deadlocking.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable

from sqlalchemy import Integer, func, literal_column, or_, select, true, tuple_

from crm.catalog.models import Item
from crm.core import bulk, options
from crm.core.extensions import db
from crm.core.registry import ActionError
from crm.warehouse.models import InventoryBalance, StockTransaction, StockTransactionType, Warehouse

ZERO = Decimal("0")
# A literal, not a bound parameter: the databases then match it to the partial index of the lots in stock.
IN_STOCK = InventoryBalance.__table__.c.inventory_number > literal_column("0")
RECEIPT, DELIVERY, ADJUSTMENT, TRANSFER, RETURN = (t.value for t in StockTransactionType)


class StockShort(ActionError):
    """Not enough stock: ``shortages`` lists (item, warehouse, needed, available)."""

    def __init__(self, shortages: list[tuple[str, str, Decimal, Decimal]], what: str = ""):
        self.shortages = shortages
        parts = [f"{item} in {wh}: needed {qty(need)}, available {qty(have)}" for item, wh, need, have in shortages]
        super().__init__(f"Not enough stock{what}: " + "; ".join(parts) + ".")


def qty(value) -> str:
    """A quantity as a person writes it: 5, 2.5 (no trailing zeros)."""
    d = Decimal(value or 0).normalize()
    return f"{d:f}" if d == d.to_integral() or d.as_tuple().exponent < 0 else str(d)


def fefo() -> bool:
    return bool(options.get("warehouse_consume_fefo"))


def reservations_on() -> bool:
    # cycle: actions.reservations -> actions.stock
    from crm.warehouse.actions.reservations import on  # held per sales order in tblstock_reservations (reservations.py)

    return on()


def is_tracked(item: Item | None) -> bool:
    return item is not None and not item.without_checking_warehouse


def tracked_ids(item_ids: Iterable[int]) -> set[int]:
    """The stock-tracked ones among these items (the rule of :func:`is_tracked`), in one query."""
    ids = {i for i in item_ids if i is not None}
    if not ids:
        return set()
    rows = db.session.execute(select(Item.id, Item.without_checking_warehouse).where(Item.id.in_(ids)))
    return {item_id for item_id, untracked in rows if not untracked}


def item_of(line, column: str = "commodity_code") -> Item | None:
    """A document line's item, also for a line not flushed yet (its relationship is still empty)."""
    item_id = getattr(line, column)
    return db.session.get(Item, item_id) if item_id is not None else None


@dataclass(frozen=True)
class Ref:
    """The document line behind a movement, written on its ledger row."""

    rel_type: str
    doc_id: int | None
    line_id: int | None = None
    note: str | None = None
    price: Decimal | None = None


# --- work requested by event subscribers ------------------------------------------------------

# --- reading ---------------------------------------------------------------------------------

BAL = InventoryBalance.__table__
LEDGER = StockTransaction.__table__


@dataclass
class Lot:
    """One balance row as a movement sees it: read under lock with Core (no ORM identity to keep in
    step), changed in memory, written back by :func:`write` with the rest of the operation's moves."""

    id: int | None
    warehouse_id: int
    commodity_id: int
    inventory_number: Decimal
    reserved_quantity: Decimal = ZERO
    lot_number: str | None = None
    expiry_date: date | None = None
    purchase_price: Decimal = ZERO
    date_manufacture: date | None = None
    changed: bool = False

    @classmethod
    def of(cls, row) -> "Lot":
        m = row._mapping
        return cls(m["id"], m["warehouse_id"], m["commodity_id"], Decimal(m["inventory_number"] or 0),
                   Decimal(m["reserved_quantity"] or 0), m["lot_number"], m["expiry_date"],
                   Decimal(m["purchase_price"] or 0), m["date_manufacture"])

    @property
    def commodity(self):
        return db.session.get(Item, self.commodity_id)

    @property
    def warehouse(self):
        return db.session.get(Warehouse, self.warehouse_id)


def _rows_query(warehouse_id: int, commodity_id: int, all_rows: bool = False):
    q = (select(BAL).where(BAL.c.warehouse_id == warehouse_id, BAL.c.commodity_id == commodity_id)
         .order_by(BAL.c.id))
    # Drained lots stay as rows at zero; reading stock skips them (they only matter to put goods back
    # into the same lot).
    return q if all_rows else q.where(IN_STOCK)


def lock(pairs: Iterable[tuple[int, int]], all_rows: bool = False) -> dict[tuple[int, int], list[Lot]]:
    """Lock and read the balance rows of each (warehouse, item) in one query, in (warehouse, item, id)
    order; the lists come in FIFO order. ``all_rows``: empty lots too (to refill a lot)."""
    pairs = sorted(set(pairs))
    out: dict[tuple[int, int], list[Lot]] = {p: [] for p in pairs}
    if not pairs:
        return out
    q = (select(BAL).where(tuple_(BAL.c.warehouse_id, BAL.c.commodity_id).in_(pairs))
         .order_by(BAL.c.warehouse_id, BAL.c.commodity_id, BAL.c.id))
    if not all_rows:
        q = q.where(IN_STOCK)
    for row in db.session.execute(q.with_for_update()):
        lot = Lot.of(row)
        out[(lot.warehouse_id, lot.commodity_id)].append(lot)
    return out


# The first lots of each item straight from the partial index, one lateral read per (warehouse,
# item) in the order of the arrays (sorted), each locking in id order (PostgreSQL, FIFO).
BATCH = 8  # lots locked at first for one delivery line; more only when these do not cover it
_wanted = bulk.arrays("wanted", {"wh": Integer, "item": Integer})
_first = (select(BAL).where(BAL.c.warehouse_id == _wanted.c.wh, BAL.c.commodity_id == _wanted.c.item, IN_STOCK)
          .order_by(BAL.c.id).limit(BATCH).with_for_update().lateral("lots"))
PG_FIRST_LOTS = select(_first).select_from(_wanted.join(_first, true()))


def lock_for_delivery(need: dict[tuple[int, int], Decimal], today: date | None = None,
                      fefo_on: bool | None = None) -> dict[tuple[int, int], list[Lot]]:
    """Lock, per (warehouse, item), the first deliverable lots in drain order, only as many as the
    quantity needs (an item may have thousands of lots; a delivery takes the first few): one query
    for every item of the note. An item whose first lots fall short gets all its deliverable lots
    locked, so a shortage is measured on all of them."""
    fefo_on = fefo() if fefo_on is None else fefo_on
    today = today or date.today()
    if not need:
        return {}
    pairs = sorted(need)

    def deliverable(q):
        q = q.where(IN_STOCK)
        return q.where(or_(BAL.c.expiry_date.is_(None), BAL.c.expiry_date >= today)) if fefo_on else q

    order = [BAL.c.expiry_date.is_(None), BAL.c.expiry_date, BAL.c.id] if fefo_on else [BAL.c.id]
    if bulk.postgresql() and not fefo_on:  # (FEFO takes the ranked path below, which also locks in id order)
        q, params = PG_FIRST_LOTS, {"wanted_wh": [wh for wh, _ in pairs], "wanted_item": [it for _, it in pairs]}
    else:
        params = None
        ranked = deliverable(select(BAL.c.id, func.row_number().over(
            partition_by=(BAL.c.warehouse_id, BAL.c.commodity_id), order_by=order).label("rn"))
            .where(tuple_(BAL.c.warehouse_id, BAL.c.commodity_id).in_(pairs))).subquery()
        # Locked in (warehouse, item, id) order whatever the drain order, as lock() does: no deadlocks.
        q = deliverable(select(BAL).where(BAL.c.id.in_(select(ranked.c.id).where(ranked.c.rn <= BATCH)))) \
            .order_by(BAL.c.warehouse_id, BAL.c.commodity_id, BAL.c.id).with_for_update()
    out: dict[tuple[int, int], list[Lot]] = {p: [] for p in pairs}
    for row in db.session.execute(q, params).all():
        lot = Lot.of(row)
        out[(lot.warehouse_id, lot.commodity_id)].append(lot)
    for (wh, item) in pairs:
        rows = out[(wh, item)]
        if len(rows) == BATCH and sum((r.inventory_number for r in rows), ZERO) < need[(wh, item)]:
            more = deliverable(select(BAL).where(BAL.c.warehouse_id == wh, BAL.c.commodity_id == item))
            out[(wh, item)] = [Lot.of(r) for r in db.session.execute(more.order_by(BAL.c.id).with_for_update())]
    return out


def usable(row: Lot, today: date | None = None, fefo_on: bool | None = None) -> bool:
    """Whether a lot can be delivered: with FEFO on, an expired lot never is."""
    fefo_on = fefo() if fefo_on is None else fefo_on
    return not (fefo_on and row.expiry_date is not None and row.expiry_date < (today or date.today()))


def drain_order(rows: list[Lot], today: date | None = None, fefo_on: bool | None = None) -> list[Lot]:
    """The order deliveries take lots in: FIFO (receipt order, id ASC) or FEFO (earliest expiry first,
    lots without expiry last, expired lots left out)."""
    if not (fefo() if fefo_on is None else fefo_on):
        return sorted(rows, key=lambda r: r.id or 0)
    today = today or date.today()
    live = [r for r in rows if usable(r, today, True)]
    return sorted(live, key=lambda r: (r.expiry_date is None, r.expiry_date or date.max, r.id or 0))


def on_hand(rows: list[Lot], today: date | None = None, fefo_on: bool | None = None) -> Decimal:
    fefo_on, today = fefo() if fefo_on is None else fefo_on, today or date.today()
    return sum((r.inventory_number for r in rows if usable(r, today, fefo_on)), ZERO)


def available(warehouse_id: int, commodity_id: int, today: date | None = None,
              rows: list[Lot] | None = None, fefo_on: bool | None = None, besides: int | None = None) -> Decimal:
    """What can still be promised: on hand (deliverable lots) minus what sales orders hold when
    reservation is on; ``besides``: a sales order whose own hold counts as available (its delivery)."""
    fefo_on = fefo() if fefo_on is None else fefo_on
    if rows is None:  # not locked: one aggregate query
        q = select(func.coalesce(func.sum(InventoryBalance.inventory_number), 0)).where(
            InventoryBalance.warehouse_id == warehouse_id, InventoryBalance.commodity_id == commodity_id,
            IN_STOCK)
        if fefo_on:
            q = q.where(or_(InventoryBalance.expiry_date.is_(None),
                            InventoryBalance.expiry_date >= (today or date.today())))
        have = Decimal(db.session.execute(q).scalar())
    else:
        have = on_hand(rows, today, fefo_on)
    if not reservations_on():
        return have
    from crm.warehouse.actions.reservations import held  # cycle: actions.reservations -> actions.stock

    return have - held(warehouse_id, commodity_id, besides, locked=rows is not None)


def balances_of_item(commodity_id: int) -> list[InventoryBalance]:
    """Every non-empty lot of an item, by warehouse then receipt order (the product page)."""
    return list(db.session.execute(
        select(InventoryBalance).where(InventoryBalance.commodity_id == commodity_id,
                                       or_(InventoryBalance.inventory_number != 0,
                                           InventoryBalance.reserved_quantity != 0))
        .order_by(InventoryBalance.warehouse_id, InventoryBalance.id)).scalars())


def totals_by_warehouse(commodity_id: int) -> list[dict]:
    rows = db.session.execute(
        select(Warehouse, func.sum(InventoryBalance.inventory_number))
        .join(InventoryBalance, InventoryBalance.warehouse_id == Warehouse.warehouse_id)
        .where(InventoryBalance.commodity_id == commodity_id)
        .group_by(Warehouse.warehouse_id).order_by(Warehouse.warehouse_id)).all()
    reserving = reservations_on()
    if reserving:
        from crm.warehouse.actions.reservations import held_by_warehouse  # cycle: actions.reservations -> actions.stock

        holds = held_by_warehouse(commodity_id)
    out = []
    for wh, on in rows:
        on = on or ZERO
        res = holds.get(wh.warehouse_id, ZERO) if reserving else ZERO
        out.append({"warehouse": wh, "on_hand": on, "reserved": res, "available": on - res})
    return out


# --- writing -----------------------------------------------------------------------------------
# Moves are kept on the session and written by write(): one INSERT of all the ledger rows, one
# UPDATE of all the balances changed (crm.core.bulk), one INSERT per new lot.

LEDGER_COLUMNS = ("goods_receipt_id", "rel_type", "goods_id", "old_quantity", "quantity", "date_add", "commodity_id",
                  "warehouse_id", "status", "purchase_price", "price", "expiry_date", "lot_number", "note")
SET_BALANCES = bulk.UpdateById(BAL, "inventory_number")
INSERT_LEDGER = bulk.InsertRows(LEDGER, LEDGER_COLUMNS)


def _pending() -> dict:
    return db.session.info.setdefault("stock_moves", {"ledger": [], "lots": {}})


def _ledger(row: Lot, change: Decimal, status: int, ref: Ref) -> dict:
    entry = {"goods_receipt_id": ref.doc_id, "rel_type": ref.rel_type, "goods_id": ref.line_id,
             "old_quantity": row.inventory_number, "quantity": change, "date_add": datetime.utcnow(),
             "commodity_id": row.commodity_id, "warehouse_id": row.warehouse_id, "status": status,
             "purchase_price": row.purchase_price, "price": ref.price, "expiry_date": row.expiry_date,
             "lot_number": row.lot_number, "note": ref.note}
    pending = _pending()
    pending["ledger"].append(entry)
    pending["lots"][id(row)] = row
    row.inventory_number += change
    row.changed = True
    return entry


def write() -> None:
    """Write the moves made since the last write, in the caller's transaction."""
    pending = db.session.info.pop("stock_moves", None)
    if not pending:
        return
    lots = list(pending["lots"].values())
    for lot in (lt for lt in lots if lt.id is None):
        lot.id = db.session.execute(BAL.insert().values(
            warehouse_id=lot.warehouse_id, commodity_id=lot.commodity_id, inventory_number=lot.inventory_number,
            reserved_quantity=lot.reserved_quantity, lot_number=lot.lot_number, expiry_date=lot.expiry_date,
            purchase_price=lot.purchase_price, date_manufacture=lot.date_manufacture)).inserted_primary_key[0]
    SET_BALANCES({lt.id: {"inventory_number": lt.inventory_number} for lt in lots if lt.changed})
    INSERT_LEDGER(pending["ledger"])
    for lt in lots:
        lt.changed = False


def _forget(session, previous_transaction) -> None:
    session.info.pop("stock_moves", None)


def _same_lot(row, lot_number, expiry_date, purchase_price) -> bool:
    return (row.lot_number or None) == (lot_number or None) and row.expiry_date == expiry_date \
        and Decimal(row.purchase_price or 0) == Decimal(purchase_price or 0)


def put(rows: list[Lot], *, warehouse_id: int, commodity_id: int, quantity: Decimal, status: int,
        ref: Ref, lot_number: str | None = None, expiry_date: date | None = None,
        date_manufacture: date | None = None, purchase_price: Decimal | None = None) -> Lot:
    """Add ``quantity`` to the lot matching (lot, expiry, purchase price) among the locked ``rows``
    of (warehouse, item), or to a new lot appended to ``rows``."""
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ActionError(f"A quantity put in stock must be positive (got {qty(quantity)}).", field="quantities")
    price = Decimal(purchase_price or 0)
    row = next((r for r in rows if _same_lot(r, lot_number, expiry_date, price)), None)
    if row is None:
        row = Lot(None, warehouse_id, commodity_id, ZERO, ZERO, lot_number or None, expiry_date, price,
                  date_manufacture)
        rows.append(row)
    _ledger(row, quantity, status, ref)
    return row


def take(row: Lot, quantity: Decimal, status: int, ref: Ref) -> dict:
    """Take ``quantity`` out of one locked lot; refused if the lot holds less."""
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ActionError(f"A quantity taken from stock must be positive (got {qty(quantity)}).")
    if quantity > row.inventory_number:
        raise StockShort([(str(row.commodity), str(row.warehouse), quantity, row.inventory_number)])
    return _ledger(row, -quantity, status, ref)


def set_to(row: Lot, counted: Decimal, ref: Ref) -> dict | None:
    """Loss / adjustment: set a lot to the counted quantity (never below zero)."""
    counted = Decimal(counted)
    if counted < 0:
        raise ActionError(f"The counted quantity of {row.commodity} cannot be negative.", field="updates_number")
    change = counted - row.inventory_number
    return _ledger(row, change, ADJUSTMENT, ref) if change else None


def draw(rows: list[Lot], quantity: Decimal, status: int, ref: Ref, today: date | None = None,
         fefo_on: bool | None = None) -> list[tuple[Lot, Decimal]]:
    """Take ``quantity`` from the locked lots of one (warehouse, item) in drain order (FIFO/FEFO);
    returns the lots consumed with their quantities. Refused, naming the shortfall, when short."""
    quantity = Decimal(quantity)
    order = drain_order(rows, today, fefo_on)
    have = sum((r.inventory_number for r in order), ZERO)
    if have < quantity:
        sample = rows[0] if rows else None
        item = str(sample.commodity) if sample else "item"
        raise StockShort([(item, str(sample.warehouse) if sample else "warehouse", quantity, have)])
    taken, left = [], quantity
    for row in order:
        if left <= 0:
            break
        part = min(left, row.inventory_number)
        if part <= 0:
            continue
        take(row, part, status, ref)
        taken.append((row, part))
        left -= part
    return taken


def lots_text(taken: list[tuple[Lot, Decimal]]) -> str:
    """The lots consumed as the delivery line records them: "LOT1,4,LOT2,6" (no lot: "-")."""
    return ",".join(f"{row.lot_number or '-'},{qty(part)}" for row, part in taken)


def ledger_sums() -> dict[tuple, Decimal]:
    """Sum of the ledger per lot key; used to prove balances and ledger agree."""
    key = (StockTransaction.warehouse_id, StockTransaction.commodity_id, StockTransaction.lot_number,
           StockTransaction.expiry_date, StockTransaction.purchase_price)
    return {tuple(r[:5]): r[5] for r in db.session.execute(
        select(*key, func.sum(StockTransaction.quantity)).group_by(*key)).all()}


def balance_sums() -> dict[tuple, Decimal]:
    key = (InventoryBalance.warehouse_id, InventoryBalance.commodity_id, InventoryBalance.lot_number,
           InventoryBalance.expiry_date, InventoryBalance.purchase_price)
    return {tuple(r[:5]): r[5] for r in db.session.execute(
        select(*key, func.sum(InventoryBalance.inventory_number)).group_by(*key)).all()}


__all__ = ["StockShort", "Ref", "Lot", "write", "lock", "lock_for_delivery", "put", "take", "draw", "set_to", "available", "on_hand", "drain_order",
           "lots_text", "balances_of_item", "totals_by_warehouse", "RECEIPT", "DELIVERY", "ADJUSTMENT", "TRANSFER",
           "RETURN"]


def item_stock_context(item) -> dict:
    """The item page's Inventory tab."""
    return {"warehouses": totals_by_warehouse(item.id), "lots": balances_of_item(item.id), "qty": qty,
            "reservation": reservations_on(), "today": date.today()}


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_soft_rollback", "stock.forget", _forget)
