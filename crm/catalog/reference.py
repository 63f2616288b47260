"""Catalog rows most transactions read and people seldom change, shared by the process's
transactions (crm/core/shared.py: a change through this process counts from its commit, one made
by another process within shared.SECONDS)."""
from __future__ import annotations

from sqlalchemy import select

from crm.catalog.models import Currency, PaymentMode
from crm.core.extensions import db
from crm.core.shared import Shared


def _read_modes(session) -> tuple[tuple[int, str, bool], ...]:
    rows = session.execute(select(PaymentMode.id, PaymentMode.name, PaymentMode.selected_by_default)
                           .where(PaymentMode.active == True)  # noqa: E712 - as filter_by(active=True)
                           .order_by(PaymentMode.selected_by_default.desc(), PaymentMode.name))
    return tuple((mode_id, name, bool(default)) for mode_id, name, default in rows)


ACTIVE_MODES = Shared("payment_modes", _read_modes, lambda: (PaymentMode,))
CURRENCY_NAMES = Shared("currency_names", lambda session: dict(session.execute(select(Currency.id, Currency.name)).all()),
                        lambda: (Currency,))

DEFAULT_CURRENCY = Shared("default_currency",
                          lambda session: session.scalar(select(Currency.id).where(Currency.isdefault == True)  # noqa: E712
                                                         .order_by(Currency.id).limit(1)),
                          lambda: (Currency,))


def active_payment_modes() -> tuple[tuple[int, str, bool], ...]:
    """(id, name, selected by default) of the active payment modes, the defaults first, then by name."""
    return ACTIVE_MODES.get(db.session())


def default_currency_id() -> int | None:
    """The id of the default currency (None when none is marked default)."""
    return DEFAULT_CURRENCY.get(db.session())


def currency_name(currency_id) -> str | None:
    """The name (RON, EUR) of a currency id; None for none."""
    if currency_id is None:
        return None
    names = CURRENCY_NAMES.get(db.session())
    if currency_id in names:
        return names[currency_id]
    row = db.session.get(Currency, currency_id)  # added by another process since the names were read
    return row.name if row is not None else None
