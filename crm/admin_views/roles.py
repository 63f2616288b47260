"""Settings → Roles: the generated view, with the permission list shown as checkboxes."""
from __future__ import annotations

import json

from flask import request
from wtforms import SelectMultipleField, widgets

from ..extensions import db


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def role_view():
    from ..auth import all_permissions
    from ..models import Role
    from .factory import build_view

    view = build_view(Role, admin={
        "column_list": ["name", "permissions"],
        "form_overrides": {"permissions": CheckboxListField},
        "form_args": {"permissions": {"choices": [], "validate_choice": True}},
        "column_formatters": {"permissions": lambda v, c, m, p: f"{len(m.permission_set)} permission(s)"},
    })

    def _with_choices(form):
        form.permissions.choices = [(p, p) for p in all_permissions()]
        return form

    def create_form(obj=None, _orig=view.create_form):
        return _with_choices(_orig(obj))

    def edit_form(obj=None, _orig=view.edit_form):
        form = _with_choices(_orig(obj))
        if obj is not None and request.method != "POST":
            form.permissions.data = sorted(obj.permission_set)
        return form

    def on_model_change(form, model, is_created):
        model.permissions = json.dumps(sorted(form.permissions.data or []))

    view.create_form = create_form
    view.edit_form = edit_form
    view.on_model_change = on_model_change
    return view


__all__ = ["role_view", "db"]
