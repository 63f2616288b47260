"""A record picked by its name: an action parameter that is a foreign key (a warehouse, a lead status, a
staff member) declared as such, so a person chooses a name and the API and CLI still send the id.

A small table is a plain select ("Choose…"); a large one (more than :data:`AJAX_ABOVE` rows) is a
searchable box that asks ``/admin/pick/<resource>`` as the person types (the admin answers it, for
those who may open the table). Either way the value is checked against the table, and a default
(the default warehouse) is chosen when the form opens.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import has_app_context
from sqlalchemy import func, select
from wtforms import SelectField
from wtforms.validators import ValidationError

from crm.core.extensions import db
from crm.core.resources import primary_key, resource_name

AJAX_ABOVE = 50  # rows: above this, the choices are asked while typing instead of listed


class RecordField(SelectField):
    """An id of ``model``'s table, shown as the records' names."""

    def __init__(self, label=None, validators=None, *, model, default: Callable[[], Any] | Any = None,
                 where: Callable[[type], Any] | None = None, order_by: str | None = None, **kwargs):
        self.model, self.where, self.order_by, self.record_default = model, where, order_by, default
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
            try:
                self.data = self._coerce(valuelist[0])
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
