"""What a person sees around an action: its form filled in (the amount left to pay, the default
warehouse), the figures it is about (total, paid, balance), pickers of names for its foreign keys,
and the message after it, naming and linking what it created."""
from __future__ import annotations

from flask import abort, jsonify, request
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import or_, select

from crm.admin_views.access import StaffView
from crm.core.extensions import db
from crm.core.permissions import can_table, visible
from crm.core.pickers import RecordField
from crm.core.registry import ActionDef, Outcome
from crm.core.resources import models_by_resource, primary_key

PICK_LIMIT = 10


def action_form(adef: ActionDef, obj, formdata=None):
    """The action's form: what was posted, or, when it opens, the defaults the action gives for obj."""
    if adef.form is None:
        return None
    if formdata is not None:
        return adef.form(formdata)
    return adef.form(**(adef.defaults(obj) if adef.defaults else {}))


def action_summary(adef: ActionDef, obj) -> list[tuple[str, str]]:
    return adef.summary(obj) if adef.summary else []


def outcome_message(adef: ActionDef, outcome: Outcome) -> Markup:
    """The flash after an action: its message, then a link to each record it created."""
    text = escape(f"{adef.label}: {outcome.message(adef)}" if isinstance(outcome.result, str)
                  else outcome.message(adef))
    links = [Markup('<a href="{}" class="alert-link" data-testid="created-link" data-resource="{}">{}</a>').format(
        c.url, c.resource, c.name) if c.url else escape(c.name) for c in outcome.created]
    if links:
        text += Markup(" — open ") + Markup(", ").join(links)
    return Markup(text)


def picker_url(field) -> str | None:
    """The look-up URL of a large table's picker (None: a plain select)."""
    if isinstance(field, RecordField) and field.is_large:
        return f"/admin/pick/{field.resource}"
    return None


def _name_columns(model) -> list:
    # cycle: factory -> action_forms (the run_action_view uses these helpers)
    from crm.admin_views.factory import display_columns

    return [getattr(model, c) for c in display_columns(model)]


class PickView(StaffView):
    """``/admin/pick/<resource>?query=``: the names for a large table's picker, for those who may open it."""

    def is_visible(self):
        return False

    @expose("/")
    def index(self):
        abort(404)

    @expose("/<resource>")
    def pick(self, resource):
        model = models_by_resource().get(resource)
        if model is None:
            abort(404)
        if not can_table(current_user, model, "view"):
            abort(403)
        term = (request.args.get("query") or request.args.get("q") or "").strip()[:100]
        offset = max(request.args.get("offset", 0, type=int), 0)
        pk = getattr(model, primary_key(model))
        stmt = select(model)
        if term:
            cols = _name_columns(model)
            stmt = stmt.where(or_(*[c.ilike(f"%{term}%") for c in cols], *( [pk == int(term)] if term.isdigit() else [])))
        stmt = visible(stmt, current_user, model).order_by(pk).offset(offset).limit(PICK_LIMIT)
        rows = db.session.execute(stmt).scalars().all()
        return jsonify([[getattr(r, primary_key(model)), str(r)] for r in rows])
