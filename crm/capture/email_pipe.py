"""Email capture: `crm leads pipe` (one RFC 822 message on stdin) and IMAP polling.

Both go through :func:`capture_message`: a Message-ID seen before creates nothing; a sender who
already is a lead gets a note and an activity line on that lead; anyone else becomes a new lead
(From → name and email, Subject and body text → description) with the ``leads_email_source``
source and the default pipeline's first status.
"""
from __future__ import annotations

import hashlib
import imaplib
import json
import logging
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser

from crm.capture.leads import EMAIL, capture_lead
from crm.capture.models import LeadEmailMessage
from crm.core import options
from crm.core.activity import log_activity
from crm.sales.actions.sales_activity import log_lead_activity
from crm.core.extensions import db
from crm.core.jobs import job
from crm.core.registry import ActionError
from crm.sales.models.clients import Lead, Note

log = logging.getLogger(__name__)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _html_text(markup: str) -> str:
    p = _Text()
    p.feed(markup)
    return re.sub(r"\n{3,}", "\n\n", "".join(p.parts)).strip()


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        content = part.get_payload(decode=True).decode("utf-8", "replace")
    if not isinstance(content, str):
        return ""
    return _html_text(content) if part.get_content_type() == "text/html" else content.strip()


def _message_id(msg: EmailMessage, raw: bytes) -> str:
    mid = str(msg.get("Message-ID") or "").strip()
    # No Message-ID (some forms and scripts): the content itself identifies the message.
    return mid[:255] if mid else f"<sha256:{hashlib.sha256(raw).hexdigest()}>"


def _sender(msg: EmailMessage) -> tuple[str, str]:
    try:
        addresses = msg["From"].addresses if msg["From"] is not None else ()
    except (AttributeError, IndexError, ValueError):
        addresses = ()
    addr = next((a for a in addresses if a.addr_spec and "@" in a.addr_spec), None)
    if addr is None:
        raise ActionError("From: the message has no sender address, so no lead can be made from it.",
                          field="from")
    return (addr.display_name or "").strip(), addr.addr_spec.strip().lower()


def capture_message(raw: bytes) -> tuple[str, object]:
    """Capture one raw message; returns (outcome, lead) with outcome 'lead', 'note' or 'duplicate'.

    The caller commits. Raises ActionError (nothing written) for a message without a sender or
    when no pipeline exists.
    """
    msg = parse(raw)
    mid = _message_id(msg, raw)
    seen = db.session.query(LeadEmailMessage).filter_by(message_id=mid).one_or_none()
    if seen is not None:
        return "duplicate", seen.lead
    name, address = _sender(msg)
    subject = str(msg.get("Subject") or "").strip()
    body = body_text(msg)
    text = (f"Subject: {subject}\n\n" if subject else "") + body
    lead = (db.session.query(Lead).filter(db.func.lower(Lead.email) == address)
            .order_by(Lead.is_opportunity, Lead.id.desc()).first())
    if lead is not None:
        outcome = "note"
        db.session.add(Note(rel_type="lead", rel_id=lead.id, description=text or "(empty message)"))
        log_lead_activity(lead, None, f"Email received from {address}" + (f": {subject}" if subject else ""),
                          json.dumps({"message_id": mid}))
    else:
        outcome = "lead"
        lead = capture_lead({"name": (name or address.split("@")[0])[:191], "email": address[:100],
                             "description": text or None},
                            source=options.get("leads_email_source") or EMAIL, channel=f"email from {address}",
                            details=json.dumps({"message_id": mid, "subject": subject}))
    db.session.add(LeadEmailMessage(message_id=mid, leadid=lead.id, from_email=address[:100],
                                    subject=subject[:255] or None, outcome=outcome))
    db.session.flush()
    return outcome, lead


def describe(outcome: str, lead) -> str:
    if outcome == "duplicate":
        return "Already captured; nothing done" + (f" (lead #{lead.id})" if lead is not None else "")
    return f"Lead #{lead.id} created" if outcome == "lead" else f"Note added to lead #{lead.id}"


# --- IMAP ----------------------------------------------------------------------------------

def imap_settings() -> dict | None:
    host = (options.get("leads_imap_host") or "").strip()
    if not host:
        return None
    return {"host": host, "port": options.get("leads_imap_port"), "user": options.get("leads_imap_user"),
            "password": options.get("leads_imap_password"), "folder": options.get("leads_imap_folder") or "INBOX",
            "ssl": options.get("leads_imap_ssl")}


def poll_mailbox(settings: dict, timeout: float = 30) -> dict:
    """Capture every UNSEEN message of the folder and mark it seen. Returns counts by outcome.

    Each message is its own transaction: a message that cannot be captured is logged in the
    activity log, marked seen (it stays in the mailbox) and does not stop the others.
    """
    cls = imaplib.IMAP4_SSL if settings["ssl"] else imaplib.IMAP4
    counts = {"lead": 0, "note": 0, "duplicate": 0, "failed": 0}
    conn = cls(settings["host"], int(settings["port"]), timeout=timeout)
    try:
        if settings.get("user"):
            conn.login(settings["user"], settings["password"] or "")
        typ, _ = conn.select(_quote(settings["folder"]))
        if typ != "OK":
            raise ActionError(f"IMAP folder {settings['folder']!r} cannot be opened.", field="leads_imap_folder")
        typ, data = conn.uid("SEARCH", None, "UNSEEN")
        uids = data[0].split() if typ == "OK" and data and data[0] else []
        for uid in uids:
            typ, fetched = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in fetched or () if isinstance(part, tuple)), None)
            if typ != "OK" or raw is None:
                counts["failed"] += 1
                continue
            try:
                outcome, _lead = capture_message(raw)
                db.session.commit()
                counts[outcome] += 1
            except ActionError as exc:
                db.session.rollback()
                counts["failed"] += 1
                log_activity(None, f"Email capture: message UID {uid.decode()} in {settings['folder']} "
                                   f"skipped: {exc.message}", rel_type="leads_email")
                db.session.commit()
            conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return counts


def _quote(folder: str) -> str:
    return folder if re.fullmatch(r"[A-Za-z0-9_./-]+", folder) else '"' + folder.replace('"', '\\"') + '"'


@job
def poll_leads_mailbox():
    """Every few minutes: new mail in the leads mailbox becomes leads (or notes on known leads)."""
    settings = imap_settings()
    if settings is None:
        return "no IMAP mailbox configured (leads_imap_host)"
    counts = poll_mailbox(settings)
    return ", ".join(f"{n} {k}" for k, n in counts.items())
