"""The seed's "Key Reports for Monitoring": filtered lists at the URLs it gives."""
from __future__ import annotations

from datetime import timedelta

from crm.core.extensions import db
from tests.sales.test_sales_support import TODAY, base_data, make_client, make_estimate, make_invoice


def test_pending_sales_orders_and_uncollected_invoices(app, admin_client):
    with app.app_context():
        ids = base_data()
        client = make_client()
        sent, accepted = make_estimate(ids, client, status=2), make_estimate(ids, client, status=4)
        unpaid = make_invoice(ids, client, status=1)
        overdue = make_invoice(ids, client, status=4, duedate=TODAY - timedelta(days=3))
        names = {k: str(v) for k, v in (("sent", sent), ("accepted", accepted), ("unpaid", unpaid),
                                        ("overdue", overdue))}
        db.session.commit()
    html = admin_client.get("/admin/estimates/list_estimates?status=2").get_data(as_text=True)
    assert names["sent"] in html and names["accepted"] not in html
    assert "Filtered: Status = Sent" in html
    html = admin_client.get("/admin/invoices/list_invoices?status=1").get_data(as_text=True)
    assert names["unpaid"] in html and names["overdue"] not in html
