"""lead.assigned: a lead's assigned staff member changed (created leads announce lead.created)."""
from __future__ import annotations

from sqlalchemy import inspect

from crm.core import events
from crm.sales.models.clients import Lead

events.register(Lead, described={"lead.assigned": "A lead was assigned to a staff member"})


def _announce_assignment(session, flush_context) -> None:
    changed = []
    for obj in session.dirty:
        if isinstance(obj, Lead):
            history = inspect(obj).attrs.assigned.history
            if history.added and history.added[0] and history.added[0] not in history.deleted:
                changed.append(obj)
    for lead in changed:  # announced before the commit: the session cannot be used while it flushes
        events.later(session, "lead.assigned", lead)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_flush", "assignment.collect", _announce_assignment)
