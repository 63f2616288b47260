"""Emailing vendors: a request for quotation or a purchase order, its PDF and the vendor-portal link,
through the outbox (sent by the outbox job; without SMTP it waits there)."""
from __future__ import annotations

from crm.core import options
from crm.core.documents import base_url, currency_of, ensure_hash, fmt, pdf_filename, pdf_of
from crm.core.mail import queue_email, render_email, smtp_url
from crm.core.mail.templates import _BUTTON, DEFAULTS
from crm.core.registry import ActionError
from crm.purchasing.actions.purchase_common import vendor_email

DEFAULTS.setdefault("purchase-request-to-vendor", (
    "purchase", "Request for quotation to a vendor", "Request for quotation {document_number} from {companyname}",
    "<p>Dear {contact_name},</p>"
    "<p>{companyname} asks {vendor_name} for a quotation for the items in <b>{document_number}</b> "
    "(attached). Please enter your prices and delivery date online:</p>" + _BUTTON
    + "<p>Kind regards,<br>{staff_name}<br>{companyname}</p>"))
DEFAULTS.setdefault("purchase-order-to-vendor", (
    "purchase", "Purchase order to a vendor", "Purchase order {document_number} from {companyname}",
    "<p>Dear {contact_name},</p>"
    "<p>Please find our purchase order <b>{document_number}</b> attached, for a total of <b>{total}</b>"
    ", to be delivered by {delivery_date}.</p>" + _BUTTON
    + "<p>Kind regards,<br>{staff_name}<br>{companyname}</p>"))

DEFAULTS.setdefault("purchase-quotation-answered", (
    "staff", "Vendor answered a request for quotation (to the buyer)",
    "{vendor_name} quoted {total} for {document_number}",
    "<p>Hello {staff_name},</p>"
    "<p>{vendor_name} entered its prices for <b>{document_number}</b> in the vendor portal: {total}, "
    "delivery by {delivery_date}.</p>"
    '<p>Compare the quotations: <a href="{compare_link}">{compare_link}</a></p>'))

OUTBOX = "Settings → Email outbox"


def email_vendor(vendor, doc, actor, slug: str, link: str, link_label: str, rel_type: str) -> str:
    """Queue ``doc``'s PDF and ``link`` for ``vendor``'s contact; returns the address it went to."""
    # cycle: purchase_documents -> actions -> actions.purchase_orders -> actions.vendor_mail
    from crm.purchasing.documents import render_html

    email, name = vendor_email(vendor)
    delivery = getattr(doc, "delivery_date", None)
    fields = {"companyname": options.get("companyname"), "contact_name": name or vendor.company,
              "vendor_name": vendor.company, "document_number": str(doc), "portal_link": link,
              "link_label": link_label, "total": fmt(doc.total, currency_of(doc)),
              "delivery_date": f"{delivery:%Y-%m-%d}" if delivery else "the agreed date",
              "staff_name": getattr(actor, "full_name", "") or ""}
    rendered = render_email(slug, fields)
    if rendered is None:
        raise ActionError(f"The email template “{slug}” is disabled; enable it in Settings → Email templates.")
    pdf = pdf_of(render_html(doc, vendor))
    queue_email(email, rendered.subject, rendered.html, rendered.text,
                attachments=[(pdf_filename(doc), pdf, "application/pdf")], rel_type=rel_type, rel_id=doc.id,
                template=slug, actor=actor)
    return email


def queued_note() -> str:
    return "" if smtp_url() else f"; no SMTP is configured, so the emails wait in {OUTBOX}"


# The vendor portal's address of a document (crm/purchasing/vendor_portal.py): an unguessable hash is the key.
VENDOR_KINDS = {"tblpur_estimates": "quotation", "tblpur_orders": "order"}


def vendor_link(doc) -> str:
    return f"{base_url()}/vendor/{VENDOR_KINDS[doc.__tablename__]}/{doc.id}/{ensure_hash(doc)}"


def notify_buyer(q) -> None:
    """Tell the quotation's buyer that the vendor answered (an email through the outbox)."""
    buyer = q.buyer_rel
    if buyer is None or not buyer.email or buyer.active is False:
        return
    delivery = q.delivery_date
    rendered = render_email("purchase-quotation-answered", {
        "staff_name": buyer.firstname or buyer.email, "vendor_name": q.vendor_rel.company if q.vendor_rel else "",
        "document_number": f"{q.pur_request_rel or ''} (quotation {q})".strip(), "total": fmt(q.total, currency_of(q)),
        "delivery_date": f"{delivery:%Y-%m-%d}" if delivery else "-", "companyname": options.get("companyname"),
        "compare_link": f"{base_url()}/admin/purchase/compare/{q.pur_request}" if q.pur_request
        else f"{base_url()}/admin/purchase/myquotations/details/?id={q.id}"})
    if rendered is not None:
        queue_email(buyer.email, rendered.subject, rendered.html, rendered.text, rel_type="pur_estimate",
                    rel_id=q.id, template=rendered.slug)
