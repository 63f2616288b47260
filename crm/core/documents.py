"""PDF documents: proposals, sales orders (estimates), invoices, payment receipts, contracts,
purchasing documents, delivery notes and inventory count sheets.

One template (templates/pdf/document.html) serves the three sales documents; the other kinds name
their own renderer and file name in :data:`KINDS`. Staff download them at
``GET /admin/documents/<kind>/<id>.pdf`` with the view permission of the document's area. :func:`public_url` is the client-portal address sent in emails.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    has_request_context,
    redirect,
    request,
    url_for,
)
from flask_login import current_user

from crm.core import options
from crm.core.company import profile
from crm.core.config import ROOT
from crm.core.extensions import db
from crm.core.pdf_processes import print_pdf
from crm.core.resources import all_models
from crm.core.permissions import can_table, sees


@dataclass(frozen=True)
class Kind:
    name: str  # URL segment and rel_type
    model: str  # class name in crm.models
    title: str  # printed on the document
    date_label: str = ""
    until_field: str = ""
    until_label: str = ""
    html: Callable[[Any], str] = None  # the PDF's HTML, rendered by the area that knows the document
    filename: Callable[[Any], str] | None = None  # None: the document's number (by_id: kind-id)


# kind name -> Kind: each area declares the documents it prints with ``register`` (crm/sales/documents.py,
# crm/purchasing/documents.py, crm/warehouse/documents.py, crm/warehouse/count_sheets.py).
KINDS: dict[str, Kind] = {}


def register(*kinds: Kind) -> None:
    for k in kinds:
        KINDS[k.name] = k


def by_id(doc) -> str:
    """A file name for a document without a number of its own: receipt-12, contract-3."""
    return f"{kind_of(doc).name}-{doc.id}"


def address_lines(*parts) -> list[str]:
    return [p for p in parts if p]


def model_of(kind: str):
    return next(m for m in all_models() if m.__name__ == KINDS[kind].model)


def kind_of(doc) -> Kind:
    return next(k for k in KINDS.values() if k.model == type(doc).__name__)


def pdf_url(doc) -> str | None:
    """The staff download link of a record that has a PDF, else None (used by the details page)."""
    kind = next((k for k in KINDS.values() if k.model == type(doc).__name__), None)
    return url_for("documents.download", kind=kind.name, doc_id=doc.id) if kind else None


# --- portal links ----------------------------------------------------------------------------

def ensure_hash(doc) -> str:
    if not doc.hash:
        doc.hash = secrets.token_hex(16)
    return doc.hash


def base_url() -> str:
    """PUBLIC_URL (config or environment), else the address of the current request, else localhost."""
    url = current_app.config.get("PUBLIC_URL") or os.environ.get("PUBLIC_URL")
    if not url and has_request_context():
        url = request.url_root
    return (url or "http://127.0.0.1:5000").rstrip("/")


def public_url(doc) -> str:
    """The client-portal address of a proposal, estimate, invoice or contract (sets its hash if empty)."""
    return f"{base_url()}/portal/{kind_of(doc).name}/{doc.id}/{ensure_hash(doc)}"


# --- what a document shows ---------------------------------------------------------------------

def fmt(value, currency: str = "") -> str:
    text = f"{Decimal(value or 0):,.2f}"
    return f"{text} {currency}".strip()


def price_text(value, grouping: str = "") -> str:
    """A unit price as written: 2 decimals at least, up to the 4 it may carry (4.12, 0.005, 1.2345)."""
    d = Decimal(value or 0)
    return f"{d:{grouping}.2f}" if d == d.quantize(Decimal("0.01")) else f"{d.normalize():{grouping}f}"


def fmt_price(value, currency: str = "") -> str:
    return f"{price_text(value, ',')} {currency}".strip()


def fmt_qty(value) -> str:
    """1.000 → 1, 2.500 → 2.5, 19.00 → 19."""
    return f"{Decimal(value or 0).normalize():f}"


def number_of(doc) -> str:
    """The number a person sees (INV-000042, INV-DRAFT), as crm.core.numbering shows it."""
    if not hasattr(doc, "formatted_number"):  # contracts are not numbered: #id
        return f"#{doc.id}"
    try:
        from crm.core.numbering import shown  # cycle: actions -> actions.campaigns -> documents
    except ImportError:
        return doc.formatted_number or f"#{doc.id}"
    return shown(doc)


def currency_of(doc) -> str:
    cur = getattr(doc, "currency_rel", None)
    return cur.name if cur is not None else (options.get("base_currency") or "")


def company():
    """The seller on every document: the company profile (crm/core/company.py)."""
    return profile()


def render_html(doc) -> str:
    return kind_of(doc).html(doc)


def pdf_of(html: str) -> bytes:
    """A PDF printed from our HTML (its images and styles found under templates/), in a printing
    process where there is one (crm/core/pdf_processes.py)."""
    return print_pdf(html, str(ROOT / "templates"))


def render_pdf(doc) -> bytes:
    return pdf_of(render_html(doc))


def pdf_filename(doc) -> str:
    kind = kind_of(doc)
    if kind.filename:
        stem = kind.filename(doc)
    else:
        stem = number_of(doc) if doc.formatted_number else f"{kind.name}-{doc.id}"
    return f"{stem}.pdf".replace("/", "-")


# --- staff download ----------------------------------------------------------------------------

bp = Blueprint("documents", __name__)


@bp.route("/admin/documents/<kind>/<int:doc_id>.pdf")
def download(kind, doc_id):
    if kind not in KINDS:
        abort(404)
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path))
    model = model_of(kind)
    if not can_table(current_user, model, "view"):
        abort(403)
    doc = db.session.get(model, doc_id)
    if doc is None or not sees(current_user, doc):  # view own: a colleague's document is not there
        abort(404)
    disposition = "inline" if request.args.get("inline") else "attachment"
    return Response(render_pdf(doc), mimetype="application/pdf",
                    headers={"Content-Disposition": f'{disposition}; filename="{pdf_filename(doc)}"'})
