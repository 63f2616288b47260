"""The pipeline board (kanban): one column per status of a pipeline, a card per open lead (a converted
lead has left the pipeline: it is an opportunity or a customer now), and Won and Lost drop zones.

Each column's count, value and weighted value (value × probability) come from one grouped query.
Dropping a card runs an action (`change_status`, `convert_to_customer` for Won, `mark_lost` for Lost),
so the board holds no rule of its own; the card stays where it was dropped and the totals and a
message come back with the answer."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from flask import abort, jsonify, request
from flask_admin import expose
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy import func
from sqlalchemy.orm import joinedload
from wtforms.validators import ValidationError

from crm.admin_views.access import StaffView
from crm.core.extensions import db
from crm.core.permissions import can, visible
from crm.core.registry import ActionError, get_action, run_outcome
from crm.sales.models.clients import Lead, LeadStatus, Pipeline

ZERO = Decimal("0.00")
# Where a card may be dropped besides a status column: the action it runs, its parameters' source.
DROPS = {"won": "convert_to_customer", "lost": "mark_lost"}


def _open_leads():
    """The staff member's open leads (view own: their cards only): not an opportunity, not lost or
    junk, not yet converted."""
    return visible(db.session.query(Lead), current_user, Lead).filter(
        Lead.is_opportunity.is_(False), Lead.lost.is_(False), Lead.junk.is_(False), Lead.date_converted.is_(None))


def column_totals(pipeline_id: int) -> dict[int, dict]:
    """Count, value and weighted value of each status of the pipeline: one grouped query."""
    value = func.coalesce(func.sum(Lead.lead_value), 0)
    weighted = func.coalesce(func.sum(func.coalesce(Lead.lead_value, 0) * func.coalesce(Lead.probability, 0) / 100), 0)
    rows = (_open_leads().filter(Lead.pipeline == pipeline_id)
            .with_entities(Lead.status, func.count(Lead.id), value, weighted).group_by(Lead.status).all())
    return {status: {"count": n, "value": Decimal(str(v)).quantize(ZERO),
                     "weighted": Decimal(str(w)).quantize(ZERO)}
            for status, n, v, w in rows}


def shown_totals(totals: dict) -> dict:
    return {str(k): {"count": t["count"], "value": f"{t['value']:,.2f}", "weighted": f"{t['weighted']:,.2f}"}
            for k, t in totals.items()}


def drop_forms(drops: dict) -> dict:
    """zone -> (its action, the action's own form) for the drops that ask something (Lost: the reason),
    shown in a small dialog when a card is dropped there."""
    out = {}
    for zone, name in drops.items():
        adef = get_action(Lead, name)
        if adef.form is not None:
            out[zone] = (adef, adef.form())
    return out


class PipelineBoardView(StaffView):
    table = "Lead"

    @expose("/")
    def index(self):
        pipelines = db.session.query(Pipeline).order_by(Pipeline.pipeline_order, Pipeline.id).all()
        if not pipelines:
            return self.render("admin/crm_board.html", pipelines=[], pipeline=None, statuses=[], cards={},
                               unassigned=[], no_pipeline=0, can_move=False, totals={}, drops={})
        wanted = request.args.get("pipeline", type=int)
        pipeline = next((p for p in pipelines if p.id == wanted), None) or \
            next((p for p in pipelines if p.isdefault), pipelines[0])
        statuses = db.session.query(LeadStatus).filter_by(pipeline=pipeline.id).order_by(LeadStatus.statusorder).all()
        mine = _open_leads()
        leads = (mine
                 .options(joinedload(Lead.assigned_staff))
                 .filter(Lead.pipeline == pipeline.id)
                 .order_by(Lead.leadorder, Lead.id.desc()).all())
        cards = defaultdict(list)
        ids = {s.id for s in statuses}
        unassigned = []
        for lead in leads:
            (cards[lead.status] if lead.status in ids else unassigned).append(lead)
        no_pipeline = mine.filter(Lead.pipeline.is_(None)).count()
        drops = {zone: name for zone, name in DROPS.items() if can(current_user, f"action:leads.{name}")}
        return self.render("admin/crm_board.html", pipelines=pipelines, pipeline=pipeline, statuses=statuses,
                           cards=cards, unassigned=unassigned, no_pipeline=no_pipeline,
                           can_move=can(current_user, "action:leads.change_status"),
                           totals=column_totals(pipeline.id), drops=drops, drop_forms=drop_forms(drops))

    @expose("/move", methods=["POST"])
    def move(self):
        """A dropped card: the action of where it was dropped; answers its message and the new totals."""
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            return jsonify(ok=False, message="The page expired; reload it and try again."), 400
        lead_id = request.form.get("lead", type=int)
        target = request.form.get("to", "")
        if lead_id is None:
            return jsonify(ok=False, message="lead: which lead was moved?"), 400
        if target in DROPS:  # the drop's own form (the reason it is lost) posted with the card
            name = DROPS[target]
            data = {k: v for k, v in request.form.items() if k not in ("csrf_token", "lead", "to")}
        elif target.isdigit():
            name, data = "change_status", {"status": target}
        else:
            abort(400, description="to: a status id, won or lost.")
        lead = db.session.get(Lead, lead_id)
        pipeline_id = lead.pipeline if lead is not None else None
        try:
            outcome = run_outcome(Lead, lead_id, name, current_user, data)
        except ActionError as exc:
            return jsonify(ok=False, message=exc.message, errors=getattr(exc, "errors", None)), exc.status
        message = outcome.result if isinstance(outcome.result, str) else "Moved"
        return jsonify(ok=True, message=message, created=[c.as_dict() for c in outcome.created],
                       totals=shown_totals(column_totals(pipeline_id)) if pipeline_id else {})
