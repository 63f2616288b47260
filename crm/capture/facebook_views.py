"""/admin/facebookleadsintegration: the Facebook Lead Ads settings, the webhook URL to give Facebook,
the leads received lately with their errors, "Retry now" and (with the sandbox) "Send a test lead"."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import flash, redirect
from flask_admin import expose
from flask_wtf import FlaskForm

from crm.admin_views.settings import OptionsView
from crm.capture import facebook_sandbox as sandbox
from crm.capture.facebook import WEBHOOK_PATH, S, fetch_facebook_lead, parse_mapping
from crm.capture.facebook_models import FacebookLead
from crm.capture.facebook_sandbox import is_local
from crm.core import options
from crm.core.documents import base_url
from crm.core.extensions import db
from crm.core.jobs import enqueue
from crm.core.models.settings import Staff
from crm.sales.models.clients import LeadStatus, Pipeline

GROUP = "Facebook Lead Ads"


def webhook_url() -> str:
    return base_url() + WEBHOOK_PATH


class FacebookLeadsView(OptionsView):
    def __init__(self, **kwargs):
        super().__init__(groups=(GROUP,), **kwargs)

    def check(self, defn, value) -> None:
        name, bad = defn.name, None
        if name == "facebook_graph_url":
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                bad = f"expected an http(s) address such as https://graph.facebook.com, got {value!r}"
        elif name == "facebook_graph_version" and not re.fullmatch(r"v\d+\.\d+", value):
            bad = f"expected a Graph API version such as v21.0, got {value!r}"
        elif name == "facebook_field_mapping":
            try:
                parse_mapping(value)
            except ValueError as exc:
                bad = str(exc)
        elif name == "facebook_lead_source" and not value:
            bad = "a lead source name is required (e.g. Facebook Lead Ads)"
        elif name == "facebook_lead_status" and value and db.session.get(LeadStatus, value) is None:
            bad = f"lead status #{value} does not exist; pick one from the list"
        elif name == "facebook_lead_assigned" and value and db.session.get(Staff, value) is None:
            bad = f"staff member #{value} does not exist; pick one from the list"
        if bad:
            raise options.OptionError(f"{name}: {bad}")

    def _choices(self) -> dict:
        statuses = (db.session.query(LeadStatus, Pipeline).outerjoin(Pipeline, LeadStatus.pipeline == Pipeline.id)
                    .order_by(Pipeline.pipeline_order, LeadStatus.statusorder, LeadStatus.id).all())
        staff = db.session.query(Staff).filter(Staff.active.is_(True)).order_by(Staff.firstname, Staff.lastname)
        return {
            "facebook_lead_status": [(0, "The default pipeline's first status")]
            + [(s.id, f"{p.name} → {s.name}" if p else s.name) for s, p in statuses],
            "facebook_lead_assigned": [(0, "Nobody")] + [(s.staffid, str(s)) for s in staff],
        }

    def render(self, template, **kwargs):
        if template == "admin/crm_options.html":
            template = "capture/facebook_integration.html"
            kwargs.update(
                webhook_url=webhook_url(), multiline=("facebook_field_mapping",), choices=self._choices(),
                recent=db.session.query(FacebookLead).order_by(FacebookLead.received_at.desc(), FacebookLead.id.desc())
                .limit(20).all(),
                attention=db.session.query(FacebookLead).filter(FacebookLead.status == S.ERROR.value)
                .order_by(FacebookLead.id.desc()).limit(5).all(),
                retrying=db.session.query(FacebookLead).filter(FacebookLead.status == S.FAILED.value).count(),
                missing=[n for n in ("facebook_app_secret", "facebook_verify_token", "facebook_page_access_token")
                         if not options.get(n)],
                sandbox=is_local(options.get("facebook_graph_url")))
        return super().render(template, **kwargs)

    def _form_ok(self) -> bool:
        if FlaskForm().validate_on_submit():
            return True
        flash("The form expired; please try again.", "error")
        return False

    @expose("/retry", methods=["POST"])
    def retry(self):
        if self._form_ok():
            ids = list(db.session.scalars(db.select(FacebookLead.id).where(
                FacebookLead.status.in_([S.FAILED.value, S.ERROR.value])).order_by(FacebookLead.id)))
            for row_id in ids:
                enqueue(fetch_facebook_lead, row_id, force=True)
            db.session.commit()
            flash(f"{len(ids)} Facebook lead(s) asked again." if ids else "Nothing to retry.", "success")
        return redirect(self.get_url(".index"))

    @expose("/test_lead", methods=["POST"])
    def test_lead(self):
        if not self._form_ok():
            return redirect(self.get_url(".index"))
        base = options.get("facebook_graph_url")
        if not sandbox.is_local(base):
            flash("“Send a test lead” talks to the sandbox (facebook_graph_url on http://127.0.0.1:<port>/...). With "
                  "Facebook itself, use its Lead Ads Testing Tool (developers.facebook.com/tools/lead-ads-testing).",
                  "error")
            return redirect(self.get_url(".index"))
        missing = [n for n in ("facebook_app_secret", "facebook_verify_token", "facebook_page_access_token")
                   if not options.get(n)]
        if missing:
            flash(", ".join(missing) + ": fill in and save first.", "error")
            return redirect(self.get_url(".index"))
        args = (base, options.get("facebook_graph_version"), options.get("facebook_page_access_token"), webhook_url(),
                options.get("facebook_verify_token"))
        db.session.commit()  # hold no transaction while the sandbox calls our webhook back
        try:
            result = sandbox.send_test_lead(*args)
        except sandbox.SandboxError as exc:
            flash(f"The test lead was not sent: {exc}", "error")
            return redirect(self.get_url(".index"))
        delivery = result.get("delivery") or {}
        row = db.session.query(FacebookLead).filter_by(leadgen_id=str(result.get("id"))).one_or_none()
        if delivery.get("status") != 200:
            flash(f"The sandbox created test lead {result.get('id')}, but {webhook_url()} answered "
                  f"{delivery.get('status') or 'nothing'}: {delivery.get('body')}", "error")
        elif row is not None and row.leadid:
            flash(f"Test lead {row.leadgen_id} received and fetched: lead #{row.leadid} “{row.lead.name}”.",
                  "success")
        elif row is not None:  # fetched by a worker (RQ), or failed: the table below tells
            flash(f"Test lead {row.leadgen_id} received; its status is {row.status_label}"
                  + (f": {row.error}" if row.error else "."), "info")
        else:
            flash(f"The sandbox delivered test lead {result.get('id')}, but it was not recorded.", "error")
        return redirect(self.get_url(".index"))
