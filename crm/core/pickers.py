"""A record picked by its name: an action parameter that is a foreign key (a warehouse, a lead status, a
staff member) declared as such, so a person chooses a name and the API and CLI still send the id.

A small table is a plain select ("Choose…"); a large one (more than :data:`AJAX_ABOVE` rows) is a
searchable box that asks ``/admin/pick/<resource>`` as the person types (the admin answers it, for
those who may open the table). Either way the value is checked against the table, and a default
(the default warehouse) is chosen when the form opens.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from flask import has_app_context
from markupsafe import Markup
from sqlalchemy import func, or_, select
from wtforms import Field, SelectField
from wtforms.widgets import html_params
from wtforms.validators import ValidationError

from crm.core.extensions import db
from crm.core.resources import primary_key, resource_name

AJAX_ABOVE = 50  # rows: above this, the choices are asked while typing instead of listed


class RecordField(SelectField):
    """An id of ``model``'s table, shown as the records' names."""

    def __init__(self, label=None, validators=None, *, model, default: Callable[[], Any] | Any = None,
                 where: Callable[[type], Any] | None = None, order_by: str | None = None,
                 names: tuple[str, ...] = (), **kwargs):
        self.model, self.where, self.order_by, self.record_default = model, where, order_by, default
        self.names = tuple(names)  # columns a name given by the API or the CLI is looked up in
        super().__init__(label, validators, coerce=self._coerce, choices=self._choices,
                         validate_choice=False, **kwargs)

    @staticmethod
    def _coerce(value):
        if value in (None, ""):
            return None
        return int(value)

    @property
    def resource(self) -> str:
        return resource_name(self.model)

    def _query(self):
        pk = getattr(self.model, primary_key(self.model))
        stmt = select(self.model)
        if self.where is not None:
            stmt = stmt.where(self.where(self.model))
        return stmt.order_by(getattr(self.model, self.order_by) if self.order_by else pk)

    @property
    def is_large(self) -> bool:
        if not hasattr(self, "_large"):
            stmt = select(func.count()).select_from(self._query().order_by(None).limit(AJAX_ABOVE + 1).subquery())
            self._large = db.session.execute(stmt).scalar() > AJAX_ABOVE
        return self._large

    def _choices(self):
        if self.is_large:  # only the chosen one; the rest are asked while typing
            chosen = self.chosen()
            return [("", "Choose…")] + ([(str(self.data), str(chosen))] if chosen is not None else [])
        rows = db.session.execute(self._query()).scalars().all()
        return [("", "Choose…")] + [(str(getattr(r, primary_key(self.model))), str(r)) for r in rows]

    def chosen(self):
        return db.session.get(self.model, self.data) if isinstance(self.data, int) else None

    def pre_validate(self, form):
        if self.data is None:
            return
        found = db.session.execute(self._query().where(
            getattr(self.model, primary_key(self.model)) == self.data).limit(1)).scalar()
        if found is None:
            raise ValidationError(f"There is no {self.label.text.lower()} #{self.data}; choose one from the list.")

    def process_formdata(self, valuelist):
        if valuelist:
            raw = str(valuelist[0]).strip()
            if raw and not raw.isdigit() and self.names:
                pk = getattr(self.model, primary_key(self.model))
                found = db.session.execute(select(pk).where(
                    or_(*[func.lower(getattr(self.model, n)) == raw.lower() for n in self.names])
                ).order_by(pk).limit(1)).scalar()
                if found is None:
                    self.data = None
                    raise ValueError(f"There is no {self.label.text.lower()} {raw!r}; choose one from the list.")
                raw = str(found)
            try:
                self.data = self._coerce(raw)
            except (TypeError, ValueError):
                raise ValueError(f"Choose a {self.label.text.lower()} from the list (an id).") from None

    def process_data(self, value):
        # The default (the default warehouse) is read when a form opens, not when the API describes it.
        if value is None and self.record_default is not None and has_app_context():
            value = self.record_default() if callable(self.record_default) else self.record_default
        try:
            self.data = self._coerce(value)
        except (TypeError, ValueError):
            self.data = None


class RecordsWidget:
    """Several records by name: a multiple select (small table) or a searchable box asking
    ``/admin/pick/<resource>`` as a person types (large table), posting the ids comma-separated."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if field.is_large:
            chosen = field.chosen()
            return Markup(
                '<input type="hidden" name="{}" value="{}" data-role="select2-ajax" data-multiple="1" '
                'data-separator="," data-url="/admin/pick/{}" data-allow-blank="1" data-placeholder="Type a name…" '
                'data-minimum-input-length="0" data-json="{}" {}>').format(
                field.name, ",".join(str(i) for i, _ in chosen), field.resource, json.dumps(chosen or None),
                Markup(html_params(**kwargs)))
        kwargs.setdefault("data-role", "select2")
        kwargs.setdefault("data-placeholder", "Choose…")
        options = Markup("").join(
            Markup('<option value="{}"{}>{}</option>').format(value, Markup(" selected") if picked else "", text)
            for value, text, picked in field.options())
        return Markup('<select multiple name="{}" {}>{}</select>').format(field.name, Markup(html_params(**kwargs)),
                                                                          options)


class RecordsField(Field):
    """Ids of ``model``'s table, chosen by name. Posted as several values, or as one text of ids
    and names (``"1,5"``, ``"[1, 5]"``, ``"P-100,B-300"``: the columns ``names`` are looked up, for
    the API and the CLI). ``data`` is the list of ids."""

    widget = RecordsWidget()

    def __init__(self, label=None, validators=None, *, model, names: tuple[str, ...] = (),
                 where: Callable[[type], Any] | None = None, order_by: str | None = None, **kwargs):
        self.model, self.names, self.where, self.order_by = model, tuple(names), where, order_by
        super().__init__(label, validators, **kwargs)

    @property
    def resource(self) -> str:
        return resource_name(self.model)

    @property
    def _pk(self):
        return getattr(self.model, primary_key(self.model))

    def _query(self):
        stmt = select(self.model)
        if self.where is not None:
            stmt = stmt.where(self.where(self.model))
        return stmt.order_by(getattr(self.model, self.order_by) if self.order_by else self._pk)

    @property
    def is_large(self) -> bool:
        if not hasattr(self, "_large"):
            stmt = select(func.count()).select_from(self._query().order_by(None).limit(AJAX_ABOVE + 1).subquery())
            self._large = db.session.execute(stmt).scalar() > AJAX_ABOVE
        return self._large

    def chosen(self) -> list[tuple[int, str]]:
        """(id, name) of the records chosen, in the order chosen (one query)."""
        if not self.data:
            return []
        rows = db.session.execute(self._query().where(self._pk.in_(self.data))).scalars().all()
        names = {getattr(r, primary_key(self.model)): str(r) for r in rows}
        return [(i, names.get(i, f"#{i}")) for i in self.data]

    def options(self):
        picked = set(self.data or ())
        rows = db.session.execute(self._query()).scalars().all()
        for r in rows:
            pk = getattr(r, primary_key(self.model))
            yield str(pk), str(r), pk in picked

    def _value(self):
        return ",".join(str(i) for i in self.data or ())

    def process_data(self, value):
        self.data = ids_in(value)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        tokens = [t.strip().strip('"') for v in valuelist for t in str(v).strip().strip("[]").split(",")]
        tokens = [t for t in tokens if t]
        ids, unknown = [], []
        for token in tokens:
            found = int(token) if token.isdigit() else self._by_name(token)
            if found is None:
                unknown.append(token)
            elif found not in ids:
                ids.append(found)
        self.data = ids
        if unknown:
            raise ValueError(f"There is no {self.label.text.lower()} {', '.join(unknown)}; choose from the list.")

    def _by_name(self, token):
        if not self.names:
            return None
        cond = or_(*[func.lower(getattr(self.model, n)) == token.lower() for n in self.names])
        return db.session.execute(select(self._pk).where(cond).order_by(self._pk).limit(1)).scalar()

    def pre_validate(self, form):
        if not self.data:
            return
        found = set(db.session.execute(self._query().with_only_columns(self._pk).where(
            self._pk.in_(self.data))).scalars())
        missing = [str(i) for i in self.data if i not in found]
        if missing:
            raise ValidationError(f"There is no {self.label.text.lower()} #{', #'.join(missing)}; "
                                  "choose from the list.")


class IdsColumnField(RecordsField):
    """A text column holding ids of another table (``info={"ids_of": "tblpayment_modes"}``) edited as
    a choice of names; it keeps the column's way of writing them (a JSON list, or ``"3,1"`` when
    declared ``info={"ids_text": "comma"}``)."""

    def __init__(self, label=None, validators=None, *, comma: bool = False, **kwargs):
        self.comma = comma
        super().__init__(label, validators, **kwargs)

    def process_data(self, value):
        super().process_data(value)
        # entries that are no id (Perfex's gateway ids, e.g. "stripe"): not offered, kept as they are
        self.kept = [v for v in _entries(value) if not v.isdigit()]

    def populate_obj(self, obj, name):
        ids = [*(self.data or []), *getattr(self, "kept", [])]
        if not ids:
            setattr(obj, name, None)
        else:
            setattr(obj, name, ",".join(str(i) for i in ids) if self.comma else json.dumps(ids))


def _entries(raw) -> list[str]:
    """The entries of a list column: a JSON list (``[1, 5]``) or comma-separated (``3,1``)."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, (list, tuple)):
        values = raw
    else:
        try:
            values = json.loads(raw)
        except ValueError:
            values = str(raw).strip().strip("[]").split(",")
        if not isinstance(values, list):
            values = [values]
    return [e for e in (str(v).strip().strip('"') for v in values) if e]


def ids_in(raw) -> list[int]:
    """The ids a list column holds, each once."""
    out = []
    for v in _entries(raw):
        if v.isdigit() and int(v) not in out:
            out.append(int(v))
    return out
