"""Settings → Staff: the generated view plus a password field (stored hashed, never shown)."""
from __future__ import annotations

from flask_admin.babel import gettext
from flask_login import current_user, login_user
from wtforms import PasswordField, ValidationError
from wtforms.validators import Length, Optional

from crm.admin_views.factory import build_view
from crm.core.models.settings import Staff


def staff_view():
    view = build_view(Staff, admin={
        "form_extra_fields": {"new_password": PasswordField(
            "Password", validators=[Optional(), Length(min=8, message="Use at least 8 characters.")],
            description="Leave empty to keep the current password.")},
    })
    base_change = view.on_model_change

    def on_model_change(form, model, is_created):
        if form.new_password.data:
            model.set_password(form.new_password.data)
        elif is_created:
            raise ValidationError("new_password: a new staff member needs a password.")
        model.email = (model.email or "").strip().lower()
        base_change(form, model, is_created)

    def after_model_change(form, model, is_created):
        # A new password signs its owner out everywhere; when they changed it themselves, this
        # browser carries on with the new session version.

        if form.new_password.data and not is_created and current_user.is_authenticated \
                and current_user.staffid == model.staffid and model.active:
            login_user(model)

    view.on_model_change = on_model_change
    view.after_model_change = after_model_change
    return view
