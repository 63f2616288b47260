"""Contract actions: send for signature, mark signed on paper, the client's signature from the portal,
and the expiry reminder.

A contract is signed once: by the client in the portal (name, email and a drawn signature, as a
proposal is accepted: crm/sales/actions/acceptance.py) or by staff recording a paper signature (who
signed and when). The reminder goes ``contract_expiration_before`` days before ``dateend`` to the
staff member who added the contract (and to the client's primary contact when
``contract_expiry_notify_client`` is on), once per contract: ``isexpirynotified`` is claimed with
one conditional UPDATE, and an extended end date clears it so the new end is reminded again.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import event as sa_event, inspect, update
from wtforms import DateField, EmailField, Form, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from crm.core import events, options
from crm.core.activity import log_activity
from crm.core.documents import base_url, fmt, pdf_filename, public_url, render_pdf
from crm.core.extensions import db
from crm.core.mail import queue_email, render_email, smtp_url
from crm.core.mail.templates import DEFAULTS
from crm.core.models.settings import Staff
from crm.core.registry import ActionError, action
from crm.sales.actions.acceptance import log_client, portal_transaction, record_acceptance, refuse_if_expired
from crm.sales.actions.sales_activity import log_sales_activity
from crm.sales.actions.sending import OUTBOX, primary_contact
from crm.sales.models.documents import Contract

log = logging.getLogger(__name__)

events.register(Contract, created="contract.created", described={
    "contract.created": "A contract was created",
    "contract.sent": "A contract was emailed to the client for signature",
    "contract.signed": "A contract was signed (in the portal or on paper)",
    "contract.expiring": "A contract reaches its end date soon (expiry reminder sent)",
})

_LINK = ('<p><a href="{portal_link}" style="background:#1f6feb;color:#fff;padding:8px 14px;'
         'border-radius:4px;text-decoration:none">Read and sign the contract</a></p>'
         '<p style="color:#666;font-size:12px">Or open this address: {portal_link}</p>')
# Default templates (editable in Settings → Email templates; never overwritten once stored).
DEFAULTS.update({
    "send-contract": (
        "contract", "Send contract to customer for signature", "Contract: {contract_subject} – {companyname}",
        "<p>Dear {contact_name},</p>"
        "<p>Please find attached the contract <b>{contract_subject}</b> ({contract_value}, from {contract_datestart}"
        " to {contract_dateend}).</p><p>You can read and sign it online:</p>" + _LINK
        + "<p>Kind regards,<br>{staff_name}<br>{companyname}</p>"),
    "contract-expiration-to-staff": (
        "staff", "Contract expiry reminder (to the staff member who added it)",
        "Contract {contract_subject} ends on {contract_dateend}",
        "<p>Hello {staff_name},</p><p>The contract <b>{contract_subject}</b> with {client_company} "
        "({contract_value}) ends on <b>{contract_dateend}</b>.</p>"
        '<p><a href="{contract_link}">Open the contract</a></p>'),
    "contract-expiration": (
        "contract", "Contract expiry reminder (to the customer)", "Your contract {contract_subject} ends on {contract_dateend}",
        "<p>Dear {contact_name},</p><p>Your contract <b>{contract_subject}</b> with {companyname} ends on "
        "<b>{contract_dateend}</b>. Contact us to renew it.</p>"),
})


def _name(c: Contract) -> str:
    return f"Contract “{c.subject}” (#{c.id})"


def _signed_text(c: Contract) -> str:
    who = " ".join(p for p in (c.acceptance_firstname, c.acceptance_lastname) if p)
    return (f" by {who}" if who else "") + (f" on {c.acceptance_date:%Y-%m-%d}" if c.acceptance_date else "")


def _closed(c: Contract) -> str | None:
    """Why a contract can no longer be signed, or None."""
    if c.trash:
        return f"{_name(c)} is in the trash; restore it first."
    if c.signed:
        return f"{_name(c)} was already signed{_signed_text(c)}; a signed contract is not signed again."
    return None


def _expired(c: Contract, today: date | None = None) -> str | None:
    if c.dateend is not None and c.dateend < (today or date.today()):
        return (f"{_name(c)} ended on {c.dateend:%Y-%m-%d}; set a later end date before it is signed.")
    return None


def _may_send(c: Contract) -> str | None:
    if refusal := _closed(c) or _expired(c):
        return refusal
    if c.not_visible_to_client:
        return f"{_name(c)} is hidden from the client (not visible to client); make it visible to send it."
    return None


def _fields(c: Contract, actor=None, contact_name: str = "", link: str = "") -> dict:
    return {"companyname": options.get("companyname"), "client_company": c.client_rel.company,
            "contact_name": contact_name or c.client_rel.company, "contract_subject": c.subject,
            "contract_value": fmt(c.contract_value, options.get("base_currency") or "")
            if c.contract_value is not None else "-",
            "contract_datestart": f"{c.datestart:%Y-%m-%d}" if c.datestart else "-",
            "contract_dateend": f"{c.dateend:%Y-%m-%d}" if c.dateend else "-",
            "staff_name": getattr(actor, "full_name", "") or "", "portal_link": link}


def _render(slug: str, fields: dict):
    rendered = render_email(slug, fields)
    if rendered is None:
        raise ActionError(f"The email template “{slug}” is disabled; enable it in Settings → Email templates.")
    return rendered


@action(Contract, "send_for_signature", "Send for signature", precondition=_may_send, icon="fa-envelope")
def send_for_signature(c: Contract, actor):
    """Email the contract's PDF and its portal link (where the client signs) to the primary contact."""
    contact = primary_contact(c.client)
    if contact is None:
        raise ActionError(f"{_name(c)} cannot be sent: client {c.client_rel.company} has no primary contact with "
                          "an email; add one under the client's contacts.")
    link = public_url(c)
    mail = _render("send-contract", _fields(c, actor, str(contact), link))
    queue_email(contact.email, mail.subject, mail.html, mail.text,
                attachments=[(pdf_filename(c), render_pdf(c), "application/pdf")],
                rel_type="contract", rel_id=c.id, template=mail.slug, actor=actor)
    log_sales_activity(c, actor, f"Sent for signature to {contact.email}")
    events.emit("contract.sent", c, actor)
    if not smtp_url():
        return f"Queued for {contact.email}; no SMTP is configured, so it waits in {OUTBOX}"
    return f"Emailed to {contact.email} for signature"


def _not_in_future(form, field):
    if field.data and field.data > date.today():
        raise ValidationError(f"{field.data:%Y-%m-%d} is in the future; give the date it was signed.")


class MarkSignedForm(Form):
    signer = StringField("Signed by (the client's signatory)",
                         validators=[DataRequired(message="Say who signed the contract."), Length(max=100)])
    signer_email = EmailField("Signatory's email (optional)", validators=[Optional(), Email(), Length(max=100)])
    signed_on = DateField("Signed on", validators=[DataRequired(message="Give the date it was signed (YYYY-MM-DD)."),
                                                   _not_in_future])


@action(Contract, "mark_signed", "Mark as signed (on paper)", form=MarkSignedForm, precondition=_closed,
        icon="fa-pencil-square-o")
def mark_signed(c: Contract, actor, signer: str, signed_on: date, signer_email: str | None = None):
    first, _, last = " ".join(signer.split()).partition(" ")
    c.acceptance_firstname, c.acceptance_lastname = first[:50], last[:50] or None
    c.acceptance_email = signer_email or None
    c.acceptance_date = datetime.combine(signed_on, time())
    c.signed = c.marked_as_signed = True
    events.emit("contract.signed", c, actor, on_paper=True)
    return f"{_name(c)} marked as signed on paper by {signer.strip()} on {signed_on:%Y-%m-%d}"


# --- the client, from the portal --------------------------------------------------------------

def open_to_client(c: Contract) -> None:
    """Raise ActionError with the reason the client cannot sign now."""
    if c.signed:
        raise ActionError(f"This contract was already signed{_signed_text(c)}.")
    if c.trash or c.not_visible_to_client:
        raise ActionError("This contract is not open for signature.")
    refuse_if_expired(c, c.dateend, "contract")


@portal_transaction
def client_sign(c: Contract, firstname: str, lastname: str, email: str, signature: str | None, ip: str | None):
    open_to_client(c)
    record_acceptance(c, firstname, lastname, email, signature, ip)
    c.signed = True
    log_client(c, f"contract “{c.subject}”", "signed", f"{firstname} {lastname}", ip)
    events.emit("contract.signed", c, None)


# --- expiry reminder --------------------------------------------------------------------------

@sa_event.listens_for(Contract.dateend, "set")
def _new_end_date(target, value, oldvalue, initiator):
    # A stored contract given a new end date is reminded again before that one.
    if value != oldvalue and inspect(target).persistent and target.isexpirynotified:
        target.isexpirynotified = False


def _remind(c: Contract) -> int:
    """Queue the reminder emails of one contract; returns how many."""
    sent = 0
    owner = db.session.get(Staff, c.addedfrom) if c.addedfrom else None
    fields = _fields(c)
    if owner is not None and owner.active and owner.email:
        mail = render_email("contract-expiration-to-staff", {
            **fields, "staff_name": owner.full_name, "contract_link": f"{base_url()}/admin/contracts/details/?id={c.id}"})
        if mail is not None:
            queue_email(owner.email, mail.subject, mail.html, mail.text, rel_type="contract", rel_id=c.id,
                        template=mail.slug)
            sent += 1
    if options.get("contract_expiry_notify_client"):
        contact = primary_contact(c.client)
        if contact is not None and contact.contract_emails:
            mail = render_email("contract-expiration", {**fields, "contact_name": str(contact)})
            if mail is not None:
                queue_email(contact.email, mail.subject, mail.html, mail.text, rel_type="contract", rel_id=c.id,
                            template=mail.slug)
                sent += 1
    return sent


def send_expiry_reminders(today: date | None = None) -> tuple[int, int]:
    """Contracts ending within ``contract_expiration_before`` days, not reminded yet: remind each
    once. Returns (contracts reminded, emails queued). Safe to run twice, even at the same time."""
    today = today or date.today()
    horizon = today + timedelta(days=max(int(options.get("contract_expiration_before") or 0), 0))
    due = [cid for (cid,) in db.session.query(Contract.id).filter(
        Contract.trash.is_(False), Contract.isexpirynotified.is_(False), Contract.dateend.isnot(None),
        Contract.dateend >= today, Contract.dateend <= horizon).order_by(Contract.dateend, Contract.id)]
    reminded = emails = 0
    for cid in due:
        try:
            claimed = db.session.execute(
                update(Contract).where(Contract.id == cid, Contract.isexpirynotified.is_(False))
                .values(isexpirynotified=True).execution_options(synchronize_session=False)).rowcount == 1
            if not claimed:  # another run took it
                db.session.rollback()
                continue
            c = db.session.get(Contract, cid, populate_existing=True)
            emails += _remind(c)
            log_activity(None, f"Expiry reminder sent: contract #{c.id} ends on {c.dateend:%Y-%m-%d}",
                         rel_type="contracts", rel_id=c.id)
            events.emit("contract.expiring", c, None)
            db.session.commit()
            reminded += 1
        except Exception:  # noqa: BLE001 - one bad contract must not stop the others; retried next run
            db.session.rollback()
            log.exception("expiry reminder of contract #%s failed", cid)
    return reminded, emails
