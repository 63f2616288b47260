"""e-Factura throughput: CIUS-RO XML generation plus the project's own pre-check (data findings,
length rules, UBL XSD) for a 20-line invoice, target (issue 5) ≥ 200 invoices/s; and the official
EN 16931 + CIUS-RO validator's time per invoice beside it (saxonche, compiled once).

    python bench/efactura.py [--repeat 500] [--official 50]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=500)
    ap.add_argument("--official", type=int, default=50)
    ap.add_argument("--min-per-second", type=float, default=200.0)
    args = ap.parse_args()

    from flask_migrate import upgrade

    from crm.app import create_app
    from crm.core.extensions import db
    from crm.efactura import checks, document, samples, ubl

    tmp = tempfile.TemporaryDirectory()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp.name}/efactura.sqlite"})
    with app.app_context():
        upgrade()
        samples.ensure_company()
        client = samples.make_client("Bench Client SRL", vat="RO14399840", city="Cluj-Napoca", state="Cluj")
        invoice = samples.make_invoice(client, samples.twenty_lines())
        db.session.commit()
        assert len(invoice.items) == 20

        def own(inv):
            doc, findings = document.from_invoice(inv)
            xml = ubl.to_xml(doc)
            return xml, checks.precheck(doc, xml, findings, official=False)

        xml, findings = own(invoice)  # warm-up: schema parsed once
        assert not checks.blocking(findings), findings
        # Wall time, and the process's CPU time: on a shared machine the latter is what one core does.
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.repeat):
            own(invoice)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        per_second = args.repeat / cpu
        print(f"generation + own pre-check, 20-line invoice ({len(xml):,} bytes), {args.repeat} runs: "
              f"{per_second:.0f} invoices per CPU-second ({cpu / args.repeat * 1000:.2f} ms CPU each); "
              f"wall clock {args.repeat / elapsed:.0f}/s ({elapsed / args.repeat * 1000:.2f} ms each)")

        t0 = time.perf_counter()
        validator = checks.OfficialValidator.get()
        if validator is None:
            print("official validator: not available (pip install saxonche)")
        else:
            print(f"official validator: compiled in {time.perf_counter() - t0:.2f} s")
            validator.findings(xml)
            times, cpu_times = [], []
            for _ in range(args.official):
                t1, c1 = time.perf_counter(), time.process_time()
                fatal = [f for f in validator.findings(xml) if f.fatal]
                times.append((time.perf_counter() - t1) * 1000)
                cpu_times.append((time.process_time() - c1) * 1000)
            assert not fatal, fatal
            print(f"official validator per invoice: median {statistics.median(times):.1f} ms wall, "
                  f"{statistics.median(cpu_times):.1f} ms CPU, min {min(times):.1f} ms "
                  f"({args.official} runs, zero fatal findings)")
    ok = per_second >= args.min_per_second
    print("OK" if ok else f"FAIL: below {args.min_per_second:.0f} invoices/s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
