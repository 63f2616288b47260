"""How many statements the costly steps of the Lead → Cash chain send (bench/chain.py): each
statement costs the application and the database their per-statement work, so a step that sends
more again fails here. Counted as a running process has them: after one chain, with the rows
every transaction reads (options, active webhooks, payment modes, currency names) shared by the
process (crm/core/shared.py)."""
from __future__ import annotations

from decimal import Decimal

from crm.core.extensions import db
from tests.conftest import QueryCounter
from tests.sales.test_sales_proposals import _proposal, ids  # noqa: F401 - the fixture

# Per database, as they differ: multi-row INSERT ... RETURNING, UPDATE ... RETURNING for the number
# (MariaDB reads its counter row, locks it, then sets it), the roll-up lock (PostgreSQL takes it in
# the statement that writes the moves), history lines (one statement for every table on PostgreSQL).
# A commit writes its report roll-up moves as one INSERT (crm/reports/rollup.py), never the roll-up rows.
# (convert_to_invoice, the first payment, the last payment)
CONVERT_AND_PAY = {"postgresql": (14, 11, 13), "sqlite": (16, 12, 14), "mysql": (19, 13, 15)}


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
        # (a number is taken by locking its counter row, SELECT ... FOR UPDATE on MariaDB: not a shared read)
        assert not [s for s in counted.statements if any(t in s for t in shared) and "FOR UPDATE" not in s]
    with app.app_context():
        caps = CONVERT_AND_PAY["mysql" if db.engine.dialect.name == "mariadb" else db.engine.dialect.name]
    for counted, cap in zip((convert, pay_first, pay_rest), caps):
        assert counted.count <= cap, counted.statements


# The chain over the API (bench/chain_http.py), step by step, per database: SQLite sends one INSERT
# per line and per tax where the others send one for all; MariaDB also reads an API write's answer
# again after the commit (crm/api _commit) and takes a number and the roll-up lock as above.
API_STEPS = {
    "postgresql": {"lead created": 5, "convert_to_opportunity": 5, "create_proposal": 8, "5 lines (PATCH)": 10,
                   "mark_sent": 4, "accept": 4, "convert_to_invoice": 23, "record_payment (40 %)": 9,
                   "record_payment (rest)": 9},
    "sqlite": {"lead created": 5, "convert_to_opportunity": 6, "create_proposal": 10, "5 lines (PATCH)": 18,
               "mark_sent": 4, "accept": 5, "convert_to_invoice": 25, "record_payment (40 %)": 10,
               "record_payment (rest)": 10},
    "mysql": {"lead created": 6, "convert_to_opportunity": 6, "create_proposal": 13, "5 lines (PATCH)": 13,
              "mark_sent": 4, "accept": 5, "convert_to_invoice": 29, "record_payment (40 %)": 11,
              "record_payment (rest)": 11},
}
LINES = [("Consulting day", "3", "1200.00", "19.00"), ("Licence, 12 months", "2", "499.90", "19.00"),
         ("Training handbook", "10", "45.50", "9.00"), ("On-site setup", "1", "850.00", "19.00"),
         ("Printed manuals", "4", "12.25", "9.00")]


def _api_chain(client, headers, refs, n, engine) -> dict:
    """One Lead → Cash chain over the API; {step: statements}."""
    counted = {}

    def call(step, method, path, body):
        with QueryCounter(engine) as q:
            r = client.open(path, method=method, json=body, headers=headers)
        assert r.status_code < 300, (step, r.get_json())
        counted[step] = q
        return r.get_json()

    def created(answer, resource):
        return next(c["id"] for c in answer["created"] if c["resource"] == resource)

    lead = call("lead created", "POST", "/api/v1/leads", {
        "name": f"Chain Contact {n}", "company": f"Chain Buyer {n} SRL", "email": f"chain{n}@chain.example",
        "status": refs["status"], "source": refs["source"], "lead_value": "5000.00"})
    opp = created(call("convert_to_opportunity", "POST", f"/api/v1/leads/{lead['id']}/actions/convert_to_opportunity",
                       {}), "leads")
    proposal = created(call("create_proposal", "POST", f"/api/v1/leads/{opp}/actions/create_proposal", {}),
                       "proposals")
    answer = call("5 lines (PATCH)", "PATCH", f"/api/v1/proposals/{proposal}", {
        "items": [{"description": d, "qty": q, "rate": r, "unit": "buc", "item_order": i,
                   "taxes": [{"taxname": "TVA", "taxrate": t}]} for i, (d, q, r, t) in enumerate(LINES, 1)],
        "discount_percent": "10", "discount_type": "before_tax"})
    assert answer == client.get(f"/api/v1/proposals/{proposal}", headers=headers).get_json()  # as written
    call("mark_sent", "POST", f"/api/v1/proposals/{proposal}/actions/mark_sent", {})
    call("accept", "POST", f"/api/v1/proposals/{proposal}/actions/accept", {})
    invoice = created(call("convert_to_invoice", "POST", f"/api/v1/proposals/{proposal}/actions/convert_to_invoice",
                           {}), "invoices")
    read = client.get(f"/api/v1/invoices/{invoice}", headers=headers).get_json()
    assert [(i["description"], i["qty"], [t["taxrate"] for t in i["taxes"]]) for i in read["items"]] == \
        [(d, f"{Decimal(q):.3f}", [f"{Decimal(t):.2f}"]) for d, q, _, t in LINES]
    total = Decimal(read["total"])
    first = (total * Decimal("0.4")).quantize(Decimal("0.01"))
    call("record_payment (40 %)", "POST", f"/api/v1/invoices/{invoice}/actions/record_payment",
         {"amount": str(first), "paymentmode": refs["mode"]})
    call("record_payment (rest)", "POST", f"/api/v1/invoices/{invoice}/actions/record_payment",
         {"amount": str(total - first), "paymentmode": refs["mode"]})
    assert client.get(f"/api/v1/invoices/{invoice}", headers=headers).get_json()["status"] == 2  # paid
    return counted


def test_each_step_of_the_chain_over_the_api_sends_no_more_statements_than_it_needs(app, ids, api_headers):  # noqa: F811
    from crm.core import options
    from crm.sales.models.clients import LeadSource, LeadStatus, Pipeline

    with app.app_context():
        pipeline = Pipeline(name="Sales")
        db.session.add(pipeline)
        db.session.flush()
        status, source = LeadStatus(name="New", pipeline=pipeline.id, statusorder=1), LeadSource(name="Web")
        db.session.add_all([status, source])
        for name in ("email_payment_receipt_to_client", "notifications_email_staff"):  # as the chain: no email
            options.set(name, False)
        db.session.commit()
        refs = {"status": status.id, "source": source.id, "mode": ids["bank"]}
        engine = db.engine
        caps = API_STEPS["mysql" if engine.dialect.name == "mariadb" else engine.dialect.name]
    client = app.test_client()
    _api_chain(client, api_headers, refs, 1, engine)  # the process's first chain reads the shared rows
    counted = _api_chain(client, api_headers, refs, 2, engine)
    for step, cap in caps.items():
        assert counted[step].count <= cap, (step, counted[step].count, counted[step].statements)
