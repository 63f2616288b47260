"""Proposal actions: staff status changes, conversions, contract; the client's accept / decline.

Statuses (ProposalStatus): 6 Draft, 4 Sent, 1 Reviewed, 7 Sent manually, 3 Accepted,
2 Declined, 5 Revised. Sending (Draft → Sent / Sent manually) belongs to the sending actions.
Only an Accepted proposal is converted, once, to an invoice OR a sales order; a proposal to
a lead makes the lead a customer first.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime

from flask import g, has_request_context

from crm.core import events, options
from crm.core.activity import log_activity
from crm.core.extensions import db
from crm.core.numbering import assign, shown
from crm.core.registry import ActionError, action
from crm.core.resources import page_loader, resource_name
from crm.sales.actions import manual_status
from crm.sales.actions.acceptance import log_client, portal_transaction, record_acceptance, refuse_if_expired
from crm.sales.actions.conversions import estimate_from, invoice_from
from crm.sales.actions.leads import customer_from_lead
from crm.sales.actions.sales_activity import log_sales_activity
from crm.sales.models.clients import Client, Lead, Note
from crm.sales.models.documents import Contract, ContractStatus, EstimateStatus, Proposal, ProposalStatus

S = ProposalStatus


def _ref(p: Proposal) -> str:
    return p.formatted_number or f"#{p.id}"


def _name(p: Proposal) -> str:
    return f"Proposal {_ref(p)}"


def _conversion(p: Proposal) -> str | None:
    if p.invoice_id:
        return f"invoice {shown(p.invoice)}"
    if p.estimate_id:
        return f"sales order {shown(p.estimate)}"
    return None


def _status_may_change(p: Proposal, to: ProposalStatus) -> str | None:
    """Staff change a proposal's status by hand once it was sent, until it is converted."""
    done = _conversion(p)
    closed = f"{_name(p)} was converted to {done}; its status can no longer change." if done else None
    return manual_status.refusal(p, _name(p), closed, to)


def _set_status(p: Proposal, actor, to: ProposalStatus) -> str:
    assign(p)  # a proposal made in the plain form has no number until it leaves draft
    return manual_status.set_status(p, actor, _name(p), to)


@action(Proposal, "accept", "Mark as accepted", precondition=lambda p: _status_may_change(p, S.ACCEPTED),
        icon="fa-check")
def accept(p: Proposal, actor):
    return _set_status(p, actor, S.ACCEPTED)


@action(Proposal, "decline", "Mark as declined", precondition=lambda p: _status_may_change(p, S.DECLINED),
        destructive=True, confirm="Mark this proposal as declined?", icon="fa-times")
def decline(p: Proposal, actor):
    return _set_status(p, actor, S.DECLINED)


@action(Proposal, "mark_revised", "Mark as revised", precondition=lambda p: _status_may_change(p, S.REVISED),
        icon="fa-pencil")
def mark_revised(p: Proposal, actor):
    return _set_status(p, actor, S.REVISED)


# --- conversions ----------------------------------------------------------------------------

def _convertible(target: str):
    def refusal(p: Proposal) -> str | None:
        done = _conversion(p)
        if done:
            return f"{_name(p)} was already converted to {done}."
        if p.status != S.ACCEPTED.value:
            return f"{_name(p)} is {S.label_of(p.status)}; only an Accepted proposal can be converted to {target}."
        return None

    return refusal


def customer_of(p: Proposal, actor, email: str | None = None) -> Client:
    """The customer a proposal is for; a proposal to a lead makes the lead a customer first."""
    assign(p)
    if p.rel_type == "customer" and p.rel_id:
        client = db.session.get(Client, p.rel_id)
        if client is not None:
            return client
    if p.rel_type == "lead" and p.rel_id:
        lead = db.session.get(Lead, p.rel_id)
        if lead is not None:
            client = lead.client if lead.client_id else customer_from_lead(lead, actor, email=email or p.email)
            p.rel_type, p.rel_id = "customer", client.userid
            return client
    raise ActionError(f"{_name(p)} is addressed to no customer or lead; choose the customer first.")


def _to_invoice(p: Proposal, actor, email: str | None = None) -> str:
    invoice = invoice_from(p, customer_of(p, actor, email), actor)
    p.invoice, p.date_converted = invoice, datetime.utcnow()
    number = shown(invoice)
    log_sales_activity(p, actor, f"Converted to invoice {number}")
    log_sales_activity(invoice, actor, f"Created from proposal {_ref(p)}")
    return f"Invoice {number} created from proposal {_ref(p)}"


@action(Proposal, "convert_to_invoice", "Convert to invoice", precondition=_convertible("an invoice"),
        icon="fa-file-text")
def convert_to_invoice(p: Proposal, actor):
    return _to_invoice(p, actor)


@action(Proposal, "convert_to_estimate", "Convert to sales order", precondition=_convertible("a sales order"),
        icon="fa-file-o")
def convert_to_estimate(p: Proposal, actor):
    # The client accepted the proposal: the sales order starts confirmed (Accepted), ready to invoice.
    estimate = estimate_from(p, customer_of(p, actor), actor, status=EstimateStatus.ACCEPTED.value)
    db.session.flush()
    p.estimate, p.date_converted = estimate, datetime.utcnow()
    number = shown(estimate)
    log_sales_activity(p, actor, f"Converted to sales order {number}")
    log_sales_activity(estimate, actor, f"Created from proposal {_ref(p)}")
    return f"Sales order {number} created from proposal {_ref(p)}"


_CONTRACTS = "crm_proposal_contracts"


def _load_contracts(proposals) -> None:
    """A page of proposals: the contracts of the accepted ones, in one query (kept for the request)."""
    ids = [p.id for p in proposals if p.status == S.ACCEPTED.value]
    if ids:
        found = g.setdefault(_CONTRACTS, {})
        found.update(dict.fromkeys(ids))
        for c in (db.session.query(Contract).filter(Contract.proposal_id.in_(ids), Contract.trash.is_(False))
                  .order_by(Contract.id.desc())):
            found[c.proposal_id] = c


page_loader(Proposal, _load_contracts, doors=("grid",))


def _contract_refusal(p: Proposal) -> str | None:
    if p.status != S.ACCEPTED.value:
        return f"{_name(p)} is {S.label_of(p.status)}; only an Accepted proposal can become a contract."
    loaded = g.get(_CONTRACTS, {}) if has_request_context() else {}
    existing = loaded[p.id] if p.id in loaded else \
        db.session.query(Contract).filter_by(proposal_id=p.id, trash=False).first()
    if existing is not None:
        return f"{_name(p)} already has contract “{existing.subject}” (#{existing.id})."
    return None


@action(Proposal, "create_contract", "Create contract", precondition=_contract_refusal, icon="fa-handshake-o")
def create_contract(p: Proposal, actor):
    client = customer_of(p, actor)
    status = db.session.query(ContractStatus).order_by(ContractStatus.isdefault.desc(),
                                                       ContractStatus.statusorder, ContractStatus.id).first()
    contract = Contract(subject=p.subject, description=p.subject, content=p.content, client=client.userid,
                        datestart=date.today(), contract_value=p.total, status=status.id if status else None,
                        proposal_id=p.id, hash=secrets.token_hex(16), addedfrom=getattr(actor, "staffid", None))
    db.session.add(contract)
    db.session.flush()
    log_sales_activity(p, actor, f"Contract #{contract.id} created")
    return f"Contract “{contract.subject}” (#{contract.id}) created for {client.company}"


# --- the client, from the portal --------------------------------------------------------------

def _open_to_client(p: Proposal) -> None:
    if p.status == S.ACCEPTED.value:
        raise ActionError("This proposal was already accepted.")
    if p.status == S.DECLINED.value:
        raise ActionError(f"This proposal was declined; ask {options.get('companyname')} for a new one.")
    if p.status == S.DRAFT.value or _conversion(p):
        raise ActionError("This proposal is not open for acceptance.")
    refuse_if_expired(p, p.open_till, "proposal")


@portal_transaction
def client_accept(p: Proposal, firstname: str, lastname: str, email: str, signature: str | None, ip: str | None):
    """The client accepts (and signs) from the portal. Returns the invoice made from it when
    ``proposal_auto_convert_to_invoice_on_client_accept`` is on, else None."""
    _open_to_client(p)
    assign(p)
    record_acceptance(p, firstname, lastname, email, signature, ip)
    p.status = S.ACCEPTED.value
    log_client(p, _ref(p), "accepted", f"{firstname} {lastname}", ip)
    if options.get("proposal_auto_convert_to_invoice_on_client_accept"):
        _to_invoice(p, None, email=email)
        return p.invoice
    return None


@portal_transaction
def client_viewed(p: Proposal, ip: str | None = None) -> bool:
    """The client opens a Sent / Sent-manually proposal for the first time: Reviewed, logged, the
    assigned staff notified (proposal.viewed). The portal page asks for it with a POST once it has
    loaded in a browser, so a link preview that only fetches the page changes nothing; the row lock
    makes two simultaneous loads count once. Returns whether it changed the status."""
    if p.status not in (S.SENT.value, S.SENT_MANUALLY.value):
        return False
    p.status = S.REVIEWED.value
    log_activity(None, f"The client opened proposal {_ref(p)} from the portal" + (f" (IP {ip})" if ip else ""),
                 rel_type=resource_name(Proposal), rel_id=p.id)
    log_sales_activity(p, None, "Viewed by the client; status changed to Reviewed", additional_data=ip,
                       full_name="The client")
    events.emit("proposal.viewed", p)
    return True


@portal_transaction
def client_decline(p: Proposal, firstname: str | None = None, lastname: str | None = None,
                   email: str | None = None, ip: str | None = None):
    _open_to_client(p)
    assign(p)
    p.status = S.DECLINED.value
    log_client(p, _ref(p), "declined", f"{firstname or ''} {lastname or ''}", ip)


@portal_transaction
def client_comment(p: Proposal, content: str, name: str | None = None, ip: str | None = None):
    """The client comments from the portal (when ``allow_comments``): a tblnotes row
    (rel_type 'proposal') and the proposal becomes Revised (5), for staff to rework it.
    Returns the note."""
    content = (content or "").strip()
    if not p.allow_comments:
        raise ActionError("Comments are turned off for this proposal.")
    if p.status == S.DRAFT.value or _conversion(p):
        raise ActionError("This proposal is not open for comments.")
    if p.status in (S.ACCEPTED.value, S.DECLINED.value):
        raise ActionError(f"This proposal is {S.label_of(p.status)}; write to {options.get('companyname')} "
                          "about any change.")
    if not content:
        raise ActionError("Write a comment first.", field="content")
    who = (name or "").strip() or "The client"
    note = Note(rel_type="proposal", rel_id=p.id, description=f"{who} (client portal): {content}")
    db.session.add(note)
    if p.status != S.REVISED.value:
        p.status = S.REVISED.value
    log_client(p, _ref(p), "commented on", who, ip)
    db.session.flush()
    return note
