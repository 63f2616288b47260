"""Lead capture: web-to-lead forms, the email pipe's processed messages, spreadsheet imports,
and the per-client counter that rate-limits the public form endpoint."""
from __future__ import annotations

import json
import secrets
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.core.extensions import db
from crm.core.models.base import EMAIL_RE, FieldError, Resource, StatusEnum, fk, status_column

# Lead columns a web form or an import may fill, with their maximum length (None: no limit).
LEAD_TEXT_FIELDS = {
    "name": 191, "title": 100, "company": 191, "email": 100, "phonenumber": 50, "website": 150,
    "address": 255, "city": 100, "state": 50, "zip": 15, "country": 100, "description": None,
}
LEAD_FIELD_LABELS = {
    "name": "Name", "title": "Position", "company": "Company", "email": "Email", "phonenumber": "Phone",
    "website": "Website", "address": "Address", "city": "City", "state": "State", "zip": "Zip code",
    "country": "Country", "description": "Description",
}
DEFAULT_FORM_FIELDS = [
    {"field": "name", "label": "Name", "required": True},
    {"field": "email", "label": "Email", "required": True},
    {"field": "phonenumber", "label": "Phone", "required": False},
    {"field": "company", "label": "Company", "required": False},
    {"field": "description", "label": "Message", "required": False},
]


def _new_form_key() -> str:
    return secrets.token_hex(16)


def parse_form_fields(value) -> list[dict]:
    """The form's field list as stored JSON: [{"field", "label", "required"}]; raises FieldError."""
    if value in (None, ""):
        return [dict(f) for f in DEFAULT_FORM_FIELDS]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise FieldError("form_data", f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") \
                from None
    if not isinstance(value, list) or not value:
        raise FieldError("form_data", 'expected a JSON list such as [{"field": "name", "label": "Name", '
                                      '"required": true}]')
    out, seen = [], set()
    for i, item in enumerate(value, start=1):
        if isinstance(item, str):
            item = {"field": item}
        if not isinstance(item, dict) or "field" not in item:
            raise FieldError("form_data", f'entry {i} must be an object with a "field" key')
        field = str(item["field"]).strip()
        if field not in LEAD_TEXT_FIELDS:
            raise FieldError("form_data", f"entry {i}: {field!r} is not a lead field; use one of "
                                          + ", ".join(LEAD_TEXT_FIELDS))
        if field in seen:
            raise FieldError("form_data", f"entry {i}: {field!r} is listed twice")
        seen.add(field)
        out.append({"field": field, "label": str(item.get("label") or LEAD_FIELD_LABELS[field]),
                    "required": bool(item.get("required", False))})
    name = next((f for f in out if f["field"] == "name"), None)
    if name is None or not name["required"]:
        raise FieldError("form_data", "the form must ask for the name (a lead needs one) and make it required")
    return out


class WebToLead(db.Model):
    """tblweb_to_lead: a form embedded on a website that creates leads (Perfex's web-to-lead)."""

    __tablename__ = "tblweb_to_lead"
    __crm__ = Resource(module="leads", own=("responsible",),
        label="Web forms", category="Sales", url="leads/forms", name="web_to_lead",
        admin={
            "column_list": ["name", "form_key", "lead_source", "lead_status", "responsible", "active", "dateadded"],
            "form_excluded_columns": ["form_key", "dateadded"],
            "form_widget_args": {"form_data": {"rows": 8, "style": "font-family: monospace"}},
            "column_descriptions": {
                "form_data": 'JSON list of the lead fields asked, e.g. [{"field": "name", "label": "Name", '
                             '"required": true}, {"field": "email", "label": "Email", "required": true}]. '
                             "Empty: name, email, phone, company, message.",
                "honeypot_field": "Name of a hidden input people never fill; a submission that fills it is "
                                  "accepted silently and dropped (spam bots).",
                "lead_status": "Empty: the default pipeline's first status.",
            },
            "details_template": "capture/web_form_details.html",
            "edit_template": "capture/web_form_edit.html",
        },
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_key: Mapped[str] = mapped_column(String(32), unique=True, default=_new_form_key)
    name: Mapped[str] = mapped_column(String(191))
    form_data: Mapped[str | None] = mapped_column(Text)
    lead_source: Mapped[int | None] = fk("tblleads_sources.id")
    lead_status: Mapped[int | None] = fk("tblleads_status.id")
    responsible: Mapped[int | None] = fk("tblstaff.staffid")
    notify_email: Mapped[str | None] = mapped_column(String(100))
    submit_btn_name: Mapped[str] = mapped_column(String(40), default="Submit")
    success_submit_msg: Mapped[str | None] = mapped_column(Text)
    honeypot_field: Mapped[str] = mapped_column(String(50), default="website_url")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    dateadded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)

    source_rel = relationship("LeadSource")
    status_rel = relationship("LeadStatus")
    responsible_staff = relationship("Staff")

    @validates("form_data")
    def _valid_fields(self, key, value):
        return json.dumps(parse_form_fields(value)) if value not in (None, "") else value

    @validates("notify_email")
    def _valid_notify(self, key, value):
        value = (value or "").strip() or None
        if value and not EMAIL_RE.match(value):
            raise FieldError("notify_email", f"{value!r} is not an email address")
        return value

    @validates("honeypot_field")
    def _valid_honeypot(self, key, value):
        value = (value or "").strip() or "website_url"
        if value in LEAD_TEXT_FIELDS or not value.replace("_", "").isalnum():
            raise FieldError("honeypot_field", "use letters, digits and _ only, and not a lead field's name")
        return value

    @property
    def fields(self) -> list[dict]:
        return parse_form_fields(self.form_data)

    def __str__(self):
        return self.name


from crm.core.models.ratelimit import RateLimitHit  # noqa: E402,F401  (declared here: same table order)


class LeadEmailMessage(db.Model):
    """A captured email's Message-ID, so a message piped or polled twice creates nothing twice."""

    __tablename__ = "tblleads_email_messages"
    __crm__ = Resource(module="leads", label="Captured emails", readonly=True)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    leadid: Mapped[int | None] = fk("tblleads.id")
    from_email: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(20))  # 'lead' (created) or 'note' (added to a lead)
    date: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)

    lead = relationship("Lead")


class ImportStatus(StatusEnum):
    READING = ("reading", "Reading the file", "info")  # the job counts the rows and keeps a preview
    UPLOADED = ("uploaded", "Uploaded", "secondary")  # read: waiting for the column mapping
    QUEUED = ("queued", "Queued", "info")
    RUNNING = ("running", "Running", "primary")
    DONE = ("done", "Done", "success")
    REFUSED = ("refused", "Refused", "warning")
    FAILED = ("failed", "Failed", "danger")


class LeadImport(db.Model):
    """tblleads_import: one spreadsheet upload and the progress of its import.

    Only the staff member who uploaded it and admins see it (the upload holds other people's
    data): the import screens check it, the grid shows one's own, and there is no API door."""

    __tablename__ = "tblleads_import"
    __crm__ = Resource(module="leads", own=("staffid",), label="Lead imports", readonly=True, api=False)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(500))  # the name in the "imports" area of crm/core/storage.py
    status: Mapped[str] = status_column(ImportStatus)
    mode: Mapped[str] = mapped_column(String(10), default="keep")  # 'keep' good rows or 'refuse' the file
    mapping: Mapped[str | None] = mapped_column(Text)  # JSON {column index: lead field}
    preview: Mapped[str | None] = mapped_column(Text)  # JSON {"headers": [...], "rows": [[...], ...]}
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[str | None] = mapped_column(Text)  # JSON [{"row", "column", "message"}]
    message: Mapped[str | None] = mapped_column(Text)
    staffid: Mapped[int | None] = fk("tblstaff.staffid")
    dateadded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    staff = relationship("Staff")

    @property
    def error_list(self) -> list[dict]:
        return json.loads(self.errors) if self.errors else []

    def __str__(self):
        return f"Import #{self.id} ({self.file_name})"


__all__ = ["WebToLead", "RateLimitHit", "LeadEmailMessage", "LeadImport", "ImportStatus"]
