"""A grid row's actions: "Open", the main action as a labelled button, the others in a "…" menu.

Rendered for a whole page at once: what does not depend on the row (the staff member's permissions,
the view's can_edit/can_delete, each action's label, icon and URL pattern, the CSRF token) is worked
out once per page; per row there is only each action's precondition (reading the row as loaded, and
what the page loaders loaded for the page: crm.core.resources.load_page) and string formatting.
The POST actions and Delete are buttons of one hidden form per page (``form=`` / ``formaction=``),
so the page carries one CSRF token and one return address, not one per button.
"""
from __future__ import annotations

from flask import g
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from crm.core.documents import KINDS
from crm.core.permissions import can
from crm.core.registry import actions_for
from crm.core.resources import resource_of

FORM_ID = "crm-row-post"
_SENTINEL = 2_147_000_321  # stands for the row's id in a URL built once per page


class PageActions:
    """The row-actions renderer of one grid page (one view, one return URL, one staff member)."""

    def __init__(self, view, return_url: str):
        model = view.model
        order = {name: i for i, name in enumerate(resource_of(model).main_actions)}
        allowed = [a for a in actions_for(model) if can(current_user, a.permission)]
        allowed.sort(key=lambda a: order.get(a.name, len(order)))
        self.order = order
        self.actions = [(a, self._action_html(view, a, return_url)) for a in allowed]
        self.open_url = self._pattern(view.get_url(".details_view", id=_SENTINEL, url=return_url)) \
            if view.can_view_details else None
        self.edit_url = self._pattern(view.get_url(".edit_view", id=_SENTINEL, url=return_url)) \
            if view.can_edit else None
        self.delete_url = escape(view.get_url(".delete_view")) if view.can_delete else None
        kind = next((k for k in KINDS.values() if k.model == model.__name__), None)
        self.pdf_url = self._pattern(view.get_url("documents.download", kind=kind.name, doc_id=_SENTINEL)) \
            if kind else None
        self.form_html = Markup(f'<form id="{FORM_ID}" method="POST" hidden>'
                                f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}"/>'
                                f'<input type="hidden" name="url" value="{escape(return_url)}"/></form>')

    @staticmethod
    def _pattern(url: str) -> str:
        return str(escape(url)).replace(str(_SENTINEL), "{id}")

    def _action_html(self, view, adef, return_url) -> tuple[str, str]:
        """(the menu item, the main button) of an action, with "{id}" for the row's id."""
        # a parameter form is a link (it returns to the page by its own url=); a POST takes the page's
        # address from the page's form
        url = self._pattern(view.get_url(".run_action_view", action_name=adef.name, obj_id=_SENTINEL,
                                         **({"url": return_url} if adef.form else {})))
        label, name, icon = escape(adef.label), escape(adef.name), escape(adef.icon)
        body = f'<span class="fa fa-fw {icon}"></span> {label}'

        def html(cls):
            if adef.form:
                return f'<a class="{cls}" href="{url}" data-action="{name}">{body}</a>'
            confirm = ""
            if adef.destructive:
                text = escape(adef.confirm or (adef.label + "?"))
                confirm = f' onclick="return faHelpers.safeConfirm(\'{text}\');"'
            return (f'<button type="submit" form="{FORM_ID}" formaction="{url}" class="{cls}" '
                    f'data-action="{name}"{confirm}>{body}</button>')

        return (html("dropdown-item").replace("{", "{{").replace("}", "}}").replace("{{id}}", "{id}"),
                html("btn btn-xs btn-outline-primary crm-main-action").replace("{", "{{").replace("}", "}}")
                .replace("{{id}}", "{id}"))

    def menu(self, row) -> dict:
        """The row's runnable actions: ``main`` (the first of ``main_actions`` that can run, else the
        first that is not destructive) and ``others``."""
        runnable = [(a, h) for a, h in self.actions if not a.refusal(row)]
        main = next((x for x in runnable if x[0].name in self.order), None) or next(
            (x for x in runnable if not x[0].destructive), None)
        return {"main": main, "others": [x for x in runnable if x is not main]}

    def render(self, row, row_id) -> Markup:
        rid = escape(row_id)
        menu = self.menu(row)
        out = ['<div class="crm-row-actions" data-testid="row-actions">']
        if self.open_url:
            out.append(f'<a class="btn btn-xs btn-link crm-open" href="{self.open_url.format(id=rid)}" '
                       'data-testid="row-open">Open</a>')
        if menu["main"]:
            out.append(menu["main"][1][1].format(id=rid))
        others = menu["others"]
        if others or self.pdf_url or self.edit_url or self.delete_url:
            out.append('<div class="dropdown d-inline-block"><button class="btn btn-xs btn-light crm-more" '
                       'type="button" data-toggle="dropdown" aria-haspopup="true" aria-expanded="false" '
                       'title="More actions" data-testid="row-more">&hellip;</button>'
                       '<div class="dropdown-menu dropdown-menu-right">')
            out.extend(h[0].format(id=rid) for _a, h in others)
            if self.pdf_url:
                out.append(f'<a class="dropdown-item" href="{self.pdf_url.format(id=rid)}" data-action="pdf">'
                           '<span class="fa fa-fw fa-file-pdf-o"></span> PDF</a>')
            if self.edit_url:
                if others or self.pdf_url:
                    out.append('<div class="dropdown-divider"></div>')
                out.append(f'<a class="dropdown-item" href="{self.edit_url.format(id=rid)}" data-action="edit">'
                           '<span class="fa fa-fw fa-pencil"></span> Edit</a>')
            if self.delete_url:
                out.append(f'<button class="dropdown-item text-danger" type="submit" form="{FORM_ID}" '
                           f'formaction="{self.delete_url}" name="id" value="{rid}" data-action="delete" '
                           'onclick="return faHelpers.safeConfirm(\'Delete this record?\');">'
                           '<span class="fa fa-fw fa-trash"></span> Delete</button>')
            out.append('</div></div>')
        out.append('</div>')
        return Markup("".join(out))


def page_actions(view, return_url: str) -> PageActions:
    """The renderer of the page being rendered (built at its first row, kept for the request)."""
    key = (view.endpoint, return_url)
    cache = g.setdefault("crm_row_actions", {})
    if key not in cache:
        cache[key] = PageActions(view, return_url)
    return cache[key]
