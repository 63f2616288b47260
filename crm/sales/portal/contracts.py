"""Contract pages of the client portal: read, download the PDF, sign with name, email and a drawn
signature. The rules are crm.sales.actions.contracts (open_to_client, client_sign); the form is read as
for accepting a proposal (views.read_signer)."""
from __future__ import annotations

import hmac

from flask import Response, abort, flash, redirect, render_template, request, url_for

from crm.core import storage
from crm.core.documents import pdf_filename, render_pdf
from crm.sales.documents import contract_context
from crm.core.extensions import db
from crm.core.registry import ActionError
from crm.sales.actions import contracts as contract_actions
from crm.sales.models.documents import Contract
from crm.sales.portal import signatures
from crm.sales.portal.views import _ip, bp, read_signer

URL = "/contract/<int:doc_id>/<doc_hash>"


def _contract(doc_id: int, doc_hash: str) -> Contract:
    """The contract the link names; 404 for a wrong hash, an unknown id, a trashed or hidden one."""
    c = db.session.get(Contract, doc_id)
    if c is None or not c.hash or not hmac.compare_digest(c.hash.encode(), doc_hash.encode()):
        abort(404)
    if c.trash or c.not_visible_to_client:
        abort(404)
    return c


def _here(c: Contract) -> str:
    return url_for("portal.contract", doc_id=c.id, doc_hash=c.hash)


def _page(c: Contract, values=None, errors=None, notice=None, status=200):
    try:
        contract_actions.open_to_client(c)
        refusal = None
    except ActionError as exc:
        refusal = exc.message
    ctx = contract_context(c)
    if ctx["signature"] and ctx["signature"]["image"]:  # a browser asks this page's own link for the image
        ctx["signature"] = {**ctx["signature"], "image": url_for("portal.contract_signature", doc_id=c.id,
                                                                 doc_hash=c.hash)}
    ctx.update(here=_here(c), pdf_link=url_for("portal.contract_pdf", doc_id=c.id, doc_hash=c.hash),
               can_sign=refusal is None, refusal=refusal, values=values or {}, errors=errors or {}, notice=notice)
    return render_template("portal/contract.html", **ctx), status


@bp.get(URL)
def contract(doc_id, doc_hash):
    return _page(_contract(doc_id, doc_hash))


@bp.get(f"{URL}/pdf")
def contract_pdf(doc_id, doc_hash):
    c = _contract(doc_id, doc_hash)
    disposition = "inline" if request.args.get("inline") else "attachment"
    return Response(render_pdf(c), mimetype="application/pdf",
                    headers={"Content-Disposition": f'{disposition}; filename="{pdf_filename(c)}"'})


@bp.get(f"{URL}/signature.png")
def contract_signature(doc_id, doc_hash):
    c = _contract(doc_id, doc_hash)
    return storage.send(signatures.AREA, c.signature, mimetype="image/png")


@bp.post(f"{URL}/sign")
def contract_sign(doc_id, doc_hash):
    c = _contract(doc_id, doc_hash)
    values, errors, png = read_signer()
    if errors:
        return _page(c, values, errors, status=422)
    filename = signatures.store("contract", c.id, png)
    try:
        contract_actions.client_sign(c, values["firstname"], values["lastname"], values["email"], filename, _ip())
    except ActionError as exc:
        signatures.remove(filename)
        return _page(c, values, notice=exc.message, status=exc.status)
    who = f"{values['firstname']} {values['lastname']}"
    db.session.commit()  # contract.signed tells the staff (crm/notifications)
    flash(f"Thank you, {who}: you signed the contract “{c.subject}”. Download the signed PDF for your records.",
          "success")
    return redirect(_here(c))
