"""e-Factura operations on invoices: generate, send, check, download, and the jobs around them.

Sending is guarded so an invoice is never uploaded twice: the upload is claimed with a
conditional UPDATE (status must still be sendable) and committed as ``uploading`` before the
request leaves; the answer's index_incarcare is committed at once. If no answer comes (a
timeout after the request went out) the status is ``uncertain`` and a person must confirm,
after looking in SPV, before it is sent again. Only a rejected (or refused-at-upload) invoice
goes again without that.
"""
from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from lxml import etree
from sqlalchemy import or_, update

from crm.core import options, storage
from crm.core.company import profile
from crm.core.extensions import db
from crm.efactura import checks, document, ubl
from crm.efactura.anaf import AnafClient, AnafError, jwt_expiry
from crm.efactura.findings import Finding
from crm.sales.models.documents import Invoice
from crm.sales.models.efactura import EfacturaStatus as ES

log = logging.getLogger(__name__)

SENDABLE = (ES.NOT_SENT.value, ES.REJECTED.value, ES.SEND_FAILED.value)
UNCERTAIN = (ES.UNCERTAIN.value, ES.UPLOADING.value)
# Minutes to wait before each further status check (about 20 calls a day at most per upload).
BACKOFF_MINUTES = (1, 2, 5, 10, 20, 30, 60, 120, 240)
DRAFT, CANCELLED = 6, 5


class EfacturaFailure(Exception):
    """An e-Factura step failed; the invoice already shows it (status and message are committed)."""


@dataclass
class Generated:
    doc: document.EDocument
    xml: bytes
    findings: list[Finding]

    @property
    def fatal(self) -> list[Finding]:
        return checks.blocking(self.findings)


def generate(invoice, official: bool = True) -> Generated:
    doc, data_findings = document.from_invoice(invoice)
    xml = ubl.to_xml(doc)
    return Generated(doc, xml, checks.precheck(doc, xml, data_findings, official=official))


def describe(findings: list[Finding], limit: int = 12) -> str:
    lines = [f"• {f}" for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"… and {len(findings) - limit} more")
    return "\n".join(lines)


def company_cif() -> str | None:
    return profile().cui


def client() -> AnafClient:
    return AnafClient.from_options()


# --- files: what was sent and what ANAF returned, under the uploads folder ---

AREA = "efactura"  # crm/core/storage.py; one sub-folder per invoice id


def archive_path(invoice) -> Path | None:
    """ANAF's ZIP kept for the invoice, or None (none yet, missing, or a name that leaves its folder)."""
    if not invoice.efactura_archive:
        return None
    return storage.path_of(AREA, invoice.efactura_archive, invoice.id)


# --- token state ---

def token_problem(err: AnafError) -> None:
    """Remember that ANAF refused the token, for the settings screen and the buttons."""
    if err.kind == "token":
        options.set("efactura_token_status", "expired")


def token_refusal() -> str | None:
    """Why e-Factura calls cannot go out now (no token, or it has expired), or None."""
    token = options.get("efactura_access_token")
    if not token:
        return "There is no ANAF token: connect to ANAF at /admin/billing/efactura (Connect to ANAF)."
    expires = jwt_expiry(token)
    if (expires is not None and expires <= datetime.utcnow()) or options.get("efactura_token_status") == "expired":
        return ("The ANAF token has expired: regenerate it at /admin/billing/efactura → Regenerate button, "
                "then try again.")
    return None


# --- send ---

def _fail(invoice, status: str | None, message: str, err: AnafError | None = None):
    if status:
        invoice.efactura_status = status
    invoice.efactura_message = message
    if err is not None:
        token_problem(err)
    db.session.commit()
    raise EfacturaFailure(message)


def send_refusal(invoice, confirm_resend: bool = False) -> str | None:
    name = str(invoice)
    if invoice.status == DRAFT:
        return f"Invoice {name} is a draft: issue it before sending it to ANAF."
    if invoice.status == CANCELLED:
        return f"Invoice {name} is cancelled; a cancelled invoice is not sent to ANAF."
    state = invoice.efactura_status
    if state in (ES.AWAITING.value, ES.OK.value):
        return (f"Invoice {name} was already sent to ANAF (index {invoice.efactura_upload_index}, "
                f"{ES.label_of(state)}); an invoice is never uploaded twice.")
    if state in UNCERTAIN and not confirm_resend:
        return (f"The last upload of invoice {name} got no answer, so ANAF may already have it. Look for it "
                "in SPV; if it is not there, send again and tick “ANAF does not have it”.")
    return None


def send(invoice, confirm_resend: bool = False) -> str:
    refusal = send_refusal(invoice, confirm_resend) or token_refusal()
    if refusal:
        raise EfacturaFailure(refusal)
    gen = generate(invoice)
    if gen.fatal:
        raise EfacturaFailure(f"Invoice {invoice} cannot be sent: correct these first.\n{describe(gen.fatal)}")
    cif = company_cif()
    allowed = SENDABLE + (UNCERTAIN if confirm_resend else ())
    claimed = db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.efactura_status.in_(allowed))
        .values(efactura_status=ES.UPLOADING.value, efactura_message="Upload to ANAF started")
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        raise EfacturaFailure(f"Invoice {invoice} is being sent or was sent meanwhile; it is not uploaded twice.")
    db.session.commit()  # from here on, a crash leaves "uploading": never silently re-sent
    db.session.refresh(invoice)
    storage.write(AREA, SENT, gen.xml, invoice.id)  # what was sent, kept beside ANAF's answer
    try:
        index = client().upload(gen.xml, cif, standard="CN" if gen.doc.kind == "CreditNote" else "UBL",
                                extern=gen.doc.customer.country not in (None, "RO"))
    except AnafError as err:
        if err.maybe_received or err.kind == "malformed":  # no readable answer: ANAF may have it
            _fail(invoice, ES.UNCERTAIN.value, f"{err.message} ANAF may have received the invoice: look for it "
                  "in SPV before sending it again.", err)
        _fail(invoice, ES.SEND_FAILED.value, f"Not sent: {err.message}", err)
    invoice.efactura_status = ES.AWAITING.value
    invoice.efactura_upload_index = index
    invoice.efactura_download_id = None
    invoice.efactura_archive = None
    invoice.efactura_sent_at = datetime.utcnow()
    invoice.efactura_check_count = 0
    invoice.efactura_next_check = datetime.utcnow() + timedelta(minutes=BACKOFF_MINUTES[0])
    invoice.efactura_message = f"Sent to ANAF: index_incarcare {index}. Awaiting validation."
    db.session.commit()  # the index is kept at once
    return f"sent to ANAF, registration (index_incarcare) {index}"


# --- check ---

def _schedule_next(invoice) -> None:
    n = invoice.efactura_check_count or 0
    minutes = BACKOFF_MINUTES[min(n, len(BACKOFF_MINUTES) - 1)]
    invoice.efactura_next_check = datetime.utcnow() + timedelta(minutes=minutes)


def check(invoice) -> str:
    """Ask ANAF where the upload stands and record it; raises EfacturaFailure when it cannot tell."""
    if not invoice.efactura_upload_index:
        raise EfacturaFailure(f"Invoice {invoice} has not been sent to ANAF yet.")
    refusal = token_refusal()
    if refusal:
        _fail(invoice, None, refusal)
    invoice.efactura_checked_at = datetime.utcnow()
    invoice.efactura_check_count = (invoice.efactura_check_count or 0) + 1
    try:
        status = client().status(invoice.efactura_upload_index)
    except AnafError as err:
        # No final answer yet, whatever the reason (a refused token, a timeout, a 5xx, the daily
        # limit): the upload stays in the queue and is asked about again, later each time.
        _schedule_next(invoice)
        _fail(invoice, None, f"Status not known yet: {err.message}", err)
    state = status.state.strip().lower()
    if state == "in prelucrare":
        _schedule_next(invoice)
        invoice.efactura_status = ES.AWAITING.value
        invoice.efactura_message = (f"ANAF is still processing upload {invoice.efactura_upload_index} "
                                    f"(check {invoice.efactura_check_count}); checked again automatically.")
        db.session.commit()
        return invoice.efactura_message
    invoice.efactura_next_check = None
    invoice.efactura_download_id = status.download_id
    if state == "ok":
        invoice.efactura_status = ES.OK.value
        invoice.efactura_message = f"Validated by ANAF (id_descarcare {status.download_id})."
        db.session.commit()
        _download_quietly(invoice)
        return invoice.efactura_message
    invoice.efactura_status = ES.REJECTED.value
    if state == "nok":
        invoice.efactura_message = "Rejected by ANAF; downloading the errors…"
        db.session.commit()
        try:
            errors = rejection_errors(download(invoice))
        except EfacturaFailure as exc:
            errors = [f"(the error list could not be downloaded: {exc})"]
        invoice.efactura_message = (f"Rejected by ANAF. {where_to_correct(errors)}, then send it again:\n"
                                    + "\n".join(f"• {e}" for e in errors))
    else:
        invoice.efactura_message = (f"Rejected by ANAF at intake: “{status.state}”. Correct the invoice and send "
                                    "it again.")
    db.session.commit()
    return invoice.efactura_message


def _download_quietly(invoice) -> None:
    try:
        download(invoice)
    except EfacturaFailure as exc:
        invoice.efactura_message += f" The archive will be downloaded later: {exc}"
        db.session.commit()


# ANAF's own server-side rules about the seller (R6.1: the seller's CIF is not in its database):
# corrected in the company's e-Factura settings, not on the invoice or its client.
SELLER_RULES = ("R6.1", "CIF-ul vanzatorului")


def where_to_correct(errors: list[str]) -> str:
    if any(rule in e for e in errors for rule in SELLER_RULES):
        return (f"Correct the company's CUI in the {document.SETTINGS} (ANAF does not know the seller's CIF "
                f"{company_cif() or ''})").replace(" )", ")")
    return "Correct the invoice (client VAT number, address, VAT)"


def rejection_errors(archive: bytes) -> list[str]:
    """The errorMessage of each Error in the ZIP's <id>.xml (mesajEroriFactuta)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        names = [n for n in zf.namelist() if n.endswith(".xml") and not n.startswith("semnatura_")]
        if not names:
            return ["the archive holds no error list"]
        root = etree.fromstring(zf.read(names[0]))
    errors = [" ".join(e.get("errorMessage", "").split()) for e in root.iter()
              if etree.QName(e).localname == "Error"]
    return errors or ["ANAF gave no reason"]


# --- download ---

def download(invoice) -> bytes:
    """Fetch and keep the ZIP (invoice or errors + ANAF's signature); the PDF too when ANAF makes it."""
    if not invoice.efactura_download_id:
        raise EfacturaFailure(f"Invoice {invoice} has no ANAF download id yet: check its status first.")
    try:
        archive = client().download(invoice.efactura_download_id)
    except AnafError as err:
        token_problem(err)
        raise EfacturaFailure(err.message) from None
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            names = zf.namelist()
            xml_name = next((n for n in names if n.endswith(".xml") and not n.startswith("semnatura_")), None)
            signed_xml = zf.read(xml_name) if xml_name else None
    except zipfile.BadZipFile:
        raise EfacturaFailure("ANAF's archive is not a valid ZIP; it will be downloaded again.") from None
    if not any(n.startswith("semnatura_") for n in names):
        raise EfacturaFailure("ANAF's archive has no signature file (semnatura_…xml).")
    # Downloaded again: the kept file is replaced, not left beside a new one.
    name = invoice.efactura_archive if archive_path(invoice) is not None else storage.new_name("zip")
    storage.write(AREA, name, archive, invoice.id)
    invoice.efactura_archive = name
    db.session.commit()
    if invoice.efactura_status == ES.OK.value and signed_xml:
        try:
            kind = etree.QName(etree.fromstring(signed_xml)).localname
            pdf = client().to_pdf(signed_xml, "FCN" if kind == "CreditNote" else "FACT1")
            storage.write(AREA, storage.companion(invoice.efactura_archive, "pdf"), pdf, invoice.id)
        except (AnafError, etree.XMLSyntaxError) as err:
            log.info("ANAF PDF not available for invoice %s: %s", invoice.id, err)
    return archive


SENT = "sent.xml"  # the XML of the last upload, beside ANAF's answer


def uploaded_xml(invoice) -> bytes | None:
    """What ANAF holds (or may hold) for the invoice: the XML as uploaded, never regenerated, so a
    client or company detail edited later does not change the legal document. None when the
    invoice is not at ANAF (not sent, or rejected: then it is corrected and generated again)."""
    from crm.sales.actions.invoices import AT_ANAF  # cycle: actions -> actions.efactura -> efactura.service

    if invoice.efactura_status not in AT_ANAF:
        return None
    path = storage.path_of(AREA, SENT, invoice.id)
    return path.read_bytes() if path is not None and path.is_file() else None


def pdf_path(invoice) -> Path | None:
    """The PDF ANAF made of the archived invoice, stored beside the archive; None if there is none."""
    if not invoice.efactura_archive:
        return None
    return storage.path_of(AREA, storage.companion(invoice.efactura_archive, "pdf"), invoice.id)


def download_name(invoice, extension: str) -> str:
    """What a downloaded archive or PDF is called: ANAF's download id, as ANAF names it."""
    return f"{invoice.efactura_download_id or invoice.id}.{extension}"


# --- jobs ---

def poll_pending(now: datetime | None = None) -> int:
    """Check every upload awaiting validation whose next check is due."""
    now = now or datetime.utcnow()
    if token_refusal():
        return 0
    # An upload with no next check (left so by an older version) is due at once.
    ids = [i for (i,) in db.session.query(Invoice.id).filter(
        Invoice.efactura_status == ES.AWAITING.value,
        or_(Invoice.efactura_next_check <= now, Invoice.efactura_next_check.is_(None)))]
    done = 0
    for invoice_id in ids:
        invoice = db.session.get(Invoice, invoice_id)
        try:
            check(invoice)
            done += 1
        except EfacturaFailure:
            pass
    # Archives that failed to download after validation are fetched again.
    for invoice in db.session.query(Invoice).filter(Invoice.efactura_status.in_([ES.OK.value, ES.REJECTED.value]),
                                                    Invoice.efactura_download_id.isnot(None),
                                                    Invoice.efactura_archive.is_(None)).limit(50):
        try:
            download(invoice)
        except EfacturaFailure:
            pass
    return done


def auto_send(today: date | None = None) -> int:
    """Send the invoices issued at least ``efactura_auto_send_after_days`` ago that were not sent."""
    if not options.get("efactura_auto_send") or token_refusal():
        return 0
    today = today or date.today()
    cutoff = today - timedelta(days=options.get("efactura_auto_send_after_days"))
    ids = [i for (i,) in db.session.query(Invoice.id).filter(
        Invoice.efactura_status == ES.NOT_SENT.value, Invoice.date <= cutoff,
        Invoice.status.notin_([DRAFT, CANCELLED])).order_by(Invoice.id)]
    sent = 0
    for invoice_id in ids:
        invoice = db.session.get(Invoice, invoice_id)
        try:
            send(invoice)
            sent += 1
        except EfacturaFailure as exc:
            db.session.rollback()
            invoice = db.session.get(Invoice, invoice_id)
            if invoice.efactura_status == ES.NOT_SENT.value:  # refused before sending: say why on the invoice
                invoice.efactura_message = f"Auto-send: {exc}"
                db.session.commit()
            if token_refusal():
                break
    return sent
