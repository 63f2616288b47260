"""The activity log: every state change records who, when, what and on which document."""
from __future__ import annotations

from ..extensions import db


def log_activity(actor, description: str, rel_type: str | None = None, rel_id: int | None = None):
    from ..models import ActivityLog

    db.session.add(ActivityLog(description=description, staffid=getattr(actor, "staffid", None),
                               rel_type=rel_type, rel_id=rel_id))


def log_lead_activity(lead, actor, description: str, additional_data: str | None = None):
    from ..models import LeadActivityLog

    db.session.add(LeadActivityLog(leadid=lead.id, description=description, additional_data=additional_data,
                                   staffid=getattr(actor, "staffid", None),
                                   full_name=getattr(actor, "full_name", None)))
