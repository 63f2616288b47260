"""Lead actions: convert to opportunity, mark lost / junk, restore."""
from __future__ import annotations

import secrets
from datetime import datetime

from wtforms import Form, StringField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..models import Lead
from .activity import log_lead_activity
from .registry import ActionError, action

# Contact data copied from a lead into the opportunity made from it.
CONTACT_FIELDS = ("name", "title", "company", "description", "country", "zip", "city", "state", "address",
                  "email", "website", "phonenumber", "assigned", "source", "pipeline", "status",
                  "lead_value", "default_language", "client_id")


def _open(lead: Lead) -> str | None:
    if lead.lost:
        return f"Lead “{lead.name}” is marked lost; restore it first (Unmark)."
    if lead.junk:
        return f"Lead “{lead.name}” is marked junk; restore it first (Unmark)."
    return None


def _can_convert(lead: Lead) -> str | None:
    if lead.is_opportunity:
        return f"“{lead.name}” is already an opportunity."
    return _open(lead)


@action(Lead, "convert_to_opportunity", "Convert to opportunity", precondition=_can_convert,
        icon="fa-level-up")
def convert_to_opportunity(lead: Lead, actor):
    """Copy the contact data into a new lead flagged as an opportunity; the lead stays."""
    from ..models import OpportunityStatus

    default_status = (db.session.query(OpportunityStatus)
                      .order_by(OpportunityStatus.isdefault.desc(), OpportunityStatus.statusorder).first())
    opp = Lead(**{f: getattr(lead, f) for f in CONTACT_FIELDS}, is_opportunity=True,
               converted_from_lead=lead.id, hash=secrets.token_hex(16), addedfrom=getattr(actor, "staffid", None),
               opportunity_status=default_status.id if default_status else None)
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
