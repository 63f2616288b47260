"""The pipeline board (kanban): one column per status of a pipeline, a card per open lead (a converted
lead has left the pipeline: it is an opportunity or a customer now).

Dragging a card posts the `change_status` action, so the board holds no rule of its own."""
from __future__ import annotations

from collections import defaultdict

from flask import request
from flask_admin import expose
from flask_login import current_user
from sqlalchemy.orm import joinedload

from crm.admin_views.access import StaffView
from crm.core.extensions import db
from crm.core.permissions import can, visible
from crm.sales.models.clients import Lead, LeadStatus, Pipeline


class PipelineBoardView(StaffView):
    table = "Lead"

    @expose("/")
    def index(self):
        pipelines = db.session.query(Pipeline).order_by(Pipeline.pipeline_order, Pipeline.id).all()
        if not pipelines:
            return self.render("admin/crm_board.html", pipelines=[], pipeline=None, statuses=[], cards={},
                               unassigned=[], no_pipeline=0, can_move=False)
        wanted = request.args.get("pipeline", type=int)
        pipeline = next((p for p in pipelines if p.id == wanted), None) or \
            next((p for p in pipelines if p.isdefault), pipelines[0])
        statuses = db.session.query(LeadStatus).filter_by(pipeline=pipeline.id).order_by(LeadStatus.statusorder).all()
        # view own: their cards only; open: not an opportunity, not lost or junk, not yet converted
        mine = visible(db.session.query(Lead), current_user, Lead).filter(
            Lead.is_opportunity.is_(False), Lead.lost.is_(False), Lead.junk.is_(False),
            Lead.date_converted.is_(None))
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
        return self.render("admin/crm_board.html", pipelines=pipelines, pipeline=pipeline, statuses=statuses,
                           cards=cards, unassigned=unassigned, no_pipeline=no_pipeline,
                           can_move=can(current_user, "action:leads.change_status"))
