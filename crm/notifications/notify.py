"""The subscriber: one notification (and email) per rule recipient, never to the actor."""
from __future__ import annotations

import json
from contextlib import contextmanager

from crm.core import events, options
from crm.core.documents import base_url, currency_of, fmt, kind_of, number_of, public_url
from crm.core.extensions import db
from crm.core.mail import queue_email, render_email
from crm.core.models.settings import Staff
from crm.core.resources import primary_key, resource_name, resource_of
from crm.notifications.models import Notification, NotificationPreference
from crm.notifications.rules import BY_EVENT, Rule
from crm.sales.actions.sending import merge_fields, recipient
from crm.sales.models.clients import Client

CLIENT_NAME = "crm_portal_client"  # session.info: the name a client gave in the portal
SALES_DOCUMENTS = ("Proposal", "Estimate", "Invoice")

events.register(None, described={"proposal.commented": "The client commented on a proposal in the portal"})


@contextmanager
def portal_client(name: str | None):
    """Name the client acting in the portal for the events of the block (no staff member is)."""
    session = db.session()
    session.info[CLIENT_NAME] = (name or "").strip()
    try:
        yield
    finally:
        session.info.pop(CLIENT_NAME, None)


def unread_count(staff) -> int:
    return db.session.query(Notification).filter(Notification.touserid == staff.staffid,
                                                 Notification.isread.is_(False)).count()


def wants_email(staffid: int) -> bool:
    """The staff member's own choice (/admin/notifications); emailed unless they switched it off."""
    pref = db.session.query(NotificationPreference).filter_by(staffid=staffid).one_or_none()
    return pref is None or bool(pref.email)


def set_wants_email(staffid: int, on: bool) -> None:
    """Record the choice; the caller commits."""
    pref = db.session.query(NotificationPreference).filter_by(staffid=staffid).one_or_none()
    if pref is None:
        db.session.add(NotificationPreference(staffid=staffid, email=on))
    else:
        pref.email = on


# --- what the notification says ------------------------------------------------------------------

def label_of(doc) -> str:
    """The number or name a person knows the record by."""
    # cycle: admin_views -> admin_views.notifications -> notifications -> notifications.notify
    from crm.admin_views.factory import display_columns

    if type(doc).__name__ in SALES_DOCUMENTS:
        return number_of(doc)
    for key in display_columns(type(doc)):
        value = getattr(doc, key, None)
        if value:
            return str(value)
    return f"#{getattr(doc, 'id', '')}"


def link_of(doc) -> str:
    """The record's details page in the admin (a path; emails prefix the public address)."""
    url = resource_of(type(doc)).url
    if getattr(doc, "is_opportunity", False):
        url = "opportunities"
    return f"/admin/{url}/details/?id={getattr(doc, primary_key(type(doc)))}"


def client_of(doc) -> int | None:
    if type(doc).__name__ == "Proposal":
        return doc.rel_id if doc.rel_type == "customer" else None
    return getattr(doc, "clientid", None)


def client_name_of(doc) -> str:
    if type(doc).__name__ == "Proposal" and doc.proposal_to:
        return doc.proposal_to
    client = db.session.get(Client, client_of(doc)) if client_of(doc) else None
    return client.company if client is not None else ""


def who(obj, doc, actor, data) -> str:
    if actor is not None:
        return actor.full_name
    name = data.get("who") or db.session.info.get(CLIENT_NAME) or " ".join(
        filter(None, (getattr(doc, "acceptance_firstname", None), getattr(doc, "acceptance_lastname", None))))
    return name.strip() or ("The client" if type(doc).__name__ in SALES_DOCUMENTS else "The system")


def _shorten(text: str, most: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"


def wording(rule: Rule, obj, doc, actor, data) -> str:
    amount = getattr(obj, "amount", None)
    duedate = getattr(doc, "duedate", None)
    extra = {k: v for k, v in data.items() if k not in ("who", "comment")}  # e.g. a goal's total and target
    text = rule.wording.format(**{
        **extra, "who": who(obj, doc, actor, data), "number": label_of(doc),
        "client": client_name_of(doc) if "{client}" in rule.wording else "",
        "amount": fmt(amount, currency_of(doc)) if amount is not None else "",
        "duedate": f"{duedate:%d.%m.%Y}" if duedate else "-", "comment": _shorten(data.get("comment") or "", 140)})
    return text[0].upper() + text[1:]


# --- telling them ----------------------------------------------------------------------------------

def _email(staff, note, rule: Rule, doc, actor) -> None:
    if not options.get("notifications_email_staff") or not staff.email or staff.active is False \
            or not wants_email(staff.staffid):
        return
    if rule.email_template == "proposal-sent-to-staff":
        fields = merge_fields(doc, actor, "", recipient(doc)[0], public_url(doc))
        fields["assigned_name"] = staff.firstname
    else:
        fields = {"staff_name": staff.firstname or staff.full_name, "notification": note.description,
                  "link": base_url() + note.link, "about": label_of(doc),
                  "companyname": options.get("companyname")}
    rendered = render_email(rule.email_template, fields)
    if rendered is None:  # an admin switched the template off
        return
    rel_type = kind_of(doc).name if type(doc).__name__ in SALES_DOCUMENTS else resource_name(type(doc))
    queue_email(staff.email, rendered.subject, rendered.html, rendered.text, rel_type=rel_type,
                rel_id=getattr(doc, "id", None), template=rendered.slug, actor=actor)


def notify_staff(name, obj, actor, data) -> None:
    for rule in BY_EVENT.get(name, ()):
        doc = rule.about(obj) if rule.about else obj
        if doc is None:
            continue
        actor_id = getattr(actor, "staffid", None)
        targets = dict.fromkeys(rule.recipients(doc) if callable(rule.recipients)
                                else (getattr(doc, col, None) for col in rule.recipients))
        for staffid in targets:
            if not staffid or staffid == actor_id:
                continue
            staff = db.session.get(Staff, staffid)
            if staff is None or staff.active is False:
                continue
            note = Notification(
                touserid=staffid, description=wording(rule, obj, doc, actor, data), link=link_of(doc),
                fromuserid=actor_id, fromclientid=client_of(doc) if actor is None else None,
                from_fullname=who(obj, doc, actor, data)[:100], isread=False, isread_inline=False,
                additional_data=json.dumps({"event": name, "rel_id": getattr(doc, "id", None)}))
            db.session.add(note)
            _email(staff, note, rule, doc, actor)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("business_event", "notifications.notify", notify_staff)
