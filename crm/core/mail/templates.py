"""Email templates with {merge_fields}, stored in tblemailtemplates and edited in Settings.

Merge fields are replaced by a plain regular expression, never by ``str.format`` or Jinja:
a template cannot reach attributes or run code, values are HTML-escaped in the message, and an
unknown {field} is left as written so a typo shows in the outbox instead of vanishing.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from flask import render_template
from markupsafe import Markup, escape

from crm.core.extensions import db
from crm.core.models.messaging import EmailTemplate

FIELD = re.compile(r"\{([a-z][a-z0-9_]*)\}")

_BUTTON = ('<p><a href="{portal_link}" style="background:#1f6feb;color:#fff;padding:8px 14px;'
           'border-radius:4px;text-decoration:none">{link_label}</a></p>'
           '<p style="color:#666;font-size:12px">Or open this address: {portal_link}</p>')

# slug: (type, name, subject, message)
DEFAULTS: dict[str, tuple[str, str, str, str]] = {
    "proposal-send-to-customer": (
        "proposals", "Send proposal to customer", "Proposal {proposal_number} from {companyname}",
        "<p>Dear {contact_name},</p>"
        "<p>Please find our proposal <b>{proposal_number}</b> – {proposal_subject} attached, for a total of "
        "<b>{total}</b>, valid until {open_till}.</p>"
        "<p>You can review it, accept it or ask for changes online:</p>" + _BUTTON
        + "<p>Kind regards,<br>{staff_name}<br>{companyname}</p>"),
    "estimate-send-to-client": (
        "estimate", "Send sales order to customer", "Sales order {estimate_number} from {companyname}",
        "<p>Dear {contact_name},</p>"
        "<p>Please find sales order <b>{estimate_number}</b> attached, for a total of <b>{total}</b>"
        ", valid until {expiry_date}.</p>" + _BUTTON
        + "<p>Kind regards,<br>{staff_name}<br>{companyname}</p>"),
    "invoice-send-to-client": (
        "invoice", "Send invoice to customer", "Invoice {invoice_number} from {companyname}",
        "<p>Dear {contact_name},</p>"
        "<p>Please find invoice <b>{invoice_number}</b> attached: <b>{total}</b>, due on {due_date}.</p>"
        "<p>You can view, download and pay it online:</p>" + _BUTTON
        + "<p>Kind regards,<br>{staff_name}<br>{companyname}</p>"),
    "proposal-sent-to-staff": (
        "staff", "Proposal sent (notification to the assigned staff member)",
        "Proposal {proposal_number} was sent to {client_company}",
        "<p>Hello {assigned_name},</p>"
        "<p>{staff_name} sent proposal <b>{proposal_number}</b> – {proposal_subject} ({total}) to "
        "{client_company} at {recipient}.</p>"
        '<p>Client portal link: <a href="{portal_link}">{portal_link}</a></p>'),
    "staff-notification": (
        "staff", "Notification (to the staff member told, see /admin/notifications)", "{notification}",
        "<p>Hello {staff_name},</p>"
        "<p>{notification}.</p>"
        '<p><a href="{link}">Open {about}</a></p>'
        '<p style="color:#666;font-size:12px">You get these emails because notifications are emailed to staff '
        "(Settings → Options: notifications_email_staff).</p>"),
    "staff-reminder": (
        "staff", "Reminder (to the staff member it is for)", "Reminder: {reminder_about}",
        "<p>Hello {staff_name},</p>"
        "<p>A reminder set for {reminder_date} (UTC):</p>"
        "<blockquote>{reminder_description}</blockquote>"
        '<p>About: <a href="{reminder_link}">{reminder_about}</a></p>'),
}


@dataclass
class RenderedEmail:
    subject: str
    html: str
    text: str
    slug: str
    fromname: str | None = None


def ensure_email_templates() -> int:
    """Add the default templates that are missing (never overwrite an admin's edits). Caller commits."""
    have = {slug for (slug,) in db.session.query(EmailTemplate.slug)}
    added = 0
    for slug, (kind, name, subject, message) in DEFAULTS.items():
        if slug not in have:
            db.session.add(EmailTemplate(slug=slug, type=kind, name=name, subject=subject, message=message,
                                         active=True))
            added += 1
    return added


def merge(text: str, fields: dict, *, html_escape: bool) -> str:
    def value(m):
        if m.group(1) not in fields:
            return m.group(0)
        v = fields[m.group(1)]
        v = "" if v is None else str(v)
        return str(escape(v)) if html_escape else v

    return FIELD.sub(value, text or "")


def html_to_text(markup: str) -> str:
    """A readable plain-text alternative of an HTML message."""
    text = re.sub(r'<a\s[^>]*href="([^"]*)"[^>]*>(.*?)</a>',
                  lambda m: m.group(2) if m.group(1) in m.group(2) else f"{m.group(2)} ({m.group(1)})",
                  markup, flags=re.S | re.I)
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.I)
    text = re.sub(r"</(p|div|h[1-6]|li|tr)>", "\n\n", text, flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    lines = [ln.strip() for ln in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def render_email(slug: str, fields: dict) -> RenderedEmail | None:
    """The template ``slug`` with ``fields`` merged in; None when an admin disabled it."""
    tpl = db.session.query(EmailTemplate).filter_by(slug=slug).one_or_none()
    if tpl is None:
        _kind, _name, subject, message = DEFAULTS[slug]
        fromname = None
    elif not tpl.active:
        return None
    else:
        subject, message, fromname = tpl.subject, tpl.message, tpl.fromname
    body = merge(message, fields, html_escape=True)
    # A subject is a header, not HTML: no escaping, but no line breaks either.
    subject = " ".join(merge(subject, fields, html_escape=False).split())
    page = render_template("email/layout.html", body=Markup(body), subject=subject,
                           companyname=fields.get("companyname"))
    return RenderedEmail(subject=subject, html=page, text=html_to_text(body), slug=slug, fromname=fromname)
