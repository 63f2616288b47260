"""Settings → Options: every known option, typed, grouped, editable, with where its value comes from."""
from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm

from crm.admin_views.access import StaffView
from crm.core import company, options, storage
from crm.core.activity import log_activity
from crm.core.extensions import db

# Options an upload sets (a stored file's name): never a text field.
UPLOADED = {"company_logo"}


class OptionsView(StaffView):
    def __init__(self, *args, groups=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.groups = groups

    permission = "settings.edit"

    def _defs(self):
        return [d for d in options.OPTIONS.values()
                if (self.groups is None or d.group in self.groups) and d.name not in UPLOADED]

    def check(self, defn, value) -> None:
        """Screens with rules beyond the option's type raise options.OptionError naming the option."""

    @expose("/", methods=["GET", "POST"])
    def index(self):
        form = FlaskForm()
        errors = {}
        if request.method == "POST" and form.validate_on_submit():
            changed = []
            for d in self._defs():
                if d.type is bool:
                    raw = "1" if request.form.get(d.name) else "0"
                elif d.name in request.form:
                    raw = request.form[d.name]
                else:
                    continue
                try:
                    value = options.parse(d, raw)
                    options.check(d.name, value)
                    self.check(d, value)
                except options.OptionError as exc:
                    errors[d.name] = str(exc)
                    continue
                if value != options.get(d.name) and options.source(d.name) != "environment":
                    options.set(d.name, value)
                    changed.append(d.name)
            if errors:
                db.session.rollback()
                for msg in errors.values():
                    flash(msg, "error")
                return self.render("admin/crm_options.html", defs=self._defs(), form=form, errors=errors,
                                   options=options, submitted=request.form), 422
            if changed:
                log_activity(current_user, "Options changed: " + ", ".join(changed), rel_type="options")
            db.session.commit()
            flash(f"Saved {len(changed)} option(s)." if changed else "Nothing changed.", "success")
            return redirect(self.get_url(".index"))
        return self.render("admin/crm_options.html", defs=self._defs(), form=form, errors=errors, options=options,
                           submitted=None)


class CompanyProfileView(OptionsView):
    """Settings → Company profile: the seller's identity (options of the "Company" group), its logo
    (uploaded here, stored by crm.core.storage) and its bank accounts (their own grid)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, groups=("Company",), **kwargs)

    def render(self, template, **kwargs):
        if template == "admin/crm_options.html":
            template, kwargs["profile"] = "admin/company_profile.html", company.profile()
        return super().render(template, **kwargs)

    @expose("/logo", methods=["POST"])
    def logo(self):
        form = FlaskForm()
        if not form.validate_on_submit():
            flash("The form expired; try again.", "error")
            return redirect(self.get_url(".index"))
        upload = request.files.get("logo")
        try:
            old = company.remove_logo() if request.form.get("remove") else \
                company.save_logo(upload.read() if upload else b"")
        except options.OptionError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return self.render("admin/crm_options.html", defs=self._defs(), form=form, errors={},
                               options=options, submitted=None), 422
        log_activity(current_user, "Company logo " + ("removed" if request.form.get("remove") else "changed"),
                     rel_type="options")
        db.session.commit()
        if old:  # the previous file, once nothing points at it
            storage.remove("branding", old)
        flash("Logo removed." if request.form.get("remove") else "Logo saved.", "success")
        return redirect(self.get_url(".index"))
