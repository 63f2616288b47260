"""Web-to-lead: the public form endpoint /forms/wtl/<form_key> (no login, no CSRF, CORS-friendly).

GET renders the form (for an <iframe>); POST takes form-encoded or JSON data from the iframe, a
plain HTML form on another site, or fetch(). Answers: 200 (or 201 for JSON) and the form's
success message; 422 naming each bad field; 429 past the per-IP rate limit; 404 for an unknown
or inactive form. A submission that fills the honeypot field is answered as a success and dropped.
"""
from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, make_response, render_template, request
from markupsafe import escape

from crm.capture.leads import WEB_FORM, capture_lead
from crm.capture.models import LEAD_TEXT_FIELDS, WebToLead
from crm.core import options, ratelimit
from crm.core.extensions import csrf, db
from crm.core.framing import framable
from crm.core.models.base import EMAIL_RE
from crm.core.mail.outbox import queue_email
from crm.core.registry import ActionError

bp = Blueprint("capture", __name__)
csrf.exempt(bp)

DEFAULT_SUCCESS = "Thank you, we received your details and will contact you shortly."


@bp.after_request
def _cors(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.is_json or (best == "application/json" and request.accept_mimetypes[best] >
                               request.accept_mimetypes["text/html"])


def validate_submission(fields: list[dict], data) -> tuple[dict, dict[str, list[str]]]:
    """(clean values, errors by field) for the form's fields; every message names its field."""
    values, errors = {}, {}
    for f in fields:
        name, label = f["field"], f["label"]
        raw = data.get(name)
        value = "" if raw is None else str(raw).strip()
        if not value:
            if f["required"]:
                errors.setdefault(name, []).append(f"{label} is required.")
            continue
        limit = LEAD_TEXT_FIELDS[name]
        if limit and len(value) > limit:
            errors.setdefault(name, []).append(f"{label}: at most {limit} characters ({len(value)} given).")
        if name == "email" and not EMAIL_RE.match(value):
            errors.setdefault(name, []).append(f"{label}: “{value}” is not a valid email address.")
        values[name] = value
    return values, errors


def _page(wtl, status=200, *, errors=None, submitted=None, success=None, message=None):
    return render_template("capture/web_form.html", form=wtl, fields=wtl.fields if wtl else [],
                           errors=errors or {}, submitted=submitted or {}, success=success,
                           message=message), status


def _answer(wtl, status, message, *, errors=None, submitted=None, success=False):
    if _wants_json():
        body = {"message": message, "status": status}
        if errors:
            body["field"] = next(iter(errors))
            body["errors"] = errors
        if success:
            body["ok"] = True
        return jsonify(body), status
    return _page(wtl, status, errors=errors, submitted=submitted, success=message if success else None,
                 message=None if success else message)


@bp.route("/forms/wtl/<form_key>", methods=["GET", "POST", "OPTIONS"])
@framable  # embedded in customers' sites by an iframe
def web_to_lead(form_key):
    if request.method == "OPTIONS":
        return "", 204
    wtl = db.session.query(WebToLead).filter_by(form_key=form_key).one_or_none()
    if wtl is None or not wtl.active:
        return _answer(None, 404, "This form does not exist or no longer takes submissions.")
    if request.method == "GET":
        return _page(wtl)

    data = (request.get_json(silent=True) or {}) if request.is_json else request.form
    if not hasattr(data, "get"):
        return _answer(wtl, 400, "Send the form fields as form data or a JSON object.")
    ip = request.remote_addr or "unknown"
    wait = ratelimit.hit(f"wtl:{ip}", options.get("web_to_lead_rate_limit"), options.get("web_to_lead_rate_window"))
    db.session.commit()  # the hit counts even if the submission is refused below
    if wait is not None:
        resp = make_response(_answer(wtl, 429, "Too many submissions from your address; please try again in "
                                               f"{wait} seconds.", submitted=data))
        resp.headers["Retry-After"] = str(wait)
        return resp
    success = wtl.success_submit_msg or DEFAULT_SUCCESS
    if str(data.get(wtl.honeypot_field) or "").strip():
        current_app.logger.info("web form %s: honeypot filled from %s, dropped", wtl.id, ip)
        return _answer(wtl, 200, success, success=True)

    values, errors = validate_submission(wtl.fields, data)
    if errors:
        first = next(iter(errors.values()))[0]
        return _answer(wtl, 422, f"Please correct the form: {first}" if len(errors) == 1
                       else f"Please correct the {len(errors)} fields marked below.", errors=errors,
                       submitted=data)
    try:
        lead = capture_lead(values, source=wtl.lead_source or WEB_FORM, channel=f"web form “{wtl.name}”",
                            status=wtl.lead_status, assigned=wtl.responsible, from_form_id=wtl.id,
                            details=json.dumps({"form_id": wtl.id, "ip": ip}))
        _notify(wtl, lead)
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        current_app.logger.error("web form %s cannot create leads: %s", wtl.id, exc.message)
        return _answer(wtl, 503, "This form cannot take submissions right now; please try again later. "
                                 f"({exc.message})", submitted=data)
    return _answer(wtl, 201 if _wants_json() else 200, success, success=True)


def _notify(wtl, lead) -> None:
    """Queue the 'new lead' email to the form's notify address."""
    if not wtl.notify_email:
        return

    text = f"A new lead came in through the web form “{wtl.name}”: {lead.name}" + \
        (f" <{lead.email}>" if lead.email else "") + f". Open it at /admin/leads/details/?id={lead.id}"
    try:
        queue_email(wtl.notify_email, f"New lead: {lead.name}", f"<p>{escape(text)}</p>", text,
                    rel_type="lead", rel_id=lead.id)
    except TypeError:  # an outbox with another signature: do not lose the lead over a notification
        current_app.logger.warning("web form %s: could not queue the notification email", wtl.id)
