"""Portal routes: view, PDF, accept, decline, comment. No staff login; the link's hash is the key."""
from __future__ import annotations

import hmac
import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for

from crm.core import events, options
from crm.core.documents import ensure_hash, model_of, number_of, pdf_filename, render_pdf
from crm.sales.documents import document_context, mode_name, mode_names
from crm.core.extensions import db
from crm.core.registry import ActionError
from crm.notifications import portal_client
from crm.online_payments.actions import online_refusal
from crm.sales.actions import estimates as estimate_actions, proposals as proposal_actions
from crm.sales.models.clients import Note
from crm.sales.models.documents import EstimateStatus, InvoiceStatus, ProposalStatus
from crm.sales.portal import signatures

bp = Blueprint("portal", __name__, url_prefix="/portal")

KIND = "<any(proposal, estimate, invoice):kind>/<int:doc_id>/<doc_hash>"
STATUS = {"proposal": ProposalStatus, "estimate": EstimateStatus, "invoice": InvoiceStatus}
DRAFT = {"proposal": ProposalStatus.DRAFT.value, "estimate": EstimateStatus.DRAFT.value,
         "invoice": InvoiceStatus.DRAFT.value}
ACTIONS = {"proposal": proposal_actions, "estimate": estimate_actions}
ACCEPT_FIELDS = (("firstname", "First name", 50), ("lastname", "Last name", 50), ("email", "Email", 100))
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A drawn signature travels in the form as base64 (500 KB of PNG ≈ 683 KB): allow it through the parser.
MAX_FORM = 1024 * 1024


@bp.url_value_preprocessor
def _room_for_the_signature(endpoint, values):
    # Runs before the app's before_request hooks (CSRF reads the form there).
    request.max_form_memory_size = MAX_FORM


@bp.errorhandler(404)
def _not_found(exc):
    return render_template("portal/not_found.html"), 404


@bp.errorhandler(413)
def _too_large(exc):
    return render_template("portal/notice.html", title="Too large",
                           message="What you sent is too large. Clear the signature box, draw again and "
                                   "send the form once more."), 413


def _document(kind: str, doc_id: int, doc_hash: str):
    """The document the link names; 404 for a wrong hash, an unknown id or a draft."""
    doc = db.session.get(model_of(kind), doc_id)
    if doc is None or not doc.hash or not hmac.compare_digest(doc.hash.encode(), doc_hash.encode()):
        abort(404)
    if doc.status == DRAFT[kind]:
        abort(404)
    return doc


def _here(doc, kind):
    return url_for("portal.view", kind=kind, doc_id=doc.id, doc_hash=doc.hash)


def _ip() -> str | None:
    return request.remote_addr


def _refusal(kind: str, doc) -> str | None:
    """Why the client cannot accept/decline now (the actions' own rules), or None."""
    if kind not in ACTIONS:
        return None
    try:
        ACTIONS[kind]._open_to_client(doc)
    except ActionError as exc:
        return exc.message
    return None


def _invoice_link(doc):
    invoice = getattr(doc, "invoice", None)
    if invoice is None or invoice.status == InvoiceStatus.DRAFT.value:
        return None

    if not invoice.hash:
        ensure_hash(invoice)
        db.session.commit()
    return url_for("portal.view", kind="invoice", doc_id=invoice.id, doc_hash=invoice.hash)


def _page(kind: str, doc, values=None, errors=None, notice=None, comment=None, status=200):
    ctx = document_context(doc)
    refusal = _refusal(kind, doc)
    comments = []
    if kind == "proposal":
        comments = (db.session.query(Note).filter_by(rel_type="proposal", rel_id=doc.id)
                    .order_by(Note.dateadded, Note.id).all())
    ctx.update(
        kind_name=kind, status_label=STATUS[kind].row_label(doc, doc.status),
        status_color=(STATUS[kind].shown_for(doc, doc.status) or ("", "secondary"))[1],
        here=_here(doc, kind), pdf_link=url_for("portal.pdf", kind=kind, doc_id=doc.id, doc_hash=doc.hash),
        can_answer=kind in ACTIONS and refusal is None, refusal=refusal,
        can_comment=kind == "proposal" and doc.allow_comments and not proposal_actions._conversion(doc)
        and doc.status not in (ProposalStatus.ACCEPTED.value, ProposalStatus.DECLINED.value),
        comments=comments, values=values or {}, errors=errors or {}, notice=notice, comment=comment or "",
        invoice_link=_invoice_link(doc) if kind in ACTIONS else None,
        viewed_link=url_for("portal.viewed", kind=kind, doc_id=doc.id, doc_hash=doc.hash)
        if kind == "proposal" and doc.status in (ProposalStatus.SENT.value, ProposalStatus.SENT_MANUALLY.value)
        else None,
    )
    if kind == "invoice":
        ctx["paid"] = ctx.get("paid") or 0
        ctx["due"] = ctx.get("due", ctx["totals"]["total"])
        ctx.update(invoice_payments_context(doc))
    return render_template("portal/document.html", **ctx), status


def invoice_payments_context(invoice) -> dict:
    """What the portal's invoice page adds: its payments with receipt links, and "Pay online"."""
    payments = sorted(invoice.payments, key=lambda p: (p.date, p.id))
    names = mode_names() if payments else {}
    return {
        "payments": [{"row": p, "mode": mode_name(p, names),
                      "receipt": url_for("portal.receipt", kind="invoice", doc_id=invoice.id, doc_hash=invoice.hash,
                                         payment_id=p.id)} for p in payments],
        "pay_online": online_refusal(invoice) is None,
        "pay_link": url_for("portal.pay_online", kind="invoice", doc_id=invoice.id, doc_hash=invoice.hash),
    }


@bp.get(f"/{KIND}")
def view(kind, doc_id, doc_hash):
    return _page(kind, _document(kind, doc_id, doc_hash))


@bp.post(f"/{KIND}/viewed")
def viewed(kind, doc_id, doc_hash):
    """The page, loaded in a browser, says the client has opened it (a proposal becomes Reviewed)."""
    doc = _document(kind, doc_id, doc_hash)
    if kind == "proposal":
        proposal_actions.client_viewed(doc, _ip())
    return "", 204


@bp.get(f"/{KIND}/pdf")
def pdf(kind, doc_id, doc_hash):
    doc = _document(kind, doc_id, doc_hash)
    disposition = "inline" if request.args.get("inline") else "attachment"
    return Response(render_pdf(doc), mimetype="application/pdf",
                    headers={"Content-Disposition": f'{disposition}; filename="{pdf_filename(doc)}"'})


def _answerable(kind, doc_id, doc_hash):
    if kind not in ACTIONS:
        abort(404)
    return _document(kind, doc_id, doc_hash)


def read_signer() -> tuple[dict, dict, bytes | None]:
    """The signer's name, email and drawn signature from the posted form: (values, errors by field, PNG)."""
    values = {name: (request.form.get(name) or "").strip() for name, _label, _max in ACCEPT_FIELDS}
    errors = {}
    for name, label, longest in ACCEPT_FIELDS:
        if not values[name]:
            errors[name] = f"{label} is required."
        elif len(values[name]) > longest:
            errors[name] = f"{label} is too long (at most {longest} characters)."
    if "email" not in errors and not EMAIL.match(values["email"]):
        errors["email"] = "Email: enter a valid address, such as name@example.com."
    png = None
    try:
        png = signatures.decode(request.form.get("signature"))
    except signatures.SignatureError as exc:
        errors["signature"] = str(exc)
    return values, errors, png


@bp.post(f"/{KIND}/accept")
def accept(kind, doc_id, doc_hash):
    doc = _answerable(kind, doc_id, doc_hash)
    values, errors, png = read_signer()
    if errors:
        return _page(kind, doc, values, errors, status=422)
    filename = signatures.store(kind, doc.id, png)
    who = f"{values['firstname']} {values['lastname']}"
    try:
        with portal_client(who):
            invoice = ACTIONS[kind].client_accept(doc, values["firstname"], values["lastname"], values["email"],
                                                  filename, _ip())
    except ActionError as exc:
        signatures.remove(filename)
        return _page(kind, doc, values, notice=exc.message, status=exc.status)
    message = f"Thank you, {who}: you accepted {number_of(doc)}."
    if invoice is not None:
        message += f" Invoice {number_of(invoice)} was issued for it."
    flash(message, "success")
    return redirect(_here(doc, kind))


@bp.post(f"/{KIND}/decline")
def decline(kind, doc_id, doc_hash):
    doc = _answerable(kind, doc_id, doc_hash)
    values = {name: (request.form.get(name) or "").strip()[:longest] for name, _label, longest in ACCEPT_FIELDS}
    try:
        with portal_client(f"{values['firstname']} {values['lastname']}"):
            ACTIONS[kind].client_decline(doc, values["firstname"] or None, values["lastname"] or None,
                                         values["email"] or None, _ip())
    except ActionError as exc:
        return _page(kind, doc, values, notice=exc.message, status=exc.status)
    flash(f"You declined {number_of(doc)}. {options.get('companyname')} was told and may contact you with "
          "a new offer.", "info")
    return redirect(_here(doc, kind))


@bp.post("/<any(proposal):kind>/<int:doc_id>/<doc_hash>/comment")
def comment(kind, doc_id, doc_hash):
    doc = _document(kind, doc_id, doc_hash)
    content = (request.form.get("content") or "").strip()
    name = (request.form.get("name") or "").strip()[:100]
    if len(content) > 5000:
        return _page(kind, doc, errors={"content": "Comment is too long (at most 5000 characters)."},
                     comment=content, status=422)
    try:
        proposal_actions.client_comment(doc, content, name, _ip())
    except ActionError as exc:
        if exc.field == "content":
            return _page(kind, doc, errors={"content": exc.message}, status=422)
        return _page(kind, doc, notice=exc.message, comment=content, status=exc.status)
    events.emit("proposal.commented", doc, None, who=name, comment=content)
    db.session.commit()
    flash("Thank you: your comment was sent; we will revise the proposal and get back to you.", "success")
    return redirect(_here(doc, kind))
