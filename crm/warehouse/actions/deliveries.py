"""Delivery notes (tblgoods_delivery, prefix 'XK'): made from an invoice (by hand or with
``auto_create_goods_delivery``), checked against stock on creation and on every change
(``flag_export_warehouse``), approved by taking the lots out of stock FIFO (or FEFO), and put back
when their invoice is cancelled with ``cancelled_invoice_reverse_inventory``."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select, true
from sqlalchemy.orm.attributes import set_committed_value
from wtforms import Form
from wtforms.validators import Optional

from crm.catalog.models import Item
from crm.core import bulk, events, options
from crm.core.activity import log_activity
from crm.core.documents import base_url
from crm.core.extensions import db
from crm.core.mail import html_to_text, queue_email
from crm.core.models.settings import Staff
from crm.core.numbering import format_number, take_next
from crm.core.pickers import RecordField
from crm.core.registry import ActionError, action
from crm.sales.models.documents import Invoice, InvoiceStatus, ItemLine
from crm.warehouse.actions import reservations, stock
from crm.warehouse.actions.goods_receipts import default_warehouse_id, warehouse_or_default
from crm.warehouse.models import (
    GoodsDelivery,
    GoodsDeliveryDetail,
    GoodsDeliveryStatus,
    StockTransaction,
    Warehouse,
    WarehouseApproval,
)
from crm.warehouse import totals as warehouse_totals

ZERO = Decimal("0")
DRAFT, APPROVED = WarehouseApproval.DRAFT.value, WarehouseApproval.APPROVED.value

events.register(GoodsDelivery, statuses={APPROVED: "delivery_note.approved"}, column="approval", described={
    "delivery_note.approved": "A delivery note was approved and its goods taken out of stock",
    "delivery_note.short": "A delivery note was created without the stock it needs",
})


def note_code(note: GoodsDelivery) -> str:
    if not note.goods_delivery_code:
        note.goods_delivery_code = format_number(options.get("goods_delivery_prefix") or "",
                                                 take_next("next_goods_delivery_number"))
    return note.goods_delivery_code


def name_of(note: GoodsDelivery) -> str:
    return f"Delivery note {note.goods_delivery_code or f'#{note.id}'}"


def _warehouse_of(note, line) -> int | None:
    return line.warehouse_id or note.warehouse_id


def _item_name(line) -> str:
    return line.commodity_name or str(line.commodity or f"line #{line.id}")


# --- the stock check ---------------------------------------------------------------------------

def needs(note, tracked: set[int] | None = None) -> dict[tuple[int, int], Decimal]:
    """Quantity needed per (warehouse, item) by the stock-tracked lines of a note (``tracked``: the
    ids of the tracked items, when already known)."""
    out: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for line in note.items:
        wh = _warehouse_of(note, line)
        if line.commodity_code is None or wh is None:
            continue
        if line.commodity_code in tracked if tracked is not None else stock.is_tracked(stock.item_of(line)):
            out[(wh, line.commodity_code)] += Decimal(line.quantities or 0)
    return out


def shortages(note, rows_by_pair=None, fefo_on=None, needed=None) -> list[tuple[str, str, Decimal, Decimal]]:
    """(item, warehouse, needed, available) for each item the note cannot be served from stock
    (``needed``: what :func:`needs` gives, when already known)."""
    out, fefo_on = [], stock.fefo() if fefo_on is None else fefo_on
    order = reservations.order_of_note(note)
    for (wh, item), need in sorted((needs(note) if needed is None else needed).items()):
        rows = rows_by_pair[(wh, item)] if rows_by_pair is not None else None
        have = stock.available(wh, item, rows=rows, fefo_on=fefo_on, besides=order)
        if have < need:
            line = next(ln for ln in note.items if ln.commodity_code == item and _warehouse_of(note, ln) == wh)

            out.append((_item_name(line), str(db.session.get(Warehouse, wh)), need, have))
    return out



def check(note) -> bool:
    """Set ``flag_export_warehouse`` (1 enough stock, 0 short) and each line's available quantity."""
    with db.session.no_autoflush:
        fefo_on, order = stock.fefo(), reservations.order_of_note(note)
        for line in note.items:
            wh = _warehouse_of(note, line)
            if line.commodity_code is not None and wh is not None:
                line.available_quantity = stock.available(wh, line.commodity_code, fefo_on=fefo_on, besides=order)
        note.flag_export_warehouse = 0 if shortages(note, fefo_on=fefo_on) else 1
    return note.flag_export_warehouse == 1


def _check_on_change(session, flush_context, instances):
    """Every change to a draft note or its lines, whatever the door (admin, API, action), re-checks it."""
    notes = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, GoodsDelivery) and obj not in session.deleted:
            notes.add(obj)
        elif isinstance(obj, GoodsDeliveryDetail) and obj.goods_delivery is not None:
            notes.add(obj.goods_delivery)
    for note in notes:
        if note.approval == DRAFT and note not in session.deleted:
            check(note)


# --- from an invoice ---------------------------------------------------------------------------

def _on_notes(line_ids) -> dict[int, Decimal]:
    """Invoice lines' quantities already on delivery notes (draft or approved, not returned)."""
    if not line_ids:
        return {}
    rows = db.session.execute(
        select(GoodsDeliveryDetail.itemable_id, func.sum(GoodsDeliveryDetail.quantities))
        .join(GoodsDelivery, GoodsDelivery.id == GoodsDeliveryDetail.goods_delivery_id)
        .where(GoodsDeliveryDetail.itemable_id.in_(line_ids), GoodsDelivery.approval != WarehouseApproval.REJECTED.value,
               GoodsDelivery.delivery_status != GoodsDeliveryStatus.RETURNED.value)
        .group_by(GoodsDeliveryDetail.itemable_id)).all()
    return {k: v or ZERO for k, v in rows}


def _delivered_lines(invoice):
    """The invoice lines a delivery note carries: stock-tracked catalog items (a service, or a line
    without a catalog item, is not goods and is never delivered from a warehouse)."""
    lines = [ln for ln in invoice.items if ln.item_id is not None and (not ln.is_optional or ln.is_selected)]
    goods = stock.tracked_ids(ln.item_id for ln in lines)
    return [ln for ln in lines if ln.item_id in goods]


def parse_delivery_order(text, strict: bool = True) -> list[int]:
    """The warehouses named by option ``warehouse_delivery_order`` (ids or codes, comma-separated),
    in its order; ``strict``: an unknown one is an OptionError naming it (else it is passed over)."""
    rows = db.session.execute(select(Warehouse.warehouse_id, Warehouse.warehouse_code)).all()
    by_id = {str(wh): wh for wh, _ in rows}
    by_code = {(code or "").strip().lower(): wh for wh, code in rows if code}
    out: list[int] = []
    for part in (p.strip() for p in str(text or "").split(",")):
        if not part:
            continue
        wh = by_id.get(part) or by_code.get(part.lower())
        if wh is None and strict:
            raise options.OptionError(f"warehouse_delivery_order: no warehouse has the id or code {part!r}")
        if wh is not None and wh not in out:
            out.append(wh)
    return out


options.CHECKS["warehouse_delivery_order"] = parse_delivery_order


def delivery_warehouses() -> list[int]:
    """The order delivery notes draw on warehouses: those the option names, then the default
    warehouse, then the others by name."""
    named, first = parse_delivery_order(options.get("warehouse_delivery_order"), strict=False), default_warehouse_id()
    rest = db.session.execute(select(Warehouse.warehouse_id, Warehouse.warehouse_name)
                              .where(Warehouse.warehouse_id.notin_(named) if named else true())).all()
    rest.sort(key=lambda r: (r[0] != first, (r[1] or "").lower(), r[0]))
    return named + [wh for wh, _ in rest]


def _split(need: Decimal, item: int, order: list[int], besides: int | None,
           drawn: dict[tuple[int, int], Decimal]) -> list[tuple[int, Decimal]]:
    """(warehouse, quantity) parts of ``need`` drawn on the warehouses in ``order`` as far as each has
    the item available (less what earlier lines of the note already draw there); what none has stays
    on the first warehouse, where the note is then short and a backorder asks for it."""
    parts: list[tuple[int, Decimal]] = []
    left = need
    for wh in order:
        if left <= 0:
            break
        free = stock.available(wh, item, besides=besides) - drawn.get((wh, item), ZERO)
        take = min(left, free)
        if take > 0:
            parts.append((wh, take))
            drawn[(wh, item)] = drawn.get((wh, item), ZERO) + take
            left -= take
    if left > 0 and order:
        home = next((i for i, (wh, _) in enumerate(parts) if wh == order[0]), None)
        if home is None:
            parts.insert(0, (order[0], left))
        else:
            parts[home] = (order[0], parts[home][1] + left)
        drawn[(order[0], item)] = drawn.get((order[0], item), ZERO) + left
    return parts


def note_from_invoice(invoice, warehouse_id: int | None, actor=None) -> GoodsDelivery | None:
    """A draft note with the goods the invoice still has to deliver. ``warehouse_id``: every line
    from that warehouse; None: each line drawn on the warehouses holding the item, in the order of
    :func:`delivery_warehouses` (a line split over several warehouses becomes several note lines)."""
    lines = _delivered_lines(invoice)
    with db.session.no_autoflush:
        taken = _on_notes([ln.id for ln in lines if ln.id])
        order = [warehouse_id] if warehouse_id is not None else delivery_warehouses()
        besides = reservations.order_of_note(SimpleNamespace(invoice_id=invoice.id))
    client = invoice.client
    note = GoodsDelivery(invoice_id=invoice.id, customer_code=invoice.clientid,
                         customer_name=client.company if client else None,
                         to_=client.company if client else None,
                         address=", ".join(p for p in (invoice.shipping_street, invoice.shipping_city) if p) or None,
                         staff_id=invoice.sale_agent, addedfrom=getattr(actor, "staffid", None),
                         warehouse_id=order[0] if order else None, date_c=date.today(), date_add=date.today(),
                         description=f"Delivery of {invoice}", approval=DRAFT)
    drawn: dict[tuple[int, int], Decimal] = {}
    for line in lines:
        left = Decimal(line.qty or 0) - taken.get(line.id, ZERO)
        if left <= 0:
            continue
        item = db.session.get(Item, line.item_id)
        with db.session.no_autoflush:
            parts = _split(left, line.item_id, order, besides, drawn) if order else [(None, left)]
        for wh, part in parts:
            note.items.append(GoodsDeliveryDetail(
                commodity_code=line.item_id, commodity_name=line.description, warehouse_id=wh,
                quantities=part, unit_price=line.rate or ZERO, invoice_line=line,
                unit_id=getattr(item, "unit_id", None)))
    if not note.items:
        return None
    warehouse_totals.delivery_note(note)
    db.session.add(note)
    return note


class WarehouseForm(Form):
    warehouse_id = RecordField("Warehouse", model=Warehouse, validators=[Optional()],
                               description="Empty: every warehouse holding the goods, in the order of the option "
                                           "warehouse_delivery_order.")


def _invoice_deliverable(invoice) -> str | None:
    if invoice.status == InvoiceStatus.CANCELLED.value:
        return f"Invoice {invoice} is cancelled; nothing is delivered against it."
    return None


@action(Invoice, "create_delivery_note", "Create delivery note", form=WarehouseForm,
        precondition=_invoice_deliverable, icon="fa-truck")
def create_delivery_note(invoice, actor, warehouse_id=None):
    chosen = warehouse_or_default(warehouse_id)  # (also refuses when there is no warehouse at all)
    note = note_from_invoice(invoice, chosen if warehouse_id else None, actor)
    if note is None:
        raise ActionError(f"Every product line of invoice {invoice} is already on a delivery note "
                          "(services and lines without a catalog item are not delivered from stock).")
    note_code(note)
    db.session.flush()
    if note.flag_export_warehouse == 1:
        return f"{name_of(note)} created"
    events.emit("delivery_note.short", note, actor)  # purchasing may order the shortfall (backorders)
    return f"{name_of(note)} created; not enough stock: {_short_text(note)}"


def _short_text(note) -> str:
    return "; ".join(f"{i} needs {stock.qty(n)}, {stock.qty(h)} available" for i, _w, n, h in shortages(note))


def _invoice_events(name, obj, actor, data):
    if name == "invoice.created" and options.get("auto_create_goods_delivery"):
        note_from_invoice(obj, None, actor)
    elif name == "invoice.cancelled" and options.get("cancelled_invoice_reverse_inventory"):
        restore_invoice(obj, actor)


# --- approval ----------------------------------------------------------------------------------

def _draft(note) -> str | None:
    if note.approval != DRAFT:
        return f"{name_of(note)} is {WarehouseApproval.label_of(note.approval)}, not a draft."
    return None


def post_delivery(note, today: date | None = None) -> None:
    """Take the note's lines out of stock: lock, check every item, then drain the lots."""
    if not note.items:
        raise ActionError(f"{name_of(note)} has no lines.", field="items")
    for n, line in enumerate(note.items, start=1):
        if line.commodity_code is None:
            raise ActionError(f"Line {n} of {name_of(note)} has no item.", field=f"items[{n}].commodity_code")
        if _warehouse_of(note, line) is None:
            raise ActionError(f"Line {n} ({_item_name(line)}) of {name_of(note)} has no warehouse.",
                              field=f"items[{n}].warehouse_id")
        if (line.quantities or ZERO) <= 0:
            raise ActionError(f"Line {n} ({_item_name(line)}): the quantity must be positive.",
                              field=f"items[{n}].quantities")
    tracked = stock.tracked_ids(ln.commodity_code for ln in note.items)
    fefo_on = stock.fefo()
    needed = needs(note, tracked)
    locked = stock.lock_for_delivery(needed, today, fefo_on)
    short = shortages(note, locked, fefo_on, needed)
    if short:
        raise stock.StockShort(short, f" to approve {name_of(note)}{reservations.shortage_words()}")
    drawn = {}
    for line in note.items:
        if line.commodity_code not in tracked:
            continue
        rows = locked[(_warehouse_of(note, line), line.commodity_code)]
        taken = stock.draw(rows, line.quantities, stock.DELIVERY,
                           stock.Ref("goods_delivery", note.id, line.id, price=line.unit_price), today, fefo_on)
        expiries = [row.expiry_date for row, _ in taken if row.expiry_date]
        drawn[line] = {"lot_number": stock.lots_text(taken)[:255], "expiry_date": min(expiries) if expiries else None}
    stock.write()
    _record_lots(drawn)
    reservations.consume(note)
    for line, inv_line in _invoice_lines(note):
        inv_line.wh_delivered_quantity = (inv_line.wh_delivered_quantity or ZERO) + line.quantities


def _invoice_lines(note) -> list[tuple[GoodsDeliveryDetail, ItemLine]]:
    """The note's lines with the invoice lines they deliver, read in one query."""
    ids = {line.itemable_id for line in note.items if line.itemable_id}
    if not ids:
        return []
    by_id = {il.id: il for il in db.session.execute(select(ItemLine).where(ItemLine.id.in_(ids))).scalars()}
    return [(line, by_id[line.itemable_id]) for line in note.items if line.itemable_id in by_id]


RECORD_LOTS = bulk.UpdateById(GoodsDeliveryDetail.__table__, "lot_number", "expiry_date")


def _record_lots(drawn: dict[GoodsDeliveryDetail, dict]) -> None:
    """Write the lots each line drew and their earliest expiry in one statement for the note (the
    ORM would send one UPDATE per line); the lines then hold these values as saved."""
    RECORD_LOTS({line.id: values for line, values in drawn.items()})
    for line, values in drawn.items():
        for name, value in values.items():
            set_committed_value(line, name, value)


def type_of_delivery(note) -> str:
    """'total' when every product line of the invoice is delivered in full, else 'partial'."""
    if note.invoice is None:
        return "total"
    lines = _delivered_lines(note.invoice)
    done = all((ln.wh_delivered_quantity or ZERO) >= (ln.qty or ZERO) for ln in lines)
    return "total" if done else "partial"


@action(GoodsDelivery, "approve", "Approve (take out of stock)", precondition=_draft, icon="fa-check",
        confirm="Approve this delivery note and take its goods out of stock?")
def approve(note, actor):
    note_code(note)
    # The note and its lines are written once, at the commit: nothing read here needs them flushed
    # (the stock moves are written by stock.write, the invoice lines changed are in the session).
    with db.session.no_autoflush:
        note.approval = APPROVED  # first: the draft stock check has nothing more to say about this note
        post_delivery(note)
        note.flag_export_warehouse = 1
        note.type_of_delivery = type_of_delivery(note)
        if note.delivery_status == GoodsDeliveryStatus.READY_FOR_PACKING.value:
            note.delivery_status = GoodsDeliveryStatus.READY_TO_DELIVER.value
    rest = " (partial: the rest goes on a later note)" if note.type_of_delivery == "partial" else ""
    return f"{name_of(note)} approved{rest}"


@action(GoodsDelivery, "check_stock", "Check stock", precondition=_draft, icon="fa-refresh")
def check_stock(note, actor):
    if check(note):
        return f"{name_of(note)}: stock is available"
    return f"{name_of(note)}: not enough stock: {_short_text(note)}"


# --- cancelled invoices and waiting notes ------------------------------------------------------

def restore_note(note, reason: str) -> None:
    """Put back every lot an approved note took (ledger status 5, return) and mark it returned."""
    moves = db.session.execute(select(StockTransaction).where(
        StockTransaction.rel_type == "goods_delivery", StockTransaction.goods_receipt_id == note.id,
        StockTransaction.status == stock.DELIVERY).order_by(StockTransaction.id)).scalars().all()
    locked = stock.lock([(m.warehouse_id, m.commodity_id) for m in moves], all_rows=True)
    for m in moves:
        stock.put(locked[(m.warehouse_id, m.commodity_id)], warehouse_id=m.warehouse_id, commodity_id=m.commodity_id,
                  quantity=-m.quantity, status=stock.RETURN,
                  ref=stock.Ref("goods_delivery", note.id, m.goods_id, note=reason, price=m.price),
                  lot_number=m.lot_number, expiry_date=m.expiry_date, purchase_price=m.purchase_price)
    stock.write()
    for line, inv_line in _invoice_lines(note):
        inv_line.wh_delivered_quantity = max(ZERO, (inv_line.wh_delivered_quantity or ZERO) - line.quantities)
    note.delivery_status = GoodsDeliveryStatus.RETURNED.value


def restore_invoice(invoice, actor=None) -> int:
    notes = db.session.execute(select(GoodsDelivery).where(
        GoodsDelivery.invoice_id == invoice.id, GoodsDelivery.approval == APPROVED,
        GoodsDelivery.delivery_status != GoodsDeliveryStatus.RETURNED.value)).scalars().all()
    for note in notes:
        restore_note(note, f"Invoice {invoice} cancelled")
    return len(notes)


def recheck_waiting(item_ids, actor=None) -> list[str]:
    """After stock came in: re-check the draft notes that were short of these items; notify the
    owner of each that can now be approved. Returns their numbers.

    A note another transaction holds (being approved or edited right now) is skipped, not waited
    for: that transaction holds the note and may be waiting for the lots this one just changed, so
    waiting would deadlock; the approval checks the stock itself, and an edit re-checks the note."""
    if not item_ids:
        return []
    short = (select(GoodsDeliveryDetail.goods_delivery_id)
             .where(GoodsDeliveryDetail.commodity_code.in_(item_ids)).distinct())
    notes = db.session.execute(
        select(GoodsDelivery).where(GoodsDelivery.id.in_(short), GoodsDelivery.approval == DRAFT,
                                    GoodsDelivery.flag_export_warehouse == 0)
        .order_by(GoodsDelivery.id).with_for_update(skip_locked=True)).scalars().all()
    ready = []
    for note in notes:
        db.session.flush()  # the stock just put in counts
        if check(note):
            ready.append(name_of(note))
            notify_ready(note)
    return ready


def notify_ready(note) -> None:
    """Tell the note's owner (who made it, else the invoice's sales agent) it can be approved."""
    line = f"{name_of(note)} can now be approved: the missing stock has arrived"
    log_activity(None, line, rel_type="goods_delivery", rel_id=note.id)
    owner = db.session.get(Staff, note.addedfrom or note.staff_id) if (note.addedfrom or note.staff_id) else None
    if owner is None or not owner.email or owner.active is False:
        return
    body = Markup('<p>Hello {name},</p><p>{line}.</p><p><a href="{link}">Open the delivery notes</a></p>').format(
        name=owner.firstname or "", line=line, link=f"{base_url()}/admin/warehouse/manage_delivery/")
    html = render_template("email/layout.html", body=body, subject=line, companyname=options.get("companyname"))
    queue_email(owner.email, line, html, html_to_text(str(body)), rel_type="goods_delivery", rel_id=note.id,
                template="delivery-note-ready")


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("before_flush", "deliveries.check", _check_on_change)
    add("business_event", "deliveries.react", _invoice_events)
