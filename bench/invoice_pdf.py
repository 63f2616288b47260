"""Time the PDF of a 20-line invoice (WeasyPrint), the figure issue 3 names: ≤ 300 ms median.

    python bench/invoice_pdf.py [--lines 20] [--repeat 30]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--max-median-ms", type=float, default=300.0)
    args = ap.parse_args()

    from flask_migrate import upgrade

    from crm.actions.totals import refresh
    from crm.app import create_app
    from crm.catalog.models import Currency
    from crm.core.documents import render_pdf
    from crm.core.extensions import db
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice, ItemLine, ItemTax

    tmp = tempfile.TemporaryDirectory()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp.name}/pdf.sqlite"})
    with app.app_context(), app.test_request_context():
        upgrade()
        ron = Currency(name="RON", symbol="lei", isdefault=True)
        client = Client(company="Bench Client SRL", vat="RO12345678", billing_street="Str. Lungă 1",
                        billing_city="Cluj-Napoca", billing_country="Romania")
        db.session.add_all([ron, client])
        db.session.flush()
        inv = Invoice(clientid=client.userid, currency=ron.id, date=date.today(), duedate=date.today(),
                      number=1, prefix="INV-", formatted_number="INV-000001", status=1)
        for i in range(args.lines):
            line = ItemLine(description=f"Articol {i + 1}", long_description="Descriere lungă a articolului",
                            qty=Decimal(i % 5 + 1), rate=Decimal("123.45") + i, unit="buc", item_order=i)
            line.taxes.append(ItemTax(taxname="TVA", taxrate=Decimal("21" if i % 2 else "11")))
            inv.items.append(line)
        refresh(inv)
        db.session.add(inv)
        db.session.commit()
        render_pdf(inv)  # warm-up: fonts and stylesheets
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            pdf = render_pdf(inv)
            times.append((time.perf_counter() - t0) * 1000)
        assert pdf.startswith(b"%PDF")
    median = statistics.median(times)
    p95 = sorted(times)[int(len(times) * 0.95) - 1]
    print(f"{args.lines}-line invoice PDF, {args.repeat} renders: median {median:.1f} ms, p95 {p95:.1f} ms, "
          f"min {min(times):.1f} ms, {len(pdf):,} bytes")
    ok = median <= args.max_median_ms
    print("OK" if ok else f"FAIL: median above {args.max_median_ms} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
