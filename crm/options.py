"""Typed access to tbloptions.

Every known option is declared here once with its type and documented default. Resolution
order: environment variable with the option name upper-cased (e.g. INVOICE_PREFIX), then the
tbloptions row, then the default below. Values are read per call (one indexed query, cached for
the request), so an admin's edit takes effect immediately.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import g, has_request_context

from .extensions import db


@dataclass(frozen=True)
class OptionDef:
    name: str
    type: type
    default: Any
    group: str
    label: str = ""


def _defs(group: str, *rows) -> list[OptionDef]:
    return [OptionDef(name, typ, default, group, label) for name, typ, default, label in rows]


OPTIONS: dict[str, OptionDef] = {d.name: d for d in [
    *_defs("Company",
           ("companyname", str, "CRMConnect Demo SRL", "Company name"),
           ("company_vat", str, "RO12345678", "Company VAT number"),
           ("base_currency", str, "RON", "Base currency (ISO code)")),
    *_defs("Invoices",
           ("invoice_prefix", str, "INV-", "Invoice number prefix"),
           ("next_invoice_number", int, 1, "Next invoice number"),
           ("invoice_number_format", int, 1, "Number format (1 plain, 2 year, 3 -YY, 4 /MM/YYYY)"),
           ("invoice_due_after", int, 30, "Invoice due after (days)"),
           ("automatically_send_invoice_overdue_reminder_after", int, 1, "Overdue reminder after (days)"),
           ("automatically_resend_invoice_overdue_reminder_after", int, 3, "Resend overdue reminder every (days)"),
           ("number_padding_prefixes", int, 6, "Number padding"),
           ("allow_payment_above_total", bool, False, "Allow a payment above what is left to pay")),
    *_defs("Sales orders",
           ("estimate_prefix", str, "EST-", "Sales order prefix"),
           ("next_estimate_number", int, 1, "Next sales order number"),
           ("estimate_auto_convert_to_invoice_on_client_accept", bool, True,
            "Convert to invoice when the client accepts")),
    *_defs("Proposals",
           ("proposal_number_prefix", str, "PRO-", "Proposal prefix"),
           ("next_proposal_number", int, 1, "Next proposal number"),
           ("proposal_auto_convert_to_invoice_on_client_accept", bool, False,
            "Convert to invoice when the client accepts")),
    *_defs("Warehouse",
           ("auto_create_goods_delivery", bool, False, "Create a delivery note with each invoice"),
           ("auto_create_goods_received", bool, False, "Create a goods receipt when a PO is approved"),
           ("cancelled_invoice_reverse_inventory", bool, False, "Restore stock when an invoice is cancelled"),
           ("goods_receipt_prefix", str, "NK", "Goods receipt prefix"),
           ("next_goods_receipt_number", int, 1, "Next goods receipt number"),
           ("goods_delivery_prefix", str, "XK", "Delivery note prefix"),
           ("next_goods_delivery_number", int, 1, "Next delivery note number"),
           ("packing_list_prefix", str, "PL", "Packing list prefix"),
           ("next_packing_list_number", int, 1, "Next packing list number"),
           ("lot_number_prefix", str, "LOT", "Lot number prefix"),
           ("default_warehouse_id", int, 1, "Warehouse used for automatic delivery notes")),
    *_defs("Purchasing",
           ("pur_order_prefix", str, "#PO", "Purchase order prefix"),
           ("next_po_number", int, 1, "Next purchase order number"),
           ("pur_request_prefix", str, "#PR", "Purchase request prefix"),
           ("next_pr_number", int, 1, "Next purchase request number")),
    *_defs("e-Factura",
           ("efactura_auto_send", bool, False, "Auto-send eFactura"),
           ("efactura_auto_send_after_days", int, 5, "Auto-send after (days)")),
    *_defs("Email",
           ("smtp_url", str, "", "SMTP URL (smtp://user:pass@host:port, smtps://...; empty: keep mail in the outbox)"),
           ("smtp_email", str, "crm@example.test", "Sender address")),
    *_defs("Lead capture",
           ("leads_imap_host", str, "", "IMAP host (empty: no mailbox polling)"),
           ("leads_imap_port", int, 993, "IMAP port"),
           ("leads_imap_user", str, "", "IMAP user"),
           ("leads_imap_password", str, "", "IMAP password"),
           ("leads_imap_folder", str, "INBOX", "IMAP folder"),
           ("leads_imap_ssl", bool, True, "IMAP over SSL"),
           ("leads_email_source", str, "Email", "Lead source for captured emails"),
           ("web_to_lead_rate_limit", int, 10, "Web form submissions allowed per client IP"),
           ("web_to_lead_rate_window", int, 600, "...within this many seconds")),
    *_defs("Attachments",
           ("attachment_max_mb", int, 10, "Largest attachment (MB; uploads are also capped by MAX_CONTENT_LENGTH)"),
           ("attachment_allowed_extensions", str, "pdf,png,jpg,jpeg,gif,doc,docx,xls,xlsx,csv,txt,zip",
            "Allowed attachment types (comma-separated extensions)")),
    *_defs("Warehouse stock",
           ("goods_receipt_require_lot_expiry", bool, False, "Lot number and expiry date required on receipt lines"),
           ("warehouse_consume_fefo", bool, False,
            "Deliver the earliest expiry first (FEFO; expired lots never delivered) instead of FIFO"),
           ("warehouse_backorder_auto", bool, False,
            "A delivery note created short of stock requests the shortfall (RFQ) at once")),
]}

_TRUE = {"1", "true", "yes", "on"}


class OptionError(ValueError):
    pass


def parse(defn: OptionDef, raw: str) -> Any:
    """Turn a stored or submitted string into the option's type, or raise OptionError naming it."""
    raw = "" if raw is None else str(raw).strip()
    if defn.type is bool:
        if raw.lower() in _TRUE | {"0", "false", "no", "off", ""}:
            return raw.lower() in _TRUE
        raise OptionError(f"{defn.name}: expected yes/no (1 or 0), got {raw!r}")
    if defn.type is int:
        try:
            return int(raw)
        except ValueError:
            raise OptionError(f"{defn.name}: expected a whole number, got {raw!r}") from None
    if defn.type is Decimal:
        try:
            return Decimal(raw)
        except ArithmeticError:
            raise OptionError(f"{defn.name}: expected a number, got {raw!r}") from None
    return raw


def serialize(defn: OptionDef, value: Any) -> str:
    if defn.type is bool:
        return "1" if value else "0"
    return str(value)


def _stored() -> dict[str, str]:
    from .models import Option

    if has_request_context():
        cache = g.get("_crm_options")
        if cache is None:
            cache = g._crm_options = {o.name: o.value for o in db.session.query(Option).all()}
        return cache
    return {o.name: o.value for o in db.session.query(Option).all()}


def source(name: str) -> str:
    if name.upper() in os.environ:
        return "environment"
    return "database" if name in _stored() else "default"


def get(name: str) -> Any:
    defn = OPTIONS.get(name)
    env = os.environ.get(name.upper())
    if defn is None:  # an option we do not know: a plain string
        return env if env is not None else _stored().get(name)
    if env is not None:
        return parse(defn, env)
    stored = _stored()
    if name in stored:
        return parse(defn, stored[name])
    return defn.default


def set(name: str, value: Any) -> None:  # noqa: A001 - mirrors get()
    """Store an option in tbloptions (the caller commits). Validates the type first."""
    from .models import Option

    defn = OPTIONS.get(name)
    text = serialize(defn, parse(defn, value) if isinstance(value, str) else value) if defn else str(value)
    row = db.session.query(Option).filter_by(name=name).one_or_none()
    if row is None:
        row = Option(name=name, value=text)
        db.session.add(row)
    else:
        row.value = text
    if has_request_context():
        g.pop("_crm_options", None)
