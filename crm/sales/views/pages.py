"""Sales' panels on record pages (crm/core/pages.py): the client page, a lead's activity and
conversions, a campaign's counts; what is left to pay on an invoice and who a proposal is for.

The client page costs a fixed number of queries whatever the number of documents: contacts, open
documents of each kind (their currencies joined in), payments summed per invoice, the advances and
the activity lines, each in one query.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_
from sqlalchemy.orm import joinedload

from crm.core import pages
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.models.records import ActivityLog
from crm.core.resources import resource_name
from crm.sales.actions.advances import client_page as advances_of
from crm.sales.actions.campaigns import campaign_counts
from crm.sales.invoice_status import amount_paid
from crm.sales.models.clients import Client, Contact, Lead, Reminder
from crm.sales.models.documents import (
    Contract,
    Estimate,
    EstimateStatus,
    Invoice,
    InvoicePayment,
    InvoiceStatus,
    Proposal,
    ProposalStatus,
)
from crm.sales.models.marketing import MarketingCampaign
from crm.sales.views.lead_activity import activity_context

ZERO = Decimal("0.00")
OPEN_PROPOSALS = (ProposalStatus.DRAFT.value, ProposalStatus.SENT.value, ProposalStatus.OPEN.value,
                  ProposalStatus.SENT_MANUALLY.value, ProposalStatus.REVISED.value)
OPEN_ESTIMATES = (EstimateStatus.DRAFT.value, EstimateStatus.SENT.value)
OPEN_INVOICES = (InvoiceStatus.DRAFT.value, InvoiceStatus.UNPAID.value, InvoiceStatus.PARTIALLY_PAID.value,
                 InvoiceStatus.OVERDUE.value)
ACTIVITY_LIMIT = 30


def _currency(doc) -> str:
    return doc.currency_rel.name if doc.currency_rel is not None else ""


def client_context(client) -> dict:
    """Contacts, open documents, the statement (invoiced, paid, advance credit, overdue) and activity."""
    cid = client.userid
    contacts = (db.session.query(Contact).filter(Contact.userid == cid)
                .order_by(Contact.is_primary.desc(), Contact.firstname).all())
    proposals = (db.session.query(Proposal).options(joinedload(Proposal.currency_rel))
                 .filter(Proposal.rel_type == "customer", Proposal.rel_id == cid, Proposal.status.in_(OPEN_PROPOSALS))
                 .order_by(Proposal.date.desc(), Proposal.id.desc()).all())
    estimates = (db.session.query(Estimate).options(joinedload(Estimate.currency_rel))
                 .filter(Estimate.clientid == cid, Estimate.status.in_(OPEN_ESTIMATES))
                 .order_by(Estimate.date.desc(), Estimate.id.desc()).all())
    invoices = (db.session.query(Invoice).options(joinedload(Invoice.currency_rel))
                .filter(Invoice.clientid == cid, Invoice.status != InvoiceStatus.DRAFT.value)
                .order_by(Invoice.date.desc(), Invoice.id.desc()).all())
    paid = dict(db.session.query(InvoicePayment.invoiceid, func.coalesce(func.sum(InvoicePayment.amount), 0))
                .join(Invoice, Invoice.id == InvoicePayment.invoiceid).filter(Invoice.clientid == cid)
                .group_by(InvoicePayment.invoiceid).all())
    drafts = (db.session.query(Invoice).options(joinedload(Invoice.currency_rel))
              .filter(Invoice.clientid == cid, Invoice.status == InvoiceStatus.DRAFT.value).all())
    contracts = (db.session.query(Contract).filter(Contract.client == cid, Contract.trash.is_(False))
                 .order_by(Contract.dateadded.desc()).all())

    statement: dict[str, dict] = defaultdict(lambda: {"invoiced": ZERO, "paid": ZERO, "due": ZERO, "overdue": ZERO,
                                                      "credit": ZERO})
    open_invoices = []
    for inv in invoices:
        left = money(Decimal(inv.total or 0) - Decimal(paid.get(inv.id, 0)))
        if inv.status == InvoiceStatus.CANCELLED.value:
            continue
        row = statement[_currency(inv)]
        row["invoiced"] += inv.total or ZERO
        row["paid"] += money(paid.get(inv.id, 0))
        row["due"] += left
        if inv.status == InvoiceStatus.OVERDUE.value:
            row["overdue"] += left
        if inv.status in OPEN_INVOICES:
            open_invoices.append({"doc": inv, "left": left, "currency": _currency(inv)})
    open_invoices += [{"doc": d, "left": d.total, "currency": _currency(d)} for d in drafts]
    advances = advances_of(client)
    for code, amount in advances["credit"].items():
        statement[code]["credit"] += amount

    doc_ids = {resource_name(Invoice): [i.id for i in invoices], resource_name(Estimate): [e.id for e in estimates],
               resource_name(Proposal): [p.id for p in proposals]}
    about = [(ActivityLog.rel_type == resource_name(Client)) & (ActivityLog.rel_id == cid)]
    about += [(ActivityLog.rel_type == kind) & ActivityLog.rel_id.in_(ids) for kind, ids in doc_ids.items() if ids]
    activity = (db.session.query(ActivityLog).options(joinedload(ActivityLog.staff)).filter(or_(*about))
                .order_by(ActivityLog.date.desc(), ActivityLog.id.desc()).limit(ACTIVITY_LIMIT).all())
    return {"contacts": contacts, "proposals": [{"doc": p, "currency": _currency(p)} for p in proposals],
            "estimates": [{"doc": e, "currency": _currency(e)} for e in estimates],
            "open_invoices": open_invoices, "contracts": contracts,
            "statement": dict(sorted(statement.items())), "activity": activity, **advances}


def lead_conversions(lead) -> dict:
    """The next reminder and what the lead became: an opportunity, a client, proposals."""
    now = datetime.utcnow()
    reminder = (db.session.query(Reminder).options(joinedload(Reminder.staff_rel))
                .filter(Reminder.rel_type == "lead", Reminder.rel_id == lead.id, Reminder.isnotified.is_(False),
                        Reminder.date >= now)
                .order_by(Reminder.date).first())
    became = (db.session.query(Lead).filter(Lead.converted_from_lead == lead.id).all())
    proposals = (db.session.query(Proposal).options(joinedload(Proposal.currency_rel))
                 .filter(or_(Proposal.opportunity_id == lead.id,
                             (Proposal.rel_type == "lead") & (Proposal.rel_id == lead.id)))
                 .order_by(Proposal.date.desc()).all())
    origin = db.session.get(Lead, lead.converted_from_lead) if lead.converted_from_lead else None
    return {"next_reminder": reminder, "client": lead.client, "opportunities": became, "origin": origin,
            "proposals": [{"doc": p, "currency": _currency(p)} for p in proposals]}


def _lead_page(lead) -> dict:
    return {**activity_context(lead), "conversions": lead_conversions(lead)}


def _invoice_left(invoice) -> Decimal:
    return money(Decimal(invoice.total or 0) - Decimal(amount_paid(invoice.id)))


def _proposal_party(proposal):
    """A proposal is for a client or for a lead (rel_type), or for the opportunity it came from."""
    if proposal.rel_type == "customer" and proposal.rel_id:
        return db.session.get(Client, proposal.rel_id)
    if proposal.rel_type == "lead" and proposal.rel_id:
        return db.session.get(Lead, proposal.rel_id)
    return proposal.opportunity


def register_pages() -> None:
    pages.panel(Client, "admin/client_page.html", client_context)
    pages.panel(Lead, "admin/lead_page.html", _lead_page)
    pages.panel(MarketingCampaign, "admin/campaign_counts.html", campaign_counts)
    pages.amount_left(Invoice, _invoice_left)
    pages.party(Proposal, _proposal_party)
