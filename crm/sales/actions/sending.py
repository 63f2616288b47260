"""Sending documents to clients: proposals, sales orders and invoices go out by email with their
PDF attached and the client-portal link; the outbox rows get a Resend button.

The recipient is the client's primary contact (tblcontacts.is_primary) or, for a proposal, the
address on the proposal. No address: the action refuses and says where to add one.
"""
from __future__ import annotations

from datetime import datetime

from crm.core import events, options
from crm.core.documents import currency_of, ensure_hash, fmt, kind_of, number_of, pdf_filename, public_url, render_pdf
from crm.core.extensions import db
from crm.core.mail import queue_email, render_email, requeue, resend_refusal, smtp_url
from crm.core.models.messaging import EmailOutbox
from crm.core.numbering import assign as assign_number
from crm.core.registry import ActionError, action
from crm.sales.documents import client_block, lines_and_totals
from crm.sales.invoice_status import recompute_status
from crm.sales.models.clients import Client, Contact, Lead
from crm.sales.models.documents import Estimate, EstimateStatus, Invoice, InvoiceStatus, Proposal, ProposalStatus

OUTBOX = "Settings → Email outbox"


# --- who receives it ---------------------------------------------------------------------------

def primary_contact(client_id: int | None) -> Contact | None:
    if not client_id:
        return None
    return (db.session.query(Contact)
            .filter(Contact.userid == client_id, Contact.is_primary.is_(True), Contact.active.is_(True),
                    Contact.email.isnot(None), Contact.email != "")
            .order_by(Contact.id).first())


def recipient(doc) -> tuple[str, str]:
    """(email, name to greet) for a document, or ActionError saying what to fix."""
    if isinstance(doc, Proposal):
        if doc.rel_type == "lead":
            lead = db.session.get(Lead, doc.rel_id) if doc.rel_id else None
            email = doc.email or (lead.email if lead else None)
            if not email:
                raise ActionError(f"Proposal {_label(doc)} has no email address: add an email to the proposal"
                                  + (f" or to lead {lead.name}." if lead else "."), field="email")
            return email, doc.proposal_to or (lead.name if lead else "")
        client = db.session.get(Client, doc.rel_id) if doc.rel_id else None
        contact = primary_contact(doc.rel_id)
        if contact is not None:
            return contact.email, str(contact)
        if doc.email:
            return doc.email, doc.proposal_to or ""
        raise ActionError(f"Proposal {_label(doc)} has no email address: add a primary contact with an email "
                          f"to client {client.company if client else doc.proposal_to or '(none)'}"
                          " or an email to the proposal.", field="email")
    contact = primary_contact(doc.clientid)
    if contact is None:
        raise ActionError(f"{_title(doc)} {_label(doc)} has no email address: add a primary contact with an email "
                          f"to client {doc.client.company}.")
    return contact.email, str(contact)


# --- the email ---------------------------------------------------------------------------------

def _title(doc) -> str:
    return kind_of(doc).title


def _label(doc) -> str:
    return number_of(doc)


def merge_fields(doc, actor, contact_name: str, email: str, link: str) -> dict:
    """The {fields} a document's templates may use."""
    _lines, totals = lines_and_totals(doc)
    number = _label(doc)
    until = getattr(doc, kind_of(doc).until_field, None)
    first, _, last = (contact_name or "").partition(" ")
    return {
        "companyname": options.get("companyname"), "client_company": client_block(doc)["name"],
        "contact_name": contact_name or client_block(doc)["name"], "contact_firstname": first,
        "contact_lastname": last, "recipient": email, "portal_link": link, "document_number": number,
        "total": fmt(totals["total"], currency_of(doc)), "currency": currency_of(doc),
        "date": f"{doc.date:%Y-%m-%d}" if doc.date else "", "staff_name": getattr(actor, "full_name", ""),
        "subject": getattr(doc, "subject", "") or "",
        f"{kind_of(doc).name}_number": number, "proposal_subject": getattr(doc, "subject", "") or "",
        "open_till": f"{until:%Y-%m-%d}" if until else "-", "expiry_date": f"{until:%Y-%m-%d}" if until else "-",
        "due_date": f"{until:%Y-%m-%d}" if until else "-",
        "link_label": {"proposal": "View the proposal", "estimate": "View the sales order",
                       "invoice": "View and pay the invoice"}[kind_of(doc).name],
    }


def email_document(doc, actor, slug: str) -> str:
    """Queue the document's email with its PDF and portal link; returns a message for the person."""
    email, name = recipient(doc)
    link = public_url(doc)
    fields = merge_fields(doc, actor, name, email, link)
    rendered = render_email(slug, fields)
    if rendered is None:
        raise ActionError(f"The email template “{slug}” is disabled; enable it in Settings → Email templates.")
    queue_email(email, rendered.subject, rendered.html, rendered.text,
                attachments=[(pdf_filename(doc), render_pdf(doc), "application/pdf")],
                rel_type=kind_of(doc).name, rel_id=doc.id, template=slug, actor=actor)
    if not smtp_url():
        return f"Queued for {email}; no SMTP is configured, so it waits in {OUTBOX}"
    return f"Emailed to {email}"


# --- proposals ---------------------------------------------------------------------------------

RESENDABLE = (ProposalStatus.DRAFT.value, ProposalStatus.SENT_MANUALLY.value, ProposalStatus.REVISED.value)


@action(Proposal, "send", "Send to client", icon="fa-envelope")
def send_proposal(proposal: Proposal, actor):
    """Email the proposal (PDF + portal link); a draft, revised or manually-sent one becomes Sent (4)."""
    assign_number(proposal)
    message = email_document(proposal, actor, "proposal-send-to-customer")
    if proposal.status in RESENDABLE:
        proposal.status = ProposalStatus.SENT.value
    events.emit("proposal.sent", proposal, actor)
    return message


def _can_mark_sent(p: Proposal) -> str | None:
    if p.status in (ProposalStatus.DRAFT.value, ProposalStatus.REVISED.value):
        return None
    return (f"Proposal {_label(p)} is {ProposalStatus.label_of(p.status)}; only a draft or revised proposal "
            "can be marked as sent.")


@action(Proposal, "mark_sent", "Mark as sent (no email)", precondition=_can_mark_sent, icon="fa-check-square-o")
def mark_proposal_sent(proposal: Proposal, actor):
    assign_number(proposal)  # it leaves draft: it takes its number, as when it is emailed
    proposal.status = ProposalStatus.SENT_MANUALLY.value
    if not proposal.hash:
        ensure_hash(proposal)
    return "Marked as sent; no email was sent"


# --- sales orders --------------------------------------------------------------------------------

@action(Estimate, "send", "Send to client", icon="fa-envelope")
def send_estimate(estimate: Estimate, actor):
    recipient(estimate)  # refuse before numbering when nobody can receive it
    assign_number(estimate)
    message = email_document(estimate, actor, "estimate-send-to-client")
    if estimate.status == EstimateStatus.DRAFT.value:
        estimate.status = EstimateStatus.SENT.value
    estimate.sent, estimate.datesend = True, datetime.utcnow()
    events.emit("estimate.sent", estimate, actor)
    return message


# --- invoices ----------------------------------------------------------------------------------

def _can_send_invoice(inv: Invoice) -> str | None:
    if inv.status == InvoiceStatus.CANCELLED.value:
        return f"Invoice {_label(inv)} is cancelled; it cannot be sent."
    return None


@action(Invoice, "send", "Send to client", precondition=_can_send_invoice, icon="fa-envelope")
def send_invoice(invoice: Invoice, actor):
    """Email the invoice (PDF + portal link) and mark it sent; a draft is numbered first."""
    if invoice.status == InvoiceStatus.DRAFT.value:
        recipient(invoice)  # refuse before numbering when nobody can receive it
        assign_number(invoice)
        if invoice.status == InvoiceStatus.DRAFT.value:
            invoice.status = InvoiceStatus.UNPAID.value
        recompute_status(invoice)
        db.session.flush()
    message = email_document(invoice, actor, "invoice-send-to-client")
    invoice.sent, invoice.datesend = True, datetime.utcnow()
    events.emit("invoice.sent", invoice, actor)
    return message


# --- the outbox --------------------------------------------------------------------------------

@action(EmailOutbox, "resend", "Resend", precondition=resend_refusal, icon="fa-repeat")
def resend(row: EmailOutbox, actor):
    """Queue a failed, waiting or interrupted message again (same Message-ID); a sent one never goes twice."""
    requeue(row)
    return f"Email #{row.id} queued again for {row.to_email}"
