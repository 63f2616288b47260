"""One factory that builds a Flask-Admin view for any model from its metadata.

Statuses become coloured labels and select boxes, money shows its currency, foreign keys show
the linked record's name (eager-loaded, so a list page costs the same queries at any page size),
filters cover status, foreign-key and date columns, search covers text columns, and every
many-to-one form field is an ajax look-up. Per-table differences live in the model's
``__crm__.admin`` dict, not here.
"""
from __future__ import annotations

from flask import abort, current_app, flash, g, jsonify, make_response, redirect, request, send_file, url_for
from flask_admin import expose
from flask_admin.contrib.sqla import ModelView, filters as sqla_filters
from flask_admin.helpers import get_form_data
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import validate_csrf
from jinja2 import pass_context
from markupsafe import Markup, escape
from flask_admin.contrib.sqla.tools import parse_like_term as like_term
from sqlalchemy import Unicode, cast as sql_cast, func, literal, or_, select
from sqlalchemy.orm import Query, joinedload
from werkzeug.datastructures import CombinedMultiDict
from wtforms.validators import ValidationError

from crm.admin_views import custom_fields as cf_admin, forms as crm_forms
from crm.admin_views.action_forms import action_form, action_summary, outcome_message, picker_url
from crm.admin_views.access import StaffOnly
from crm.admin_views.document_page import DocumentPageMixin, row_menu
from crm.admin_views.formats import format_money, format_when, money_cell, names_of, parse_ids, qty_cell
from crm.admin_views.row_actions import page_actions
from crm.admin_views.search import PROBE, findable_columns
from crm.api.schemas import compositions, parent_link_columns
from crm.core import audit, custom_fields as cf, numbering, pages, search_index
from crm.core.attachments import may_download, original_name, rel_type_of, stored_path
from crm.core.bad_input import check_grid_filter, column_filter_value
from crm.core.documents import pdf_url
from crm.core.entry import entered, removing
from crm.core.extensions import db
from crm.core.labels import label as column_label
from crm.core.limits import problem
from crm.core.models.records import File
from crm.core.permissions import can_table, sees, visible
from crm.core.pickers import IdsColumnField
from crm.core.registry import ActionError, get_action, run_outcome
from crm.core.resources import (
    columns,
    currency_relationship,
    fk_relationships,
    is_date,
    is_money,
    is_number,
    is_text,
    load_page,
    primary_key,
    resource_of,
    status_enum,
    writable,
)
from crm.core.spreadsheet import safe_cell
from crm.sales.views import line_editor

# Columns never worth a search box or a list column.
HIDDEN = {"hash", "password", "signature", "content", "long_description", "additional_data"}
# Which column of a linked table names a record, in order of preference.
DISPLAY_COLUMNS = ("formatted_number", "company", "name", "subject", "commodity_name", "warehouse_name",
                   "goods_delivery_code", "goods_receipt_code", "packing_list_number", "pur_order_number",
                   "pur_rq_code", "invoice_number", "unit_name", "firstname", "email", "description", "code",
                   "awb_number")


def display_columns(model) -> list[str]:
    keys = {c.key for c in columns(model)}
    found = [c for c in DISPLAY_COLUMNS if c in keys]
    return found[:3] or [primary_key(model)]


def status_badge(enum_cls, code, row=None) -> Markup:
    if code is None:
        return Markup("")
    shown = enum_cls.shown_for(row, code)  # the row may tell apart what one code covers
    if shown is None:
        return Markup(f'<span class="badge badge-light">{escape(code)}</span>')
    label, color = shown
    return Markup(f'<span class="badge badge-{color}" data-code="{escape(code)}">{escape(label)}</span>')


__all__ = ["format_money", "build_view", "CrmModelView", "display_columns", "status_badge"]


COUNT_CAP = 10_000  # a grid counts its rows up to this many ("10,000+"); GRID_COUNT_CAP overrides, 0 never caps
RELATED_IDS = 500  # a search's matches in a related table used as a list of ids (beyond: a subquery)
EXACT_COUNT_ARG = "exact_count"  # ?exact_count=1: the exact count, on demand


class CappedCount(int):
    """A grid's row count that stopped at the cap: pages are reckoned with the cap, and it shows
    "10,000+" (the exact count is a request away: ?exact_count=1)."""

    def __html__(self):
        return f"{int(self):,}+"

    def __str__(self):
        return self.__html__()


class CappedCountQuery(Query):
    """The list's count query (Flask-Admin adds the search, the filters and their joins to it),
    counted up to ``_crm_cap`` rows only: ``SELECT count(*) FROM (SELECT 1 ... LIMIT cap + 1)``
    reads at most cap + 1 rows, where COUNT(*) over millions of rows read them all, as Odoo and
    Frappe do for long lists. A search reads the keys instead, as many (CrmModelView.get_list)."""

    _crm_cap: int | None = None
    _crm_keys_of = None  # the primary key: a grid searched reads the keys of its matches first (get_list)

    def scalar(self):
        cap = self._crm_cap
        if self._crm_keys_of is not None:
            # as many keys as the capped count would count (ints: 10,001 of them cost a few ms)
            most = max(cap or 0, PROBE)
            rows = [k for (k,) in self.with_entities(self._crm_keys_of).limit(most + 1)]
            if len(rows) <= most:  # all the matches (a filter's join may repeat one): the count, the page's keys
                g.crm_grid_keys = keys = set(rows)
                return CappedCount(cap) if cap and len(keys) > cap else len(keys)
            if cap:
                return CappedCount(cap)
        if not cap:
            return super().scalar()
        rows = self.with_entities(literal(1)).limit(cap + 1).subquery()
        found = self.session.query(func.count()).select_from(rows).scalar()
        return CappedCount(cap) if found > cap else found

class FkNameFilter(sqla_filters.BaseSQLAFilter):
    """Filter a foreign key by the linked record's name, through a subquery (no joins, no aliasing)."""

    def __init__(self, column, name, target, target_cols):
        super().__init__(column, name)
        self.target, self.target_cols = target, target_cols

    def apply(self, query, value, alias=None):
        if str(value).isdigit():
            return query.filter(self.column == int(value))
        pk = getattr(self.target, primary_key(self.target))
        cond = db.or_(*[getattr(self.target, c).ilike(f"%{value}%") for c in self.target_cols])
        return query.filter(self.column.in_(select(pk).where(cond)))

    def operation(self):
        return "name contains (or id)"


def _refused_post(resp):
    if request.method == "POST" and not (300 <= getattr(resp, "status_code", 200) < 400) \
            and not isinstance(resp, tuple):
        resp = make_response(resp, 422)
    return resp


class CrmForm(FlaskForm):
    """Flask-WTF's form (CSRF token) that also remembers the edited object, as Flask-Admin's
    Unique validator expects (otherwise saving a record would clash with itself)."""

    _crm_extra: frozenset = frozenset()  # custom fields and the line editor: saved apart, not set on the row

    def __init__(self, *args, obj=None, **kwargs):
        self._obj = obj
        super().__init__(*args, obj=obj, **kwargs)

    def populate_obj(self, obj):
        for name, field in self._fields.items():
            if name not in self._crm_extra:
                field.populate_obj(obj, name)


def _fitting(form, model):
    """Each field of a column checks that its value fits the column (crm/core/limits.py), so a number
    too large or a NUL character is shown on the field instead of failing in the database."""
    table_columns = model.__table__.columns
    for field in form:
        column = table_columns.get(field.name)
        if column is not None and not column.foreign_keys:
            field.validators = [*field.validators, _fits(column)]  # a new list: the class's is shared
    return form


def _fits(column):
    def check(form, field):
        if message := problem(column, field.data):
            raise ValidationError(message)
    return check


class CrmModelView(StaffOnly, ModelView):
    """The generated view. Subclassed per model by :func:`build_view`."""

    form_base_class = CrmForm  # Flask-WTF's CSRF token in every create/edit form
    list_template = "admin/crm_list.html"
    details_template = "admin/crm_details.html"
    create_template = "admin/crm_create.html"  # the form in sections (crm/admin_views/forms.py)
    edit_template = "admin/crm_edit.html"
    can_view_details = True
    export_types = ["csv"]
    export_max_rows = 0  # streamed, so no cap is needed
    can_set_page_size = True
    page_size = 20
    page_size_options = (20, 50, 100)
    where = None  # a fixed filter for views that show part of a table (opportunities)
    crm_cell_kinds: dict = {}  # column -> "text" (cut to one line) or "when" (a date, never wrapped): row_cells_html

    # --- permissions -------------------------------------------------------------------
    def is_accessible(self):
        return current_user.is_authenticated and can_table(current_user, self.model, "view")

    @property
    def can_create(self):
        return writable(self.model) and can_table(current_user, self.model, "create")

    @property
    def can_edit(self):
        return writable(self.model) and can_table(current_user, self.model, "edit")

    @property
    def can_delete(self):
        return writable(self.model) and can_table(current_user, self.model, "delete")

    @property
    def can_export(self):
        return can_table(current_user, self.model, "export")

    # Flask-Admin assigns these in __init__ for some versions; accept and ignore.
    @can_create.setter
    def can_create(self, _):
        pass

    @can_edit.setter
    def can_edit(self, _):
        pass

    @can_delete.setter
    def can_delete(self, _):
        pass

    @can_export.setter
    def can_export(self, _):
        pass

    # --- queries -----------------------------------------------------------------------
    def column_equality_args(self) -> dict:
        """``?status=4`` style arguments (as the seed URLs use) that name a column of the table;
        a repeated one (``?status=1&status=4``) means any of its values (a list)."""
        keys = {c.key: c for c in columns(self.model)}
        out = {}
        for k in request.args:
            values = [v for v in request.args.getlist(k) if v != ""]
            if k in keys and values:
                out[k] = values if len(values) > 1 else values[0]
        return out

    def _restrict(self, query):
        query = visible(query, current_user, self.model)  # view own: the rows assigned to or created by them
        if self.where is not None:
            query = query.filter(self.where(self.model))
        if request:
            for key, raw in self.column_equality_args().items():
                col = getattr(self.model, key)
                # text for a number or a date: a 400 naming the filter (crm/core/bad_input.py)
                values = [column_filter_value(col, key, r) for r in (raw if isinstance(raw, list) else [raw])]
                query = query.filter(col == values[0] if len(values) == 1 else col.in_(values))
        return query

    def _get_list_filter_args(self):
        """Flask-Admin's own filters (``?flt0_<name>=``): a value the filter cannot take is a 400
        naming it, not a filter silently dropped."""
        for arg, raw in request.args.items(multi=True):
            if arg.startswith("flt") and "_" in arg:
                found = (self._filter_args or {}).get(arg[3:].split("_", 1)[1])
                if found is not None:
                    check_grid_filter(arg, found[1], raw)
        return super()._get_list_filter_args()

    def get_query(self):
        return self._restrict(super().get_query())

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """Flask-Admin's search (each word, ANDed, matched by one of the columns, ORed), with the
        columns' indexes in reach. A searchable column of a related table (the invoices grid's
        ``client.company``) is matched in its own table first: the grid's rows are then those whose
        key is one of the ids found, ORed with its own columns' matches, so each side uses its own
        index (a trigram index on PostgreSQL) where a join would read every row of the grid's
        table. Past RELATED_IDS ids the ids stay a subquery (correct, slower).

        On SQLite the columns with an FTS5 trigram table are asked through it (crm/core/search_index.py;
        a term with more than its CANDIDATES candidates keeps the LIKE, whose scan stops at the
        capped count), except by the page of a grid searched newest first: that page is loaded by
        the keys its count reads (get_list), or past the cap, a common term, by walking the newest
        rows testing the LIKE (as before the index), where a plan led by the index would read and
        sort every match (3 s for the invoices of "SRL" companies among 1,000,000)."""
        related = [(f, p) for f, p in self._search_fields if p]
        if any(len(p) != 1 or p[0].property.direction.name != "MANYTOONE" for _f, p in related):
            return super()._apply_search(query, count_query, joins, count_joins, search)
        own = [f for f, p in self._search_fields if not p]
        like = lambda field, pattern: sql_cast(field, Unicode).ilike(pattern)  # noqa: E731 - as Flask-Admin's
        walk = bool(g.get("crm_grid_probe")) and count_query is not None
        for term in search.split(" "):
            if not term:
                continue
            pattern = like_term(term)
            found = search_index.any_like(own, pattern, like)
            page = [like(f, pattern) for f in own] if walk else list(found)
            for field, (rel,) in related:
                (local, remote), = rel.property.local_remote_pairs
                ids = select(remote).where(or_(*search_index.any_like([field], pattern, like)))
                few = db.session.scalars(ids.limit(RELATED_IDS + 1)).all()
                if few:  # none found: nothing to OR (an empty IN would keep the planner from the indexes)
                    cond = local.in_(few) if len(few) <= RELATED_IDS else local.in_(ids)
                    found.append(cond)
                    page.append(cond)
            query = query.filter(or_(*page) if page else literal(False))
            if count_query is not None:
                count_query = count_query.filter(or_(*found) if found else literal(False))
        return query, count_query, joins, count_joins

    @staticmethod
    def count_is_capped(count) -> bool:
        return isinstance(count, CappedCount)

    @staticmethod
    def exact_count_url() -> str:
        return url_for(request.endpoint, **{**request.args.to_dict(), **(request.view_args or {}), EXACT_COUNT_ARG: 1})

    def get_count_query(self):
        query = CappedCountQuery([func.count("*")], db.session()).select_from(self.model)
        if g.get("crm_grid_probe"):
            query._crm_keys_of = getattr(self.model, primary_key(self.model))
        query._crm_cap = None if request and request.args.get(EXACT_COUNT_ARG) else current_app.config.get(
            "GRID_COUNT_CAP", COUNT_CAP)
        return self._restrict(query)

    def get_one(self, id):
        obj = super().get_one(id)
        if obj is not None and not sees(current_user, obj):
            return None
        if obj is not None and self.where is not None and not db.session.query(
                self.get_query().filter(getattr(self.model, primary_key(self.model)) == obj_pk(obj)).exists()
        ).scalar():
            return None
        return obj

    @staticmethod
    def pdf_url(obj):
        return pdf_url(obj)

    def applied_filters_text(self) -> list[str]:
        out = []
        for key, raw in self.column_equality_args().items():
            col = getattr(self.model, key)
            enum_cls = status_enum(col)
            label = (self.column_labels or {}).get(key) or key.replace("_", " ").capitalize()
            shown = []
            for one in raw if isinstance(raw, list) else [raw]:
                try:
                    shown.append(enum_cls.label_of(type(next(iter(enum_cls)).value)(one)) if enum_cls else one)
                except ValueError:
                    shown.append(one)
            out.append(f"{label} = {' or '.join(shown)}")
        return out

    create_defaults: dict = {}  # values a partial view sets on what it creates (opportunities)

    # What the forms, the inline edits and the delete buttons write goes to the audit trail (crm/core/audit.py).
    create_model = audit.audited("grid")(ModelView.create_model)
    update_model = audit.audited("grid")(ModelView.update_model)
    delete_model = audit.audited("grid")(ModelView.delete_model)

    # A create/edit POST that shows the form again did not save (a field refused, a rule checked at
    # flush): it answers 422, so a client or a script sees the refusal, not a 200.
    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        return _refused_post(super().create_view())

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        return _refused_post(super().edit_view())

    def on_model_change(self, form, model, is_created):
        if is_created:
            for key, value in self.create_defaults.items():
                setattr(model, key, value)
        extra = getattr(form, "_crm_extra", ())
        if line_editor.FIELD in extra and line_editor.MARKER in request.form:
            line_editor.apply(model, getattr(form, line_editor.FIELD))
        entered(model, current_user)  # creator, totals, freeze, status, number: crm/core/entry.py
        if any(name.startswith(cf.PREFIX) for name in extra):
            cf_admin.save_from_form(self.model, form, model)  # same transaction as the row

    def on_model_delete(self, model):
        removing(model)  # an issued invoice with payments or at ANAF is credited, not deleted
        if cf.fieldto_of(self.model):
            cf.delete_values(self.model, obj_pk(model))

    # --- custom fields and the line editor: fields added per request -----------------------
    def _extended_form(self, base_cls, obj):
        formdata = get_form_data()
        attrs, data = cf_admin.form_fields(self.model, obj)
        if line_editor.has_lines(self.model):
            attrs[line_editor.FIELD] = line_editor.lines_field(obj)
            data[line_editor.FIELD] = line_editor.initial_lines(obj)
        if not attrs:
            return _fitting(base_cls(formdata, obj=obj), self.model)
        cls = type(base_cls.__name__, (base_cls,), {**attrs, "_crm_extra": frozenset(attrs)})
        return _fitting(cls(formdata, obj=obj, **({} if formdata else data)), self.model)

    def create_form(self, obj=None):
        form = self._extended_form(self._create_form_class, obj)
        if request.method == "GET":  # a new record starts with what a person expects
            crm_forms.apply_defaults(form, self.model)
        return form

    def form_sections(self, form):
        return crm_forms.grouped(self, form)

    form_folded = crm_forms.FOLDED

    @expose("/client-address")
    def client_address_view(self):
        """htmx, when a client is picked on a new document: the address fields still empty, filled
        with the client's address (out-of-band swaps of the same inputs); nothing when none."""
        rel = crm_forms.address_client(self.model)
        if rel is None:
            abort(404)
        raw = request.args.get(rel, "")
        client_model = db.inspect(self.model).relationships[rel].mapper.class_
        client = db.session.get(client_model, int(raw)) if raw.isdigit() else None
        if client is None or not sees(current_user, client):
            return "", 204
        form = self._create_form_class(request.args, meta={"csrf": False})
        fields = crm_forms.filled_from_client(form, client)
        return Markup("").join(f(class_=crm_forms.input_class(f), **{"hx-swap-oob": "true"}) for f in fields)

    def edit_form(self, obj=None):
        return self._extended_form(self._edit_form_class, obj)

    def validate_form(self, form):
        ok = super().validate_form(form)
        if not ok and line_editor.FIELD in getattr(form, "_crm_extra", ()):
            for message in line_editor.line_errors(getattr(form, line_editor.FIELD)):
                flash(message, "error")
        return ok

    # Grid, details and CSV columns: the model's, then its custom fields (read per request).
    @property
    def _list_columns(self):
        return self.__dict__.get("_crm_list_columns", []) + cf_admin.columns(self.model, "list")

    @_list_columns.setter
    def _list_columns(self, value):
        self.__dict__["_crm_list_columns"] = value

    @property
    def _details_columns(self):
        return self.__dict__.get("_crm_details_columns", []) + cf_admin.columns(self.model, "details")

    @_details_columns.setter
    def _details_columns(self, value):
        self.__dict__["_crm_details_columns"] = value

    @property
    def _export_columns(self):
        # the export's header row: custom field names are typed by people too
        return self.__dict__.get("_crm_export_columns", []) + [
            (name, safe_cell(label)) for name, label in cf_admin.columns(self.model, "export")]

    @_export_columns.setter
    def _export_columns(self, value):
        self.__dict__["_crm_export_columns"] = value

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """A search in the default order (newest first) reads the keys of its matches first, in no
        order, which the columns' indexes serve (the trigram indexes on PostgreSQL), up to the
        count's cap (PROBE when counting exactly): they are the count, and the page is then loaded
        by its keys. Asked for the newest page straight away, PostgreSQL may walk the primary key
        backwards testing each row (a term few rows match, or many old rows only: 1.5 s for
        INV-012 among 1,000,000 invoices), and the search ran twice (the count, the page). Past the
        cap the count shows the cap and the page is found as before."""
        if page and not 0 <= page <= 2**31 // 1000:  # negative, or an offset past INTEGER (MariaDB: not even parse)
            abort(400, description="page: there is no such page.")
        size = self.page_size if page_size is None else page_size
        pk = getattr(self.model, primary_key(self.model))
        newest_first = sort_column is None and self.column_default_sort == (pk.key, True)
        g.crm_grid_probe, g.crm_grid_keys = bool(search and newest_first and size), None
        try:
            count, query = super().get_list(page, sort_column, sort_desc, search, filters, execute=False,
                                            page_size=page_size)
        finally:
            g.crm_grid_probe, keys = False, g.pop("crm_grid_keys", None)
        if keys is not None:  # the page's rows by key: the search is not asked again
            start = (page or 0) * size
            query = self.get_query().filter(pk.in_(sorted(keys, reverse=True)[start:start + size]))
            query = query.options(*[joinedload(j) for j in self._auto_joins]).order_by(pk.desc())
        if not execute:
            cf_admin.remember_page(self.model, None)  # the export's: all of the table
            return count, query
        data = query.all()
        cf_admin.remember_page(self.model, data)  # one query for the page
        load_page(self.model, data, "grid")  # what the rows' actions read, for the whole page at once
        return count, data

    @pass_context
    def get_list_value(self, context, model, name):
        if name.startswith(cf.PREFIX):
            return cf_admin.value(self.model, model, name)
        return super().get_list_value(context, model, name)

    @pass_context
    def get_detail_value(self, context, model, name):
        if name.startswith(cf.PREFIX):
            return cf_admin.value(self.model, model, name)
        return super().get_detail_value(context, model, name)

    def get_export_value(self, model, name):
        """Every value of the CSV export (and any other export type), formula-like text quoted."""
        if name.startswith(cf.PREFIX):
            return safe_cell(cf_admin.export_value(self.model, model, name))
        return safe_cell(super().get_export_value(model, name))

    @expose("/lines/preview", methods=["POST"])
    def lines_preview_view(self):
        """Totals of the editor's current lines, computed as the save will compute them."""
        if not line_editor.has_lines(self.model):
            abort(404)
        doc = self.get_one(request.args["id"]) if request.args.get("id", "").isdigit() else None
        return jsonify(line_editor.preview(request.form, doc))

    @expose("/lines/catalog")
    def lines_catalog_view(self):
        """Catalog items for the editor's look-up: what a line copies from the item."""
        if not line_editor.has_lines(self.model):
            abort(404)
        return jsonify(line_editor.catalog(request.args.get("q", "").strip()))

    # --- actions -----------------------------------------------------------------------
    @expose("/run-action/<action_name>/<int:obj_id>", methods=["GET", "POST"])
    def run_action_view(self, action_name, obj_id):
        name = action_name
        
        try:
            adef = get_action(self.model, name)
        except ActionError:
            abort(404)
        return_url = request.args.get("url") or request.form.get("url") or self.get_url(".index_view")
        if not return_url.startswith("/") or return_url.startswith("//"):
            return_url = self.get_url(".index_view")
        obj = self.get_one(str(obj_id))
        if obj is None:
            abort(404)
        form = action_form(adef, obj, request.form if request.method == "POST" else None)
        shown_with = {"adef": adef, "obj": obj, "form": form, "return_url": return_url,
                      "summary": action_summary(adef, obj), "picker_url": picker_url}
        if request.method == "POST":
            try:
                validate_csrf(request.form.get("csrf_token"))
            except ValidationError:
                flash("The form expired; please try again.", "error")
                return redirect(return_url)
            try:
                outcome = run_outcome(self.model, obj_id, name, current_user,
                                      CombinedMultiDict([request.files, request.form]))
            except ActionError as exc:
                errors = getattr(exc, "errors", None) or {None: [exc.message]}
                for field, msgs in errors.items():
                    flash(f"{field}: {'; '.join(msgs)}" if field else "; ".join(msgs), "error")
                if form is not None:  # show the parameters again, with the refusal's status (422, 413, ...)
                    return self.render("admin/crm_action_form.html", **shown_with), exc.status
                return redirect(return_url)
            flash(outcome_message(adef, outcome), "success")
            return redirect(return_url)
        if form is None:
            return redirect(return_url)
        return self.render("admin/crm_action_form.html", **shown_with)

    def details_extra(self, obj) -> dict:
        """What the panels registered for the table (crm/core/pages.py) read on the record's page."""
        return pages.panel_context(self.model, obj)

    @staticmethod
    def row_menu(row) -> dict:
        return row_menu(row)

    def row_actions_html(self, row, row_id, return_url) -> Markup:
        """A grid row's Open, main action and "…" menu (crm.admin_views.row_actions: per page, not per row)."""
        return page_actions(self, return_url).render(row, row_id)

    @pass_context
    def row_cells_html(self, context, row, list_columns) -> Markup:
        """A grid row's cells, in one call (Flask-Admin's template renders them cell by cell). A text
        cell (a text column, a linked record's name) stays on one line, cut with "…" where it is
        wider than its column may grow (crm_base.html's .crm-text); its title holds the whole value."""
        cells = []
        for c, _name in list_columns:
            value = self.get_list_value(context, row, c)
            kind = self.crm_cell_kinds.get(c)
            if kind == "text" and value not in (None, "") and not isinstance(value, Markup):
                cells.append(f'<td class="col-{escape(c)} crm-text" title="{escape(value)}">{escape(value)}</td>')
            elif kind == "when":
                cells.append(f'<td class="col-{escape(c)} crm-when">{escape(value)}</td>')
            else:
                cells.append(f'<td class="col-{escape(c)}">{escape(value)}</td>')
        return Markup("".join(cells))

    def row_actions_form(self, return_url) -> Markup:
        """The page's one hidden form the rows' POST buttons submit (its CSRF token)."""
        return page_actions(self, return_url).form_html

    # --- attachments (models with an ``attach_file`` action; uploads go through run_action_view) ---
    @expose("/attachment/<int:file_id>")
    def attachment_view(self, file_id):
        """Download an attachment: for those who may view the record and attach files to it."""
        rel_type = rel_type_of(self.model)
        if rel_type is None:
            abort(404)
        if not may_download(current_user, self.model):
            abort(403)
        row = db.session.get(File, file_id)
        if row is None or row.rel_type != rel_type or self.get_one(str(row.rel_id)) is None:
            abort(404)
        path = stored_path(row)
        if path is None or not path.is_file():
            abort(404)
        # The type is guessed from the name, not taken from what the uploader's browser declared.
        resp = send_file(path, as_attachment=True, download_name=original_name(row.file_name))
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp


def _flagged(formatter, key, flags: dict, labels: dict):
    """The status cell with the row's declared flags beside it (a lead's Lost, Junk: Resource.flags)."""
    def fmt(view, context, model, name):
        shown = formatter(view, context, model, name) if formatter else escape(getattr(model, key, None) or "")
        marks = "".join(f' <span class="badge badge-{escape(color)}">{escape(labels.get(flag, flag))}</span>'
                        for flag, color in flags.items() if getattr(model, flag, False))
        return Markup(f"{shown}{marks}")
    return fmt


def _inline_lines(rel):
    """A document's lines edited in its form; their own links are ajax look-ups too."""
    child = rel.mapper.class_
    child_rels = {r.key: r for r in db.inspect(child).relationships}
    own = {k: v for k, v in fk_relationships(child).items() if child_rels[v].mapper.class_ is not rel.parent.class_}
    nested = [r.key for r in compositions(child)]
    return (child, {
        "form_excluded_columns": sorted(parent_link_columns(rel) | set(nested) | {rel.back_populates or ""} - {""}
                                        | {k for k, r in child_rels.items() if r.mapper.class_ is rel.parent.class_}),
        "form_ajax_refs": {r: {"fields": display_columns(child_rels[r].mapper.class_), "page_size": 10}
                           for r in own.values()},
    })


def table_model(table: str):
    return next(m for m in db.Model.registry.mappers if m.local_table.name == table).class_


def _ids_formatter(key, table):
    """A column holding ids of ``table`` (``info={"ids_of": "tblpayment_modes"}``): their names, from
    one query per page (crm/admin_views/formats.py names_of)."""
    def fmt(view, context, model, name):
        target = table_model(table)
        return ", ".join(names_of(target, parse_ids(getattr(model, key)), display_columns(target)[:1]))
    return fmt


def _alias_view(alias):
    def view(self):
        return self.index_view()

    view.__name__ = f"alias_{alias}"
    return view


def obj_pk(obj):
    return getattr(obj, primary_key(type(obj)))


def build_view(model, *, endpoint=None, url=None, label=None, category=None, where=None, admin=None,
               create_defaults=None):
    """Build the Flask-Admin view class for ``model`` and return an instance."""
    res = resource_of(model)
    overrides = dict(res.admin)
    overrides.update(admin or {})
    cols = columns(model)
    pk = primary_key(model)
    fk_rels = fk_relationships(model)
    mapper_rels = {r.key: r for r in db.inspect(model).relationships}
    currency_rel = currency_relationship(model)

    list_cols = overrides.pop("column_list", None) or [
        c.key for c in cols if c.key not in HIDDEN and c.key != pk and not c.key.startswith(("billing_", "shipping_"))
        and not c.key.startswith("acceptance_")][:12]
    shown = [fk_rels.get(k, k) for k in list_cols]
    labels = {}
    formatters = {}
    filters = []
    sortable = []
    form_choices, form_args, form_overrides, export_formatters = {}, {}, {}, {}
    for c in cols:
        key = c.key
        rel_key = fk_rels.get(key)
        nice = column_label(model, key)  # crm/core/labels.py: the declaration's, or Perfex's name in words
        labels[key] = nice
        enum_cls = status_enum(c)
        if enum_cls is not None:
            formatters[key] = (lambda e, k: lambda v, ctx, m, p: status_badge(e, getattr(m, k), m))(enum_cls, key)
            filters.append(sqla_filters.FilterEqual(getattr(model, key), nice, options=enum_cls.choices()))
            py = type(next(iter(enum_cls)).value)
            form_choices[key] = [(str(code), lbl) for code, lbl in enum_cls.choices()]
            form_args[key] = {"coerce": py}
        elif rel_key:
            target = mapper_rels[rel_key].mapper.class_
            labels[rel_key] = nice
            tcols = display_columns(target)
            filters.append(FkNameFilter(getattr(model, key), labels[rel_key], target, tcols))
            sortable.append((rel_key, f"{rel_key}.{tcols[0]}"))  # sorted by the name shown
        elif is_date(c):
            filters.append(key)
            formatters[key] = (lambda k: lambda v, ctx, m, p: format_when(getattr(m, k)))(key)
        if is_money(c) and currency_rel:
            formatters[key] = (lambda k: lambda v, ctx, m, p: money_cell(getattr(m, k),
                                                                        getattr(m, currency_rel)))(key)
        elif is_money(c):
            formatters[key] = (lambda k: lambda v, ctx, m, p: money_cell(getattr(m, k)))(key)
        elif is_number(c) and not rel_key and key != pk:
            formatters[key] = (lambda k: lambda v, ctx, m, p: qty_cell(getattr(m, k)))(key)
        elif c.info.get("ids_of"):  # a list of ids shown as the names of what they point at
            formatters[key] = _ids_formatter(key, c.info["ids_of"])
            export_formatters[key] = formatters[key]  # names in the CSV too (quoted when formula-like)
            form_overrides[key] = IdsColumnField  # chosen by name, stored as the same list of ids
            form_args[key] = {"model": table_model(c.info["ids_of"]), "comma": c.info.get("ids_text") == "comma"}
        if not rel_key:
            sortable.append(key)

    list_rels = [k for k in shown if k in mapper_rels]
    auto_joins = list(dict.fromkeys(list_rels + ([currency_rel] if currency_rel else [])))
    one_to_many = [k for k, r in mapper_rels.items() if r.direction.name != "MANYTOONE"]
    searchable = overrides.pop("column_searchable_list", None) or [
        c.key for c in cols if is_text(c) and c.key not in HIDDEN and getattr(c.type, "length", 0)
        and c.key not in ("color", "rel_type")][:6]
    # what search everywhere finds a record by, its grid's search finds too (its "see all" link)
    searchable = list(dict.fromkeys([*searchable, *(col.key for col in findable_columns(model))]))

    if model.__tablename__ in numbering.SERIES:  # a draft shows PREFIX + DRAFT until it is numbered
        formatters["formatted_number"] = lambda v, ctx, m, p: numbering.shown(m)
    if res.flags and "status" in {c.key for c in cols}:  # a lead's Lost, Junk beside its status
        status_key = fk_rels.get("status", "status")
        formatters[status_key] = _flagged(formatters.get(status_key), status_key, res.flags, labels)
    # how the grid's cells read (crm_base.html): text shown as it is (a text column, a linked record's
    # name) on one line, cut with "…"; dates never wrapped
    cell_kinds = {**{k: "text" for k in shown if k in mapper_rels and k not in formatters},
                  **{c.key: "text" for c in cols if is_text(c) and c.key not in formatters},
                  **{c.key: "when" for c in cols if is_date(c)}}

    attrs = {
        "crm": res,
        "where": staticmethod(where) if where is not None else None,
        "create_defaults": create_defaults or {},
        "column_list": shown,
        "crm_cell_kinds": cell_kinds,
        "column_labels": labels,
        "column_formatters": formatters,
        "column_formatters_detail": formatters,
        "column_formatters_export": {**{k: (lambda kk: lambda v, ctx, m, p: getattr(m, kk))(k) for k in formatters},
                                     **export_formatters},
        "form_overrides": form_overrides,
        "column_filters": filters,
        "column_sortable_list": sortable,
        "column_searchable_list": searchable,
        "column_select_related_list": [getattr(model, k) for k in auto_joins],
        "column_default_sort": (pk, True),
        "column_details_list": [fk_rels.get(c.key, c.key) for c in cols if c.key not in HIDDEN - {"content"}],
        "column_export_list": [c.key for c in cols if c.key not in ("password", "hash")],
        "form_excluded_columns": list(set(overrides.pop("form_excluded_columns", [])) | set(one_to_many)
                                      | crm_forms.hidden(model) | {"password", "hash"}),
        # large tables: searched as a person types; small look-ups (crm_forms.is_lookup): a plain select
        "form_ajax_refs": {rel: {"fields": display_columns(mapper_rels[rel].mapper.class_), "page_size": 10,
                                 "placeholder": f"Search {labels[rel].lower()}…", "minimum_input_length": 0}
                           for rel in fk_rels.values() if rel not in crm_forms.lookup_relationships(model)},
        "form_choices": form_choices,
        "form_args": {**crm_forms.form_args(model), **form_args},
        "form_widget_args": crm_forms.widget_args(model, f"/admin/{url or res.url}/client-address"),
    }
    # Flask-Admin edits lines inline only through a line -> document relationship; tblitemable's
    # polymorphic lines have none: the line editor (line_editor.py) edits them (the totals the
    # server computes are action-owned, so not form fields).
    if line_editor.has_lines(model):
        attrs["form_choices"] = {**form_choices, "discount_type": [("before_tax", "Before tax"),
                                                                   ("after_tax", "After tax")]}
        attrs["form_args"] = {**attrs["form_args"], "discount_total": {
            "description": "A fixed discount, used when the discount percent is 0."}}
    inline = [_inline_lines(rel) for rel in compositions(model) if rel.back_populates]
    if inline:
        attrs["inline_models"] = inline
    # a view's own labels complete the generated ones (crm/core/labels.py), never replace them all
    overrides["column_labels"] = {**labels, **overrides.get("column_labels", {})}
    attrs.update(overrides)
    # Extra list URLs the seed documents use, e.g. /admin/invoices/list_invoices.
    for alias in res.aliases if url is None else ():
        attrs[f"alias_{alias}"] = expose(f"/{alias}")(_alias_view(alias))
    bases = (DocumentPageMixin, CrmModelView) if pages.is_document(model) else (CrmModelView,)
    cls = type(f"{model.__name__}{endpoint or ''}View", bases, attrs)
    return cls(model, db.session, name=label or res.label, category=category if category is not None else res.category,
               endpoint=endpoint or res.name, url=f"/admin/{url or res.url}")
