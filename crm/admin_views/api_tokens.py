"""My API tokens (/admin/my-api-tokens): every staff member sees the bearer tokens issued to them,
when each was last used, and revokes them one by one; administrators see and revoke everyone's."""
from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from crm.admin_views.access import StaffView
from crm.core.auth import TOKEN_MAX_AGE, new_token, revoke_token
from crm.core.extensions import db
from crm.core.models.settings import ApiToken


class NewTokenForm(FlaskForm):
    name = StringField("Label", validators=[DataRequired(message="Give the token a label."), Length(max=100)])


class ApiTokensView(StaffView):
    def is_visible(self):
        return False  # opened from the navbar, next to the staff member's name

    def _rows(self):
        q = db.session.query(ApiToken)
        if not current_user.admin:
            q = q.filter(ApiToken.staffid == current_user.staffid)
        return q.order_by(ApiToken.id.desc()).limit(500).all()

    def _page(self, form, secret=None, status=200):
        return self.render("admin/crm_api_tokens.html", rows=self._rows(), form=form, plain=FlaskForm(),
                           secret=secret, hours=TOKEN_MAX_AGE // 3600), status

    @expose("/", methods=["GET", "POST"])
    def index(self):
        form = NewTokenForm()
        if request.method == "POST":
            if not form.validate_on_submit():
                return self._page(form, status=400)
            _, secret = new_token(current_user, form.name.data)
            db.session.commit()
            return self._page(NewTokenForm(formdata=None), secret=secret)  # shown this once
        return self._page(form)

    @expose("/<int:token_id>/revoke", methods=["POST"])
    def revoke(self, token_id):
        if not FlaskForm().validate_on_submit():
            abort(400, "The form expired; reload the page.")
        row = db.session.get(ApiToken, token_id)
        if row is None or (row.staffid != current_user.staffid and not current_user.admin):
            abort(404)
        revoke_token(row)
        db.session.commit()
        flash(f"Token “{row.name}” revoked.", "success")
        return redirect(self.get_url(".index"))
