"""The words a person reads for a column, in one place: grid columns, filters, form fields, details
rows, CSV headers and the API's descriptions all call :func:`label`.

A column's label comes from its declaration when it has one (``info={"label": ...}`` on the column, or
``Resource.labels`` on the model); otherwise it is made from the Perfex name: the known names below
(``dateadded`` → Date added, ``addedfrom`` → Added by, ``pur_rq_code`` → RFQ number), then word by
word (``phonenumber`` → Phone number, ``lenght`` → Length). A foreign key is labelled by what it
points at (``clientid`` → Client, ``estimate_id`` → Sales order).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from sqlalchemy import Boolean, inspect

# Whole column names whose words are not their parts.
KNOWN = {
    "addedfrom": "Added by", "addfrom": "Added by", "creator": "Created by", "requester": "Requested by",
    "date_c": "Date created", "date_add": "Date added", "date_create": "Date created",
    "datesend": "Date sent", "datestart": "Start date", "dateend": "End date",
    "leadorder": "Order on board", "pipeline_order": "Order on board", "statusorder": "Order",
    "field_order": "Order", "item_order": "Order",
    "rel_id": "Related to", "rel_type": "Related type", "relid": "Related to",
    "rel_type_detail_id": "Related line",
    "pur_rq_code": "RFQ number", "pur_rq_name": "RFQ name", "rq_description": "Description",
    "pur_order_number": "Purchase order number", "pur_order_name": "Purchase order name",
    "sale_agent": "Sales agent", "assigned": "Assigned to", "staff": "Staff member",
    "admin": "Administrator", "active": "Active", "isdefault": "Default", "is_default": "Default",
    "is_recurring_from": "Recurring from", "custom_recurring": "Custom recurrence",
    "recurring_type": "Recurrence unit", "recurring": "Recurs every", "cycles": "Cycles",
    "total_cycles": "Cycles done", "tax2": "Second tax", "tax": "Tax",
    "show_quantity_as": "Show quantity as", "subtotal": "Subtotal", "sub_total": "Subtotal",
    "total_tax": "Tax", "adminnote": "Admin note", "admin_note": "Admin note",
    "clientnote": "Client note", "client_note": "Client note", "vendornote": "Vendor note",
    "to_": "To", "fieldto": "Belongs to", "touserid": "To", "fromuserid": "From",
    "fromclientid": "From client", "fromcompany": "From company", "fromname": "From name",
    "hash": "Portal key", "uuid": "UUID", "func": "Job", "args": "Arguments",
    "wh_quantity_received": "Quantity received", "wh_delivered_quantity": "Quantity delivered",
    "flag_export_warehouse": "Exported from warehouse", "without_checking_warehouse": "Without a stock check",
    "goods_money": "Goods amount", "total_goods_money": "Goods total", "into_money": "Amount",
    "tax_money": "Tax amount", "total_tax_money": "Tax total", "total_money": "Total",
    "discount_money": "Discount amount", "inventory_manage_id": "Stock balance",
    "efactura_upload_index": "e-Factura upload index", "efactura_download_id": "e-Factura download id",
    "door": "Entered through", "row_table": "Table", "table_name": "Table", "record_id": "Record",
    "lead_value": "Value", "lead_status": "Lead status", "lead_source": "Lead source",
    "lead_pipeline": "Pipeline", "opportunity_status": "Stage", "ip": "IP address",
    "vat": "VAT number", "iban": "IBAN", "awb_number": "AWB number", "url": "URL",
    "honeypot_field": "Spam trap field", "submit_btn_name": "Submit button text",
    "success_submit_msg": "Message after sending", "form_key": "Form key",
    "junk": "Junk", "lost": "Lost", "is_lost": "Lost", "is_won": "Won", "currency": "Currency",
    "default_currency": "Default currency", "exchange_rate": "Exchange rate",
    "body_html": "Body (HTML)", "body_text": "Body (text)", "cc": "CC",
    "zip": "ZIP code", "zip_code": "ZIP code", "billing_zip": "Billing ZIP code",
    "shipping_zip": "Shipping ZIP code", "vat_category": "VAT category",
    "formatted_number": "Number", "number": "Sequence number", "invoice_no": "Invoice number", "reference_no": "Reference number", "sale_estimate": "Sales order", "sale_invoice": "Invoice",
    "goods_delivery_code": "Delivery note number", "goods_receipt_code": "Receipt number",
    "reason_return": "Return reason", "notify_when_achieve": "Notify when achieved",
    "notify_when_fail": "Notify when failed", "date_manufacture": "Manufacture date",
    "inventory_number_max": "Maximum stock", "inventory_number_min": "Minimum stock",
    "open_till": "Valid until", "proposal_to": "To", "session_version": "Session version",
    "show_shipping_on_estimate": "Show shipping on sales order", "approval": "Approval",
    "converted_from_lead": "Converted from lead", "from_form_id": "Web form",
    "project_id": "Project", "leadgen_id": "Lead form entry", "isread_inline": "Read inline",
}

# Words Perfex glues together or abbreviates, and the words a person reads.
WORDS = {
    "dateadded": "date added", "datecreated": "date created", "duedate": "due date",
    "expirydate": "expiry date", "daterecorded": "date recorded", "dateassigned": "date assigned",
    "phonenumber": "phone number", "leadorder": "order on board", "lastcontact": "last contact",
    "firstname": "first name", "lastname": "last name", "fullname": "full name",
    "taxrate": "tax rate", "taxname": "tax name", "filetype": "file type", "paymentmode": "payment mode",
    "paymentmethod": "payment method", "transactionid": "transaction id", "emailtemplateid": "email template",
    "isexpirynotified": "expiry notified", "isnotified": "notified", "isread": "read",
    "clientid": "client", "userid": "client", "staffid": "staff member", "roleid": "role", "leadid": "lead",
    "itemid": "item", "invoiceid": "invoice", "paymentid": "payment", "webhookid": "webhook",
    "fieldid": "field", "lenght": "length", "qty": "quantity", "rq": "RFQ", "pur": "purchase",
    "wh": "warehouse", "vat": "VAT", "iban": "IBAN", "awb": "AWB", "sku": "SKU", "url": "URL",
    "ip": "IP", "pdf": "PDF", "id": "id", "efactura": "e-Factura", "cc": "CC",
    "num": "number", "desc": "description", "addr": "address", "btn": "button", "msg": "message",
    "pr": "purchase", "html": "HTML", "api": "API", "smtp": "SMTP",
}
# Acronyms keep their capitals wherever they stand.
_UPPER = {w for w in WORDS.values() if w.isupper()} | {"e-Factura"}


def words(name: str) -> str:
    """A Perfex column name as words, capitalised: ``phonenumber`` → Phone number."""
    name = name.strip("_")
    if name.startswith("is_") and len(name) > 3:
        name = name[3:]
    parts = [WORDS.get(p, p) for p in re.split(r"_+", name) if p]
    if len(parts) > 1 and parts[-1] == "id":  # lead_id -> Lead: the id is what a column holds
        parts.pop()
    text = " ".join(parts) or name
    return text if text.split(" ")[0] in _UPPER else text[:1].upper() + text[1:]


def singular(text: str) -> str:
    """``Sales Orders`` → Sales order, ``Requests for quotation`` → Request for quotation."""
    head, sep, tail = text.partition(" for ")
    ws = head.split(" ")
    last = ws[-1]
    if last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("tuses", "xes", "ches", "shes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    ws[-1] = last
    out = " ".join(ws[:1] + [w.lower() if w not in _UPPER else w for w in ws[1:]]) + sep + tail
    return out[:1].upper() + out[1:]


def _target(model, key):
    for rel in inspect(model).relationships:
        if rel.direction.name == "MANYTOONE" and len(rel.local_columns) == 1:
            col = next(iter(rel.local_columns))
            if col.key == key and col.foreign_keys and col.table is model.__table__:
                return rel.mapper.class_
    return None


def _fk_label(key: str, target) -> str:
    stem = re.sub(r"(_id|id)$", "", key) if key not in ("id",) else key
    table = target.__tablename__.removeprefix("tbl")
    res = getattr(target, "__crm__", None)
    if res is not None and res.label and (not stem or singular(table).lower() == stem.lower()
                                           or table.lower() == stem.lower()):
        return singular(res.label)
    if key in KNOWN:
        return KNOWN[key]
    return words(key if key in WORDS else stem or key)


@lru_cache(maxsize=None)
def label(model, key: str) -> str:
    """The label of ``model``'s column (or relationship) ``key``."""
    mapper = inspect(model)
    column = mapper.columns.get(key)
    if column is None:  # a relationship: labelled as its foreign key column
        rel = mapper.relationships.get(key)
        if rel is not None and rel.direction.name == "MANYTOONE" and len(rel.local_columns) == 1:
            column = next(iter(rel.local_columns))
            if column.table is not model.__table__:
                column = None
        if column is None:
            return words(key)
    if column.info.get("label"):
        return column.info["label"]
    declared = getattr(getattr(model, "__crm__", None), "labels", None) or {}
    if column.key in declared:
        return declared[column.key]
    target = _target(model, column.key)
    if target is not None:
        return _fk_label(column.key, target)
    if column.key in KNOWN:
        return KNOWN[column.key]
    if isinstance(column.type, Boolean) and column.key.startswith("is_"):
        return words(column.key[3:])
    return words(column.key)


def tax_label(name, rate) -> str:
    """A tax as a person reads it: its name, and its rate unless the name says it (TVA 21%, not
    TVA 21% 21%)."""
    name = (name or "").strip()
    try:
        shown = f"{Decimal(rate).normalize():f}" if rate is not None else ""
    except InvalidOperation:
        shown = str(rate)
    if not shown or re.search(rf"(?<![\d.]){re.escape(shown)}(\.0+)?\s*%", name):
        return name
    return f"{name} {shown}%".strip()
