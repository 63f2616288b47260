"""Marketing campaigns: choose the audience, send now or at a set time, one outbox email per address.

``send`` (or the ``send_scheduled_campaigns`` job when the time comes) moves a campaign to
Sending and enqueues :func:`deliver_campaign`, which walks the audience and, per address, writes a
tblmarketing_campaign_recipients row and queues its email with an unsubscribe link, committing
each one. The row is unique per (campaign, address): a second run, a retry after a crash or two
workers at once add nobody twice. Addresses in tblmarketing_unsubscribes are recorded as skipped;
audience members without an address are counted.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from wtforms import Form
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, ValidationError

from crm.core import options
from crm.core.documents import base_url
from crm.core.extensions import db
from crm.core.jobs import enqueue, job
from crm.core.mail import queue_email
from crm.core.models.messaging import EmailOutbox
from crm.core.registry import ActionError, action
from crm.sales.actions.activity_email import compose, lead_fields
from crm.sales.actions.lead_activity import DATETIME_FORMATS
from crm.sales.models.clients import Client, Contact, Lead
from crm.sales.models.marketing import (
    CampaignRecipient,
    CampaignStatus,
    MarketingCampaign,
    MarketingUnsubscribe,
    RecipientStatus,
)

log = logging.getLogger(__name__)
S = CampaignStatus


# --- the audience ------------------------------------------------------------------------------

def _norm(email: str | None) -> str:
    return (email or "").strip().lower()


def audience(c: MarketingCampaign) -> tuple[list[tuple[str, object]], int]:
    """([(address, lead or contact)], how many members have no address): leads first, each address once."""
    members: list[object] = []
    if c.audience_leads:
        q = db.session.query(Lead).filter(Lead.junk.is_(False))
        if not c.include_lost:
            q = q.filter(Lead.lost.is_(False))
        for column, value in ((Lead.status, c.lead_status), (Lead.source, c.lead_source),
                              (Lead.pipeline, c.lead_pipeline)):
            if value is not None:
                q = q.filter(column == value)
        members += q.order_by(Lead.id).all()
    if c.audience_contacts:
        members += (db.session.query(Contact).join(Client, Client.userid == Contact.userid)
                    .filter(Contact.active.is_(True), Client.active.is_(True)).order_by(Contact.id).all())
    seen, out, no_email = set(), [], 0
    for m in members:
        email = _norm(m.email)
        if not email:
            no_email += 1
        elif email not in seen:
            seen.add(email)
            out.append((email, m))
    return out, no_email


def _fields(member, link: str) -> dict:
    if isinstance(member, Lead):
        fields = lead_fields(member)
        fields.update(name=member.name or "", company=member.company or "")
    else:
        fields = {"companyname": options.get("companyname"), "name": str(member),
                  "company": member.client.company if member.client else ""}
    fields.update(email=member.email or "", unsubscribe_link=link, firstname=(fields["name"].split() or [""])[0])
    return fields


def unsubscribe_url(token: str) -> str:
    return f"{base_url()}/portal/unsubscribe/{token}"


_FOOTER = ('<p style="color:#777;font-size:11px;margin-top:24px">You receive this email from {companyname}. '
           '<a href="{unsubscribe_link}">Unsubscribe</a> from future campaigns.</p>')


# --- sending -----------------------------------------------------------------------------------

def _add(c: MarketingCampaign, email: str, member, opted_out: set[str]) -> str:
    """One recipient, in its own commit: 'queued', 'unsubscribed', or 'had' when already there."""
    token = secrets.token_urlsafe(24)
    row = CampaignRecipient(campaign_id=c.id, email=email, token=token,
                            lead_id=member.id if isinstance(member, Lead) else None,
                            contact_id=member.id if isinstance(member, Contact) else None,
                            status=RecipientStatus.UNSUBSCRIBED.value if email in opted_out
                            else RecipientStatus.QUEUED.value)
    db.session.add(row)
    try:
        db.session.flush()  # the unique (campaign, email) refuses a second row here
    except IntegrityError:
        db.session.rollback()
        return "had"
    if row.status == RecipientStatus.QUEUED.value:
        subject, html, text = compose(c.subject, c.body + _FOOTER, _fields(member, unsubscribe_url(token)))
        row.outbox_id = queue_email(member.email.strip(), subject, html, text, rel_type="campaign",
                                    rel_id=c.id, template=f"campaign-{c.id}").id
    db.session.commit()
    return row.status


@job
def deliver_campaign(campaign_id: int) -> str:
    """Queue the campaign's email for each address of its audience not reached yet. Safe to run twice."""
    c = db.session.get(MarketingCampaign, campaign_id)
    if c is None or c.status != S.SENDING.value:
        return f"campaign #{campaign_id} is not being sent; nothing to do"
    have = {e for (e,) in db.session.query(CampaignRecipient.email).filter_by(campaign_id=c.id)}
    opted_out = {e for (e,) in db.session.query(MarketingUnsubscribe.email)}
    members, no_email = audience(c)
    counts = {"queued": 0, "unsubscribed": 0, "had": 0}
    for email, member in members:
        if email in have:
            continue
        try:
            counts[_add(c, email, member, opted_out)] += 1
        except Exception:  # noqa: BLE001 - one bad address must not stop the campaign; a rerun retries it
            db.session.rollback()
            log.exception("campaign #%s: %s could not be queued", campaign_id, email)
            return f"campaign #{campaign_id} stopped at {email}; run it again to continue"
    c = db.session.get(MarketingCampaign, campaign_id)
    c.skipped_no_email, c.status, c.sent_at = no_email, S.SENT.value, datetime.utcnow()
    db.session.commit()
    return (f"campaign #{campaign_id}: {counts['queued']} email(s) queued, {counts['unsubscribed']} unsubscribed "
            f"skipped, {no_email} without email")


def _can_send(c: MarketingCampaign) -> str | None:
    if c.status not in (S.DRAFT.value, S.SCHEDULED.value):
        return f"Campaign “{c.name}” is {S.label_of(c.status)}; a campaign is sent once; create a new one to send again."
    if not c.audience_leads and not c.audience_contacts:
        return f"Campaign “{c.name}” has no audience: choose leads, client contacts or both."
    return None


@action(MarketingCampaign, "send", "Send now", precondition=_can_send, confirm="Send this campaign now?",
        icon="fa-paper-plane")
def send(c: MarketingCampaign, actor):
    members, no_email = audience(c)
    if not members:
        raise ActionError(f"Campaign “{c.name}” has nobody to send to: no lead or contact of its audience has an "
                          f"email address ({no_email} without one); widen the audience.")
    c.status = S.SENDING.value
    enqueue(deliver_campaign, c.id)
    return f"Sending to {len(members)} address(es)" + (f"; {no_email} without email skipped" if no_email else "")


class ScheduleForm(Form):
    scheduled_at = DateTimeLocalField("Send on (UTC)", format=DATETIME_FORMATS,
                                      validators=[DataRequired(message="Give the date and time to send it.")])

    def validate_scheduled_at(self, field):
        if field.data and field.data <= datetime.utcnow():
            raise ValidationError(f"{field.data:%Y-%m-%d %H:%M} is in the past; choose a later time (UTC).")


@action(MarketingCampaign, "schedule", "Schedule", form=ScheduleForm, precondition=_can_send, icon="fa-clock-o")
def schedule(c: MarketingCampaign, actor, scheduled_at: datetime):
    c.status, c.scheduled_at = S.SCHEDULED.value, scheduled_at
    return f"Scheduled for {scheduled_at:%Y-%m-%d %H:%M} UTC"


def send_scheduled(now: datetime | None = None) -> int:
    """Scheduled campaigns whose time has come start sending (each claimed once). Returns how many."""
    now = now or datetime.utcnow()
    due = [cid for (cid,) in db.session.query(MarketingCampaign.id).filter(
        MarketingCampaign.status == S.SCHEDULED.value, MarketingCampaign.scheduled_at <= now)]
    started = 0
    for cid in due:
        claimed = db.session.execute(
            update(MarketingCampaign).where(MarketingCampaign.id == cid, MarketingCampaign.status == S.SCHEDULED.value)
            .values(status=S.SENDING.value).execution_options(synchronize_session=False)).rowcount == 1
        if claimed:
            enqueue(deliver_campaign, cid)
            started += 1
        db.session.commit()
    return started


# --- opting out --------------------------------------------------------------------------------

def unsubscribe(token: str, ip: str | None = None) -> CampaignRecipient | None:
    """Record the opt-out of the address a campaign link was sent to; None for an unknown link."""
    row = db.session.query(CampaignRecipient).filter_by(token=token).one_or_none()
    if row is None:
        return None
    if not db.session.query(MarketingUnsubscribe).filter_by(email=row.email).first():
        db.session.add(MarketingUnsubscribe(email=row.email, campaign_id=row.campaign_id, ip=ip))
        try:
            db.session.commit()
        except IntegrityError:  # the same person clicked twice at once
            db.session.rollback()
    return row


# --- the campaign page -------------------------------------------------------------------------

def campaign_counts(c: MarketingCampaign) -> dict:
    """Recipients, sent, failed, waiting, skipped and unsubscribed, for the campaign's details page."""
    rows = (db.session.query(CampaignRecipient.status, EmailOutbox.status, func.count())
            .outerjoin(EmailOutbox, EmailOutbox.id == CampaignRecipient.outbox_id)
            .filter(CampaignRecipient.campaign_id == c.id)
            .group_by(CampaignRecipient.status, EmailOutbox.status).all())
    queued = {mail: n for status, mail, n in rows if status == RecipientStatus.QUEUED.value}
    counts = {
        "recipients": sum(queued.values()),
        "sent": queued.get("sent", 0),
        "failed": queued.get("failed", 0),
        "waiting": sum(n for mail, n in queued.items() if mail not in ("sent", "failed")),
        "skipped_unsubscribed": sum(n for status, _mail, n in rows if status == RecipientStatus.UNSUBSCRIBED.value),
        "skipped_no_email": c.skipped_no_email or 0,
        "unsubscribed": db.session.query(func.count(MarketingUnsubscribe.id))
        .filter(MarketingUnsubscribe.campaign_id == c.id).scalar(),
    }
    if c.status in (S.DRAFT.value, S.SCHEDULED.value):
        members, no_email = audience(c)
        counts["audience"], counts["skipped_no_email"] = len(members), no_email
    return {"counts": counts, "status": S.label_of(c.status)}
