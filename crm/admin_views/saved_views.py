"""Saved grid views: a staff member names the grid's current filters, sort and search, finds them
(with the views colleagues shared) in the grid's "Views" menu, and deletes their own."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy import or_, select
from wtforms.validators import ValidationError

from crm.admin_views.access import StaffView
from crm.core.extensions import db
from crm.core.models.settings import SavedView
from crm.core.permissions import can_table

NAME_MAX, QUERY_MAX = 100, 2000
PAGE_ARGS = ("page",)  # where one was in the list is not part of a view


def _grid_view(endpoint: str):
    """The generated grid behind ``endpoint``, when the staff member may open it."""
    admin = current_app.extensions["admin"][0]
    for view in admin._views:
        if view.endpoint == endpoint and hasattr(view, "model"):
            return view if can_table(current_user, view.model, "view") else None
    return None


def views_for(grid: str) -> dict:
    """The staff member's own views of ``grid`` and those colleagues shared (one query)."""
    if not getattr(current_user, "is_authenticated", False):
        return {"mine": [], "shared": []}
    rows = db.session.execute(
        select(SavedView).where(SavedView.grid == grid,
                                or_(SavedView.staff_id == current_user.staffid, SavedView.shared.is_(True)))
        .order_by(SavedView.name, SavedView.id)).scalars().all()
    return {"mine": [v for v in rows if v.staff_id == current_user.staffid],
            "shared": [v for v in rows if v.staff_id != current_user.staffid]}


def clean_query(raw: str) -> str:
    return urlencode([(k, v) for k, v in parse_qsl(raw or "", keep_blank_values=False) if k not in PAGE_ARGS])


def _checked_csrf():
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        abort(400, description="csrf_token: the form expired; reload the page and try again.")


class SavedViewsView(StaffView):
    """POST /admin/grid-views (save) and /admin/grid-views/<id>/delete (the owner's own only)."""

    def is_visible(self):
        return False

    @expose("/", methods=["GET", "POST"])
    def index(self):
        if request.method != "POST":
            abort(405)
        _checked_csrf()
        grid = (request.form.get("grid") or "").strip()
        view = _grid_view(grid)
        if view is None:
            abort(404, description="grid: there is no such grid, or you may not open it.")
        name = " ".join((request.form.get("name") or "").split())
        back = url_for(f"{grid}.index_view")
        if not name:
            flash("name: give the view a name.", "error")
            return redirect(back), 303
        if len(name) > NAME_MAX:
            abort(422, description=f"name: at most {NAME_MAX} characters.")
        query = clean_query(request.form.get("query", ""))
        if len(query) > QUERY_MAX:
            abort(422, description=f"query: at most {QUERY_MAX} characters of filters.")
        saved = SavedView(staff_id=current_user.staffid, grid=grid, name=name, query=query,
                          shared=request.form.get("shared") in ("1", "on", "true", "y"))
        db.session.add(saved)
        db.session.commit()
        flash(f"View “{name}” saved" + (" and shared with your colleagues." if saved.shared else "."), "success")
        return redirect(back + (f"?{query}" if query else "")), 303

    @expose("/<int:view_id>/delete", methods=["POST"])
    def delete(self, view_id):
        _checked_csrf()
        saved = db.session.get(SavedView, view_id)
        if saved is None or (saved.staff_id != current_user.staffid and not saved.shared):
            abort(404)
        if saved.staff_id != current_user.staffid:
            abort(403, description=f"“{saved.name}” is {saved.staff}'s view; only they may delete it.")
        grid, name = saved.grid, saved.name
        db.session.delete(saved)
        db.session.commit()
        flash(f"View “{name}” deleted.", "success")
        return redirect(url_for(f"{grid}.index_view")), 303


def init_saved_views(admin, app) -> None:
    admin.add_view(SavedViewsView(name="Saved views", endpoint="grid_views", url="/admin/grid-views"))
    app.jinja_env.globals["crm_saved_views"] = views_for
    app.jinja_env.globals["crm_view_query"] = lambda: clean_query(request.query_string.decode("utf-8", "replace"))
