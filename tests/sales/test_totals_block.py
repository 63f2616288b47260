"""The totals block the invoice's page and its PDF share (crm.sales.documents.lines_and_totals): each
tax with what it is charged on, so an exempt line reads "Scutit 0% on 482.42" rather than a bare
0.00; a tax no counted line carries an amount of (an optional line left out, a line of 0) is not listed."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from crm.core.extensions import db
from tests.core.test_pdf_documents import pdf_text


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_taxes_listed_with_their_base_and_only_when_a_line_carries_them(app, admin_client):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice, ItemLine, ItemTax

    def line(order, description, qty, rate, tax, pct, **kw):
        return ItemLine(description=description, qty=Decimal(qty), rate=Decimal(rate), item_order=order,
                        taxes=[ItemTax(taxname=tax, taxrate=Decimal(pct))], **kw)

    with app.app_context():
        client = Client(company="Exempt SRL")
        db.session.add(client)
        db.session.flush()
        inv = Invoice(clientid=client.userid, date=date(2026, 11, 6), status=1, formatted_number="INV-T0001")
        inv.items.extend([
            line(1, "Maintenance (month)", 12, "291.46", "TVA 21%", 21),
            line(2, "User training (4 h session)", 2, "241.21", "Scutit", 0),
            line(3, "Eco packaging", 1, "50.00", "Eco", 5, is_optional=True, is_selected=False),
            line(4, "Free visit", 0, "80.00", "TVA 9%", 9),
        ])
        db.session.add(inv)
        db.session.commit()
        inv_id = inv.id
    html = admin_client.get(f"/admin/invoices/details/?id={inv_id}").get_data(as_text=True)
    start = html.index('data-testid="document-lines"')
    block = _text(html[start:html.index("Payments", start) if "Payments" in html[start:] else start + 8000])
    totals = block[block.index("Subtotal"):]
    pdf = " ".join(pdf_text(admin_client.get(f"/admin/documents/invoice/{inv_id}.pdf").data).split())
    for shown in (totals, pdf[pdf.index("Subtotal"):]):
        assert "Scutit 0% on 482.42" in shown and "TVA 21% on 3,497.52" in shown, shown
        assert "Eco 5%" not in shown and "TVA 9%" not in shown, shown
    assert "0.00" in totals and "734.48" in totals
