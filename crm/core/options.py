"""Typed access to tbloptions.

Every known option is declared here once with its type and documented default. Resolution
order: environment variable with the option name upper-cased (e.g. INVOICE_PREFIX), then the
tbloptions row, then the default below. The stored rows are read once and shared by the
process's transactions (crm/core/shared.py): an edit through this process takes effect with its
commit, one made in another process within ``shared.SECONDS``. A transaction keeps the values it
first read; the number counters are read by the transaction that asks for them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from crm.core.extensions import db
from crm.core.shared import Shared, changed


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
    # The company profile (crm/core/company.py): the seller on every PDF, the portal, emails and e-Factura.
    *_defs("Company",
           ("companyname", str, "CRMConnect Demo SRL", "Legal name"),
           ("company_cui", str, "", "CUI (fiscal code; RO is added when registered for VAT)"),
           ("company_vat_registered", bool, True, "Registered for VAT (plătitor de TVA)"),
           ("company_trade_register", str, "", "Trade register number (J40/123/2020)"),
           ("company_street", str, "", "Street and number"),
           ("company_city", str, "", "City (in Bucharest: Sector 1 … Sector 6)"),
           ("company_county", str, "", "County (ISO 3166-2:RO code, e.g. RO-CJ, RO-B)"),
           ("company_postal_code", str, "", "Postal code"),
           ("company_country", str, "RO", "Country (ISO code)"),
           ("company_email", str, "", "Email"),
           ("company_phone", str, "", "Phone"),
           ("company_website", str, "", "Website"),
           ("company_logo", str, "", "Logo (stored file; uploaded on the company profile screen)"),
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
           ("physical_inventory_prefix", str, "PI", "Physical inventory (stock take) prefix"),
           ("next_physical_inventory_number", int, 1, "Next physical inventory number"),
           ("lot_number_prefix", str, "LOT", "Lot number prefix"),
           ("default_warehouse_id", int, 1, "Warehouse used for automatic delivery notes")),
    *_defs("Purchasing",
           ("pur_order_prefix", str, "#PO", "Purchase order prefix"),
           ("next_po_number", int, 1, "Next purchase order number"),
           ("pur_request_prefix", str, "#PR", "Purchase request prefix"),
           ("next_pr_number", int, 1, "Next purchase request number")),
    *_defs("Purchasing documents",
           ("pur_estimate_prefix", str, "Q-", "Vendor quotation prefix"),
           ("next_pur_estimate_number", int, 1, "Next vendor quotation number"),
           ("pur_invoice_prefix", str, "VI-", "Vendor invoice prefix"),
           ("next_pur_invoice_number", int, 1, "Next vendor invoice number"),
           ("purchase_auto_replenishment", bool, False,
            "Replenishment: a daily job creates RFQs for items below their minimum stock")),
    *_defs("e-Factura",
           ("efactura_auto_send", bool, False, "Auto-send eFactura"),
           ("efactura_auto_send_after_days", int, 5, "Auto-send after (days)"),
           ("efactura_api_url", str, "https://api.anaf.ro/test/FCTEL/rest/",
            "Environment: ANAF API base URL (test …/test/FCTEL/rest/, production …/prod/FCTEL/rest/)"),
           ("efactura_oauth_url", str, "https://logincert.anaf.ro/anaf-oauth2/v1/", "ANAF OAuth base URL"),
           ("efactura_public_url", str, "https://webservicesp.anaf.ro/prod/FCTEL/rest/",
            "ANAF public services URL (XML to PDF)"),
           ("efactura_client_id", str, "", "OAuth client id"),
           ("efactura_client_secret", str, "", "OAuth client secret"),
           ("efactura_redirect_uri", str, "", "OAuth redirect URI (empty: this site's callback)"),
           ("efactura_access_token", str, "", "Access token (JWT)"),
           ("efactura_refresh_token", str, "", "Refresh token"),
           ("efactura_token_expires", str, "", "Access token expiry (UTC, from the JWT exp)"),
           ("efactura_token_status", str, "", "Token status (empty, active, expired, refused)"),
           ("efactura_timeout", int, 30, "ANAF request timeout (seconds)"),
           ("efactura_refresh_days_before", int, 7, "Refresh the token this many days before it expires"),
           ("efactura_received_days", int, 5, "Received invoices: look back this many days (1-60)")),
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
    *_defs("Innoship",
           ("innoship_api_url", str, "https://api.innoship.com", "API base URL"),
           ("innoship_api_key", str, "", "API key (empty: no courier bookings)"),
           ("innoship_location_id", str, "", "Pick-up location id (externalClientLocation)"),
           ("innoship_service_id", int, 1, "Service (1 national standard, 3 lockers, 4 pick-up points, 6 same day)"),
           ("innoship_courier_id", int, 0, "Courier (0: Innoship chooses; 1 Cargus, 2 DPD, 3 FanCourier, 4 GLS, 6 Sameday)"),
           ("innoship_payment", str, "Sender", "Who pays the courier (Sender or Recipient)"),
           ("innoship_timeout", int, 30, "Seconds to wait for Innoship"),
           ("innoship_email_client", bool, True, "Email the client the AWB, tracking link and delivery note")),
    *_defs("Payments",
           ("email_payment_receipt_to_client", bool, True,
            "Email the client a receipt (template invoice-payment-recorded) when a payment is recorded"),
           ("stripe_secret_key", str, "", "Stripe secret key (empty: no online payment)"),
           ("stripe_publishable_key", str, "", "Stripe publishable key"),
           ("stripe_webhook_secret", str, "", "Stripe webhook signing secret (whsec_...) of /webhooks/stripe"),
           ("stripe_api_base", str, "https://api.stripe.com", "Stripe API base URL")),
    *_defs("Facebook Lead Ads",
           ("facebook_app_secret", str, "", "App secret (Facebook signs each webhook delivery with it)"),
           ("facebook_verify_token", str, "", "Verify token (any secret text; type the same in Facebook's webhook)"),
           ("facebook_page_access_token", str, "", "Page access token (with the leads_retrieval permission)"),
           ("facebook_graph_url", str, "https://graph.facebook.com", "Graph API base URL"),
           ("facebook_graph_version", str, "v21.0", "Graph API version"),
           ("facebook_field_mapping", str,
            '{"full_name": "name", "first_name": "name", "last_name": "name", "email": "email", '
            '"work_email": "email", "phone_number": "phonenumber", "work_phone_number": "phonenumber", '
            '"company_name": "company", "job_title": "title", "street_address": "address", "city": "city", '
            '"state": "state", "province": "state", "zip_code": "zip", "post_code": "zip", "country": "country"}',
            "Field mapping (JSON: Facebook field name → lead column; other fields go to the description)"),
           ("facebook_lead_source", str, "Facebook Lead Ads", "Lead source of Facebook leads"),
           ("facebook_lead_status", int, 0, "Status of new Facebook leads (0: the default pipeline's first status)"),
           ("facebook_lead_assigned", int, 0, "Assign new Facebook leads to (0: nobody)")),
    *_defs("Attachments",
           ("attachment_max_mb", int, 10, "Largest attachment (MB; uploads are also capped by MAX_CONTENT_LENGTH)"),
           ("attachment_allowed_extensions", str, "pdf,png,jpg,jpeg,gif,doc,docx,xls,xlsx,csv,txt,zip",
            "Allowed attachment types (comma-separated extensions)")),
    *_defs("Contracts",
           ("contract_expiration_before", int, 4, "Send the contract expiry reminder this many days before its end date"),
           ("contract_expiry_notify_client", bool, False, "Send the expiry reminder to the client's primary contact too")),
    *_defs("Webhooks and notifications",
           ("webhook_max_attempts", int, 8, "Webhook delivery attempts before it is marked failed"),
           ("webhook_retry_base_seconds", int, 60, "First webhook retry after (seconds; doubles each attempt)"),
           ("webhook_timeout_seconds", int, 10, "Webhook receiver timeout (seconds)"),
           ("webhook_allow_private_addresses", bool, False,
            "Let webhooks post to private, loopback and link-local addresses (an on-premises receiver)"),
           ("notifications_email_staff", bool, True, "Email staff their notifications (besides the bell)")),
    *_defs("Warehouse stock",
           ("goods_receipt_require_lot_expiry", bool, False, "Lot number and expiry date required on receipt lines"),
           ("warehouse_consume_fefo", bool, False,
            "Deliver the earliest expiry first (FEFO; expired lots never delivered) instead of FIFO"),
           ("warehouse_delivery_order", str, "",
            "Warehouses delivery notes draw on, in order (ids or codes, comma-separated; then the default "
            "warehouse, then the others by name)"),
           ("warehouse_backorder_auto", bool, False,
            "A delivery note created short of stock requests the shortfall (RFQ) at once"),
           ("warehouse_reserve_on_accept", bool, False,
            "Accepting a sales order reserves its quantities (available = on hand - reserved) until delivered")),
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


# Rules beyond an option's type (e.g. the warehouses it names exist), registered by the module that
# reads the option; applied by every door that writes one (Option rows, the settings screens).
CHECKS: dict[str, Any] = {}


def check(name: str, value: Any) -> None:
    """Raise OptionError naming the option when ``value`` breaks its registered rule."""
    rule = CHECKS.get(name)
    if rule is not None:
        rule(value)


def serialize(defn: OptionDef, value: Any) -> str:
    if defn.type is bool:
        return "1" if value else "0"
    return str(value)


_CACHE = "crm_options"


def is_counter(name: str) -> bool:
    """A number series' counter (next_invoice_number): taken by every numbered document, so it
    is never shared across transactions but read by the transaction that asks for it."""
    return name.startswith("next_") and name.endswith("_number")


def _read_stored(session) -> dict[str, str]:
    from crm.core.models.settings import Option  # cycle: models -> models.settings -> options

    # Plain rows, not Option objects: always the stored values, and cheaper to read.
    return {name: value for name, value in session.execute(select(Option.name, Option.value))
            if not is_counter(name)}


def _option_model() -> tuple:
    from crm.core.models.settings import Option  # cycle: models -> models.settings -> options

    return (Option,)


# The stored options but the counters, shared by the process's transactions (crm/core/shared.py:
# a change through this process is seen by the next transaction, one by another process within
# shared.SECONDS).
STORED = Shared("options", _read_stored, _option_model, ignore=lambda row: is_counter(row.name or ""))


def _stored() -> dict[str, str]:
    """The stored options, as this transaction first read them (a commit or rollback forgets
    them); the counters are added as they are asked for (_text)."""
    session = db.session()
    cache = session.info.get(_CACHE)
    if cache is None:
        cache = session.info[_CACHE] = dict(STORED.get(session))
    return cache


def _text(name: str, stored: dict[str, str]) -> str | None:
    """The stored text of ``name`` (None: no row); a counter is read now, once per transaction."""
    if is_counter(name) and name not in stored:
        from crm.core.models.settings import Option  # cycle: models -> models.settings -> options

        stored[name] = db.session.execute(select(Option.value).where(Option.name == name)).scalar()
    return stored.get(name)


def _in_database(name: str, stored: dict[str, str]) -> bool:
    return _text(name, stored) is not None or (name in stored and not is_counter(name))


def remember(name: str, text: str) -> None:
    """A value this transaction just wrote to tbloptions without the ORM (a number series)."""
    cache = db.session.info.get(_CACHE)
    if cache is not None:
        cache[name] = text


def _forget(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        session.info.pop(_CACHE, None)


def source(name: str) -> str:
    if name.upper() in os.environ:
        return "environment"
    return "database" if _in_database(name, _stored()) else "default"


def get(name: str) -> Any:
    return _resolve(name, None)


def get_many(*names: str) -> dict[str, Any]:
    """Several options from one read of tbloptions (outside a request each get() reads it)."""
    stored = _stored()
    return {name: _resolve(name, stored) for name in names}


def _resolve(name: str, stored: dict[str, str] | None) -> Any:
    defn = OPTIONS.get(name)
    env = os.environ.get(name.upper())
    if defn is None:  # an option we do not know: a plain string
        return env if env is not None else _text(name, stored if stored is not None else _stored())
    if env is not None:
        return parse(defn, env)
    stored = stored if stored is not None else _stored()
    if _in_database(name, stored):
        return parse(defn, stored[name])
    return defn.default


def set(name: str, value: Any) -> None:  # noqa: A001 - mirrors get()
    """Store an option in tbloptions (the caller commits). Validates the type first."""
    from crm.core.models.settings import Option  # cycle: models -> models.settings -> options

    defn = OPTIONS.get(name)
    text = serialize(defn, parse(defn, value) if isinstance(value, str) else value) if defn else str(value)
    row = db.session.query(Option).filter_by(name=name).one_or_none()
    if row is None:
        row = Option(name=name, value=text)
        db.session.add(row)
    else:
        row.value = text
    if not is_counter(name):
        changed(db.session(), STORED.name)  # this transaction reads its own; its commit, every one
    db.session.info.pop(_CACHE, None)


def register_stages(add) -> None:
    """Its stages of the commit pipeline (crm/core/commit_pipeline.py)."""
    add("after_transaction_end", "options.forget", _forget)
