"""The generated create/edit forms as a person fills them, from the declarations: fields in sections
(the party first, then dates, the rest, addresses, notes last; ``Resource.form`` may say otherwise),
no action-owned, derived or internal columns, small look-up tables as plain selects with "Choose…"
and large ones searchable, and the values a person expects on a new record (the default status or
pipeline, assigned to me, today, the due date from ``invoice_due_after``)."""
from __future__ import annotations

import re
from datetime import date

from flask_login import current_user
from sqlalchemy import Date, DateTime, Text, inspect

from crm.core.extensions import db
from crm.core.labels import label
from crm.core.resources import action_owned, columns, fk_relationships, is_date, resource_of
from crm.sales.actions import conversions
from crm.sales.actions.conversions import due_date

# Tables a document is made for or with: its link comes first on the form.
PARTY_TABLES = ("tblclients", "tblleads", "tblpur_vendor", "tblcontacts")
# What names a record, after its party.
TITLE_COLUMNS = ("subject", "name", "title", "company", "description", "pur_rq_name", "pur_order_name",
                 "commodity_name", "warehouse_name", "packing_list_name", "order_return_name", "email")
NOTE_RE = re.compile(r"(note|terms|comment|reason)$|^(adminnote|clientnote|vendornote|message)$")
# Columns derived, kept by the system or left from Perfex features this system does not have: never
# on a form (the API and the details page still show them).
INTERNAL = {"lost_reason", "from_form_id", "converted_from_lead", "project_id", "hash", "is_recurring_from",
            "short_link", "leadorder", "session_version", "total_cycles", "date_converted",
            "dateassigned", "last_status_change", "last_lead_status", "last_login", "last_recurring_date",
            "last_due_reminder", "last_overdue_reminder", "is_expiry_notified", "isexpirynotified",
            "isnotified", "cancel_overdue_reminders", "subtotal", "total_tax", "total", "sub_total",
            "total_money", "total_tax_money", "total_goods_money", "value_of_inventory", "total_amount",
            "total_after_discount", "number", "formatted_number", "prefix", "number_format", "uuid",
            "rel_type_detail_id", "itemable_id"}
INTERNAL_RE = re.compile(r"^efactura_|_notified$|^acceptance_|^date_?(created|added|add|c|create)$")
# Columns a person rarely fills: in the folded "More" section of any form that has them.
ADVANCED = ("recurring", "recurring_type", "custom_recurring", "cycles", "show_quantity_as", "exchange_rate",
            "is_public", "discount_type")
FOLDED = "More"
# Staff links a new record gives to the person creating it.
MINE = ("assigned", "sale_agent", "staff_id", "buyer", "requester", "responsible")
# Date columns a new record starts at today.
TODAY = ("date", "datestart", "start_date", "order_date", "invoice_date", "request_date", "daterecorded",
         "date_add", "delivery_date_planned")


def hidden(model) -> set[str]:
    """Column keys (and their relationships) never on the create/edit form."""
    fk_rels = fk_relationships(model)
    keys = {c.key for c in columns(model) if c.key in INTERNAL or INTERNAL_RE.search(c.key)}
    keys |= set(action_owned(model))
    return keys | {fk_rels[k] for k in keys if k in fk_rels}


def is_lookup(target) -> bool:
    """A small table its links pick from a plain select: declared (``Resource.lookup``), or a
    Settings table without dates (statuses, sources, units, taxes, currencies, payment modes...)."""
    res = resource_of(target)
    if res.lookup is not None:
        return res.lookup
    return res.category == "Settings" and not any(is_date(c) for c in columns(target))


def _target(model, rel_key):
    return inspect(model).relationships[rel_key].mapper.class_


def lookup_relationships(model) -> dict[str, type]:
    """relationship key -> target, for the links shown as plain selects."""
    out = {}
    for rel_key in fk_relationships(model).values():
        target = _target(model, rel_key)
        if is_lookup(target):
            out[rel_key] = target
    return out


def form_args(model) -> dict:
    """Per field: "Choose…" as a select's empty choice; the address fields say what an empty one takes."""
    out = {}
    for rel_key in lookup_relationships(model):
        out[rel_key] = {"blank_text": "Choose…"}
    keys = {c.key for c in columns(model)}
    if "clientid" in keys and "billing_street" in keys:
        for kind in ("billing", "shipping"):
            out[f"{kind}_street"] = {"description": f"Left empty: the client's {kind} address."}
    if "duedate" in keys:
        out["duedate"] = {"description": "Left empty: the date plus the invoice_due_after option."}
    return out


def address_client(model) -> str | None:
    """The client link of a document that carries the client's addresses (its form fills them when
    a client is picked), else None."""
    keys = {c.key for c in columns(model)}
    if "clientid" in keys and "billing_street" in keys:
        return fk_relationships(model).get("clientid")
    return None


ADDRESS_INCLUDE = "[name^='billing_'],[name^='shipping_']"


def widget_args(model, url: str) -> dict:
    """htmx on the client field: picking a client (the "picked" event crm_base.html relays from
    Select2) asks ``url`` for its addresses (see :func:`filled_from_client`); nothing else changes."""
    rel = address_client(model)
    if rel is None:
        return {}
    return {rel: {"hx-get": url, "hx-trigger": "picked", "hx-include": ADDRESS_INCLUDE,
                  "hx-swap": "none", "hx-params": "*"}}


def filled_from_client(form, client) -> list:
    """The address fields of ``form`` to fill from ``client``: each block (billing, shipping) still
    all empty takes the client's (as saving an empty block does); their values set on the fields."""
    given = conversions.client_addresses(client)
    out = []
    for kind in ("billing", "shipping"):
        names = [f"{kind}_{p}" for p in conversions.ADDRESS_PARTS if f"{kind}_{p}" in form]
        if names and not any((form[n].data or "").strip() for n in names):
            for n in names:
                if given.get(n):
                    form[n].data = given[n]
                    out.append(form[n])
    if "include_shipping" in form and given["include_shipping"] and any(
            f.name.startswith("shipping_") for f in out) and not form["include_shipping"].data:
        form["include_shipping"].data = True  # the client ships elsewhere: the document shows it
        out.append(form["include_shipping"])
    return out


def input_class(field) -> str:
    """The class Flask-Admin gives a field's input (lib.html render_field), for a field sent again alone."""
    return "" if getattr(field.widget, "input_type", None) == "checkbox" else "form-control"


def _kind(model, key, fk_rels) -> int:
    """0 party, 1 title, 2 dates, 3 the rest, 4 addresses, 5 notes, 6 advanced (folded)."""
    if key in ADVANCED:
        return 6
    if key in fk_rels and _target(model, fk_rels[key]).__tablename__ in PARTY_TABLES or key in ("rel_type", "rel_id"):
        return 0
    if key in TITLE_COLUMNS or key == "currency":
        return 1
    col = model.__table__.columns.get(key)
    if col is not None and isinstance(col.type, (Date, DateTime)):
        return 2
    if key.startswith(("billing_", "shipping_")) or key in ("include_shipping", "show_shipping_on_invoice",
                                                            "show_shipping_on_estimate", "address", "city",
                                                            "state", "zip", "country"):
        return 4
    if col is not None and col.info.get("ids_of"):  # chosen from a list, not written
        return 3
    if NOTE_RE.search(key) or (col is not None and isinstance(col.type, Text)):
        return 5
    return 3


SECTION_TITLES = ("Party", "Main", "Dates", "Details", "Address", "Notes", FOLDED)


def sections(model) -> list[tuple[str, list[str]]]:
    """[(title, [form field names])] in the order a person fills them (``Resource.form`` first)."""
    fk_rels = fk_relationships(model)
    res = resource_of(model)
    out: list[tuple[str, list[str]]] = []
    placed = set()
    for title, keys in res.form:
        names = [fk_rels.get(k, k) for k in keys]
        out.append((title, names))
        placed |= set(keys)
    groups: dict[int, list[str]] = {}
    for c in columns(model):
        if c.key not in placed:
            groups.setdefault(_kind(model, c.key, fk_rels), []).append(fk_rels.get(c.key, c.key))
    if 0 in groups:  # what is about whom: the party and the title read as one block
        groups[0] += groups.pop(1, [])
    if 1 in groups and not out:
        groups[1].sort(key=lambda k: k != "currency")
    for kind in sorted(groups, key=lambda k: 4.5 if k == 6 else k):  # the folded section before the notes
        if kind == 0:
            title = label(model, next(k for k, v in fk_rels.items() if v == groups[0][0])) \
                if groups[0][0] in fk_rels.values() else "Party"
        else:
            title = SECTION_TITLES[kind]
        out.append((title, groups[kind]))
    return out


def grouped(view, form) -> list[tuple[str, list]]:
    """The form's visible fields in sections; a field no section names (custom fields, the lines)
    goes before the notes, under its own title. A section of one field named as the section shows
    the title once (the field's ``crm_bare``: its label is not repeated)."""
    fields = {f.short_name: f for f in form if getattr(f.widget, "input_type", None) != "hidden"}
    out, used = [], set()
    for title, names in sections(view.model):
        found = [fields[n] for n in names if n in fields]
        used |= {f.short_name for f in found}
        if found:
            out.append((title, found))
    rest = [f for n, f in fields.items() if n not in used]
    if rest:
        lines = [f for f in rest if f.short_name in ("line_editor", "items") or f.type == "InlineModelFormList"]
        custom = [f for f in rest if f not in lines]
        at = next((i for i, (t, _) in enumerate(out) if t in ("Notes", FOLDED)), len(out))
        extra = ([("Lines", lines)] if lines else []) + ([("Custom fields", custom)] if custom else [])
        out[at:at] = extra
    for title, found in out:
        if len(found) == 1 and str(found[0].label.text).strip().lower() == title.lower():
            found[0].crm_bare = True
    return out


def defaults(model) -> dict:
    """field name -> value of a new record's form."""
    fk_rels = fk_relationships(model)
    out = {}
    staff_id = getattr(current_user, "staffid", None)
    for c in columns(model):
        key = c.key
        rel = fk_rels.get(key)
        if rel:
            target = _target(model, rel)
            if target.__tablename__ == "tblstaff" and key in MINE and staff_id is not None:
                out[rel] = db.session.get(target, staff_id)
            elif is_lookup(target):
                row = _default_row(target)
                if row is not None and not c.nullable or row is not None and _flag(target):
                    out[rel] = row
        elif isinstance(c.type, Date) and key in TODAY:
            out[key] = date.today()
        elif key == "duedate" and isinstance(c.type, Date):
            out[key] = due_date(date.today())
    return out


def _flag(target):
    cols = {c.key for c in columns(target)}
    return next((f for f in ("isdefault", "is_default", "selected_by_default") if f in cols), None)


def _default_row(target):
    """The row a table marks as its default, else its first (by its order column, then its id)."""
    flag = _flag(target)
    query = db.session.query(target)
    if flag:
        row = query.filter(getattr(target, flag).is_(True)).first()
        if row is not None:
            return row
    cols = {c.key for c in columns(target)}
    order = next((o for o in ("statusorder", "pipeline_order", "field_order") if o in cols), None)
    pk = inspect(target).primary_key[0]
    return query.order_by(*([getattr(target, order)] if order else []), pk).first()


def apply_defaults(form, model) -> None:
    """Fill an unposted new record's form with :func:`defaults` (only fields still empty)."""
    for name, value in defaults(model).items():
        field = getattr(form, name, None)
        if field is not None and field.data in (None, "", []):
            field.data = value
