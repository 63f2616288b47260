"""Emails written by staff to a lead (from its activity tab) or to a client, sent for real through
the outbox (crm.core.mail).

The person writes a subject and a plain-text body, or picks a template of tblemailtemplates
(what they type wins over the template's subject or message). ``{lead_name}`` (or
``{client_company}``) and the other fields below are merged into both, the way every template is
merged (crm/core/mail/templates.py). The outbox row keeps ``rel_type`` 'lead' / 'client' so the lead's
tab lists the message with its delivery state; a lead's activity log line says who sent what.
"""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup, escape
from wtforms import EmailField, Form, SelectField, StringField, TextAreaField
from wtforms.validators import Email, Length, Optional, ValidationError

from crm.core import options
from crm.sales.actions.sales_activity import log_lead_activity
from crm.core.extensions import db
from crm.core.mail import html_to_text, merge, queue_email, smtp_url
from crm.core.mail.templates import DEFAULTS
from crm.core.models.messaging import EmailTemplate
from crm.core.registry import ActionError, ActionInvalid, action
from crm.sales.actions.sending import OUTBOX, primary_contact
from crm.sales.models.clients import Client, Lead

TEMPLATE_TYPE = "leads"
DEFAULTS.update({
    "lead-follow-up": (
        TEMPLATE_TYPE, "Follow-up to a lead", "{companyname}: following up, {lead_name}",
        "<p>Hello {lead_name},</p><p>Thank you for your interest in {companyname}. When would be a good time "
        "to talk about what {lead_company} needs?</p><p>Kind regards,<br>{staff_name}<br>{companyname}</p>"),
})


def lead_fields(lead: Lead, actor=None) -> dict:
    """The {merge fields} of a lead, for emails written to it (and marketing campaigns)."""
    return {"lead_name": lead.name or "", "lead_email": lead.email or "", "lead_company": lead.company or "",
            "lead_title": lead.title or "", "lead_phonenumber": lead.phonenumber or "",
            "lead_website": lead.website or "", "lead_city": lead.city or "", "lead_country": lead.country or "",
            "companyname": options.get("companyname"), "staff_name": getattr(actor, "full_name", "") or "",
            "staff_email": getattr(actor, "email", "") or ""}


def text_to_html(text: str) -> str:
    """Plain text as typed → escaped HTML paragraphs (line breaks kept)."""
    paragraphs = [p.strip() for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(str(Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in p.split("\n"))))
                   for p in paragraphs)


def compose(subject: str, body_html: str, fields: dict) -> tuple[str, str, str]:
    """(subject, HTML page, plain text) of a message with ``fields`` merged in."""
    body = merge(body_html, fields, html_escape=True)
    subject = " ".join(merge(subject, fields, html_escape=False).split())
    page = render_template("email/layout.html", body=Markup(body), subject=subject,
                           companyname=fields.get("companyname"))
    return subject, page, html_to_text(body)


class TemplateField(SelectField):
    """Active email templates, loaded when the form is shown or checked (not at import)."""

    def _load(self):
        if self.choices is None:
            rows = (db.session.query(EmailTemplate).filter(EmailTemplate.active.is_(True))
                    .order_by((EmailTemplate.type != TEMPLATE_TYPE), EmailTemplate.name).all())
            self.choices = [("", "— none: write it below —")] + [(t.slug, t.name) for t in rows]

    def iter_choices(self):
        self._load()
        return super().iter_choices()

    def pre_validate(self, form):
        if not self.data:
            return
        self._load()
        if self.data not in {v for v, _ in self.choices}:
            raise ValidationError(f"There is no active email template “{self.data}”.")


class LeadEmailForm(Form):
    to = EmailField("To (empty: the lead's email)", validators=[Optional(), Email(message="Enter a valid address."),
                                                                 Length(max=255)])
    template = TemplateField("Template", choices=None, validate_choice=True)
    subject = StringField("Subject (empty: the template's)", validators=[Optional(), Length(max=255)])
    body = TextAreaField("Message (empty: the template's)", validators=[Optional(), Length(max=50000)])


def _no_email(lead: Lead) -> str | None:
    if not (lead.email or "").strip():
        return f"Lead {lead.name} has no email address; add one to the lead before emailing it."
    return None


def _written(to: str, template: str | None, subject: str | None, body: str | None, fields: dict, actor,
             rel_type: str, rel_id: int):
    """Queue what the person wrote (or the template they chose) to ``to``; returns (outbox row, subject)."""
    subject, body = (subject or "").strip(), (body or "").strip()
    tpl = db.session.query(EmailTemplate).filter_by(slug=template).one_or_none() if template else None
    if tpl is not None and not tpl.active:
        raise ActionError(f"The email template “{tpl.name}” is disabled; enable it in Settings → Email templates.")
    if tpl is None and not subject:
        raise ActionInvalid({"subject": ["Write a subject or choose a template."]})
    if tpl is None and not body:
        raise ActionInvalid({"body": ["Write the message or choose a template."]})
    subject, html, text = compose(subject or tpl.subject, text_to_html(body) if body else tpl.message, fields)
    msg = queue_email(to, subject, html, text, rel_type=rel_type, rel_id=rel_id,
                      template=tpl.slug if tpl else None, actor=actor)
    return msg, subject


def _queued(to: str) -> str:
    if not smtp_url():
        return f"Email to {to} queued; no SMTP is configured, so it waits in {OUTBOX}"
    return f"Email to {to} queued for sending"


@action(Lead, "send_email", "Send email", form=LeadEmailForm, precondition=_no_email, icon="fa-envelope-o")
def send_email(lead: Lead, actor, to: str | None = None, template: str | None = None, subject: str | None = None,
               body: str | None = None):
    to = (to or "").strip() or lead.email.strip()
    msg, subject = _written(to, template, subject, body, lead_fields(lead, actor), actor, "lead", lead.id)
    log_lead_activity(lead, actor, f"Sent an email to {to}: {subject}", f"outbox #{msg.id}")
    return _queued(to)


# --- clients -------------------------------------------------------------------------------

class ClientEmailForm(LeadEmailForm):
    to = EmailField("To (empty: the primary contact's email)",
                    validators=[Optional(), Email(message="Enter a valid address."), Length(max=255)])


# No precondition: it would cost the clients grid a query per row; the action checks instead.
@action(Client, "send_email", "Send email", form=ClientEmailForm, icon="fa-envelope-o")
def send_client_email(client: Client, actor, to: str | None = None, template: str | None = None,
                      subject: str | None = None, body: str | None = None):
    contact = primary_contact(client.userid)
    if contact is None:
        raise ActionError(f"Client {client.company} has no primary contact with an email; add one under the "
                          "client's contacts before emailing it.")
    to = (to or "").strip() or contact.email.strip()
    first, _, last = str(contact).partition(" ")
    fields = {"client_company": client.company or "", "contact_name": str(contact), "contact_firstname": first,
              "contact_lastname": last, "companyname": options.get("companyname"),
              "staff_name": getattr(actor, "full_name", "") or "", "staff_email": getattr(actor, "email", "") or ""}
    _written(to, template, subject, body, fields, actor, "client", client.userid)
    return _queued(to)
