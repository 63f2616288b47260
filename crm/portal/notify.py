"""Tell the document's staff member what the client did in the portal: an activity line (in-app)
and an email through the outbox (crm.mail.queue_email). The caller commits."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from .. import options
from ..actions.activity import log_activity
from ..documents import base_url, kind_of, number_of
from ..mail import html_to_text, queue_email
from ..resources import resource_name


def responsible_staff(doc):
    """The proposal's assigned staff member, the sales order's / invoice's sales agent, the contract's author."""
    return getattr(doc, "assigned_staff", None) or getattr(doc, "sale_agent_staff", None) or \
        (doc.added_by if type(doc).__name__ == "Contract" else None)


def notify_staff(doc, what: str, detail: str | None = None, who: str | None = None) -> None:
    """``what``: "opened", "accepted", "declined", "commented on", "signed"."""
    kind = kind_of(doc)
    number = number_of(doc)
    who = (who or "").strip() or "The client"
    line = f"{who} {what} {kind.title.lower()} {number} in the client portal"
    log_activity(None, f"Staff notified: {line}", rel_type=resource_name(type(doc)), rel_id=doc.id)
    staff = responsible_staff(doc)
    if staff is None or not staff.email or staff.active is False:
        return
    subject = f"{kind.title} {number} was {what} by {who}"
    link = f"{base_url()}/admin/{kind.name}s/"
    body = Markup("<p>Hello {name},</p><p>{line}.</p>{detail}<p><a href=\"{link}\">Open {title}s</a></p>").format(
        name=staff.firstname or "", line=line,
        detail=Markup("<blockquote>{}</blockquote>").format(detail) if detail else "",
        link=link, title=kind.title.lower())
    html = render_template("email/layout.html", body=body, subject=subject, companyname=options.get("companyname"))
    queue_email(staff.email, subject, html, html_to_text(str(body)), rel_type=kind.name, rel_id=doc.id,
                template=f"portal-client-{what.split()[0]}")

