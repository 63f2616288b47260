"""A generic row factory: valid rows for any model, linked to rows of every table it refers to.

Used where a test must cover every table (list pages, API) without a hand-written fixture each.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, Integer, Numeric, String, Text, inspect

from crm.core.extensions import db
from crm.core.resources import fk_relationships, primary_key, status_enum


def _value(col, i: int):
    enum_cls = status_enum(col)
    if enum_cls is not None:
        members = list(enum_cls)
        return members[i % len(members)].value
    t = col.type
    if isinstance(t, Boolean):
        return False
    if isinstance(t, DateTime):
        return datetime(2026, 1, 1 + i % 28, 10, 0)
    if isinstance(t, Date):
        return date(2026, 1, 1) + timedelta(days=i)  # distinct, for a unique date column
    if isinstance(t, Numeric):
        return Decimal("10.00") + i
    if isinstance(t, Integer):
        return i + 1
    if isinstance(t, (String, Text)):
        if col.key == "vat_category":
            return "S"
        if col.table.name in ("tblcustomfields", "tblcustomfieldsvalues") and col.key in ("fieldto", "type"):
            return {"fieldto": "leads", "type": "input"}[col.key]  # the values the model accepts
        if col.key == "email":
            return f"row{i}@example.test"
        if col.key == "url":  # loopback, a closed port: a webhook row fails fast, never waits on DNS
            return f"http://127.0.0.1:9/hook{i}"
        if col.key == "events":
            return "lead.created"
        if col.key == "iban":  # a real one: the model checks the digits
            from schwifty import IBAN

            return IBAN.generate("DE", bank_code="37040044", account_code=str(i + 1)).compact
        text = f"{col.key} {i}"
        return text[: t.length] if getattr(t, "length", None) else text
    return None


class Factory:
    def __init__(self):
        self.made: dict[type, list] = {}
        self._busy: set[type] = set()

    def rows(self, model, n: int = 1) -> list:
        have = self.made.setdefault(model, [])
        if len(have) >= n:
            return have[:n]
        self._busy.add(model)
        mapper = inspect(model)
        fks = fk_relationships(model)
        rels = {r.key: r for r in mapper.relationships}
        for i in range(len(have), n):
            obj = model()
            for col in mapper.columns:
                if col.primary_key and col.key == primary_key(model):
                    continue
                if col.key in fks:
                    target = rels[fks[col.key]].mapper.class_
                    if target in self._busy and col.nullable:
                        continue  # break cycles (lead ↔ client) through nullable links
                    targets = self.rows(target, n if col.unique else 3)  # a unique link needs its own row
                    setattr(obj, col.key, getattr(targets[i % len(targets)], primary_key(target)))
                elif col.foreign_keys:
                    continue
                elif col.unique or (not col.nullable and col.default is None and col.server_default is None):
                    setattr(obj, col.key, _value(col, i))
            db.session.add(obj)
            have.append(obj)
        db.session.flush()
        self._busy.discard(model)
        return have[:n]
