"""Sales → Goals: the generated view plus each goal's current total and a progress bar, in the
list and on the details page (crm.sales.goals: one query for the whole page)."""
from __future__ import annotations

from flask import g
from markupsafe import Markup, escape

from crm.admin_views.factory import build_view
from crm.core.extensions import db
from crm.core.models.base import money
from crm.core.models.settings import Staff
from crm.sales import goals
from crm.sales.models.documents import Goal


def progress_bar(goal) -> Markup:
    p = goals.progress_of(goal)
    total = f"{p.total:,.2f}" if goals.is_money(goal) else f"{p.total:,.0f}"
    target = f"{money(goal.achievement or 0):,.2f}" if goals.is_money(goal) else f"{(goal.achievement or 0):,.0f}"
    colour = "bg-success" if p.achieved else "bg-info"
    return Markup(
        f'<div data-testid="goal-progress" data-goal="{goal.id}" data-total="{escape(p.total)}" '
        f'data-percent="{escape(p.percent)}" style="min-width: 12rem">'
        f'<small>{escape(total)} of {escape(target)}</small>'
        f'<div class="progress" style="height: 1rem"><div class="progress-bar {colour}" role="progressbar" '
        f'style="width: {p.percent}%" aria-valuenow="{p.percent}" aria-valuemin="0" aria-valuemax="100">'
        f'{p.percent}%</div></div></div>')


def staff_name(goal) -> str:
    """Who the goal is for; the staff names are read once per request (one query for the page)."""
    names = g.get("crm_staff_names")
    if names is None:
        names = g.crm_staff_names = {sid: f"{first or ''} {last or ''}".strip() for sid, first, last in
                                     db.session.query(Staff.staffid, Staff.firstname, Staff.lastname)}
    if not goal.staff_id:
        return "Company-wide"
    return names.get(goal.staff_id) or f"Staff #{goal.staff_id}"


def goal_view():
    view = build_view(Goal, admin={
        "column_list": ["subject", "goal_type", "staff_id", "start_date", "end_date", "achievement", "progress",
                        "contract_type", "notified"],
    })
    view.column_labels.update({"progress": "Progress", "staff_id": "Staff (0 = company-wide)"})
    view.column_formatters["progress"] = lambda v, ctx, m, p: progress_bar(m)  # the details formatter too
    view.column_formatters["staff_id"] = lambda v, ctx, m, p: staff_name(m)
    view.column_details_list = list(view.column_details_list) + ["progress"]
    view._refresh_cache()  # Flask-Admin computed its column lists in __init__
    return view
