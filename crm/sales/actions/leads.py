"""Lead actions: convert to opportunity, mark lost / junk, restore."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import g
from sqlalchemy import select
from wtforms import Form, StringField
from wtforms.validators import DataRequired, Length

from crm.core.totals import refresh
from crm.catalog.reference import default_currency_id
from crm.core import numbering, options
from crm.core.extensions import db
from crm.core.shared import Shared
from crm.core.registry import ActionError, action
from crm.core.resources import page_loader
from crm.sales.actions.sales_activity import log_lead_activity, log_sales_activity
from crm.sales.models.clients import Client, Contact, Lead, OpportunityStatus
from crm.sales.models.documents import ItemLine, Proposal

# Contact data copied from a lead into the opportunity made from it.
CONTACT_FIELDS = ("name", "title", "company", "description", "country", "zip", "city", "state", "address",
                  "email", "website", "phonenumber", "assigned", "source", "pipeline", "status",
                  "lead_value", "default_language", "client_id")
# What the lead already forecasts, so the opportunity weighs in the weighted pipeline from the start.
FORECAST_FIELDS = ("probability", "estimated_close_date")


# The status a new opportunity starts in (the default, else the first), shared by the process's
# transactions (crm/core/shared.py): read by every conversion, seldom changed.
DEFAULT_OPPORTUNITY_STATUS = Shared(
    "default_opportunity_status",
    lambda session: session.scalar(select(OpportunityStatus.id).order_by(OpportunityStatus.isdefault.desc(),
                                                                         OpportunityStatus.statusorder).limit(1)),
    lambda: (OpportunityStatus,))


def _open(lead: Lead) -> str | None:
    if lead.lost:
        return f"Lead “{lead.name}” is marked lost; restore it first (Unmark)."
    if lead.junk:
        return f"Lead “{lead.name}” is marked junk; restore it first (Unmark)."
    return None


def _can_convert(lead: Lead) -> str | None:
    if lead.is_opportunity:
        return f"“{lead.name}” is already an opportunity."
    if lead.date_converted is not None:  # a lead is converted once: to an opportunity or a customer
        to = "a customer" if lead.client_id is not None else "an opportunity"
        return f"Lead “{lead.name}” was already converted to {to} on {lead.date_converted:%Y-%m-%d}."
    return _open(lead)


@action(Lead, "convert_to_opportunity", "Convert to opportunity", precondition=_can_convert,
        icon="fa-level-up")
def convert_to_opportunity(lead: Lead, actor):
    """Copy the contact data into a new lead flagged as an opportunity; the lead stays."""
    opp = Lead(**{f: getattr(lead, f) for f in CONTACT_FIELDS + FORECAST_FIELDS}, is_opportunity=True,
               converted_from_lead=lead.id, hash=secrets.token_hex(16), addedfrom=getattr(actor, "staffid", None),
               opportunity_status=DEFAULT_OPPORTUNITY_STATUS.get(db.session()))
    db.session.add(opp)
    db.session.flush()
    lead.date_converted = datetime.utcnow()
    log_lead_activity(lead, actor, f"Converted to opportunity #{opp.id}")
    log_lead_activity(opp, actor, f"Opportunity created from lead #{lead.id}")
    return f"Opportunity #{opp.id} created"


class LostForm(Form):
    reason = StringField("Reason", validators=[DataRequired(message="Say why the lead was lost."),
                                               Length(max=255)])


@action(Lead, "mark_lost", "Mark as lost", form=LostForm, precondition=_open, destructive=True,
        confirm="Mark this lead as lost?", icon="fa-thumbs-down")
def mark_lost(lead: Lead, actor, reason: str):
    lead.last_lead_status = lead.status
    lead.lost = True
    lead.lost_reason = reason
    log_lead_activity(lead, actor, "Marked as lost", reason)
    return f"Marked lost: {reason}"


@action(Lead, "mark_junk", "Mark as junk", precondition=_open, destructive=True,
        confirm="Mark this lead as junk?", icon="fa-ban")
def mark_junk(lead: Lead, actor):
    lead.last_lead_status = lead.status
    lead.junk = True
    log_lead_activity(lead, actor, "Marked as junk")
    return "Marked junk"


def _is_marked(lead: Lead) -> str | None:
    return None if (lead.lost or lead.junk) else f"Lead “{lead.name}” is neither lost nor junk."


@action(Lead, "unmark", "Restore (unmark lost/junk)", precondition=_is_marked, icon="fa-undo")
def unmark(lead: Lead, actor):
    if lead.last_lead_status is not None:
        lead.status = lead.last_lead_status
    lead.lost = lead.junk = False
    lead.lost_reason = None
    lead.last_lead_status = None
    log_lead_activity(lead, actor, "Restored (unmarked lost/junk)")
    return "Restored"


# --- lead → customer ----------------------------------------------------------------------

def _convertible(lead: Lead) -> str | None:
    if lead.client_id is not None:
        return f"“{lead.name}” is already a customer ({lead.client or f'client #{lead.client_id}'})."
    return _open(lead)


def _load_clients(leads) -> None:
    """The customers of a page of leads in one query (the refusal above names them; each lead's
    ``client`` is then read from the session, not queried per row)."""
    ids = {lead.client_id for lead in leads if lead.client_id is not None}
    if ids:  # held for the request: the session keeps only weak references
        g.crm_lead_clients = db.session.query(Client).filter(Client.userid.in_(ids)).all()


page_loader(Lead, _load_clients, doors=("grid",))


def customer_from_lead(lead: Lead, actor, email: str | None = None):
    """Create the tblclients row and its primary contact from ``lead``; link both ways.

    ``email`` is used when the lead has none (a proposal's address, for instance). Proposals
    addressed to the lead now address the customer, as in Perfex.
    """
    refusal = _convertible(lead)
    if refusal:
        raise ActionError(refusal)
    email = (lead.email or email or "").strip().lower()
    if not email:
        raise ActionError(f"“{lead.name}” has no email; add one to the lead so the customer's contact can log in.")
    taken = db.session.query(Contact).filter(Contact.email == email).first()
    if taken is not None:
        raise ActionError(f"A contact with email {email} already exists (customer “{taken.client}”); "
                          "link the lead to that customer instead.")
    client = Client(company=lead.company or lead.name, phonenumber=lead.phonenumber, country=lead.country,
                    city=lead.city, zip=lead.zip, state=lead.state, address=lead.address, website=lead.website,
                    billing_street=lead.address, billing_city=lead.city, billing_state=lead.state,
                    billing_zip=lead.zip, billing_country=lead.country, leadid=lead.id,
                    addedfrom=getattr(actor, "staffid", None))
    db.session.add(client)
    db.session.flush()
    firstname, _, lastname = (lead.name or "").strip().partition(" ")
    db.session.add(Contact(userid=client.userid, is_primary=True, firstname=firstname or client.company,
                           lastname=lastname.strip(), email=email, phonenumber=lead.phonenumber, title=lead.title))
    now = datetime.utcnow()
    linked = [lead] + ([lead.origin_lead] if lead.origin_lead is not None and lead.origin_lead.client_id is None
                       else [])
    for row in linked:  # an opportunity's lead is the same prospect
        # converted once: a lead made an opportunity earlier keeps that date (goals and reports count it)
        row.client_id, row.date_converted = client.userid, row.date_converted or now
        log_lead_activity(row, actor, f"Converted to customer “{client.company}” (#{client.userid})")
    db.session.query(Proposal).filter(Proposal.rel_type == "lead", Proposal.rel_id.in_([r.id for r in linked])) \
        .update({Proposal.rel_type: "customer", Proposal.rel_id: client.userid}, synchronize_session="fetch")
    return client


@action(Lead, "convert_to_customer", "Convert to customer", precondition=_convertible, icon="fa-user-plus")
def convert_to_customer(lead: Lead, actor):
    client = customer_from_lead(lead, actor)
    return f"Customer “{client.company}” (#{client.userid}) created"


# --- opportunity → proposal ---------------------------------------------------------------

def _is_open_opportunity(lead: Lead) -> str | None:
    if not lead.is_opportunity:
        return f"“{lead.name}” is a lead, not an opportunity; convert it to an opportunity first."
    return _open(lead)


@action(Lead, "create_proposal", "Create proposal", precondition=_is_open_opportunity, icon="fa-file-text-o")
def create_proposal(opp: Lead, actor):
    """A draft proposal to the opportunity's customer (or to the lead), with one line of its value."""
    client_id = opp.client_id
    if client_id is None and opp.converted_from_lead is not None:  # its lead's customer: one column, not the row
        client_id = db.session.scalar(select(Lead.client_id).where(Lead.id == opp.converted_from_lead))
    subject = opp.company or opp.name
    today = date.today()
    proposal = Proposal(
        subject=subject, rel_type="customer" if client_id else "lead", rel_id=client_id or opp.id,
        proposal_to=opp.company or opp.name, email=opp.email, phone=opp.phonenumber, address=opp.address,
        city=opp.city, state=opp.state, zip=opp.zip, country=opp.country, assigned=opp.assigned,
        currency=default_currency_id(), opportunity_id=opp.id, date=today,
        open_till=today + timedelta(days=int(options.get("proposal_due_after") or 7)),
        status=6, hash=secrets.token_hex(16), addedfrom=getattr(actor, "staffid", None))
    proposal.items.append(ItemLine(description=subject, qty=Decimal(1), rate=opp.lead_value or Decimal(0),
                                   item_order=1))
    refresh(proposal)
    db.session.add(proposal)
    number = numbering.assign(proposal)
    log_sales_activity(proposal, actor, f"Created from opportunity #{opp.id}")
    log_lead_activity(opp, actor, f"Proposal {number} created")
    return f"Proposal {number} created"
