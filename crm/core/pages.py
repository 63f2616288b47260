"""What a record's page shows beyond its columns, registered by the area that knows it.

Each area's screens module registers its panels here when the app is created (``register`` in
``crm/<area>/views``, called by create_app), so the generated admin finds them without the models
naming a view and the import contracts see the real dependencies:

- :func:`panel` — a template included on the record's page, with a function giving its context;
- :func:`amount_left` — what is left to pay on a document (invoices, vendor invoices);
- :func:`party` — the client or vendor of a document whose party is not one relationship (a
  proposal: a lead or a client).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from crm.core.resources import resource_of


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[[Any], dict] | None = None


_PANELS: dict[type, list[Panel]] = {}
_LEFT: dict[type, Callable[[Any], Decimal]] = {}
_PARTY: dict[type, Callable[[Any], Any]] = {}


def panel(model, template: str, context: Callable[[Any], dict] | None = None) -> None:
    """Show ``template`` on ``model``'s page; ``context(obj)`` gives it the dict it reads."""
    found = _PANELS.setdefault(model, [])
    if all(p.template != template for p in found):  # create_app may run more than once (tests)
        found.append(Panel(template, context))


def panels_of(model) -> list[Panel]:
    return list(_PANELS.get(model, ()))


def panel_context(model, obj) -> dict:
    """The context of every panel of ``model``, merged (templates read ``admin_view.details_extra``)."""
    out: dict = {}
    for p in _PANELS.get(model, ()):
        if p.context is not None:
            out.update(p.context(obj))
    return out


def amount_left(model, func: Callable[[Any], Decimal]) -> None:
    _LEFT[model] = func


def left_of(obj) -> Decimal | None:
    func = _LEFT.get(type(obj))
    return func(obj) if func else None


def party(model, func: Callable[[Any], Any]) -> None:
    _PARTY[model] = func


def party_of(obj):
    """The client or vendor a document is for: its registered function, else its declared relationship."""
    func = _PARTY.get(type(obj))
    if func is not None:
        return func(obj)
    rel = resource_of(type(obj)).party
    return getattr(obj, rel) if rel else None


def is_document(model) -> bool:
    res = resource_of(model)
    return res.document if res.document is not None else bool(res.lines)
