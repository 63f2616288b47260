"""Stores a document's totals (crm/totals.py computes them) on every save, from any door."""
from __future__ import annotations

from ..totals import compute
from .purchase_common import refresh as refresh_purchase


def refresh(document) -> None:
    """Store the computed totals on a proposal, estimate or invoice (no-op for other records)."""
    rel = type(document).__mapper__.relationships.get("items")
    if rel is None or rel.mapper.class_.__tablename__ != "tblitemable":
        if getattr(document, "__tablename__", "").startswith("tblpur_") and rel is not None:
            refresh_purchase(document)  # purchasing lines have their own shape
        return
    t = compute(document.items, document.discount_percent, document.discount_type, document.discount_total,
                document.adjustment)
    document.subtotal, document.total_tax, document.total = t.subtotal, t.total_tax, t.total
    document.discount_total = t.discount
