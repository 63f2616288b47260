"""Requests for quotation (tblpur_request): approve, reject, cancel, ask vendors for quotations and
email them the RFQ with a link where they answer.

Statuses: 1 Draft → 2 Approved (sent to vendors) | 3 Rejected | 4 Canceled. Asking a vendor creates
its (Pending) quotation with the RFQ's lines copied; the vendor fills in prices through the portal
link of that quotation, or purchasing types in the quote received.
"""
from __future__ import annotations

from wtforms import Form
from wtforms.validators import InputRequired

from crm.core import events
from crm.core.extensions import db
from crm.core.registry import ActionError, action
from crm.purchasing.actions.purchase_common import (
    VendorsField,
    assign_number,
    copy_lines,
    parse_vendor_ids,
    refresh_totals,
    refuse,
    vendor_email,
    vendor_ids_text,
)
from crm.purchasing.actions.vendor_mail import email_vendor, queued_note, vendor_link
from crm.purchasing.models import (
    PurchaseOrder,
    PurchaseOrderStatus,
    PurchaseQuotation,
    PurchaseQuotationDetail,
    PurchaseQuotationStatus,
    PurchaseRequest,
    PurchaseRequestStatus,
    Vendor,
)

S = PurchaseRequestStatus
Q = PurchaseQuotationStatus

events.register(PurchaseRequest, statuses={S.APPROVED.value: "purchase_request.approved"},
                described={"purchase_request.approved": "A request for quotation was approved",
                           "purchase_request.sent": "A request for quotation was emailed to vendors"})


def name(rq: PurchaseRequest) -> str:
    return f"RFQ {rq.pur_rq_code or rq.pur_rq_name}"


def _status(rq) -> str:
    return S.label_of(rq.status)


def _draft_only(verb):
    def check(rq):
        if rq.status != S.DRAFT.value:
            return f"{name(rq)} is {_status(rq)}; only a draft RFQ can be {verb}."
        return None
    return check


@action(PurchaseRequest, "approve", "Approve", precondition=_draft_only("approved"), icon="fa-check")
def approve(rq: PurchaseRequest, actor):
    if not rq.items:
        raise ActionError(f"{name(rq)} has no lines; add the items and quantities to request first.")
    for line in rq.items:
        if not line.quantity or line.quantity <= 0:
            raise ActionError(f"{name(rq)}: the line “{line}” has no quantity; enter how many to request.",
                              field="quantity")
    assign_number(rq)
    rq.status = S.APPROVED.value
    return f"{name(rq)} approved; it can now be sent to vendors"


@action(PurchaseRequest, "reject", "Reject", precondition=_draft_only("rejected"), destructive=True,
        confirm="Reject this request for quotation?", icon="fa-times")
def reject(rq: PurchaseRequest, actor):
    rq.status = S.REJECTED.value
    return f"{name(rq)} rejected"


def open_orders(rq) -> list[PurchaseOrder]:
    return (db.session.query(PurchaseOrder)
            .filter(PurchaseOrder.pur_request == rq.id,
                    PurchaseOrder.status.notin_([PurchaseOrderStatus.CANCELED.value,
                                                 PurchaseOrderStatus.REJECTED.value])).all())


def _cancellable(rq) -> str | None:
    if rq.status in (S.REJECTED.value, S.CANCELED.value):
        return f"{name(rq)} is already {_status(rq)}."
    return None


def _without_orders(rq) -> str | None:
    orders = open_orders(rq)
    if orders:
        return (f"{name(rq)} has purchase order {', '.join(str(o) for o in orders)}; cancel the purchase order "
                "first.")
    return None


@action(PurchaseRequest, "cancel", "Cancel", precondition=_cancellable, destructive=True,
        confirm="Cancel this request for quotation and its pending quotations?", icon="fa-ban")
def cancel(rq: PurchaseRequest, actor):
    refuse(_without_orders(rq))
    rq.status = S.CANCELED.value
    pending = [q for q in quotations_of(rq) if q.status == Q.PENDING.value]
    for q in pending:
        q.status = Q.CANCELED.value
    return f"{name(rq)} canceled" + (f" with {len(pending)} pending quotation(s)" if pending else "")


# --- quotations per vendor ---------------------------------------------------------------------

def quotations_of(rq) -> list[PurchaseQuotation]:
    return (db.session.query(PurchaseQuotation).filter(PurchaseQuotation.pur_request == rq.id)
            .order_by(PurchaseQuotation.id).all())


def quotation_for(rq: PurchaseRequest, vendor: Vendor, actor) -> tuple[PurchaseQuotation, bool]:
    """The vendor's open quotation for this RFQ, or a new Pending one with the RFQ's lines copied."""
    for q in quotations_of(rq):
        if q.vendor == vendor.userid and q.status in (Q.PENDING.value, Q.ACCEPTED.value):
            return q, False
    q = PurchaseQuotation(vendor=vendor.userid, pur_request=rq.id, currency=rq.currency or vendor.default_currency,
                          status=Q.PENDING.value, buyer=getattr(actor, "staffid", None),
                          addedfrom=getattr(actor, "staffid", None),
                          items=copy_lines(rq.items, PurchaseQuotationDetail))
    refresh_totals(q)
    db.session.add(q)
    db.session.flush()
    assign_number(q)
    return q, True


def _open_for_vendors(rq) -> str | None:
    if rq.status == S.DRAFT.value:
        return f"{name(rq)} is Draft; approve it before asking vendors for quotations."
    if rq.status != S.APPROVED.value:
        return f"{name(rq)} is {_status(rq)}; vendors can only be asked on an approved RFQ."
    return None


def _vendors(ids) -> list[Vendor]:
    vendors = [db.session.get(Vendor, i) for i in dict.fromkeys(ids)]
    missing = [str(i) for i, v in zip(dict.fromkeys(ids), vendors) if v is None]
    if missing:
        raise ActionError(f"No vendor with id {', '.join(missing)}.", field="vendors")
    if not vendors:
        raise ActionError("Choose at least one vendor.", field="vendors")
    return vendors


class VendorsForm(Form):
    vendors = VendorsField("Vendors", validators=[InputRequired(message="Choose at least one vendor.")])


@action(PurchaseRequest, "request_quotations", "Create quotations for vendors", form=VendorsForm,
        precondition=_open_for_vendors, icon="fa-files-o")
def request_quotations(rq: PurchaseRequest, actor, vendors: list[int]):
    """One Pending quotation per chosen vendor, lines copied from the RFQ (to type in quotes received)."""
    made = []
    for vendor in _vendors(vendors):
        q, new = quotation_for(rq, vendor, actor)
        if new:
            made.append(f"{q} ({vendor.company})")
    rq.send_to_vendors = vendor_ids_text(parse_vendor_ids(rq.send_to_vendors) + list(vendors))
    if not made:
        return "Every chosen vendor already has an open quotation for this RFQ"
    return f"Created quotation {', '.join(made)}"


@action(PurchaseRequest, "send_to_vendors", "Send to vendors", form=VendorsForm, precondition=_open_for_vendors,
        icon="fa-envelope")
def send_to_vendors(rq: PurchaseRequest, actor, vendors: list[int]):
    """Email each vendor the RFQ PDF and a portal link to its own quotation, where it enters prices."""
    chosen = _vendors(vendors)
    for vendor in chosen:  # refuse before anything is queued when one cannot be reached
        vendor_email(vendor)
    sent = []
    for vendor in chosen:
        q, _new = quotation_for(rq, vendor, actor)
        if q.status != Q.PENDING.value:
            raise ActionError(f"{vendor.company}'s quotation {q} is already {Q.label_of(q.status)}; "
                              "it is not asked again.", field="vendors")
        email = email_vendor(vendor, rq, actor, "purchase-request-to-vendor", vendor_link(q),
                             "Enter your quotation", "pur_request")
        sent.append(f"{vendor.company} ({email})")
    rq.send_to_vendors = vendor_ids_text(parse_vendor_ids(rq.send_to_vendors) + list(vendors))
    events.emit("purchase_request.sent", rq, actor)
    return f"{name(rq)} sent to {', '.join(sent)}{queued_note()}"
