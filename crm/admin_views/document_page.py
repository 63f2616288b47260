"""The document page and the grid row's actions, generated from the declarations.

A table is a document when its ``__crm__`` Resource says so (``lines``, or ``document=True``): its
details view becomes the page of templates/admin/crm_document.html — a header (number, status,
party, dates, currency, total, amount left), the lines and the totals block the PDF prints (one
function for both: crm.sales.documents.lines_and_totals), the actions valid in its state as
labelled buttons (the main one first, the others under "More", those that cannot run disabled
with the reason), then payments, the documents linked to it up and down the chain (found from the
foreign keys between document tables), the activity and audit timeline, emails sent and
attachments, and every field folded away.

Nothing is written per table: the party, payments and main actions are Resource fields; the
amount left and panels are registered by the areas (crm/core/pages.py).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import current_app, url_for
from flask_login import current_user
from sqlalchemy import Date, Numeric, inspect
from sqlalchemy.orm import selectinload, with_parent
from sqlalchemy.orm.evaluator import _EvaluatorCompiler

from crm.admin_views.formats import format_money
from crm.core import documents, numbering, pages
from crm.core.extensions import db
from crm.core.models.messaging import EmailOutbox
from crm.core.models.records import ActivityLog, File
from crm.core.permissions import can, can_table, visible
from crm.core.resources import (
    all_models,
    columns,
    currency_relationship,
    fk_relationships,
    is_money,
    primary_key,
    resource_of,
    status_enum,
)
from crm.core.registry import actions_for
from crm.sales.documents import lines_and_totals, mode_name, mode_names, signature_block
from crm.sales.models.clients import SalesActivity

TEMPLATE = "admin/crm_document.html"
ITEMABLE = "tblitemable"
RELATED_LIMIT = 20
TIMELINE_LIMIT = 50
# Line columns that are bookkeeping, not what a person reads on a line.
LINE_HIDDEN = {"item_order", "rel_type", "rel_id", "wh_delivered_quantity"}


# --- links to any record ------------------------------------------------------------------------

def _views_by_model() -> dict:
    cache = current_app.extensions.setdefault("crm_record_views", {})
    if not cache:
        admin = current_app.extensions["admin"][0]
        for view in admin._views:
            model = getattr(view, "model", None)
            if model is not None and hasattr(view, "crm"):
                cache.setdefault(model, []).append(view)
    return cache


def _shows(view, obj) -> bool:
    """Whether ``obj`` is among the rows of a view showing part of a table (opportunities, leads)."""
    if view.where is None:
        return True
    try:
        return bool(_EvaluatorCompiler(type(obj)).process(view.where(type(obj)))(obj))
    except Exception:  # a condition the evaluator cannot read: the view's page decides
        return True


def record_url(obj) -> str | None:
    """The page of any record, for those who may open its table; None otherwise."""
    if obj is None:
        return None
    model = type(obj)
    views = _views_by_model().get(model) or []
    view = next((v for v in views if _shows(v, obj)), None)
    if view is None or not current_user.is_authenticated or not can_table(current_user, model, "view"):
        return None
    return url_for(f"{view.endpoint}.details_view", id=getattr(obj, primary_key(model)))


# --- what a record is, as a person reads it -----------------------------------------------------

def number_of(obj) -> str:
    if getattr(obj, "__tablename__", None) in numbering.SERIES:
        return numbering.shown(obj)
    return str(obj)


def kind_title(model) -> str:
    kind = next((k for k in documents.KINDS.values() if k.model == model.__name__), None)
    if kind is not None:
        return kind.title
    label = resource_of(model).label
    return label[:-1] if label.endswith("s") else label


def badges(obj) -> list[tuple[str, str]]:
    """(label, colour) of each status of a record: its status columns (the second and later ones
    named, "E-factura: Sent"), or a status look-up row."""
    out = []
    view = None
    for c in columns(type(obj)):
        enum_cls = status_enum(c)
        value = getattr(obj, c.key, None)
        if enum_cls is not None and value is not None:
            shown = enum_cls.shown_for(obj, value) or (str(value), "light")
            if out and c.key != "status":
                view = view or _view_of(type(obj))
                shown = (f"{_label(view, c.key).removesuffix(' status')}: {shown[0]}", shown[1])
            out.append(shown)
    if not out and "status" in fk_relationships(type(obj)):
        rel = getattr(obj, fk_relationships(type(obj))["status"], None)
        if rel is not None:
            out.append((str(rel), "info"))
    for flag, color in resource_of(type(obj)).flags.items():  # a lead's Lost, Junk
        if getattr(obj, flag, False):
            view = view or _view_of(type(obj))
            out.append((_label(view, flag), color))
    return out


def currency_of(obj) -> str:
    rel = currency_relationship(type(obj))
    cur = getattr(obj, rel) if rel else None
    return cur.name if cur is not None else documents.currency_of(obj) if hasattr(obj, "currency_rel") else ""


def total_of(obj) -> Decimal | None:
    """The document's total (a contract: its value)."""
    for key in ("total", "contract_value"):
        if key in inspect(type(obj)).columns:
            return getattr(obj, key)
    return None


def _label(view_or_none, key: str) -> str:
    labels = getattr(view_or_none, "column_labels", None) or {}
    return labels.get(key) or key.replace("_", " ").capitalize()


def _view_of(model):
    views = _views_by_model().get(model) or []
    return views[0] if views else None


# --- the actions of one record ------------------------------------------------------------------

def actions_of(obj, *, with_refused: bool) -> dict:
    """The record's actions the staff member may run: ``main`` (the first of ``main_actions`` that
    can run, else the first that can), ``others`` that can run, and ``refused`` [(action, why)]."""
    model = type(obj)
    allowed = [a for a in actions_for(model) if can(current_user, a.permission)]
    order = {name: i for i, name in enumerate(resource_of(model).main_actions)}
    allowed.sort(key=lambda a: order.get(a.name, len(order)))
    runnable, refused = [], []
    for a in allowed:
        why = a.refusal(obj)
        if why:
            if with_refused:
                refused.append((a, why))
        else:
            runnable.append(a)
    main = next((a for a in runnable if a.name in order), None) or next(
        (a for a in runnable if not a.destructive), None)
    return {"main": main, "others": [a for a in runnable if a is not main], "refused": refused}


def row_menu(row) -> dict:
    """A grid row's actions: the main one as a button, the others in its "…" menu (no query of its own:
    preconditions read the row as loaded)."""
    return actions_of(row, with_refused=False)


# --- the lines and totals -----------------------------------------------------------------------

def _lines_rel(model):
    name = resource_of(model).lines
    return inspect(model).relationships[name] if name else None


def lines_block(obj) -> dict | None:
    rel = _lines_rel(type(obj))
    if rel is None:
        return None
    if rel.mapper.class_.__tablename__ == ITEMABLE:  # the sales documents: exactly what the PDF prints
        rows, totals = lines_and_totals(obj)
        for row, line in zip(rows, obj.items):
            row["discount"] = documents.fmt_qty(line.discount_percent) if line.discount_percent else ""
        return {"itemable": True, "rows": rows, "totals": totals}
    return _generic_lines(obj, rel)


def _generic_lines(obj, rel) -> dict:
    line_model = rel.mapper.class_
    parent_cols = {c.key for c in rel.remote_side} | {c.key for c in rel.local_columns}
    fk_rels = fk_relationships(line_model)
    to_parent = {k for k, r in fk_rels.items() if inspect(line_model).relationships[r].mapper.class_ is type(obj)}
    keep = [c for c in columns(line_model) if c.key != primary_key(line_model) and c.key not in parent_cols
            and c.key not in to_parent and c.key not in LINE_HIDDEN and c.key not in ("hash", "signature")]
    query = (db.session.query(line_model).filter(with_parent(obj, rel))
             .options(*[selectinload(getattr(line_model, fk_rels[c.key])) for c in keep if c.key in fk_rels]))
    order = rel.order_by or [getattr(line_model, primary_key(line_model))]
    lines = query.order_by(*order).all()
    keep = [c for c in keep if any(getattr(ln, c.key) not in (None, "", 0) for ln in lines)][:9]
    view = _view_of(line_model)
    cols = [{"key": c.key, "label": _label(view, fk_rels.get(c.key, c.key)) if c.key in fk_rels else _label(view, c.key),
             "num": isinstance(c.type, Numeric)}
            for c in keep]
    rows = []
    for ln in lines:
        cells = []
        for c in keep:
            value = getattr(ln, fk_rels[c.key]) if c.key in fk_rels else getattr(ln, c.key)
            cells.append(_cell(value, c))
        rows.append(cells)
    totals = {}
    for key, label in (("subtotal", "Subtotal"), ("discount_total", "Discount"), ("total_tax", "Tax"),
                       ("tax", "Tax"), ("total", "Total")):
        value = getattr(obj, key, None)
        if value is not None and (value or key in ("subtotal", "total")) and hasattr(type(obj), key):
            totals[label] = value
    if set(totals) <= {"Subtotal", "Total"} and not any(totals.values()):
        totals = {}
    return {"itemable": False, "columns": cols, "rows": rows, "totals": totals}


def _cell(value, column):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if is_money(column):
            return documents.fmt(value)
        if "price" in column.key:  # a unit price as the sales lines show it: 409.00, 0.0050
            return documents.fmt_price(value)
        return documents.fmt_qty(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


# --- the chain ------------------------------------------------------------------------------------

def _document_models() -> list:
    return [m for m in all_models() if pages.is_document(m)]


def _brief(obj) -> dict:
    return {"obj": obj, "kind": kind_title(type(obj)), "number": number_of(obj), "badges": badges(obj),
            "url": record_url(obj), "total": total_of(obj), "currency": currency_of(obj)}


def related(obj) -> dict:
    """Documents this one points at (``from``) and documents pointing at it (``made``), by their keys."""
    model = type(obj)
    res = resource_of(model)
    mapper_rels = inspect(model).relationships
    up = []
    for col, rel_key in fk_relationships(model).items():
        target = mapper_rels[rel_key].mapper.class_
        if rel_key != res.party and pages.is_document(target) and getattr(obj, col) is not None \
                and can_table(current_user, target, "view"):
            linked = getattr(obj, rel_key)
            if linked is not None and linked is not obj:
                up.append(_brief(linked))
    down = []
    pk = getattr(obj, primary_key(model))
    for other in _document_models():
        if not can_table(current_user, other, "view"):
            continue
        other_rels = inspect(other).relationships
        for col, rel_key in fk_relationships(other).items():
            if other_rels[rel_key].mapper.class_ is model and rel_key != resource_of(other).party:
                q = visible(db.session.query(other), current_user, other).filter(getattr(other, col) == pk)
                for found in q.order_by(getattr(other, primary_key(other))).limit(RELATED_LIMIT):
                    if found is not obj and all(found is not u["obj"] for u in up + down):
                        down.append(_brief(found))
    return {"up": up, "down": down}


# --- history, emails, files -------------------------------------------------------------------------

def _rel_types(model) -> set[str]:
    kinds = {k.name for k in documents.KINDS.values() if k.model == model.__name__}
    return {resource_of(model).name, *kinds}


def timeline(obj) -> list[dict]:
    model = type(obj)
    pk = getattr(obj, primary_key(model))
    types = _rel_types(model)
    logs = (db.session.query(ActivityLog).options(selectinload(ActivityLog.staff))
            .filter(ActivityLog.rel_type.in_(types), ActivityLog.rel_id == pk)
            .order_by(ActivityLog.date.desc(), ActivityLog.id.desc()).limit(TIMELINE_LIMIT).all())
    sales = (db.session.query(SalesActivity).filter(SalesActivity.rel_type.in_(types), SalesActivity.rel_id == pk)
             .order_by(SalesActivity.date.desc(), SalesActivity.id.desc()).limit(TIMELINE_LIMIT).all())
    entries = [{"when": a.date, "who": a.staff.full_name if a.staff else "", "text": a.description} for a in logs]
    entries += [{"when": s.date, "who": s.full_name or "", "text": s.description} for s in sales]
    entries.sort(key=lambda e: e["when"] or datetime.min, reverse=True)
    return entries[:TIMELINE_LIMIT]


def emails(obj) -> list:
    """The emails sent about the document (whoever sees it sees them; the outbox row links for those who may open it)."""
    model = type(obj)
    return (db.session.query(EmailOutbox).filter(EmailOutbox.rel_type.in_(_rel_types(model)),
                                                 EmailOutbox.rel_id == getattr(obj, primary_key(model)))
            .order_by(EmailOutbox.datecreated.desc()).limit(TIMELINE_LIMIT).all())


def files(obj) -> list:
    model = type(obj)
    return (db.session.query(File).filter(File.rel_type.in_(_rel_types(model)),
                                          File.rel_id == getattr(obj, primary_key(model)))
            .order_by(File.dateadded.desc()).all())


def signature(obj) -> dict | None:
    """The drawn signature (an image data URI), the signer and the time, on a signed document: the
    block the portal page and the PDF print (crm.sales.documents.signature_block)."""
    return signature_block(obj)


def _payments(obj) -> list[dict]:
    rel = resource_of(type(obj)).payments
    if not rel:
        return []
    out, names = [], None
    for p in getattr(obj, rel):
        if names is None:
            names = mode_names()
        counted = getattr(p, "approval_status", 2) == 2
        out.append({"obj": p, "date": p.date, "amount": p.amount, "mode": _mode(p, names), "ref": p.transactionid or "",
                    "counted": counted, "url": record_url(p), "pdf": documents.pdf_url(p)})
    return out


def _mode(payment, names) -> str:
    mode = payment.paymentmode or ""
    if mode.isdigit() or getattr(payment, "paymentmethod", None):
        return mode_name(payment, names)
    return mode


def header(obj) -> dict:
    model = type(obj)
    party = pages.party_of(obj)
    dates = []
    view = _view_of(model)
    for c in columns(model):
        if isinstance(c.type, Date) and getattr(obj, c.key, None) is not None:
            dates.append((_label(view, c.key), getattr(obj, c.key)))
    total = total_of(obj)
    return {"kind": kind_title(model), "number": number_of(obj), "badges": badges(obj), "party": party,
            "party_url": record_url(party), "party_kind": kind_title(type(party)) if party is not None else "",
            "dates": dates, "currency": currency_of(obj), "total": total, "left": pages.left_of(obj),
            "pdf": documents.pdf_url(obj), "subject": getattr(obj, "subject", None)}


def page(obj) -> dict:
    """Everything the document page shows, in a fixed number of queries whatever its number of lines."""
    return {"header": header(obj), "lines": lines_block(obj), "actions": actions_of(obj, with_refused=True),
            "payments": _payments(obj), "related": related(obj), "timeline": timeline(obj),
            "emails": emails(obj), "files": files(obj), "signature": signature(obj),
            "panels": pages.panels_of(type(obj))}


class DocumentPageMixin:
    """Mixed into the generated view of a document table: its details view is the document page."""

    details_template = TEMPLATE

    def document_page(self, obj) -> dict:
        return page(obj)


def outbox_message(row) -> dict:
    """An outbox row's message as the recipient sees it (a sandboxed frame) and its attachments."""
    return {"html": row.body_html or "", "text": row.body_text or "",
            "attachments": [{"name": a.get("filename") or a.get("path", ""), "type": a.get("mimetype", "")}
                            for a in row.attachment_list]}


def register_pages() -> None:
    pages.panel(EmailOutbox, "admin/outbox_message.html", outbox_message)


def init_app(app) -> None:
    app.add_template_global(record_url, "record_url")
    app.add_template_global(format_money, "format_money")
    app.add_template_global(badges, "crm_badges")
    app.add_template_global(pages.panels_of, "crm_panels")
