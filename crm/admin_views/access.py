"""Who may open a screen: one rule for every admin screen that is not a generated grid as well.

Anonymous visitors go to the login page (and come back after); signed-in staff without the
permission get 403. A screen names the table whose view permission it needs (``table``, the model's
class name in crm.models, and ``verb``) or a plain permission key (``permission``)."""
from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_admin import BaseView
from flask_login import current_user

from crm import models
from crm.core.permissions import can, can_table


class StaffOnly:
    """Mixin for flask-admin views: anonymous → login, signed in without the right → 403."""

    def inaccessible_callback(self, name, **kwargs):
        if current_user.is_authenticated:
            abort(403)
        return redirect(url_for("auth.login", next=request.full_path))


class StaffView(StaffOnly, BaseView):
    table: str | None = None  # e.g. "Lead": needs that table's ``verb`` permission
    verb: str = "view"
    permission: str | None = None  # e.g. "settings.view", when no table says it

    def is_accessible(self):
        if not current_user.is_authenticated:
            return False
        if self.table:
            return can_table(current_user, getattr(models, self.table), self.verb)
        return self.permission is None or can(current_user, self.permission)
