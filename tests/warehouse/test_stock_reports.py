"""The seed's "current stock vs minimum" and the lots expiring within N days."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from crm.core.extensions import db
from tests.conftest import QueryCounter
from tests.warehouse.warehouse_support import TODAY, item, receipt, warehouse


def _stock(app):
    from crm.warehouse.models import MinimumStock

    with app.app_context():
        wh = warehouse()
        gloves, boots, caps = item("G-1", "Gloves"), item("B-1", "Boots"), item("C-1", "Caps")
        receipt(wh, [(gloves, "3", "LG", TODAY - timedelta(days=2), "1.00"),   # expired
                     (boots, "40", "LB", TODAY + timedelta(days=20), "9.00"),
                     (caps, "5", "LC", TODAY + timedelta(days=200), "2.00")], approve=True)
        db.session.add_all([MinimumStock(commodity_id=gloves, inventory_number_min=Decimal("10"),
                                         inventory_number_max=Decimal("50")),
                            MinimumStock(commodity_id=boots, inventory_number_min=Decimal("15"),
                                         inventory_number_max=Decimal("60")),
                            MinimumStock(commodity_id=caps, inventory_number_min=Decimal("8"),
                                         inventory_number_max=Decimal("20"))])
        db.session.commit()


def test_stock_below_minimum_most_short_first(app, admin_client):
    _stock(app)
    html = admin_client.get("/admin/warehouse/reports/minimum").get_data(as_text=True)
    assert "2 item(s) below their minimum" in html
    table = html.split('data-testid="report"')[1]
    assert table.index("Gloves") < table.index("Caps") and "Boots" not in table  # short 7, then 3
    assert ">7.000<" in table or ">7<" in table or "7.000" in table
    everything = admin_client.get("/admin/warehouse/reports/minimum?all=1").get_data(as_text=True)
    assert "3 item(s) with a minimum" in everything and "Boots" in everything
    csv = admin_client.get("/admin/warehouse/reports/minimum?export=csv").get_data(as_text=True).splitlines()
    assert csv[0] == "item id,code,name,on hand,minimum,maximum,short"
    assert [line.split(",")[1] for line in csv[1:]] == ["G-1", "C-1"]


def test_lots_expiring_within_n_days(app, admin_client):
    _stock(app)
    html = admin_client.get("/admin/warehouse/reports/expiring?days=30").get_data(as_text=True)
    assert "2 lot(s) in stock expiring within 30 days" in html
    table = html.split('data-testid="report"')[1]
    assert table.index("LG") < table.index("LB") and "LC" not in table
    assert "1 lot(s)" in admin_client.get("/admin/warehouse/reports/expiring?days=0").get_data(as_text=True)
    assert admin_client.get("/admin/warehouse/reports/expiring?days=-3").status_code == 400


def test_the_reports_cost_the_same_queries_whatever_their_size(app, admin_client):
    _stock(app)
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as few:
        admin_client.get("/admin/warehouse/reports/minimum?all=1")
    with app.app_context():
        wh = warehouse("WH2", "Second")
        more = [item(f"X-{n}", f"Extra {n}") for n in range(12)]
        receipt(wh, [(i, "1", f"LX{n}", TODAY + timedelta(days=3), "1.00") for n, i in enumerate(more)],
                approve=True)
        from crm.warehouse.models import MinimumStock

        db.session.add_all([MinimumStock(commodity_id=i, inventory_number_min=Decimal("5")) for i in more])
        db.session.commit()
    with QueryCounter(engine) as many:
        admin_client.get("/admin/warehouse/reports/minimum?all=1")
    assert many.count == few.count
