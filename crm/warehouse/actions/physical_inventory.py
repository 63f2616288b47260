"""Physical inventory (stock take, prefix 'PI'): a count of one warehouse, filled from the book
balances (one line per lot in stock, its quantity frozen as the book quantity), counted on the
printed or downloaded count sheet, and approved by posting the differences to stock.

The posting goes through a loss & adjustment document made from the count and approved by
:func:`crm.warehouse.actions.stock_rotation.approve_adjustment` (ledger status 3); the count keeps the link
(``loss_adjustment_id``). Lines not counted block the approval unless the approver skips them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_wtf.file import FileField, FileRequired
from sqlalchemy import inspect, select
from wtforms import BooleanField, Form
from wtforms.validators import Optional

from crm.catalog.models import Item, ItemGroup
from crm.core import events, options
from crm.core.extensions import db
from crm.core.models.base import FieldError, money
from crm.core.numbering import format_number, take_next
from crm.core.pickers import RecordField, RecordsField
from crm.core.registry import ActionError, action
from crm.warehouse.actions import stock
from crm.warehouse.actions.stock_rotation import approve_adjustment, lot_of
from crm.warehouse.models import (
    InventoryBalance,
    LossAdjustment,
    LossAdjustmentDetail,
    LossAdjustmentStatus,
    PhysicalInventory,
    PhysicalInventoryDetail,
    WarehouseApproval,
)

events.register(PhysicalInventory, statuses={WarehouseApproval.APPROVED.value: "physical_inventory.approved"},
                described={"physical_inventory.approved": "A stock take was approved and its differences posted"})

ZERO = Decimal("0")
DRAFT = WarehouseApproval.DRAFT.value
SHOWN = 10  # lines named in a refusal before "and N more"


def count_code(count: PhysicalInventory) -> str:
    """Give the count its PI number if it has none (in the action's transaction)."""
    if not count.code:
        count.code = format_number(options.get("physical_inventory_prefix") or "",
                                   take_next("next_physical_inventory_number"), on=count.date)
    return count.code


def line_name(n: int, line: PhysicalInventoryDetail, start: bool = False) -> str:
    """"line 3 (P-100 Pallet jack, lot L-7)": how a refusal points at a line (``start``: "Line 3 ...")."""
    item = line.commodity or (db.session.get(Item, line.item) if line.item else None)
    what = " ".join(p for p in ((item.commodity_code, item.commodity_name or item.description) if item else ()) if p)
    lot = f", lot {line.lot_number}" if line.lot_number else ""
    return f"{'Line' if start else 'line'} {n} ({what or 'no item'}{lot})"


def _listed(names: list[str]) -> str:
    more = len(names) - SHOWN
    return "; ".join(names[:SHOWN]) + (f"; and {more} more" if more > 0 else "")


def _draft(count) -> str | None:
    if count.status != DRAFT:
        return f"{count} is {WarehouseApproval.label_of(count.status)}; only a draft count can change."
    return None


# --- filling the lines from the book balances --------------------------------------------------

class FillForm(Form):
    """Picked by name; the API and the CLI may send the group's name and the items' codes too."""
    item_group = RecordField("Item group", model=ItemGroup, order_by="name", names=("name",),
                             validators=[Optional()], description="Empty: every group.")
    items = RecordsField("Items", model=Item, names=("commodity_code", "sku_code"),
                         description="Empty: every item.")


def _group(group_id: int | None) -> ItemGroup | None:
    return db.session.get(ItemGroup, group_id) if group_id else None


def _items(item_ids: list[int] | None) -> list[int]:
    return list(item_ids or [])


@action(PhysicalInventory, "fill", "Fill from book balances", form=FillForm, precondition=_draft, icon="fa-list")
def fill(count, actor, item_group=None, items=None):
    """One line per lot in stock (of the group / items asked), its quantity frozen as the book
    quantity. Lots already on the count keep their line: filling again only adds lots."""
    if count.warehouse_id is None:
        raise ActionError(f"Choose the warehouse of {count} first.", field="warehouse_id")
    group, item_ids = _group(item_group), _items(items)
    on_count = {ln.inventory_manage_id for ln in count.items if ln.inventory_manage_id}
    q = (select(InventoryBalance).join(Item, Item.id == InventoryBalance.commodity_id)
         .where(InventoryBalance.warehouse_id == count.warehouse_id, stock.IN_STOCK,
                Item.without_checking_warehouse.is_not(True))
         .order_by(Item.commodity_code, Item.id, InventoryBalance.id))
    if group is not None:
        q = q.where(Item.group_id == group.id)
    if item_ids:
        q = q.where(InventoryBalance.commodity_id.in_(item_ids))
    added = 0
    for lot in db.session.execute(q).scalars():
        if lot.id in on_count:
            continue
        count.items.append(PhysicalInventoryDetail(
            item=lot.commodity_id, warehouse=count.warehouse_id, inventory_manage_id=lot.id,
            lot_number=lot.lot_number, expiry_date=lot.expiry_date, book_quantity=lot.inventory_number))
        added += 1
    if not added:
        scope = f" in group {group.name}" if group is not None else ""
        raise ActionError(f"No lot in stock in {count.warehouse}{scope} is left to put on {count}"
                          + (" for the items asked" if item_ids else "") + ".")
    count_code(count)
    if count.addedfrom is None:
        count.addedfrom = getattr(actor, "staffid", None)
    return f"{count}: {added} line(s) filled from the book balances"


# --- entering the counts from the filled sheet --------------------------------------------------

class UploadForm(Form):
    file = FileField("Filled count sheet (.xlsx or .csv)",
                     validators=[FileRequired(message="Choose the filled count sheet (.xlsx or .csv).")])


@action(PhysicalInventory, "upload_counts", "Enter counts from the filled sheet", form=UploadForm,
        precondition=_draft, icon="fa-upload")
def upload_counts(count, actor, file):
    from crm.warehouse.count_sheets import read_counts  # cycle: count_sheets -> actions -> actions.physical_inventory

    counts = read_counts(count, file)  # every row checked first: one bad row and nothing is written
    lines = {ln.id: ln for ln in count.items}
    for line_id, counted in counts.items():
        lines[line_id].counted_quantity = counted
    left = sum(1 for ln in count.items if ln.counted_quantity is None)
    return f"{count}: {len(counts)} count(s) entered" + (f", {left} line(s) still not counted" if left else "")


# --- variances ---------------------------------------------------------------------------------

@dataclass
class Variance:
    n: int
    line: PhysicalInventoryDetail
    price: Decimal  # purchase price of the lot (the item's for a lot the books did not have)
    value: Decimal | None  # difference x price; None while not counted

    @property
    def counted(self) -> bool:
        return self.line.counted_quantity is not None


def variances(count) -> dict:
    """Each line with its difference valued at purchase price, and the totals of the report."""
    rows = []
    for n, line in enumerate(count.items, start=1):
        if line.balance is not None:
            price = Decimal(line.balance.purchase_price or 0)
        else:
            price = Decimal(line.commodity.purchase_price or 0) if line.commodity is not None else ZERO
        value = money(Decimal(line.difference or 0) * price) if line.counted_quantity is not None else None
        rows.append(Variance(n, line, price, value))
    values = [r.value for r in rows if r.value is not None]
    return {"rows": rows,
            "uncounted": [r for r in rows if not r.counted],
            "gain": sum((v for v in values if v > 0), ZERO),
            "loss": sum((v for v in values if v < 0), ZERO),
            "net": sum(values, ZERO),
            "book_value": money(sum((Decimal(r.line.book_quantity or 0) * r.price for r in rows), ZERO))}


# --- approval: the differences posted to stock -------------------------------------------------

class ApproveForm(Form):
    skip_uncounted = BooleanField("Skip the lines not counted (their stock stays as booked)",
                                  false_values=(False, "false", "False", "0", "", "no", "off"))


def _checked_lines(count, skip_uncounted: bool) -> list[tuple[int, PhysicalInventoryDetail]]:
    if count.warehouse_id is None:
        raise ActionError(f"{count} has no warehouse.", field="warehouse_id")
    numbered = list(enumerate(count.items, start=1))
    if not numbered:
        raise ActionError(f"{count} has no lines; fill it from the book balances first.", field="items")
    uncounted = [line_name(n, ln) for n, ln in numbered if ln.counted_quantity is None]
    if uncounted and not skip_uncounted:
        raise ActionError(f"{len(uncounted)} line(s) of {count} are not counted: {_listed(uncounted)}. "
                          "Enter their counts, or approve with “skip the lines not counted”.", field="items")
    seen: dict = {}
    for n, line in numbered:
        if line.item is None:
            raise ActionError(f"Line {n} of {count} has no item.", field=f"items[{n}].item")
        if (line.warehouse or count.warehouse_id) != count.warehouse_id:
            raise ActionError(f"{line_name(n, line, start=True)} is about another warehouse than {count}.",
                              field=f"items[{n}].warehouse")
        key = line.inventory_manage_id or (line.item, line.lot_number or None, line.expiry_date)
        if key in seen:
            raise ActionError(f"{line_name(n, line, start=True)} counts the same lot as line {seen[key]}.",
                              field=f"items[{n}]")
        seen[key] = n
    return [(n, ln) for n, ln in numbered if ln.counted_quantity is not None]


@action(PhysicalInventory, "approve", "Approve (post the differences)", form=ApproveForm, precondition=_draft,
        icon="fa-check")
def approve(count, actor, skip_uncounted=False):
    counted = _checked_lines(count, bool(skip_uncounted))
    wh = count.warehouse_id
    locked = stock.lock([(wh, ln.item) for _, ln in counted], all_rows=True)
    adjustment = LossAdjustment(type="adjustment", warehouses=wh, status=LossAdjustmentStatus.CREATED.value,
                                addfrom=getattr(actor, "staffid", None), date_create=date.today(),
                                reason=f"Physical inventory {count_code(count)}")
    for n, line in counted:
        row = lot_of(locked[(wh, line.item)], line)
        now = row.inventory_number if row is not None else ZERO
        variance = Decimal(line.counted_quantity) - Decimal(line.book_quantity or 0)
        # The book quantity was frozen when the lines were filled; receipts and deliveries may have
        # moved the lot since. The count measured the shelf against that frozen figure, so what is
        # posted is the variance on today's balance, not "set to counted" (which would undo them).
        target = now + variance
        if target < 0:
            raise ActionError(
                f"{line_name(n, line, start=True)}: counted {stock.qty(line.counted_quantity)} against "
                f"{stock.qty(line.book_quantity)} booked ({stock.qty(variance)}), but the lot now holds "
                f"{stock.qty(now)} after later movements; posting the difference would take it below zero. "
                "Recount the lot.", field=f"items[{n}].counted_quantity")
        if target != now:
            item = db.session.get(Item, line.item)
            adjustment.items.append(LossAdjustmentDetail(
                items=line.item, unit=item.unit_id if item else None, inventory_manage_id=row.id if row else None,
                lot_number=line.lot_number, expiry_date=line.expiry_date, current_number=now, updates_number=target))
    count.status = WarehouseApproval.APPROVED.value
    if not adjustment.items:
        return f"{count} approved: no differences to post"
    db.session.add(adjustment)
    db.session.flush()  # the ledger rows name the adjustment and its lines
    approve_adjustment(adjustment, actor)
    count.loss_adjustment_id = adjustment.id
    return f"{count} approved: {len(adjustment.items)} difference(s) posted by {adjustment}"


@action(PhysicalInventory, "reject", "Cancel the count", precondition=_draft, icon="fa-ban", destructive=True,
        confirm="Cancel this count? Nothing is posted to stock.")
def reject(count, actor):
    count.status = WarehouseApproval.REJECTED.value
    return f"{count} cancelled"


# --- lines of a settled count do not change ------------------------------------------------------

def _settled(count) -> bool:
    """Approved or cancelled before this flush (the approval itself changes the status, not lines)."""
    history = inspect(count).attrs.status.history
    before = history.deleted[0] if history.deleted else count.status
    return before is not None and before != DRAFT


def _guard_lines(session, flush_context, instances):
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, PhysicalInventoryDetail):
            continue
        count = obj.physical_inventory or (session.get(PhysicalInventory, obj.physical_inventory_id)
                                           if obj.physical_inventory_id else None)
        if count is None:
            continue
        changed = obj in session.new or obj in session.deleted or session.is_modified(obj)
        if changed and count in session and _settled(count):
            raise FieldError("items", f"{count} is {WarehouseApproval.label_of(count.status)}; "
                                      "its count lines cannot change.")
        if obj in session.new and obj.warehouse is None:
            obj.warehouse = count.warehouse_id  # a line added by hand counts the count's warehouse


__all__ = ["count_code", "fill", "upload_counts", "approve", "reject", "variances", "line_name"]


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("before_flush", "counts.guard", _guard_lines)
