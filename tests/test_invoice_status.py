"""Invoice status as a function of total, payments, due date and cancellation."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from crm.actions.invoices import CANCELLED, DRAFT, OVERDUE, PAID, PARTIAL, UNPAID, compute_status

TODAY = date(2026, 11, 23)
PAST, FUTURE = TODAY - timedelta(days=1), TODAY + timedelta(days=1)


@pytest.mark.parametrize("current,total,paid,due,expected", [
    (DRAFT, "100", "100", PAST, DRAFT),
    (CANCELLED, "100", "0", PAST, CANCELLED),
    (UNPAID, "121.00", "121.00", FUTURE, PAID),
    (UNPAID, "121.00", "100.00", FUTURE, PARTIAL),  # paid without VAT: still partially paid
    (OVERDUE, "121.00", "1.00", PAST, PARTIAL),  # partial wins over overdue
    (UNPAID, "121.00", "0", PAST, OVERDUE),
    (OVERDUE, "121.00", "0", FUTURE, UNPAID),
    (UNPAID, "121.00", "0", None, UNPAID),
])
def test_compute_status(current, total, paid, due, expected):
    assert compute_status(current, Decimal(total), Decimal(paid), due, TODAY) == expected


def test_overdue_sweep_job(app):
    from crm.extensions import db
    from crm.models import Client, Invoice, InvoicePayment

    with app.app_context():
        c = Client(company="Late Payer SRL")
        db.session.add(c)
        db.session.flush()
        late = Invoice(clientid=c.userid, date=date(2026, 9, 1), duedate=date(2026, 10, 1), status=UNPAID,
                       total=Decimal("50.00"), formatted_number="INV-000001")
        part = Invoice(clientid=c.userid, date=date(2026, 9, 1), duedate=date(2026, 10, 1), status=UNPAID,
                       total=Decimal("50.00"), formatted_number="INV-000002")
        db.session.add_all([late, part])
        db.session.flush()
        db.session.add(InvoicePayment(invoiceid=part.id, amount=Decimal("10.00"), paymentmode="1",
                                      date=date(2026, 9, 5)))
        db.session.commit()
        ids = late.id, part.id
    result = app.test_cli_runner().invoke(args=["crm", "cron", "sweep_overdue_invoices"])
    assert "1 invoice(s) marked overdue" in result.output
    with app.app_context():
        assert db.session.get(Invoice, ids[0]).status == OVERDUE
        assert db.session.get(Invoice, ids[1]).status == PARTIAL
