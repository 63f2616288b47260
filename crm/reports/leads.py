"""Lead figures over a period: the leads added in it (opportunities, which are copies made at
conversion, are not counted again), how many were converted (``date_converted`` is set when a
lead becomes an opportunity or a customer), conversion rate and average days from ``dateadded``
to ``date_converted``; by source, by pipeline, and each pipeline's funnel of statuses."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select

from crm.core.extensions import db
from crm.reports.period import Period, days_between
from crm.sales.models.clients import Lead, LeadSource, LeadStatus, Pipeline


def cohort(period: Period) -> list:
    return [Lead.is_opportunity.is_(False), period.covers_datetime(Lead.dateadded)]


def rate_pct(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _days(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _conversion_columns():
    converted = Lead.date_converted.isnot(None)
    return (func.count(Lead.id),
            func.sum(case((converted, 1), else_=0)),
            func.sum(case((Lead.lost.is_(True), 1), else_=0)),
            func.avg(case((converted, days_between(Lead.date_converted, Lead.dateadded)), else_=None)))


def _row(label, key, n, converted, lost, avg_days) -> dict:
    converted, lost = int(converted or 0), int(lost or 0)
    return {"name": label, "id": key, "leads": n, "converted": converted, "lost": lost,
            "rate": rate_pct(converted, n), "avg_days": _days(avg_days)}


def conversions_by(period: Period, key, name, missing_label: str, join_target, join_on) -> list[dict]:
    q = (select(key, name, *_conversion_columns()).select_from(Lead).outerjoin(join_target, join_on)
         .where(*cohort(period)).group_by(key, name).order_by(func.count(Lead.id).desc(), name))
    return [_row(label if k is not None else missing_label, k, *rest) for k, label, *rest in db.session.execute(q)]


def totals(period: Period) -> dict:
    row = db.session.execute(select(*_conversion_columns()).select_from(Lead).where(*cohort(period))).one()
    return _row("All leads", None, *row)


def by_source(period: Period) -> list[dict]:
    return conversions_by(period, Lead.source, LeadSource.name, "No source", LeadSource, LeadSource.id == Lead.source)


def by_pipeline(period: Period) -> list[dict]:
    return conversions_by(period, Lead.pipeline, Pipeline.name, "No pipeline", Pipeline, Pipeline.id == Lead.pipeline)


def funnels(period: Period) -> list[dict]:
    """Per pipeline (in pipeline order): its statuses in status order with the number of the
    period's leads (junk left out) at each, and at that status or a later one."""
    counts = {(p, s): n for p, s, n in db.session.execute(
        select(Lead.pipeline, Lead.status, func.count(Lead.id)).where(*cohort(period), Lead.junk.is_(False))
        .group_by(Lead.pipeline, Lead.status))}
    statuses: dict[int, list] = {}
    for s in db.session.execute(select(LeadStatus.id, LeadStatus.name, LeadStatus.pipeline)
                                .order_by(LeadStatus.statusorder, LeadStatus.id)):
        statuses.setdefault(s.pipeline, []).append(s)
    out = []
    for p in db.session.execute(select(Pipeline.id, Pipeline.name).order_by(Pipeline.pipeline_order, Pipeline.id)):
        stages = [{"stage": s.name, "status_id": s.id, "leads": counts.get((p.id, s.id), 0)}
                  for s in statuses.get(p.id, [])]
        known = {s.id for s in statuses.get(p.id, [])}
        elsewhere = sum(n for (pid, sid), n in counts.items() if pid == p.id and sid not in known)
        remaining = sum(st["leads"] for st in stages)
        for st in stages:
            st["reached"] = remaining
            remaining -= st["leads"]
        if elsewhere:
            stages.append({"stage": "Status of no stage of this pipeline", "status_id": None,
                           "leads": elsewhere, "reached": elsewhere})
        first = stages[0]["reached"] if stages else 0
        for st in stages:
            st["share"] = rate_pct(st["reached"], first) if st["status_id"] is not None else None
        out.append({"pipeline": p.name, "pipeline_id": p.id, "stages": stages})
    return out
