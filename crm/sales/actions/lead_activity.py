"""The lead activity tab: notes, calls, SMS and follow-up reminders.

A note, a call and an SMS are each one tblnotes row (rel_type 'lead'); the kind is the first
word of the description ("Call: …", "SMS: …"; a plain note has no marker), so the table keeps
Perfex's shape. Each also writes a tbllead_activity_log line; a call, an SMS and a note that
says when the lead was contacted move ``lead.lastcontact`` forward (never back). A reminder is a
tblreminders row that the ``send_due_reminders`` job (crm/sales/jobs/reminder_jobs.py) emails once.

Dates are naive UTC, like every other date in the database.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from wtforms import Form, SelectField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from crm.core.attachments import attachable
from crm.core.extensions import db
from crm.core.models.settings import Staff
from crm.core.registry import ActionInvalid, action
from crm.sales.actions.sales_activity import log_lead_activity
from crm.sales.models.clients import Lead, Note, Reminder

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
CLOCK_SKEW = timedelta(minutes=5)  # a "contacted at" a few minutes ahead is a slow clock, not the future

# A lead carries files (Perfex's rel_type "lead"); each one attached is a line of its timeline.
attachable(Lead, "lead", on_attached=lambda lead, actor, name: log_lead_activity(lead, actor, "Attached a file", name))

CALL_PREFIX, SMS_PREFIX = "Call: ", "SMS: "
CALL_OUTCOMES = ("Connected", "Left voicemail", "No answer", "Busy", "Wrong number")


def note_kind(description: str | None) -> str:
    """'call', 'sms' or 'note', from the marker an action put at the start of the description."""
    text = description or ""
    if text.startswith(CALL_PREFIX):
        return "call"
    if text.startswith(SMS_PREFIX):
        return "sms"
    return "note"


def _not_in_future(form, field):
    if field.data and field.data > datetime.utcnow() + CLOCK_SKEW:
        raise ValidationError(f"{field.data:%Y-%m-%d %H:%M} is in the future; give the date it happened (UTC).")


def _contacted(lead: Lead, when: datetime) -> None:
    if lead.lastcontact is None or when > lead.lastcontact:
        lead.lastcontact = when


def _note(lead: Lead, actor, description: str, date_contacted: datetime | None) -> Note:
    note = Note(rel_type="lead", rel_id=lead.id, description=description, date_contacted=date_contacted,
                addedfrom=getattr(actor, "staffid", None))
    db.session.add(note)
    if date_contacted is not None:
        _contacted(lead, date_contacted)
    return note


def _short(text: str, n: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --- note ---------------------------------------------------------------------------------

class NoteForm(Form):
    description = TextAreaField("Note", validators=[DataRequired(message="Write the note."), Length(max=10000)])
    date_contacted = DateTimeLocalField("I contacted the lead on (optional, UTC)", format=DATETIME_FORMATS,
                                        validators=[Optional(), _not_in_future])


@action(Lead, "add_note", "Add note", form=NoteForm, icon="fa-sticky-note-o")
def add_note(lead: Lead, actor, description: str, date_contacted: datetime | None = None):
    _note(lead, actor, description.strip(), date_contacted)
    log_lead_activity(lead, actor, "Added a note", _short(description))
    return "Note added"


# --- call ---------------------------------------------------------------------------------

class CallForm(Form):
    outcome = SelectField("Outcome", choices=[("", "—")] + [(o, o) for o in CALL_OUTCOMES],
                          validators=[DataRequired(message=f"Choose the outcome: {', '.join(CALL_OUTCOMES)}.")])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=10000)])
    date_contacted = DateTimeLocalField("Called on (UTC; empty: now)", format=DATETIME_FORMATS,
                                        validators=[Optional(), _not_in_future])


@action(Lead, "log_call", "Log call", form=CallForm, icon="fa-phone")
def log_call(lead: Lead, actor, outcome: str, notes: str | None = None, date_contacted: datetime | None = None):
    when = date_contacted or datetime.utcnow()
    notes = (notes or "").strip()
    _note(lead, actor, f"{CALL_PREFIX}{outcome}" + (f" — {notes}" if notes else ""), when)
    log_lead_activity(lead, actor, f"Logged a call ({outcome})", _short(notes) or None)
    return f"Call logged ({outcome})"


# --- SMS ----------------------------------------------------------------------------------

class SmsForm(Form):
    text = TextAreaField("Text of the SMS", validators=[DataRequired(message="Write the text of the SMS."),
                                                        Length(max=1600)])


@action(Lead, "log_sms", "Log SMS", form=SmsForm, icon="fa-commenting-o")
def log_sms(lead: Lead, actor, text: str):
    """Record an SMS sent to the lead (the CRM has no SMS gateway: it is sent from a phone)."""
    _note(lead, actor, f"{SMS_PREFIX}{text.strip()}", datetime.utcnow())
    log_lead_activity(lead, actor, "Logged an SMS", _short(text))
    return "SMS logged"


# --- follow-up reminder -------------------------------------------------------------------

def _opt_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def _yes_no(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "y", "on")


class StaffField(SelectField):
    """Active staff members, loaded when the form is shown or checked (not at import)."""

    def _load(self):
        if self.choices is None:
            rows = db.session.query(Staff).filter(Staff.active.is_(True)).order_by(Staff.firstname).all()
            self.choices = [("", "Me")] + [(s.staffid, s.full_name or s.email) for s in rows]

    def iter_choices(self):
        self._load()
        return super().iter_choices()

    def pre_validate(self, form):
        if self.data is None:
            return
        self._load()
        if self.data not in {v for v, _ in self.choices}:
            raise ValidationError(f"There is no active staff member #{self.data}.")


class ReminderForm(Form):
    date = DateTimeLocalField("Remind on (UTC)", format=DATETIME_FORMATS,
                              validators=[DataRequired(message="Give the date and time of the reminder.")])
    description = TextAreaField("Description", validators=[DataRequired(message="Say what to remember."),
                                                           Length(max=5000)])
    staff = StaffField("Remind", coerce=_opt_int, choices=None, validate_choice=True)
    notify_by_email = SelectField("Send an email too", choices=[(True, "Yes"), (False, "No")], coerce=_yes_no,
                                  default=True)

    def validate_date(self, field):
        now = datetime.utcnow()
        if field.data and field.data <= now:
            raise ValidationError(f"{field.data:%Y-%m-%d %H:%M} is in the past; choose a date after "
                                  f"{now:%Y-%m-%d %H:%M} (UTC).")


@action(Lead, "add_reminder", "Set reminder", form=ReminderForm, icon="fa-bell-o")
def add_reminder(lead: Lead, actor, date: datetime, description: str, staff: int | None = None,
                 notify_by_email: bool = True):
    staff_id = staff or getattr(actor, "staffid", None)
    if staff_id is None:
        raise ActionInvalid({"staff": ["Choose who to remind."]})
    db.session.add(Reminder(rel_type="lead", rel_id=lead.id, date=date, description=description.strip(),
                            staff=staff_id, notify_by_email=bool(notify_by_email), isnotified=False,
                            creator=getattr(actor, "staffid", None)))
    who = db.session.get(Staff, staff_id)
    log_lead_activity(lead, actor, f"Reminder set for {date:%Y-%m-%d %H:%M}", f"{who}: {_short(description)}")
    return f"Reminder set for {date:%Y-%m-%d %H:%M} ({who})"
