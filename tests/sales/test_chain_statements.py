"""How many statements the costly steps of the Lead → Cash chain send (bench/chain.py): each
statement costs the application and the database their per-statement work, so a step that sends
more again fails here. Counted as a running process has them: after one chain, with the rows
every transaction reads (options, active webhooks, payment modes, currency names) shared by the
process (crm/core/shared.py)."""
from __future__ import annotations

from crm.core.extensions import db
from tests.conftest import QueryCounter
from tests.sales.test_sales_proposals import _proposal, ids  # noqa: F401 - the fixture

# PostgreSQL, SQLite and MariaDB differ a little (multi-row INSERT ... RETURNING, UPDATE ... RETURNING
# for the number, the roll-up lock): the highest of them.
CONVERT_TO_INVOICE = 22
FIRST_PAYMENT = 19
LAST_PAYMENT = 23


def _convert_and_pay(app, ids, admin_id):  # noqa: F811
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice, Proposal

    pid, _ = _proposal(app, ids)
    with app.app_context():
        actor = db.session.get(Staff, admin_id)
        with QueryCounter(db.engine) as convert:
            run(Proposal, pid, "convert_to_invoice", actor)
        invoice = db.session.get(Invoice, db.session.get(Proposal, pid).invoice_id)
        first = "100.00"
        with QueryCounter(db.engine) as pay_first:
            run(Invoice, invoice.id, "record_payment", actor, {"amount": first, "paymentmode": ids["bank"]})
        rest = str(invoice.total - 100)
        with QueryCounter(db.engine) as pay_rest:
            run(Invoice, invoice.id, "record_payment", actor, {"amount": rest, "paymentmode": ids["bank"]})
        assert db.session.get(Invoice, invoice.id).status == 2  # paid
        db.session.remove()
    return convert, pay_first, pay_rest


def test_convert_to_invoice_and_payments_send_no_more_statements_than_they_need(app, ids):  # noqa: F811
    from crm.core.models.settings import Staff
    from tests.conftest import ADMIN_EMAIL

    from crm.core import options

    with app.app_context():
        admin_id = db.session.query(Staff.staffid).filter_by(email=ADMIN_EMAIL).scalar()
        for name in ("email_payment_receipt_to_client", "notifications_email_staff"):  # as the chain: no email
            options.set(name, False)
        db.session.commit()
    _convert_and_pay(app, ids, admin_id)  # the process's first chain reads the shared rows
    convert, pay_first, pay_rest = _convert_and_pay(app, ids, admin_id)
    # the reads of the shared rows (each is read by the first chain only)
    shared = ("tbloptions.name, tbloptions.value", "WHERE tblwebhooks.active", "WHERE tblpayment_modes.active",
              "SELECT tblcurrencies.id, tblcurrencies.name \nFROM")
    for counted in (convert, pay_first, pay_rest):
        assert not [s for s in counted.statements if any(t in s for t in shared)]
    assert convert.count <= CONVERT_TO_INVOICE, convert.statements
    assert pay_first.count <= FIRST_PAYMENT, pay_first.statements
    assert pay_rest.count <= LAST_PAYMENT, pay_rest.statements
