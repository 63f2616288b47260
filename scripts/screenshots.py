"""Remake the screenshots of the main screens in docs/ (PNG, 1400 px wide), shown in the README.

Loads the demo into a temporary SQLite database, serves the app on a free local port and opens each
screen in headless Chromium (Playwright driving the system's /usr/bin/chromium) as the demo staff
member who uses it:

    .venv/bin/python scripts/screenshots.py            # every screen, into docs/
    .venv/bin/python scripts/screenshots.py --out /tmp/shots invoice-page board

Nothing outside the temporary folder is written but the PNGs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT = 1400, 900
PASSWORD = "demo1234"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def build_app(folder: Path):
    """The app over a fresh SQLite database in ``folder``, migrated and loaded with the demo."""
    from flask_migrate import upgrade

    from crm.app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}", "REDIS_URL": None,
                      "SECRET_KEY": "screenshots", "WTF_CSRF_ENABLED": True})
    app.instance_path = str(folder)  # stored files (logo, signatures, PDFs) stay in the temporary folder
    with app.app_context():
        from crm.demo import load

        upgrade()
        load()
    return app


def targets(app) -> dict[str, tuple[str, str, bool]]:
    """Each screenshot: its name -> (who opens it, the URL, whether the whole page is taken)."""
    from crm.core.extensions import db
    from crm.purchasing.models import PurchaseOrder
    from crm.sales.models.clients import Lead
    from crm.sales.models.documents import Invoice
    from crm.warehouse.models import GoodsDelivery as DeliveryNote

    with app.app_context():
        partly_paid = db.session.query(Invoice).filter(Invoice.status == 3).order_by(Invoice.id).first()
        overdue = db.session.query(Invoice).filter(Invoice.status == 4).order_by(Invoice.id).first()
        lead = (db.session.query(Lead).filter(Lead.client_id.is_(None), Lead.is_opportunity.is_(False),
                                              Lead.junk.is_(False), Lead.lost.is_(False))
                .order_by(Lead.id).first())
        order = db.session.query(PurchaseOrder).filter(PurchaseOrder.items.any()).order_by(PurchaseOrder.id).first()
        note = db.session.query(DeliveryNote).filter(DeliveryNote.items.any()).order_by(DeliveryNote.id).first()
        return {
            "leads-grid": ("sdr", "/admin/leads/", False),
            "board": ("manager", "/admin/leads/board", False),
            "invoice-page": ("finance", f"/admin/invoices/details/?id={partly_paid.id}", True),
            "client-page": ("manager", f"/admin/clients/details/?id={overdue.clientid}", True),
            "lead-page": ("sdr", f"/admin/leads/details/?id={lead.id}", True),
            "purchase-order-page": ("purchasing", f"/admin/purchase/purchase_order/details/?id={order.id}", True),
            "delivery-note-page": ("warehouse", f"/admin/warehouse/manage_delivery/details/?id={note.id}", True),
            "search": ("manager", "/admin/leads/", False),
            "record-payment": ("finance", f"/admin/invoices/run-action/record_payment/{overdue.id}", False),
        }


def serve(app) -> tuple[str, object]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def shoot(base: str, shots: dict, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    made = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        signed_in: dict[str, object] = {}
        for name, (who, url, full) in shots.items():
            if who not in signed_in:
                context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
                page = context.new_page()
                page.goto(f"{base}/login")
                page.fill("input[name=email]", f"{who}@crmconnect.test")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url("**/admin**")
                signed_in[who] = page
            page = signed_in[who]
            page.goto(f"{base}{url}")
            page.wait_for_load_state("networkidle")
            if name == "search":
                page.keyboard.press("Control+k")
                box = page.locator("[data-testid=search-box] input")
                box.wait_for(state="visible")
                box.type("nordic")
                page.wait_for_selector("[data-testid=search-hit]")
                page.wait_for_timeout(300)
            path = out / f"{name}.png"
            page.screenshot(path=str(path), full_page=full)
            made.append(path)
            print(f"{path}  ({who}: {url})")
        browser.close()
    return made


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these screenshots (default: all)")
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the PNGs (default: docs/)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crm-shots-") as tmp:
        app = build_app(Path(tmp))
        shots = targets(app)
        unknown = set(args.names) - set(shots)
        if unknown:
            parser.error(f"unknown screenshot(s): {', '.join(sorted(unknown))}; known: {', '.join(shots)}")
        if args.names:
            shots = {k: v for k, v in shots.items() if k in args.names}
        base, server = serve(app)
        try:
            shoot(base, shots, out)
        finally:
            server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
