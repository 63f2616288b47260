"""The line editor of proposals, sales orders and invoices in their admin create/edit forms.

tblitemable lines are polymorphic (no line -> document foreign key), so Flask-Admin's inline
forms cannot edit them. The editor is one WTForms ``FieldList`` of line sub-forms named
``line_editor-<n>-<field>``, rendered as an editable table (add, remove, reorder, catalog look-up,
several taxes per line) with a live totals preview. Saving updates the lines in place (keeping
their ids and warehouse quantities), adds and deletes the rest, and recomputes the stored totals
with the one totals rule (crm.core.totals) in the form's transaction.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

from flask import render_template
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import FieldList, Form, FormField, HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields import DecimalField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from crm.catalog.models import Item, Tax
from crm.core import lines as doc_lines
from crm.core.documents import price_text
from crm.core.extensions import db
from crm.core.labels import tax_label
from crm.core.limits import problem
from crm.core.models.base import FieldError
from crm.core.totals import compute, line_amount
from crm.sales.models.documents import ItemLine, ItemTax

FIELD = "line_editor"
MARKER = f"{FIELD}-present"  # posted by the editor: a form without it leaves the lines alone
LABELS = {"description": "description", "long_description": "long description", "qty": "quantity",
          "unit": "unit", "rate": "rate", "taxes": "taxes", "item_id": "catalog item"}


def has_lines(model) -> bool:
    """Documents whose ``items`` are tblitemable lines: proposals, sales orders, invoices."""
    rel = db.inspect(model).relationships.get("items")
    return rel is not None and rel.mapper.class_.__tablename__ == "tblitemable"


def tax_key(name, rate) -> str:
    return f"{name}|{Decimal(rate):.2f}"


def tax_choices(doc=None) -> list[tuple[str, str]]:
    """The taxes of tbltaxes, plus any a line of ``doc`` still carries (a copy of a since-changed tax)."""
    out = {tax_key(t.name, t.taxrate): tax_label(t.name, t.taxrate)
           for t in db.session.scalars(select(Tax).order_by(Tax.name, Tax.taxrate))}
    for line in getattr(doc, "items", None) or []:
        for t in line.taxes:
            out.setdefault(tax_key(t.taxname, t.taxrate), tax_label(t.taxname, t.taxrate))
    return list(out.items())


def _item_exists(form, field):
    if field.data in (None, ""):
        return
    if not str(field.data).isdigit() or db.session.get(Item, int(field.data)) is None:
        raise ValidationError(f"no catalog item #{field.data}.")


def _fits(name):
    """The line's column takes the value as typed (crm/core/limits.py): too large, or more decimals than it
    keeps, is shown on the line instead of being rounded when saved."""
    def check(form, field):
        if message := problem(ItemLine.__table__.c[name], field.data):
            raise ValidationError(message)
    return check


def line_form_class(choices):
    """A line's sub-form, with the tax choices of this request."""
    return type("LineForm", (Form,), {
        "id": HiddenField(),
        "item_id": HiddenField(validators=[_item_exists]),
        "description": StringField("Description", [InputRequired("description is required."), Length(max=255)]),
        "long_description": TextAreaField("Long description", [Optional()]),
        "qty": DecimalField("Qty", [InputRequired("quantity is required."),
                                    NumberRange(min=Decimal("0.001"), message="quantity must be more than 0."),
                                    _fits("qty")], places=None),
        "unit": StringField("Unit", [Optional(), Length(max=40)]),
        "rate": DecimalField("Rate", [InputRequired("rate is required."),
                                      NumberRange(min=0, message="rate cannot be negative."), _fits("rate")],
                             places=None),
        "taxes": SelectMultipleField("Taxes", choices=choices),
    })


class LinesWidget:
    """Renders the FieldList as the editor table (templates/admin/line_editor.html)."""

    def __call__(self, field, **kwargs):
        blank = field.unbound_field.args[0](prefix=f"{field.name}-__N__-")
        return Markup(render_template("admin/line_editor.html", field=field, blank=blank, marker=MARKER,
                                      errors=line_errors(field)))


def lines_field(doc=None):
    """The unbound editor field for a create/edit form."""
    return FieldList(FormField(line_form_class(tax_choices(doc))), "Lines", min_entries=0, widget=LinesWidget())


def initial_lines(doc) -> list[dict]:
    return [{"id": str(ln.id), "item_id": str(ln.item_id or ""), "description": ln.description,
             "long_description": ln.long_description, "qty": ln.qty, "unit": ln.unit, "rate": price_text(ln.rate),
             "taxes": [tax_key(t.taxname, t.taxrate) for t in ln.taxes]} for ln in (doc.items if doc else [])]


def line_errors(field) -> list[str]:
    """'Line 2, quantity: ...' for each error of each line, in the order shown."""
    out = []
    for n, entry in enumerate(field.entries, 1):
        for name, msgs in (entry.form.errors or {}).items():
            for msg in msgs:
                out.append(f"Line {n}, {LABELS.get(name, name)}: {msg}")
    return out


def apply(doc, field) -> None:
    """Make ``doc.items`` what the editor posted: the lines it names by id updated in place, new ones
    added, the others deleted, by the same rule as the API's ``items`` (crm/core/lines.py: a line
    the warehouse delivered stays, with at least what was delivered)."""
    entries = [entry.form for entry in field.entries]

    def build(i, line):
        data = entries[i]
        line = line if line is not None else ItemLine()
        line.description = data.description.data.strip()
        line.long_description = data.long_description.data or None
        line.qty, line.rate = data.qty.data, data.rate.data
        line.unit = data.unit.data or None
        line.item_id = int(data.item_id.data) if str(data.item_id.data or "").isdigit() else None
        line.item_order = i + 1
        wanted = [tuple(k.split("|", 1)) for k in data.taxes.data or []]
        have = [(t.taxname, f"{Decimal(t.taxrate):.2f}") for t in line.taxes]
        if have != wanted:
            line.taxes = [ItemTax(taxname=name, taxrate=Decimal(rate)) for name, rate in wanted]
        return line

    sent = [int(d.id.data) if str(d.id.data or "").isdigit() else None for d in entries]
    try:
        doc.items = doc_lines.merge(ItemLine, doc.items, sent, build)  # lines left out: orphans, deleted with their taxes
    except FieldError as exc:  # items.1.qty -> "Line 2, quantity", as the editor names its fields
        parts = exc.field.split(".")
        where = f"Line {int(parts[1]) + 1}, {LABELS.get(parts[2], parts[2])}" if len(parts) == 3 else "Lines"
        raise FieldError(FIELD, f"{where}: {exc.message}") from None


def _decimal(raw, default="0") -> Decimal:
    try:
        return Decimal(str(raw).strip() or default)
    except InvalidOperation:
        return Decimal(default)


def preview(formdata, doc=None) -> dict:
    """Totals of posted editor data, by the same rule as the stored totals (a live preview)."""
    F = type("LinesOnly", (Form,), {FIELD: lines_field(doc)})
    form = F(formdata)
    lines = []
    for entry in getattr(form, FIELD).entries:
        d = entry.form
        taxes = [SimpleNamespace(taxname=k.split("|", 1)[0], taxrate=_decimal(k.split("|", 1)[1]))
                 for k in d.taxes.data or [] if "|" in k]
        lines.append(SimpleNamespace(qty=_decimal(d.qty.raw_data[0] if d.qty.raw_data else 0),
                                     rate=_decimal(d.rate.raw_data[0] if d.rate.raw_data else 0), taxes=taxes))
    discount_type = formdata.get("discount_type") or None
    t = compute(lines, _decimal(formdata.get("discount_percent")), discount_type,
                _decimal(formdata.get("discount_total")), _decimal(formdata.get("adjustment")))
    return {"lines": [str(line_amount(ln)) for ln in lines], "subtotal": str(t.subtotal),
            "taxes": [{"name": name, "rate": str(rate), "amount": str(amount)}
                      for (name, rate), amount in sorted(t.taxes.items())],
            "discount": str(t.discount), "adjustment": str(t.adjustment), "total_tax": str(t.total_tax),
            "total": str(t.total)}


def catalog(q: str, limit: int = 15) -> list[dict]:
    """Active catalog items matching ``q``, with what a line copies from them."""
    cond = Item.active.is_(True)
    if q:
        like = f"%{q}%"
        cond = cond & db.or_(Item.description.ilike(like), Item.commodity_name.ilike(like),
                             Item.commodity_code.ilike(like), Item.sku_code.ilike(like))

    items = db.session.scalars(select(Item).where(cond).options(joinedload(Item.tax_rel), joinedload(Item.tax2_rel))
                               .order_by(Item.description).limit(limit)).unique().all()
    return [{"id": it.id, "label": str(it), "description": it.description,
             "long_description": it.long_description or "", "unit": it.unit or "", "rate": price_text(it.rate),
             "taxes": [tax_key(t.name, t.taxrate) for t in (it.tax_rel, it.tax2_rel) if t is not None]}
            for it in items]
