"""Courier shipments: one AWB per packing list, booked, tracked and cancelled through Innoship.

Booking is a job: the action (or the approval of a packing list, when Innoship is configured)
records a pending shipment row — one per packing list, a unique key — and the job calls Innoship.
A 5xx or a timeout leaves it pending with the next attempt scheduled (``retry_due_bookings``);
a refusal (4xx) marks it failed with Innoship's words, shown on the packing list, and the person
books again once the data is fixed. The job holds the shipment's row lock while it books and only
books a pending row, so running twice never books twice.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app

from crm.catalog.models import PaymentMode
from crm.core import events, options, storage
from crm.core.activity import log_activity
from crm.core.documents import pdf_filename, render_pdf
from crm.core.extensions import db
from crm.core.jobs import enqueue, job
from crm.core.links import web_link
from crm.core.mail import queue_email, render_email
from crm.core.mail.templates import DEFAULTS
from crm.core.models.messaging import EmailOutbox
from crm.core.registry import ActionError, action
from crm.sales.actions.sending import primary_contact
from crm.sales.invoice_status import amount_paid
from crm.sales.models.clients import Contact
from crm.shipping.innoship import Client, InnoshipError
from crm.warehouse.models import (
    GoodsDeliveryStatus,
    PackingList,
    PackingListStatus,
    Shipment,
    ShipmentStatus,
    WarehouseApproval,
)

S = ShipmentStatus
LIVE = (S.PENDING.value, S.CREATED.value, S.IN_TRANSIT.value, S.DELIVERED.value)
MAX_ATTEMPTS = 6
COURIERS = {1: "Cargus", 2: "DPD", 3: "FanCourier", 4: "GLS", 6: "Sameday", 10: "DHL", 11: "Posta Romana"}
# Innoship tracking states (clientStatusId) that move our documents on
PICKED_UP, IN_TRANSIT, DELIVERED = 2, 20, 3

events.register(PackingList, statuses={WarehouseApproval.APPROVED.value: "packing_list.approved"}, column="approval",
                described={"packing_list.approved": "A packing list was approved",
                           "awb.created": "A courier AWB was booked for a packing list",
                           "awb.delivered": "The courier delivered a packing list"})
events.register(Shipment, statuses={S.CREATED.value: "awb.created", S.DELIVERED.value: "awb.delivered"})


def shipment_of(pl: PackingList) -> Shipment | None:
    return pl.shipment


# --- what Innoship is sent ------------------------------------------------------------------

def _first(*values) -> str | None:
    return next((str(v).strip() for v in values if v not in (None, "") and str(v).strip()), None)


def _recipient(pl: PackingList) -> dict:
    """addressTo from the packing list's shipping address, else the client's shipping, else billing."""
    client = pl.client or (pl.delivery_note.customer if pl.delivery_note is not None else None)
    if client is None:
        raise ActionError(f"Packing list {pl} has no client; set the client before booking a courier.",
                          field="clientid")
    contact = (db.session.query(Contact).filter_by(userid=client.userid)
               .order_by(Contact.is_primary.desc(), Contact.id).first())
    sources = [pl, client]
    for kind in ("shipping", "billing"):
        street = _first(*(getattr(src, f"{kind}_street") for src in sources))
        if street:
            break
    pick = lambda col: _first(*(getattr(src, f"{kind}_{col}") for src in sources))  # noqa: E731
    to = {"name": client.company, "contactPerson": f"{contact.firstname} {contact.lastname}".strip() if contact else None,
          "country": "RO", "countyName": pick("state"), "localityName": pick("city"), "addressText": street,
          "postalCode": pick("zip"), "phone": _first(contact.phonenumber if contact else None, client.phonenumber),
          "email": contact.email if contact else None}
    missing = [label for key, label in (("addressText", "street"), ("localityName", "city"),
                                        ("countyName", "county (state)"), ("phone", "phone number")) if not to[key]]
    if missing:
        raise ActionError(f"The shipping address of {client.company} has no {', '.join(missing)}; "
                          "fill it on the client (or on the packing list) before booking a courier.",
                          field="shipping_street")
    return to


def _cash_on_delivery(pl: PackingList) -> Decimal | None:
    """What is left to pay on the invoice, when the invoice allows a cash-on-delivery payment mode."""
    invoice = pl.delivery_note.invoice if pl.delivery_note is not None else None
    if invoice is None or not invoice.allowed_payment_modes:
        return None
    allowed = {int(m) for m in json.loads(invoice.allowed_payment_modes)}
    if not db.session.query(PaymentMode.id).filter(PaymentMode.id.in_(allowed), PaymentMode.cash_on_delivery).first():
        return None
    left = invoice.total - amount_paid(invoice.id)
    return left if left > 0 else None


def order_body(pl: PackingList) -> dict:
    """The POST /api/Order body for a packing list; ActionError when something must be filled first."""
    weight = pl.weight or Decimal(0)
    if weight <= 0:
        raise ActionError(f"Enter the weight (kg) of packing list {pl} before booking a courier.", field="weight")
    parcel = {"sequenceNo": 1, "weight": float(weight), "type": "Parcel", "reference1": str(pl)}
    if pl.width and pl.height and pl.lenght:
        parcel["size"] = {"width": float(pl.width), "height": float(pl.height), "length": float(pl.lenght)}
    cod = _cash_on_delivery(pl)
    courier = options.get("innoship_courier_id") or None
    return {
        "serviceId": options.get("innoship_service_id"), "courierId": courier,
        "shipmentDate": datetime.now().astimezone().replace(microsecond=0).isoformat(),
        "addressFrom": None, "addressTo": _recipient(pl), "payment": options.get("innoship_payment"),
        "content": {"parcelsCount": 1, "envelopeCount": 0, "palettesCount": 0, "totalWeight": float(weight),
                    "contents": ", ".join(line.commodity_name or "" for line in pl.items)[:200] or str(pl),
                    "package": "box", "parcels": [parcel]},
        "extra": {"bankRepaymentAmount": None, "cashOnDeliveryAmount": float(cod) if cod else None,
                  "declaredValueAmount": None, "openPackage": False, "reference1": str(pl)},
        "externalClientLocation": options.get("innoship_location_id"),
        "externalOrderId": str(pl), "observation": pl.client_note or None,
    }


# --- booking --------------------------------------------------------------------------------

def _booking_refusal(pl: PackingList) -> str | None:
    if pl.approval != WarehouseApproval.APPROVED.value:
        return f"Packing list {pl} is not approved; approve it before booking a courier."
    existing = shipment_of(pl)
    if existing is not None and existing.status in LIVE:
        what = f"AWB {existing.awb_number}" if existing.awb_number else "a courier booking in progress"
        return f"Packing list {pl} already has {what} ({S.label_of(existing.status)})."
    if not options.get("innoship_api_key"):
        return "Innoship is not configured: set the API key at /admin/innoship."
    return None


def request_awb(pl: PackingList, actor=None) -> Shipment:
    """Record a pending booking (one row per packing list) and queue the job that books it."""
    order_body(pl)  # refuse now, with the field to fix, rather than fail later in the job
    shipment = db.session.query(Shipment).filter_by(packing_list_id=pl.id).one_or_none() \
        or Shipment(packing_list_id=pl.id)
    shipment.delivery_note_id = pl.delivery_note_id
    shipment.status, shipment.attempts, shipment.next_attempt_at = S.PENDING.value, 0, None
    shipment.awb_number = shipment.error = shipment.label_path = shipment.events = shipment.last_event = None
    shipment.external_order_id = str(pl)
    db.session.add(shipment)
    db.session.flush()
    enqueue(book_awb, shipment.id)
    return shipment


@action(PackingList, "create_awb", "Book courier (AWB)", precondition=_booking_refusal, icon="fa-truck")
def create_awb(pl: PackingList, actor):
    request_awb(pl, actor)
    return f"Courier booking requested for {pl}; the AWB appears on the packing list once Innoship answers."


def _book_on_approval(name, obj, actor, data) -> None:
    """The seed's "Delivery Note → AWB Innoship: automatic" once an API key is configured."""
    if name == "packing_list.approved" and options.get("innoship_api_key") and _booking_refusal(obj) is None:
        try:
            request_awb(obj, actor)
        except ActionError as exc:  # missing weight or address: approval stands, booking waits
            log_activity(actor, f"No AWB booked for {obj}: {exc}", rel_type="packing_list", rel_id=obj.id)


LABELS = "labels"  # crm/core/storage.py


def _fetch_label(client: Client, shipment: Shipment) -> None:
    try:
        pdf = client.label(shipment.courier_id, shipment.awb_number)
    except InnoshipError:
        return  # the tracking job fetches missing labels later
    shipment.label_path = storage.save(LABELS, pdf, "pdf", label=f"AWB-{shipment.awb_number}")


def _client() -> Client:
    client = Client.from_options()
    client.timeout = (5, options.get("innoship_timeout"))
    return client


@job
def book_awb(shipment_id: int) -> str:
    shipment = db.session.get(Shipment, shipment_id, with_for_update=True)
    if shipment is None or shipment.status != S.PENDING.value:
        db.session.rollback()
        return "nothing to book"
    pl = shipment.packing_list
    try:
        client = _client()
        reply = client.create_order(order_body(pl))
    except (InnoshipError, ActionError) as exc:
        _booking_failed(shipment, exc)
        db.session.commit()
        return str(exc)
    price = reply.get("price") or {}
    shipment.awb_number, shipment.courier_id = str(reply["courierShipmentId"]), reply.get("courier")
    shipment.courier = COURIERS.get(shipment.courier_id, str(shipment.courier_id))
    shipment.service = options.get("innoship_service_id")
    shipment.price = Decimal(str(price["totalAmount"])) if price.get("totalAmount") is not None else None
    shipment.currency, shipment.tracking_url = price.get("currency"), web_link(reply.get("trackPageUrl"))
    shipment.status, shipment.error, shipment.next_attempt_at = S.CREATED.value, None, None
    log_activity(None, f"AWB {shipment.awb_number} ({shipment.courier}) booked for {pl}",
                 rel_type="packing_list", rel_id=pl.id)
    db.session.commit()  # the AWB is ours before anything else can fail
    _fetch_label(client, shipment)
    if options.get("innoship_email_client"):
        enqueue(email_shipment, shipment.id)
    db.session.commit()
    return f"AWB {shipment.awb_number}"


def _booking_failed(shipment: Shipment, exc: Exception) -> None:
    shipment.error = str(exc)
    shipment.attempts += 1
    if getattr(exc, "retry", False) and shipment.attempts < MAX_ATTEMPTS:
        shipment.next_attempt_at = datetime.utcnow() + timedelta(minutes=2 ** shipment.attempts)
    else:
        shipment.status, shipment.next_attempt_at = S.FAILED.value, None


@job
def retry_due_bookings() -> str:
    """Every few minutes: book again what a 5xx or a timeout left pending."""
    due = [sid for (sid,) in db.session.query(Shipment.id).filter(
        Shipment.status == S.PENDING.value, Shipment.next_attempt_at <= datetime.utcnow())]
    db.session.rollback()
    for sid in due:
        book_awb(sid)
    return f"{len(due)} booking(s) retried"


# --- telling the client -----------------------------------------------------------------------

SHIPPED = "delivery-note-shipped"
DEFAULTS.update({SHIPPED: (
    "delivery_note", "Goods shipped, with the AWB (to customer)",
    "Your order {delivery_note} is on its way: AWB {awb_number}",
    "<p>Dear {contact_name},</p>"
    "<p>We handed your goods ({delivery_note}, {packing_list}) to <b>{courier}</b>. "
    "Your AWB number is <b>{awb_number}</b>.</p>"
    '<p><a href="{tracking_url}">Follow the delivery</a> ({tracking_url})</p>'
    "<p>The delivery note is attached.</p><p>Kind regards,<br>{companyname}</p>")})


@job
def email_shipment(shipment_id: int) -> str:
    """Email the client the AWB, tracking link and delivery note PDF; once per AWB."""
    s = db.session.get(Shipment, shipment_id)
    if s is None or not s.awb_number:
        return "no AWB to tell about"
    # One row per packing list is reused when it is booked again: "once" is per AWB number.
    if db.session.query(EmailOutbox.id).filter(EmailOutbox.template == SHIPPED, EmailOutbox.rel_type == "shipment",
                                               EmailOutbox.rel_id == s.id,
                                               EmailOutbox.subject.contains(s.awb_number)).first():
        return f"AWB {s.awb_number} was already emailed"
    pl, note = s.packing_list, s.delivery_note
    contact = primary_contact(pl.clientid)
    if contact is None:
        return f"AWB {s.awb_number} not emailed: the client has no primary contact with an email"
    fields = {"contact_name": str(contact), "courier": s.courier, "awb_number": s.awb_number,
              "tracking_url": s.tracking_url or "", "packing_list": str(pl),
              "delivery_note": str(note) if note is not None else str(pl), "companyname": options.get("companyname")}
    rendered = render_email(SHIPPED, fields)
    if rendered is None:
        return f"the template {SHIPPED} is disabled"
    attachments = [(pdf_filename(note), render_pdf(note), "application/pdf")] if note is not None else []
    queue_email(contact.email, rendered.subject, rendered.html, rendered.text, attachments=attachments,
                rel_type="shipment", rel_id=s.id, template=SHIPPED)
    db.session.commit()
    return f"AWB {s.awb_number} emailed to {contact.email}"


# --- tracking -------------------------------------------------------------------------------

def _state(history: list[dict]) -> str:
    ids = {e.get("clientStatusId") for e in history}
    if DELIVERED in ids:
        return S.DELIVERED.value
    if ids & {PICKED_UP, IN_TRANSIT}:
        return S.IN_TRANSIT.value
    return S.CREATED.value


def _move_documents(shipment: Shipment) -> None:
    pl, note = shipment.packing_list, shipment.delivery_note
    if shipment.status == S.DELIVERED.value:
        pl.delivery_status = PackingListStatus.DELIVERED.value
        if note is not None:
            note.delivery_status = GoodsDeliveryStatus.DELIVERED.value
    elif shipment.status == S.IN_TRANSIT.value:
        pl.delivery_status = PackingListStatus.IN_TRANSIT.value
        if note is not None:
            note.delivery_status = GoodsDeliveryStatus.DELIVERY_IN_PROGRESS.value


@job
def track_awbs() -> str:
    """Periodic: ask Innoship where each open AWB is; move packing lists and delivery notes on."""
    open_ = (db.session.query(Shipment)
             .filter(Shipment.status.in_([S.CREATED.value, S.IN_TRANSIT.value])).order_by(Shipment.id).all())
    if not open_:
        return "no AWB to track"
    client, moved = _client(), 0
    by_courier: dict[int, list[Shipment]] = {}
    for s in open_:
        by_courier.setdefault(s.courier_id, []).append(s)
    for courier, rows in by_courier.items():
        index = {s.awb_number: s for s in rows}
        for start in range(0, len(rows), 50):
            awbs = [s.awb_number for s in rows[start:start + 50]]
            try:
                items = client.track(courier, awbs)
            except InnoshipError as exc:
                current_app.logger.warning("tracking %s: %s", awbs, exc)
                continue
            for item in items:
                s = index.get(str(item.get("awb") or ""))
                history = item.get("history") or []
                if s is None or not history:
                    continue
                s.events = json.dumps(history)
                last = history[-1]
                s.last_event = f"{last.get('eventDate', '')[:16].replace('T', ' ')} {last.get('clientStatusDescription', '')}"
                state = _state(history)
                if state != s.status:
                    s.status, moved = state, moved + 1
                    _move_documents(s)
                if not s.label_path:
                    _fetch_label(client, s)
    db.session.commit()
    return f"{len(open_)} AWB(s) tracked, {moved} moved on"


# --- cancelling -----------------------------------------------------------------------------

def _cancel_refusal(pl: PackingList) -> str | None:
    s = shipment_of(pl)
    if s is None or s.status not in (S.CREATED.value, S.PENDING.value):
        return f"Packing list {pl} has no AWB that can be cancelled."
    return None


@action(PackingList, "cancel_awb", "Cancel AWB", precondition=_cancel_refusal, destructive=True, icon="fa-ban",
        confirm="Cancel the courier booking (AWB) of this packing list?")
def cancel_awb(pl: PackingList, actor):
    s = shipment_of(pl)
    if s.awb_number:
        try:
            _client().cancel(s.courier_id, s.awb_number)
        except InnoshipError as exc:
            raise ActionError(f"Innoship did not cancel AWB {s.awb_number}: {exc}") from None
    s.status, s.next_attempt_at = S.CANCELLED.value, None
    pl.delivery_status = PackingListStatus.READY_TO_DELIVER.value
    return f"AWB {s.awb_number} cancelled" if s.awb_number else f"Courier booking for {pl} cancelled"


def events_of(shipment: Shipment | None) -> list[dict]:
    """The courier's event history, for the packing list page."""
    return json.loads(shipment.events) if shipment is not None and shipment.events else []


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("business_event", "shipping.book", _book_on_approval)
