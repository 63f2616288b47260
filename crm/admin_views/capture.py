"""Lead capture screens: web forms (/admin/leads/forms), email integration
(/admin/leads/email_integration) and the spreadsheet import (/admin/excelimport)."""
from __future__ import annotations

import imaplib
import json

from flask import abort, flash, jsonify, redirect, request
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from ..extensions import db
from ..models.base import FieldError
from ..models.capture import ImportStatus
from .factory import build_view
from .settings import OptionsView
from .access import StaffView


def _form_data_valid(form, field):
    from ..models.capture import parse_form_fields

    try:
        parse_form_fields(field.data)
    except FieldError as exc:
        raise ValidationError(exc.message) from None


def web_forms_view():
    from ..models import WebToLead

    return build_view(WebToLead, admin={"form_args": {"form_data": {"validators": [_form_data_valid]}}})


class EmailIntegrationView(OptionsView):
    """The lead mailbox settings (options in the "Lead capture" group), the pipe command, a poll button."""

    def __init__(self, **kwargs):
        super().__init__(groups=("Lead capture",), **kwargs)

    def render(self, template, **kwargs):
        if template == "admin/crm_options.html":
            from ..models import LeadEmailMessage

            template = "capture/email_integration.html"
            kwargs["recent"] = (db.session.query(LeadEmailMessage).order_by(LeadEmailMessage.id.desc())
                                .limit(20).all())
        return super().render(template, **kwargs)

    @expose("/poll", methods=["POST"])
    def poll(self):
        from ..actions.registry import ActionError
        from ..capture.email_pipe import imap_settings, poll_mailbox

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


class ExcelImportView(StaffView):
    """/admin/excelimport: upload, map columns, preview, import as a job, follow its progress."""

    table = "Lead"
    verb = "create"

    def _get(self, import_id):
        from ..models import LeadImport

        imp = db.session.get(LeadImport, import_id)
        if imp is None:
            abort(404)
        return imp

    def _upload_page(self, status=200, error=None):
        from ..models import LeadImport

        recent = db.session.query(LeadImport).order_by(LeadImport.id.desc()).limit(20).all()
        return self.render("capture/import_upload.html", form=FlaskForm(), error=error, recent=recent), status

    @expose("/", methods=["GET", "POST"])
    def index(self):
        from ..actions.registry import ActionError
        from ..capture.excel_import import guess_mapping, inspect_file, store_upload
        from ..models import LeadImport

        if request.method == "GET":
            return self._upload_page()
        if not FlaskForm().validate_on_submit():
            return self._upload_page(400, "The form expired; please choose the file again.")
        path = None
        try:
            name, path = store_upload(request.files.get("file"))
            headers, _rows, total = inspect_file(path)
        except ActionError as exc:
            if path is not None:
                path.unlink(missing_ok=True)
            return self._upload_page(400, exc.message)
        imp = LeadImport(file_name=name, stored_path=str(path), status=ImportStatus.UPLOADED.value, total=total,
                         mapping=json.dumps(guess_mapping(headers)), staffid=current_user.staffid)
        db.session.add(imp)
        db.session.commit()
        return redirect(self.get_url(".mapping", import_id=imp.id))

    @expose("/<int:import_id>/map", methods=["GET", "POST"])
    def mapping(self, import_id):
        from ..actions.registry import ActionError
        from ..capture.excel_import import (IMPORT_FIELDS, RowValidator, inspect_file, parse_mapping,
                                            run_import)
        from ..jobs import enqueue

        imp = self._get(import_id)
        if imp.status != ImportStatus.UPLOADED.value:
            return redirect(self.get_url(".progress", import_id=imp.id))
        try:
            headers, rows, total = inspect_file(imp.stored_path)
        except ActionError as exc:
            flash(exc.message, "error")
            return redirect(self.get_url(".index"))
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
                           fields=IMPORT_FIELDS, preview=preview, total=total, errors=errors,
                           form=form), status

    @expose("/<int:import_id>")
    def progress(self, import_id):
        imp = self._get(import_id)
        return self.render("capture/import_status.html", imp=imp, data=_progress(imp))

    @expose("/<int:import_id>/progress.json")
    def progress_json(self, import_id):
        return jsonify(_progress(self._get(import_id)))


def _progress(imp) -> dict:
    finished = imp.status in (ImportStatus.DONE.value, ImportStatus.REFUSED.value, ImportStatus.FAILED.value)
    percent = 100 if finished else (int(imp.done * 100 / imp.total) if imp.total else 0)
    errors = imp.error_list
    return {"id": imp.id, "file": imp.file_name, "status": imp.status,
            "status_label": ImportStatus.label_of(imp.status), "finished": finished, "total": imp.total,
            "done": imp.done, "imported": imp.imported, "percent": percent, "message": imp.message,
            "errors": errors[:200], "error_count": len(errors)}


def capture_screens() -> list:
    """The custom (non-table) capture screens, registered by init_admin under Sales."""
    return [
        EmailIntegrationView(name="Email integration", category="Sales", endpoint="leads_email_integration",
                             url="/admin/leads/email_integration"),
        ExcelImportView(name="Import leads", category="Sales", endpoint="excelimport", url="/admin/excelimport"),
    ]
