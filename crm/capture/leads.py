"""Creating a lead from a capture channel: one function every channel uses.

Like an action it takes explicit arguments, never reads ``flask.request``, raises
:class:`~crm.actions.ActionError` with a message a person can act on, and leaves the commit to
its caller (a request, the CLI or a job), so a refused capture writes nothing.
"""
from __future__ import annotations

import secrets

from crm.sales.actions.sales_activity import log_lead_activity
from crm.core.extensions import db
from crm.core.registry import ActionError
from crm.sales.models.clients import Lead, LeadSource, LeadStatus, Pipeline

# The documented channels and the lead source each one records.
WEB_FORM, EMAIL, EXCEL_IMPORT, FACEBOOK = "Web form", "Email", "Excel import", "Facebook Lead Ads"


def source_id(name: str) -> int:
    """The id of the lead source called ``name`` (case-insensitive), created if missing."""
    name = (name or "").strip()[:150]
    if not name:
        raise ActionError("Lead source: a name is required.", field="source")
    row = (db.session.query(LeadSource).filter(db.func.lower(LeadSource.name) == name.lower())
           .order_by(LeadSource.id).first())
    if row is None:
        row = LeadSource(name=name)
        db.session.add(row)
        db.session.flush()
    return row.id


def default_status() -> tuple[int, int]:
    """(pipeline id, status id): the default pipeline and its first status."""
    pipeline = (db.session.query(Pipeline)
                .order_by(Pipeline.isdefault.desc(), Pipeline.pipeline_order, Pipeline.id).first())
    if pipeline is None:
        raise ActionError("No lead pipeline exists, so a captured lead has no status: add a pipeline "
                          "at /admin/leads/pipelines and a status at /admin/leads/statuses.", field="pipeline")
    status = (db.session.query(LeadStatus).filter(LeadStatus.pipeline == pipeline.id)
              .order_by(LeadStatus.statusorder, LeadStatus.id).first())
    if status is None:
        raise ActionError(f"Pipeline “{pipeline.name}” has no status: add one at /admin/leads/statuses.",
                          field="status")
    return pipeline.id, status.id


def pipeline_of_status(status_id: int) -> int | None:
    st = db.session.get(LeadStatus, status_id)
    if st is None:
        raise ActionError(f"Lead status #{status_id} does not exist.", field="status")
    return st.pipeline


def lead_defaults(source: str | int, status: int | None = None) -> dict:
    """Source, status and pipeline for a captured lead (computed once per batch by imports)."""
    src = source if isinstance(source, int) else source_id(source)
    if status is None:
        pipeline, status = default_status()
    else:
        pipeline = pipeline_of_status(status)
        if pipeline is None:
            pipeline = default_status()[0]
    return {"source": src, "status": status, "pipeline": pipeline}


def capture_lead(data: dict, *, source: str | int, channel: str, status: int | None = None,
                 assigned: int | None = None, actor=None, from_form_id: int | None = None,
                 details: str | None = None):
    """Create and return a lead from ``data`` (lead column -> value); logs a lead activity line."""
    values = {k: v for k, v in data.items() if v not in (None, "")}
    if not values.get("name"):
        raise ActionError("Name is required.", field="name")
    lead = Lead(**values, **lead_defaults(source, status), assigned=assigned, from_form_id=from_form_id,
                hash=secrets.token_hex(16), addedfrom=getattr(actor, "staffid", None))
    db.session.add(lead)
    db.session.flush()
    log_lead_activity(lead, actor, f"Lead captured: {channel}", details)
    return lead
