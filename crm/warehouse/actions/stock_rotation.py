"""Stock rotation: loss & adjustment approval (each lot set to its counted quantity, ledger status 3)
and client returns re-entered into stock (ledger status 5)."""
from __future__ import annotations

from decimal import Decimal

from crm.core.registry import ActionError, action
from crm.warehouse.actions import stock
from crm.warehouse.models import LossAdjustment, LossAdjustmentStatus, OrderReturn, WarehouseApproval

ZERO = Decimal("0")


def _adjustment_created(doc) -> str | None:
    if doc.status != LossAdjustmentStatus.CREATED.value:
        return f"{doc} is {LossAdjustmentStatus.label_of(doc.status)}; only a new one can be approved."
    return None


def lot_of(rows, line):
    """The locked lot a counted line is about: its exact balance row, else the same lot and expiry."""
    if line.inventory_manage_id:
        return next((r for r in rows if r.id == line.inventory_manage_id), None)
    return next((r for r in rows if (r.lot_number or None) == (line.lot_number or None)
                 and r.expiry_date == line.expiry_date), None)


@action(LossAdjustment, "approve", "Approve (apply to stock)", precondition=_adjustment_created, icon="fa-check",
        confirm="Set each lot to its counted quantity?")
def approve_adjustment(doc, actor):
    if doc.warehouses is None:
        raise ActionError(f"{doc} has no warehouse.", field="warehouses")
    if not doc.items:
        raise ActionError(f"{doc} has no lines.", field="items")
    locked = stock.lock([(doc.warehouses, ln.items) for ln in doc.items if ln.items], all_rows=True)
    for n, line in enumerate(doc.items, start=1):
        if line.items is None:
            raise ActionError(f"Line {n} of {doc} has no item.", field=f"items[{n}].items")
        rows = locked[(doc.warehouses, line.items)]
        ref = stock.Ref("loss_adjustment", doc.id, line.id, note=doc.reason)
        row = lot_of(rows, line)
        counted = Decimal(line.updates_number or 0)
        if row is not None:
            line.current_number = row.inventory_number
            stock.set_to(row, counted, ref)
        elif counted > 0:  # found goods the books did not know: a new lot
            stock.put(rows, warehouse_id=doc.warehouses, commodity_id=line.items, quantity=counted,
                      status=stock.ADJUSTMENT, ref=ref, lot_number=line.lot_number, expiry_date=line.expiry_date)
        elif counted < 0:
            raise ActionError(f"Line {n}: the counted quantity cannot be negative.", field=f"items[{n}].updates_number")
    stock.write()
    doc.status = LossAdjustmentStatus.APPROVED.value
    return f"{doc} applied to stock"


def _return_draft(doc) -> str | None:
    if doc.approval != WarehouseApproval.DRAFT.value:
        return f"{doc} is {WarehouseApproval.label_of(doc.approval)}, not a draft."
    return None


@action(OrderReturn, "approve", "Approve (re-enter into stock)", precondition=_return_draft, icon="fa-check",
        confirm="Put the returned goods back in stock?", creates=())
def approve_return(doc, actor):
    if doc.warehouse_id is None:
        raise ActionError(f"{doc} has no warehouse to put the goods back in.", field="warehouse_id")
    if not doc.items:
        raise ActionError(f"{doc} has no lines.", field="items")
    tracked = [ln for ln in doc.items if stock.is_tracked(stock.item_of(ln))]
    locked = stock.lock([(doc.warehouse_id, ln.commodity_code) for ln in tracked], all_rows=True)
    for n, line in enumerate(doc.items, start=1):
        if (line.quantity or ZERO) <= 0:
            raise ActionError(f"Line {n} of {doc}: the quantity returned must be positive.",
                              field=f"items[{n}].quantity")
    for line in tracked:
        stock.put(locked[(doc.warehouse_id, line.commodity_code)], warehouse_id=doc.warehouse_id,
                  commodity_id=line.commodity_code, quantity=line.quantity, status=stock.RETURN,
                  ref=stock.Ref("order_return", doc.id, line.id, note=line.reason_return or doc.return_reason,
                                price=line.unit_price),
                  lot_number=line.lot_number, expiry_date=line.expiry_date, purchase_price=line.purchase_price)
    stock.write()
    doc.approval = WarehouseApproval.APPROVED.value
    return f"{doc}: {len(tracked)} line(s) back in stock"
