"""Moving a lead through its pipeline: the kanban board's drag and drop, the grid and the API."""
from __future__ import annotations

from datetime import datetime

from wtforms import Form
from wtforms.validators import DataRequired

from crm.sales.actions.sales_activity import log_lead_activity
from crm.core.extensions import db
from crm.core.pickers import RecordField
from crm.core.registry import ActionError, action
from crm.sales.models.clients import Lead, LeadStatus


class StatusForm(Form):
    status = RecordField("Status", model=LeadStatus, order_by="statusorder",
                         validators=[DataRequired(message="Choose the new status.")])


def _movable(lead: Lead) -> str | None:
    if lead.lost or lead.junk:
        return f"Lead “{lead.name}” is marked {'lost' if lead.lost else 'junk'}; restore it first (Unmark)."
    return None


@action(Lead, "change_status", "Change status", form=StatusForm, precondition=_movable, icon="fa-columns")
def change_status(lead: Lead, actor, status: int):
    """Set the lead's status; a status of another pipeline moves the lead to that pipeline."""
    new = db.session.get(LeadStatus, status)
    if new is None:
        raise ActionError(f"status: there is no lead status #{status}.", field="status")
    if new.id == lead.status:
        return f"Already {new.name}"
    old = lead.status_rel.name if lead.status_rel else "no status"
    lead.status = new.id
    if new.pipeline is not None:
        lead.pipeline = new.pipeline
    lead.last_status_change = datetime.utcnow()
    log_lead_activity(lead, actor, f"Status changed from {old} to {new.name}")
    return f"{lead.name}: {old} → {new.name}"
