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

from sqlalchemy import event as sa_event, func, literal_column, or_, select, tuple_
from sqlalchemy.orm import Session

from .. import options
from ..extensions import db
from ..models import InventoryBalance, Item, StockTransaction, StockTransactionType, Warehouse
from .registry import ActionError

ZERO = Decimal("0")
# A literal, not a bound parameter: the databases then match it to the partial index of the lots in stock.
IN_STOCK = InventoryBalance.inventory_number > literal_column("0")
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
    return False  # the reservation option is not offered yet: nothing is ever reserved


def is_tracked(item: Item | None) -> bool:
    return item is not None and not item.without_checking_warehouse


@dataclass(frozen=True)
class Ref:
    """The document line behind a movement, written on its ledger row."""

    rel_type: str
    doc_id: int | None
    line_id: int | None = None
    note: str | None = None
    price: Decimal | None = None


# --- work requested by event subscribers ------------------------------------------------------

def after_flush(fn, *args) -> None:
    """Run ``fn(*args)`` once the current flush is over. Event subscribers run inside a flush, where
    changes to rows already loaded would be lost; changes made after it go into the commit's next
    flush, in the same transaction."""
    db.session.info.setdefault("stock_pending", []).append((fn, args))


@sa_event.listens_for(Session, "after_flush_postexec")
def _run_pending(session, flush_context) -> None:
    pending = session.info.pop("stock_pending", None)
    for fn, args in pending or ():
        fn(*args)


# --- reading -----------------------------------------------------------------------------------

def _rows_query(warehouse_id: int, commodity_id: int, all_rows: bool = False):
    q = (select(InventoryBalance)
         .where(InventoryBalance.warehouse_id == warehouse_id, InventoryBalance.commodity_id == commodity_id)
         .order_by(InventoryBalance.id))
    # Drained lots stay as rows at zero; reading stock skips them (they only matter to put goods back
    # into the same lot).
    return q if all_rows else q.where(IN_STOCK)


def lock(pairs: Iterable[tuple[int, int]], all_rows: bool = False) -> dict[tuple[int, int], list[InventoryBalance]]:
    """Lock and re-read the balance rows of each (warehouse, item) in one query, in (warehouse, item,
    id) order; the lists come in FIFO order. ``all_rows``: empty lots too (to refill a lot)."""
    pairs = sorted(set(pairs))
    out: dict[tuple[int, int], list[InventoryBalance]] = {p: [] for p in pairs}
    if not pairs:
        return out
    q = (select(InventoryBalance)
         .where(tuple_(InventoryBalance.warehouse_id, InventoryBalance.commodity_id).in_(pairs))
         .order_by(InventoryBalance.warehouse_id, InventoryBalance.commodity_id, InventoryBalance.id))
    if not all_rows:
        q = q.where(IN_STOCK)
    for row in db.session.execute(q.with_for_update().execution_options(populate_existing=True)).scalars():
        out[(row.warehouse_id, row.commodity_id)].append(row)
    return out


BATCH = 8  # lots locked at first for one delivery line; more only when these do not cover it


def lock_for_delivery(need: dict[tuple[int, int], Decimal], today: date | None = None,
                      fefo_on: bool | None = None) -> dict[tuple[int, int], list[InventoryBalance]]:
    """Lock, per (warehouse, item), the deliverable lots in drain order, only as many as the quantity
    needs (an item may have thousands of lots; a delivery takes the first few). When the first
    batch falls short every deliverable lot is locked, so a shortage is measured on all of them."""
    fefo_on = fefo() if fefo_on is None else fefo_on
    today = today or date.today()
    out = {}
    for (wh, item) in sorted(need):
        q = select(InventoryBalance).where(InventoryBalance.warehouse_id == wh, InventoryBalance.commodity_id == item,
                                           IN_STOCK)
        if fefo_on:
            q = q.where(or_(InventoryBalance.expiry_date.is_(None), InventoryBalance.expiry_date >= today)) \
                .order_by(InventoryBalance.expiry_date.is_(None), InventoryBalance.expiry_date, InventoryBalance.id)
        else:
            q = q.order_by(InventoryBalance.id)
        q = q.with_for_update().execution_options(populate_existing=True)
        rows = list(db.session.execute(q.limit(BATCH)).scalars())
        if len(rows) == BATCH and sum((r.inventory_number for r in rows), ZERO) < need[(wh, item)]:
            rows = list(db.session.execute(q).scalars())
        out[(wh, item)] = rows
    return out


def usable(row: InventoryBalance, today: date | None = None, fefo_on: bool | None = None) -> bool:
    """Whether a lot can be delivered: with FEFO on, an expired lot never is."""
    fefo_on = fefo() if fefo_on is None else fefo_on
    return not (fefo_on and row.expiry_date is not None and row.expiry_date < (today or date.today()))


def drain_order(rows: list[InventoryBalance], today: date | None = None,
                fefo_on: bool | None = None) -> list[InventoryBalance]:
    """The order deliveries take lots in: FIFO (receipt order, id ASC) or FEFO (earliest expiry first,
    lots without expiry last, expired lots left out)."""
    if not (fefo() if fefo_on is None else fefo_on):
        return sorted(rows, key=lambda r: r.id or 0)
    today = today or date.today()
    live = [r for r in rows if usable(r, today, True)]
    return sorted(live, key=lambda r: (r.expiry_date is None, r.expiry_date or date.max, r.id or 0))


def on_hand(rows: list[InventoryBalance], today: date | None = None, fefo_on: bool | None = None) -> Decimal:
    fefo_on, today = fefo() if fefo_on is None else fefo_on, today or date.today()
    return sum((r.inventory_number for r in rows if usable(r, today, fefo_on)), ZERO)


def reserved(rows: list[InventoryBalance]) -> Decimal:
    return sum((r.reserved_quantity or ZERO for r in rows), ZERO)


def available(warehouse_id: int, commodity_id: int, today: date | None = None,
              rows: list[InventoryBalance] | None = None, fefo_on: bool | None = None) -> Decimal:
    """What can still be promised: on hand (deliverable lots) minus reserved when reservation is on."""
    fefo_on = fefo() if fefo_on is None else fefo_on
    if rows is None:  # not locked: one aggregate query
        q = select(func.coalesce(func.sum(InventoryBalance.inventory_number), 0),
                   func.coalesce(func.sum(InventoryBalance.reserved_quantity), 0)).where(
            InventoryBalance.warehouse_id == warehouse_id, InventoryBalance.commodity_id == commodity_id,
            IN_STOCK)
        if fefo_on:
            q = q.where(or_(InventoryBalance.expiry_date.is_(None),
                            InventoryBalance.expiry_date >= (today or date.today())))
        have, held = (Decimal(v) for v in db.session.execute(q).one())
    else:
        have, held = on_hand(rows, today, fefo_on), reserved(rows)
    return have - held if reservations_on() else have


def balances_of_item(commodity_id: int) -> list[InventoryBalance]:
    """Every non-empty lot of an item, by warehouse then receipt order (the product page)."""
    return list(db.session.execute(
        select(InventoryBalance).where(InventoryBalance.commodity_id == commodity_id,
                                       or_(InventoryBalance.inventory_number != 0,
                                           InventoryBalance.reserved_quantity != 0))
        .order_by(InventoryBalance.warehouse_id, InventoryBalance.id)).scalars())


def totals_by_warehouse(commodity_id: int) -> list[dict]:
    rows = db.session.execute(
        select(Warehouse, func.sum(InventoryBalance.inventory_number), func.sum(InventoryBalance.reserved_quantity))
        .join(InventoryBalance, InventoryBalance.warehouse_id == Warehouse.warehouse_id)
        .where(InventoryBalance.commodity_id == commodity_id)
        .group_by(Warehouse.warehouse_id).order_by(Warehouse.warehouse_id)).all()
    out = []
    for wh, on, res in rows:
        on, res = on or ZERO, res or ZERO
        out.append({"warehouse": wh, "on_hand": on, "reserved": res,
                    "available": on - res if reservations_on() else on})
    return out


# --- writing -----------------------------------------------------------------------------------

def _ledger(row: InventoryBalance, change: Decimal, status: int, ref: Ref) -> StockTransaction:
    entry = StockTransaction(
        goods_receipt_id=ref.doc_id, rel_type=ref.rel_type, goods_id=ref.line_id,
        old_quantity=row.inventory_number or ZERO, quantity=change, date_add=datetime.utcnow(),
        commodity_id=row.commodity_id, warehouse_id=row.warehouse_id, status=status,
        purchase_price=row.purchase_price, price=ref.price, expiry_date=row.expiry_date,
        lot_number=row.lot_number, note=ref.note)
    db.session.add(entry)
    row.inventory_number = (row.inventory_number or ZERO) + change
    return entry


def _same_lot(row, lot_number, expiry_date, purchase_price) -> bool:
    return (row.lot_number or None) == (lot_number or None) and row.expiry_date == expiry_date \
        and Decimal(row.purchase_price or 0) == Decimal(purchase_price or 0)


def put(rows: list[InventoryBalance], *, warehouse_id: int, commodity_id: int, quantity: Decimal, status: int,
        ref: Ref, lot_number: str | None = None, expiry_date: date | None = None,
        date_manufacture: date | None = None, purchase_price: Decimal | None = None) -> InventoryBalance:
    """Add ``quantity`` to the lot matching (lot, expiry, purchase price) among the locked ``rows``
    of (warehouse, item), or to a new balance row appended to ``rows``."""
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ActionError(f"A quantity put in stock must be positive (got {qty(quantity)}).", field="quantities")
    price = Decimal(purchase_price or 0)
    row = next((r for r in rows if _same_lot(r, lot_number, expiry_date, price)), None)
    if row is None:
        row = InventoryBalance(warehouse_id=warehouse_id, commodity_id=commodity_id, inventory_number=ZERO,
                               reserved_quantity=ZERO, lot_number=lot_number or None, expiry_date=expiry_date,
                               date_manufacture=date_manufacture, purchase_price=price)
        db.session.add(row)
        rows.append(row)
    _ledger(row, quantity, status, ref)
    return row


def take(row: InventoryBalance, quantity: Decimal, status: int, ref: Ref) -> StockTransaction:
    """Take ``quantity`` out of one locked lot; refused if the lot holds less."""
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ActionError(f"A quantity taken from stock must be positive (got {qty(quantity)}).")
    if quantity > row.inventory_number:
        raise StockShort([(str(row.commodity), str(row.warehouse), quantity, row.inventory_number)])
    return _ledger(row, -quantity, status, ref)


def set_to(row: InventoryBalance, counted: Decimal, ref: Ref) -> StockTransaction | None:
    """Loss / adjustment: set a lot to the counted quantity (never below zero)."""
    counted = Decimal(counted)
    if counted < 0:
        raise ActionError(f"The counted quantity of {row.commodity} cannot be negative.", field="updates_number")
    change = counted - row.inventory_number
    return _ledger(row, change, ADJUSTMENT, ref) if change else None


def draw(rows: list[InventoryBalance], quantity: Decimal, status: int, ref: Ref, today: date | None = None,
         fefo_on: bool | None = None) -> list[tuple[InventoryBalance, Decimal]]:
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


def lots_text(taken: list[tuple[InventoryBalance, Decimal]]) -> str:
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


__all__ = ["StockShort", "Ref", "lock", "put", "take", "draw", "set_to", "available", "on_hand", "drain_order",
           "lots_text", "balances_of_item", "totals_by_warehouse", "RECEIPT", "DELIVERY", "ADJUSTMENT", "TRANSFER",
           "RETURN"]


def item_stock_context(item) -> dict:
    """The item page's Inventory tab."""
    return {"warehouses": totals_by_warehouse(item.id), "lots": balances_of_item(item.id), "qty": qty,
            "reservation": reservations_on(), "today": date.today()}
