"""The delivery note's PDF: products, quantities, the lots each line was taken from and the AWBs."""
from __future__ import annotations

from flask import render_template

from crm.core.documents import Kind, company, fmt_qty, number_of, register
from crm.core.extensions import db
from crm.warehouse.models import Shipment


def delivery_note_context(note) -> dict:
    """Products, quantities, the lots each line was taken from (after approval) and the AWB numbers."""
    lines = [{"name": ln.commodity_name or str(ln.commodity or ""), "qty": fmt_qty(ln.quantities),
              "lots": " · ".join(", ".join(pair) for pair in _pairs((ln.lot_number or "").split(",")))
              if ln.lot_number else "", "expiry": ln.expiry_date.isoformat() if ln.expiry_date else ""}
             for ln in note.items]
    awbs = [s.awb_number for s in db.session.query(Shipment).filter_by(delivery_note_id=note.id) if s.awb_number]
    return {"note": note, "number": note.goods_delivery_code or f"#{note.id}", "company": company(),
            "lines": lines, "awbs": awbs, "invoice_number": number_of(note.invoice) if note.invoice else None}


def _pairs(parts):
    """"LOT1,4,LOT2,6" as [("LOT1", "4"), ("LOT2", "6")]."""
    return list(zip(parts[::2], parts[1::2]))


def _delivery_note_html(note) -> str:
    return render_template("pdf/delivery_note.html", **delivery_note_context(note))


def _delivery_note_name(note) -> str:
    return note.goods_delivery_code or f"delivery-note-{note.id}"


register(Kind("delivery_note", "GoodsDelivery", "Delivery note", html=_delivery_note_html,
              filename=_delivery_note_name))
