"""Packing lists (tblwh_packing_lists, prefix 'PL'): the parcel of an approved delivery note.

``create_packing_list`` on the note packs what is not packed yet (with the parcel's dimensions and
weight), ``approve`` readies it for the courier (and, with Innoship configured, books the AWB: see
crm/shipping/actions.py), ``mark_in_transit`` / ``mark_delivered`` move it on by hand when no
courier tracking does.
"""
from __future__ import annotations

from decimal import Decimal

from wtforms import DecimalField, Form
from wtforms.validators import InputRequired, NumberRange, Optional

from crm.core import options
from crm.core.extensions import db
from crm.core.numbering import format_number, take_next
from crm.core.registry import ActionError, action
from crm.core.resources import page_loader, preload_collection
from crm.warehouse.actions.deliveries import name_of
from crm.warehouse.models import (
    GoodsDelivery,
    GoodsDeliveryStatus,
    PackingList,
    PackingListDetail,
    PackingListStatus,
    WarehouseApproval,
)
from crm.warehouse import totals as warehouse_totals

ZERO = Decimal("0")
DRAFT, APPROVED = WarehouseApproval.DRAFT.value, WarehouseApproval.APPROVED.value
P = PackingListStatus
ADDRESS = [f"{kind}_{part}" for kind in ("billing", "shipping") for part in ("street", "city", "state", "zip", "country")]


def _left(line) -> Decimal:
    return (line.quantities or ZERO) - (line.packing_qty or ZERO)


def _packable(note: GoodsDelivery) -> str | None:
    if note.approval != APPROVED:
        return f"{name_of(note)} is not approved; approve it before packing."
    if not any(_left(line) > 0 for line in note.items):
        return f"Everything on {name_of(note)} is already in packing lists."
    return None


# A page of delivery notes: the lines of the approved ones (what "Create packing list" looks at) in one query.
page_loader(GoodsDelivery, lambda notes: preload_collection([n for n in notes if n.approval == APPROVED], "items"),
            doors=("grid",))


class ParcelForm(Form):
    weight = DecimalField("Weight (kg)", places=3, validators=[
        InputRequired(message="Enter the parcel's weight in kg."),
        NumberRange(min=Decimal("0.001"), message="The weight must be more than 0 kg.")])
    width = DecimalField("Width (cm)", places=2, validators=[Optional(), NumberRange(min=0)])
    height = DecimalField("Height (cm)", places=2, validators=[Optional(), NumberRange(min=0)])
    lenght = DecimalField("Length (cm)", places=2, validators=[Optional(), NumberRange(min=0)])


def packing_list_from(note: GoodsDelivery, actor, weight=None, width=None, height=None, lenght=None) -> PackingList:
    """A draft packing list of everything on ``note`` not packed yet; the note is ready to deliver."""
    client = note.customer
    pl = PackingList(delivery_note_id=note.id, clientid=note.customer_code, weight=weight, width=width, height=height,
                     lenght=lenght, staff_id=getattr(actor, "staffid", None), approval=DRAFT,
                     packing_list_number=format_number(options.get("packing_list_prefix") or "",
                                                       take_next("next_packing_list_number")),
                     packing_list_name=f"{note.goods_delivery_code}, {client.company}" if client else None,
                     type_of_packing_list="total", delivery_status=P.READY_TO_DELIVER.value,
                     **{col: getattr(client, col) for col in ADDRESS} if client else {})
    if width and height and lenght:
        pl.volume = (width * height * lenght / Decimal(1_000_000)).quantize(Decimal("0.001"))
    for line in note.items:
        qty = _left(line)
        if qty <= 0:
            continue
        pl.items.append(PackingListDetail(
            delivery_detail_id=line.id, commodity_code=line.commodity_code, commodity_name=line.commodity_name,
            quantity=qty, unit_id=line.unit_id, unit_price=line.unit_price or ZERO, tax=line.tax,
            lot_number=line.lot_number, expiry_date=line.expiry_date))
        line.packing_qty = (line.packing_qty or ZERO) + qty
    warehouse_totals.packing_list(pl)
    db.session.add(pl)
    note.delivery_status = GoodsDeliveryStatus.READY_TO_DELIVER.value
    return pl


@action(GoodsDelivery, "create_packing_list", "Create packing list", form=ParcelForm, precondition=_packable,
        icon="fa-archive")
def create_packing_list(note: GoodsDelivery, actor, weight, width=None, height=None, lenght=None):
    pl = packing_list_from(note, actor, weight, width, height, lenght)
    return f"Packing list {pl.packing_list_number} created for {name_of(note)} ({len(pl.items)} line(s))"


def _draft(pl: PackingList) -> str | None:  # shown per grid row: no query here
    if pl.approval != DRAFT:
        return f"Packing list {pl} is {WarehouseApproval.label_of(pl.approval)}, not a draft."
    return None


@action(PackingList, "approve", "Approve (ready for the courier)", precondition=_draft, icon="fa-check")
def approve(pl: PackingList, actor):
    if not pl.items:
        raise ActionError(f"Packing list {pl} has no lines; add what it holds before approving it.")
    pl.approval = APPROVED  # announces packing_list.approved: the AWB is booked when Innoship is set
    return f"Packing list {pl} approved"


def _status_refusal(target):
    order = [P.READY_TO_DELIVER.value, P.IN_TRANSIT.value, P.DELIVERED.value]

    def refusal(pl: PackingList) -> str | None:
        if pl.approval != APPROVED:
            return f"Packing list {pl} is not approved yet."
        if order.index(pl.delivery_status) >= order.index(target.value):
            return f"Packing list {pl} is already {P.label_of(pl.delivery_status)}."
        return None

    return refusal


def _move(pl: PackingList, target, note_status) -> str:
    pl.delivery_status = target.value
    if pl.delivery_note is not None:
        pl.delivery_note.delivery_status = note_status.value
    return f"Packing list {pl} is {P.label_of(target.value)}"


@action(PackingList, "mark_in_transit", "Mark in transit", precondition=_status_refusal(P.IN_TRANSIT),
        icon="fa-truck")
def mark_in_transit(pl: PackingList, actor):
    return _move(pl, P.IN_TRANSIT, GoodsDeliveryStatus.DELIVERY_IN_PROGRESS)


@action(PackingList, "mark_delivered", "Mark delivered", precondition=_status_refusal(P.DELIVERED),
        icon="fa-flag-checkered")
def mark_delivered(pl: PackingList, actor):
    return _move(pl, P.DELIVERED, GoodsDeliveryStatus.DELIVERED)
