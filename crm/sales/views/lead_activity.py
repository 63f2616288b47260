"""The activity tab under a lead's (or opportunity's) details: what admin/lead_activity.html shows.

Six queries whatever the history's length: notes (calls and SMS included), reminders, activity
log lines, emails (outbox rows about the lead, with their delivery state) and attachments, each
with its staff member joined in, and the email templates of the "Send email" form.
"""
from __future__ import annotations

from datetime import datetime

from flask_login import current_user
from sqlalchemy.orm import joinedload

from crm.core.attachments import may_download, original_name
from crm.core.extensions import db
from crm.core.models.messaging import EmailOutbox, OutboxStatus
from crm.core.models.records import File
from crm.core.permissions import can
from crm.core.registry import actions_for, get_action
from crm.sales.actions.activity_email import LeadEmailForm
from crm.sales.actions.lead_activity import CALL_PREFIX, SMS_PREFIX, note_kind
from crm.sales.models.clients import Lead, LeadActivityLog, Note, Reminder

LIMIT = 200  # newest rows of each kind shown
BUTTONS = ("add_note", "log_call", "log_sms", "add_reminder")
ICONS = {"note": "fa-sticky-note-o", "call": "fa-phone", "sms": "fa-commenting-o", "reminder": "fa-bell-o",
         "log": "fa-history", "email": "fa-envelope-o"}


def activity_context(lead) -> dict:
    entries = []
    notes = (db.session.query(Note).options(joinedload(Note.added_by))
             .filter(Note.rel_type == "lead", Note.rel_id == lead.id)
             .order_by(Note.dateadded.desc(), Note.id.desc()).limit(LIMIT).all())
    for n in notes:
        kind = note_kind(n.description)
        text = n.description.removeprefix({"call": CALL_PREFIX, "sms": SMS_PREFIX}.get(kind, ""))
        entries.append({"kind": kind, "when": n.date_contacted if kind != "note" and n.date_contacted else n.dateadded,
                        "who": str(n.added_by) if n.added_by else "", "text": text,
                        "extra": f"contacted {n.date_contacted:%Y-%m-%d %H:%M}"
                        if kind == "note" and n.date_contacted else ""})
    reminders = (db.session.query(Reminder).options(joinedload(Reminder.staff_rel))
                 .filter(Reminder.rel_type == "lead", Reminder.rel_id == lead.id)
                 .order_by(Reminder.date.desc(), Reminder.id.desc()).limit(LIMIT).all())
    now = datetime.utcnow()
    for r in reminders:
        state = "emailed" if r.isnotified and r.notify_by_email else "done" if r.isnotified else \
            "due" if r.date <= now else "upcoming"
        entries.append({"kind": "reminder", "when": r.date, "who": str(r.staff_rel) if r.staff_rel else "",
                        "text": r.description or "", "extra": state})
    logs = (db.session.query(LeadActivityLog).filter(LeadActivityLog.leadid == lead.id)
            .order_by(LeadActivityLog.date.desc(), LeadActivityLog.id.desc()).limit(LIMIT).all())
    for a in logs:
        entries.append({"kind": "log", "when": a.date, "who": a.full_name or "", "text": a.description,
                        "extra": a.additional_data or ""})
    entries += _emails(lead)
    entries.sort(key=lambda e: e["when"] or datetime.min, reverse=True)
    for e in entries:
        e["icon"] = ICONS[e["kind"]]

    show_files = may_download(current_user, Lead)
    files = []
    if show_files:
        files = [{"id": f.id, "name": original_name(f.file_name), "size": f.size or 0, "when": f.dateadded,
                  "who": str(f.staff) if f.staff else ""}
                 for f in db.session.query(File).options(joinedload(File.staff))
                 .filter(File.rel_type == "lead", File.rel_id == lead.id)
                 .order_by(File.dateadded.desc(), File.id.desc()).limit(LIMIT)]
    buttons = [a for a in actions_for(Lead) if a.name in BUTTONS and can(current_user, a.permission)
               and not a.refusal(lead)]
    buttons.sort(key=lambda a: BUTTONS.index(a.name))
    return {"entries": entries, "files": files, "show_files": show_files, "buttons": buttons,
            "can_attach": show_files, "email": _email_form(lead)}


def _emails(lead) -> list[dict]:
    rows = (db.session.query(EmailOutbox).options(joinedload(EmailOutbox.staff))
            .filter(EmailOutbox.rel_type == "lead", EmailOutbox.rel_id == lead.id)
            .order_by(EmailOutbox.datecreated.desc(), EmailOutbox.id.desc()).limit(LIMIT).all())
    out = []
    for m in rows:
        state = OutboxStatus.label_of(m.status) + (f" {m.sent_at:%Y-%m-%d %H:%M}" if m.sent_at else "")
        detail = m.last_error if m.status == "failed" else m.note
        out.append({"kind": "email", "when": m.datecreated, "who": str(m.staff) if m.staff else "",
                    "text": f"{m.subject} → {m.to_email}", "state": m.status,
                    "extra": state + (f": {detail}" if detail else "")})
    return out


def _email_form(lead) -> dict | None:
    """The "Send email" form: None without the permission; the refusal when the lead has no email."""
    adef = get_action(Lead, "send_email")
    if not can(current_user, adef.permission):
        return None
    return {"refusal": adef.refusal(lead), "to": lead.email or "",
            "templates": list(LeadEmailForm().template.iter_choices())}
