"""The business events of the sales tables (crm/core/events.py announces them; webhooks,
notifications, reservations and the delivery notes subscribe)."""
from __future__ import annotations

from crm.core.events import register
from crm.sales.models.clients import Client, Lead
from crm.sales.models.documents import (
    Estimate,
    EstimateStatus,
    Invoice,
    InvoicePayment,
    InvoiceStatus,
    Proposal,
    ProposalStatus,
)

register(Lead, created="lead.created", described={
    "lead.created": "A lead was created (form, email, import, Facebook, API or by hand)"})
register(Client, created="client.created", described={"client.created": "A customer was created"})
register(Proposal, statuses={ProposalStatus.ACCEPTED.value: "proposal.accepted",
                             ProposalStatus.DECLINED.value: "proposal.declined"}, described={
    "proposal.sent": "A proposal was emailed to the client",
    "proposal.viewed": "The client opened a proposal in the portal",
    "proposal.accepted": "A proposal was accepted",
    "proposal.declined": "A proposal was declined",
})
# Converting a sales order to an invoice sets code 4 too (Accepted/Invoiced): estimate.accepted.
# A sales order entered already accepted (API, grid) reserves its stock as one accepted later does.
register(Estimate, statuses={EstimateStatus.ACCEPTED.value: "estimate.accepted",
                             EstimateStatus.DECLINED.value: "estimate.declined",
                             EstimateStatus.EXPIRED.value: "estimate.expired"},
         on_create=("estimate.accepted",), described={
    "estimate.sent": "A sales order was emailed to the client",
    "estimate.accepted": "A sales order was accepted",
    "estimate.declined": "A sales order was declined",
    "estimate.expired": "A sent sales order passed its expiry date",
})
register(Invoice, created="invoice.created", statuses={InvoiceStatus.OVERDUE.value: "invoice.overdue",
                                                       InvoiceStatus.PAID.value: "invoice.paid",
                                                       InvoiceStatus.CANCELLED.value: "invoice.cancelled"},
         described={
    "invoice.created": "An invoice was created",
    "invoice.sent": "An invoice was emailed to the client",
    "invoice.overdue": "An invoice passed its due date unpaid",
    "invoice.paid": "An invoice was paid in full",
    "invoice.cancelled": "An invoice was cancelled",
})
register(InvoicePayment, created="payment.recorded", described={
    "payment.recorded": "A payment was recorded on an invoice"})
