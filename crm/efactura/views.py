"""e-Factura screens: the settings at /admin/billing/efactura (company identity, environment, OAuth,
auto-send) with the token's state and the Connect / Regenerate buttons, and the invoice files
(generated XML, ANAF archive and PDF) shown on an invoice's details page."""
from __future__ import annotations

import secrets

from flask import Response, abort, current_app, flash, redirect, request, session, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm

from crm.admin_views.access import StaffView
from crm.admin_views.settings import OptionsView
from crm.core import options, pages, storage
from crm.core.activity import log_activity
from crm.core.extensions import db
from crm.core.permissions import sees
from crm.efactura import checks, oauth, service
from crm.efactura.anaf import AnafError
from crm.efactura.sandbox import NEXT_ANSWERS
from crm.sales.models.documents import Invoice
from crm.sales.models.efactura import EfacturaStatus

# Shown on the screen, never in the form: they come from ANAF.
TOKEN_OPTIONS = ("efactura_access_token", "efactura_refresh_token", "efactura_token_expires",
                 "efactura_token_status")
_STATE = "efactura_oauth_state"


class EfacturaSettingsView(OptionsView):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, groups=("e-Factura",), **kwargs)

    def _defs(self):
        return [d for d in super()._defs() if d.name not in TOKEN_OPTIONS]

    def render(self, template, **kwargs):
        if template == "admin/crm_options.html":
            template = "admin/efactura_settings.html"
            kwargs.update(token=oauth.token_info(), official=checks.official_xslt() is not None,
                          sandbox=_sandbox(), next_answers=_next_answers())
        return super().render(template, **kwargs)

    @expose("/sandbox", methods=["POST"])
    def sandbox(self):
        """The demo's ANAF stand-in: what the next upload gets, so the rejection and failure paths
        can be walked through by hand."""
        sandbox = _sandbox()
        if sandbox is None:
            abort(404)
        answer = request.form.get("next_upload", "")
        if answer not in _next_answers():
            flash(f"next_upload: “{answer}” is not one of {', '.join(_next_answers())}.", "error")
            return self.render("admin/crm_options.html", defs=self._defs(), form=FlaskForm(), errors={},
                               options=options, submitted=None), 422
        sandbox.choose_next(answer, request.form.get("errors"), sleep=options.get("efactura_timeout") + 2)
        flash(f"ANAF sandbox: the next upload will be {_next_answers()[answer]}.", "success")
        return redirect(url_for(".index"))

    def _callback_url(self) -> str:
        return url_for(".callback", _external=True)

    @expose("/connect", methods=["POST"])
    def connect(self):
        missing = oauth.missing_client_settings()
        if missing:
            flash(missing, "error")
            return redirect(url_for(".index"))
        state = secrets.token_urlsafe(24)
        session[_STATE] = state
        return redirect(oauth.oauth_client(self._callback_url()).authorize_url(state))

    @expose("/callback")
    def callback(self):
        expected = session.pop(_STATE, None)
        if request.args.get("error"):
            reason = request.args.get("error_description") or request.args["error"]
            flash(f"ANAF did not authorize the connection: {reason}.", "error")
            return redirect(url_for(".index"))
        if not expected or request.args.get("state") != expected or not request.args.get("code"):
            flash("The answer from ANAF does not match a connection started here; press Connect to ANAF again.",
                  "error")
            return redirect(url_for(".index"))
        try:
            expires = oauth.store_tokens(oauth.oauth_client(self._callback_url()).exchange(request.args["code"]))
        except AnafError as err:
            db.session.rollback()
            flash(err.message, "error")
            return redirect(url_for(".index"))
        log_activity(current_user, "Connected to ANAF (e-Factura token obtained)", rel_type="options")
        db.session.commit()
        flash(f"Connected to ANAF; the token is valid until {expires:%Y-%m-%d %H:%M} UTC." if expires
              else "Connected to ANAF.", "success")
        return redirect(url_for(".index"))

    @expose("/regenerate", methods=["POST"])
    def regenerate(self):
        """Refresh with the refresh token; if ANAF refuses it (or there is none), log in again."""
        if options.get("efactura_refresh_token"):
            try:
                expires = oauth.refresh(self._callback_url())
            except AnafError as err:
                flash(f"{err.message} Log in to ANAF again.", "warning")
            else:
                log_activity(current_user, "ANAF token regenerated", rel_type="options")
                db.session.commit()
                flash(f"Token regenerated; valid until {expires:%Y-%m-%d %H:%M} UTC." if expires
                      else "Token regenerated.", "success")
                return redirect(url_for(".index"))
        return self.connect()


def _sandbox():
    """The ANAF stand-in served by the app (the demo), or None."""
    return current_app.extensions.get("anaf_sandbox")


def _next_answers() -> dict:
    return NEXT_ANSWERS


class EfacturaFilesView(StaffView):
    """/admin/efactura/invoice/<id>/...: for whoever may view invoices."""

    def is_visible(self):
        return False

    table = "Invoice"

    def _invoice(self, invoice_id):
        invoice = db.session.get(Invoice, invoice_id)
        if invoice is None or not sees(current_user, invoice):
            abort(404)
        return invoice

    @expose("/")
    def index(self):
        abort(404)

    @expose("/invoice/<int:invoice_id>.xml")
    def invoice_xml(self, invoice_id):
        invoice = self._invoice(invoice_id)
        headers = {"Content-Disposition": f'attachment; filename="efactura-{invoice_id}.xml"'}
        uploaded = service.uploaded_xml(invoice)
        if uploaded is not None:
            return Response(uploaded, mimetype="application/xml", headers=headers)
        gen = service.generate(invoice, official=False)
        if gen.fatal:
            headers["X-Efactura-Findings"] = str(len(gen.fatal))
        return Response(gen.xml, mimetype="application/xml", headers=headers)

    @expose("/invoice/<int:invoice_id>/archive.zip")
    def invoice_archive(self, invoice_id):
        invoice = self._invoice(invoice_id)
        return storage.send(service.AREA, invoice.efactura_archive, invoice.id, as_attachment=True,
                            download_name=service.download_name(invoice, "zip"), mimetype="application/zip")

    @expose("/invoice/<int:invoice_id>/archive.pdf")
    def invoice_archive_pdf(self, invoice_id):
        invoice = self._invoice(invoice_id)
        return storage.send(service.AREA, storage.companion(invoice.efactura_archive or "", "pdf"), invoice.id,
                            as_attachment=True, download_name=service.download_name(invoice, "pdf"),
                            mimetype="application/pdf")


def invoice_context(invoice) -> dict:
    status = EfacturaStatus(invoice.efactura_status) if invoice.efactura_status else EfacturaStatus.NOT_SENT
    return {"label": status.label, "color": status.color, "has_pdf": service.pdf_path(invoice) is not None}


def efactura_views():
    return [EfacturaSettingsView(name="e-Factura", category="Settings", endpoint="efactura",
                                 url="/admin/billing/efactura"),
            EfacturaFilesView(name="e-Factura files", endpoint="efactura_files", url="/admin/efactura")]


def register_pages() -> None:
    """The e-Factura panel on an invoice's page (crm/core/pages.py)."""
    pages.panel(Invoice, "admin/efactura_invoice.html", invoice_context)
