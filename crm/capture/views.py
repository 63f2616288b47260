"""Lead capture screens: web forms (/admin/leads/forms), email integration
(/admin/leads/email_integration) and the spreadsheet import (/admin/excelimport)."""
from __future__ import annotations

import imaplib
import json

from flask import abort, flash, jsonify, redirect, request
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import true
from wtforms.validators import ValidationError

from crm.admin_views.access import StaffView
from crm.admin_views.factory import build_view
from crm.admin_views.settings import OptionsView
from crm.capture.email_pipe import imap_settings, poll_mailbox
from crm.capture.excel_import import IMPORT_FIELDS, RowValidator, parse_mapping, read_upload, run_import, store_upload
from crm.capture.models import ImportStatus, LeadEmailMessage, LeadImport, WebToLead, parse_form_fields
from crm.core.extensions import db
from crm.core.jobs import enqueue
from crm.core.models.base import FieldError
from crm.core.registry import ActionError


def _form_data_valid(form, field):
    try:
        parse_form_fields(field.data)
    except FieldError as exc:
        raise ValidationError(exc.message) from None


def web_forms_view():
    return build_view(WebToLead, admin={"form_args": {"form_data": {"validators": [_form_data_valid]}}})


class EmailIntegrationView(OptionsView):
    """The lead mailbox settings (options in the "Lead capture" group), the pipe command, a poll button."""

    def __init__(self, **kwargs):
        super().__init__(groups=("Lead capture",), **kwargs)

    def render(self, template, **kwargs):
        if template == "admin/crm_options.html":
            template = "capture/email_integration.html"
            kwargs["recent"] = (db.session.query(LeadEmailMessage).order_by(LeadEmailMessage.id.desc())
                                .limit(20).all())
        return super().render(template, **kwargs)

    @expose("/poll", methods=["POST"])
    def poll(self):
        if not FlaskForm().validate_on_submit():
            flash("The form expired; please try again.", "error")
            return redirect(self.get_url(".index"))
        settings = imap_settings()
        if settings is None:
            flash("leads_imap_host: set the IMAP host first.", "error")
            return redirect(self.get_url(".index"))
        try:
            counts = poll_mailbox(settings, timeout=15)
        except (ActionError, imaplib.IMAP4.error, OSError) as exc:
            db.session.rollback()
            flash(f"Could not poll {settings['host']}:{settings['port']}: {getattr(exc, 'message', exc)}", "error")
            return redirect(self.get_url(".index"))
        flash("Mailbox polled: " + ", ".join(f"{n} {k}" for k, n in counts.items()), "success")
        return redirect(self.get_url(".index"))


def may_open_import(staff, imp) -> bool:
    """An upload holds someone's spreadsheet: only who uploaded it and admins may open it."""
    return bool(staff.admin) or (imp.staffid is not None and imp.staffid == staff.staffid)


def own_imports(model):
    """The grid's filter: one's own imports (all of them for an admin)."""
    return true() if current_user.admin else model.staffid == current_user.staffid


class ExcelImportView(StaffView):
    """/admin/excelimport: upload, read (a job), map columns, preview, import (a job), follow its progress."""

    table = "Lead"
    verb = "create"

    def _get(self, import_id):
        imp = db.session.get(LeadImport, import_id)
        if imp is None or not may_open_import(current_user, imp):
            abort(404)  # someone else's import is not there, as far as this staff member knows
        return imp

    def _upload_page(self, status=200, error=None):
        recent = (db.session.query(LeadImport).filter(own_imports(LeadImport))
                  .order_by(LeadImport.id.desc()).limit(20).all())
        return self.render("capture/import_upload.html", form=FlaskForm(), error=error, recent=recent), status

    @expose("/", methods=["GET", "POST"])
    def index(self):
        if request.method == "GET":
            return self._upload_page()
        if not FlaskForm().validate_on_submit():
            return self._upload_page(400, "The form expired; please choose the file again.")
        try:
            name, stored = store_upload(request.files.get("file"))
        except ActionError as exc:
            return self._upload_page(400, exc.message)
        # Only stored here: a large spreadsheet is read by the job, its progress on the import's page.
        imp = LeadImport(file_name=name, stored_path=stored, status=ImportStatus.READING.value, total=0,
                         staffid=current_user.staffid)
        db.session.add(imp)
        db.session.flush()
        enqueue(read_upload, imp.id)
        db.session.commit()
        return redirect(self.get_url(".progress", import_id=imp.id))

    @expose("/<int:import_id>/map", methods=["GET", "POST"])
    def mapping(self, import_id):
        imp = self._get(import_id)
        if imp.status != ImportStatus.UPLOADED.value:
            return redirect(self.get_url(".progress", import_id=imp.id))
        preview = json.loads(imp.preview or "{}")
        headers, rows = preview.get("headers") or [], preview.get("rows") or []
        form = FlaskForm()
        errors, status = {}, 200
        mapping = {int(k): v for k, v in json.loads(imp.mapping or "{}").items()}
        mode = imp.mode
        if request.method == "POST":
            if not form.validate_on_submit():
                errors["csrf_token"] = "The form expired; please try again."
            else:
                mapping, errors = parse_mapping(request.form)
                mode = request.form.get("mode", "")
                if mode not in ("keep", "refuse"):
                    errors["mode"] = "mode: choose “keep good rows” or “refuse the file if any row is bad”."
            if errors:
                status = 422
            elif request.form.get("do") == "import":
                imp.mapping = json.dumps(mapping)
                imp.mode = mode
                imp.status = ImportStatus.QUEUED.value
                enqueue(run_import, imp.id)
                db.session.commit()
                return redirect(self.get_url(".progress", import_id=imp.id))
        validator = RowValidator(mapping, headers)
        preview = [(i + 2, row, validator.validate(row)[1]) for i, row in enumerate(rows)]
        return self.render("capture/import_map.html", imp=imp, headers=headers, mapping=mapping, mode=mode,
                           fields=IMPORT_FIELDS, preview=preview, total=imp.total, errors=errors,
                           form=form), status

    @expose("/<int:import_id>")
    def progress(self, import_id):
        imp = self._get(import_id)
        if imp.status == ImportStatus.UPLOADED.value:  # read: the next step is the mapping
            return redirect(self.get_url(".mapping", import_id=imp.id))
        return self.render("capture/import_status.html", imp=imp, data=self._progress(imp))

    @expose("/<int:import_id>/progress.json")
    def progress_json(self, import_id):
        return jsonify(self._progress(self._get(import_id)))

    def _progress(self, imp) -> dict:
        data = _progress(imp)
        if imp.status == ImportStatus.UPLOADED.value:
            data["next"] = self.get_url(".mapping", import_id=imp.id)
        return data


def _progress(imp) -> dict:
    finished = imp.status in (ImportStatus.DONE.value, ImportStatus.REFUSED.value, ImportStatus.FAILED.value)
    percent = 100 if finished else (min(int(imp.done * 100 / imp.total), 99) if imp.total else 0)
    errors = imp.error_list
    return {"id": imp.id, "file": imp.file_name, "status": imp.status,
            "status_label": ImportStatus.label_of(imp.status), "finished": finished, "total": imp.total,
            "done": imp.done, "imported": imp.imported, "percent": percent, "message": imp.message,
            "errors": errors[:200], "error_count": len(errors), "reading": imp.status == ImportStatus.READING.value}


def capture_screens() -> list:
    """The custom (non-table) capture screens, registered by init_admin under Sales."""
    return [
        EmailIntegrationView(name="Email integration", category="Sales", endpoint="leads_email_integration",
                             url="/admin/leads/email_integration"),
        ExcelImportView(name="Import leads", category="Sales", endpoint="excelimport", url="/admin/excelimport"),
    ]
