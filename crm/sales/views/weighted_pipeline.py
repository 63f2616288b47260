"""The weighted pipeline of open opportunities: value × probability, by status and by expected close month.

Open means: an opportunity not marked lost or junk whose status is neither won nor lost. Sums are
SQL aggregates; each figure links to the opportunities behind it."""
from __future__ import annotations

from decimal import Decimal

from flask_admin import expose
from sqlalchemy import and_, func, or_

from crm.admin_views.access import StaffView
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.options import get
from crm.sales.models.clients import Lead, OpportunityStatus


def open_opportunities():
    return (db.session.query(Lead).outerjoin(OpportunityStatus, Lead.opportunity_status == OpportunityStatus.id)
            .filter(Lead.is_opportunity.is_(True), Lead.lost.is_(False), Lead.junk.is_(False),
                    or_(OpportunityStatus.id.is_(None),
                        and_(OpportunityStatus.is_won.is_(False), OpportunityStatus.is_lost.is_(False)))))


def weighted():
    return func.sum(func.coalesce(Lead.lead_value, 0) * func.coalesce(Lead.probability, 0) / 100)


def pipeline_figures() -> dict:
    value = func.sum(func.coalesce(Lead.lead_value, 0))
    by_status = (open_opportunities()
                 .with_entities(OpportunityStatus.id, OpportunityStatus.name, func.count(Lead.id), value, weighted())
                 .group_by(OpportunityStatus.id, OpportunityStatus.name, OpportunityStatus.statusorder)
                 .order_by(OpportunityStatus.statusorder).all())
    month = func.substr(func.cast(Lead.estimated_close_date, db.String), 1, 7)
    by_month = (open_opportunities().with_entities(month, func.count(Lead.id), value, weighted())
                .group_by(month).order_by(month).all())
    rows = [{"id": sid, "name": name or "No status", "count": n, "value": money(v or 0), "weighted": money(w or 0)}
            for sid, name, n, v, w in by_status]
    months = [{"month": m or "No close date", "count": n, "value": money(v or 0), "weighted": money(w or 0)}
              for m, n, v, w in by_month]
    return {"statuses": rows, "months": months,
            "total": {"count": sum(r["count"] for r in rows),
                      "value": money(sum((r["value"] for r in rows), Decimal(0))),
                      "weighted": money(sum((r["weighted"] for r in rows), Decimal(0)))}}


class WeightedPipelineView(StaffView):
    table = "Lead"
    verb = "view_all"  # figures of every open opportunity: not for a view-own role

    @expose("/")
    def index(self):
        return self.render("admin/weighted_pipeline.html", currency=get("base_currency"), **pipeline_figures())
