"""Settings → Roles: the generated view, with the permissions shown as a matrix: one row per module,
its verbs (view own, view all, create, edit, delete, export) as columns, then its actions by label."""
from __future__ import annotations

import json

from flask import request
from markupsafe import Markup, escape
from wtforms import SelectMultipleField

from crm.admin_views.factory import build_view
from crm.core.extensions import db
from crm.core.models.settings import Role
from crm.core.permissions import MODULES, VERB_LABELS, VERBS
from crm.core.roles import actions_by_module, all_permissions, label_of


class PermissionMatrix:
    """Renders a permissions field as the module × verb table; every box is a ``permissions`` value."""

    def __call__(self, field, **kwargs):
        chosen = set(field.data or [])
        known = {value for value, _ in field.choices}

        def box(key, label, text=""):  # text: shown beside the box (actions); verbs have their column
            if key not in known:
                return ""
            ident = f"{field.id}-{key.replace(':', '-').replace('.', '-')}"
            checked = " checked" if key in chosen else ""
            return Markup(f'<label class="mr-2 mb-0" for="{escape(ident)}"><input type="checkbox" id="{escape(ident)}" '
                          f'name="{escape(field.name)}" value="{escape(key)}"{checked} title="{escape(label)}" '
                          f'aria-label="{escape(label)}"> {escape(text)}</label>')

        head = "".join(f"<th>{escape(VERB_LABELS[v])}</th>" for v in VERBS)
        rows = []
        for module, actions in actions_by_module().items():
            verbs = "".join(f"<td>{box(f'{module}.{v}', f'{MODULES[module]}: {VERB_LABELS[v]}')}</td>" for v in VERBS)
            acts = " ".join(str(box(a.permission, f"{MODULES[module]}: {a.label} ({a.resource})", a.label))
                            for a in actions)
            rows.append(f'<tr data-module="{escape(module)}"><th scope="row">{escape(MODULES[module])}</th>'
                        f'{verbs}<td class="small">{acts}</td></tr>')
        return Markup(f'<table class="table table-sm table-bordered crm-permission-matrix" id="{escape(field.id)}">'
                      f'<thead><tr><th>Module</th>{head}<th>Actions</th></tr></thead>'
                      f'<tbody>{"".join(rows)}</tbody></table>')


class PermissionsField(SelectMultipleField):
    widget = PermissionMatrix()


def role_view():
    def listed(v, c, m, p):
        return f"{len(m.permission_set)} permission(s)"

    def detailed(v, c, m, p):
        return Markup("<br>".join(escape(label_of(k)) for k in sorted(m.permission_set)))

    view = build_view(Role, admin={
        "column_list": ["name", "permissions"],
        "form_overrides": {"permissions": PermissionsField},
        "form_args": {"permissions": {"choices": [], "validate_choice": True}},
        "column_formatters": {"permissions": listed},
        "column_formatters_detail": {"permissions": detailed},
    })

    def _with_choices(form):
        form.permissions.choices = [(p, label_of(p)) for p in all_permissions()]
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
