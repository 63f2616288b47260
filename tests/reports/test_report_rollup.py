"""The daily roll-ups the sales reports read stay equal to the invoices and payments, whatever
door changes them (API, actions, grid-style edits, bulk statements), and the reports keep
showing what the raw rows say."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from crm.core.extensions import db
from crm.reports.rollup import differences
from tests.conftest import QueryCounter, api_token, at_once
from tests.reports.test_reports import YEAR, build_sales


def rollups():
    """The roll-up tables (the list of built months and the pending moves aside)."""
    from crm import models

    aside = ("ReportMonth", "ReportPending")
    return [getattr(models, name) for name in models.report_rollup.__all__ if name not in aside]


def folded() -> None:
    """The pending moves folded into the daily roll-ups (what the job fold_report_rollups does)."""
    from crm.reports.rollup import fold

    db.session.rollback()
    fold(db.session)
    db.session.commit()


def built_months() -> set:
    from sqlalchemy import select

    from crm.reports.models import ReportMonth

    return set(db.session.scalars(select(ReportMonth.month)))


def rollup_rows(model, months=None):
    """The roll-up's rows; a monthly one's only for ``months`` (the built ones: the others are not read)."""
    from sqlalchemy import select

    t = model.__table__
    q = select(*(c for c in t.c if c.name != "id"))
    if "month" in t.c:
        q = q.where(t.c.month.in_(sorted(months or ())))
    return Counter(tuple(r) for r in db.session.execute(q))


def assert_rollups_fresh():
    """Each daily roll-up, and each built month of a monthly one, holds exactly what a rebuild
    from the raw tables writes."""
    from crm.reports.rollup import rebuild

    db.session.rollback()
    folded()
    months = built_months()
    kept = {model: rollup_rows(model, months) for model in rollups()}
    assert all(rows for model, rows in kept.items() if "day" in model.__table__.c)
    rebuild()
    for model in rollups():
        assert rollup_rows(model, months) == kept[model], model.__tablename__
    db.session.rollback()


def expected_from_raw(start: date, end: date) -> dict:
    """Invoiced and collected in RON, computed in Python from the invoices and payments."""
    from crm.catalog.models import Currency
    from crm.core.models.base import money
    from crm.sales.models.documents import Invoice, InvoicePayment

    db.session.expire_all()
    currencies = {c.id: c for c in db.session.query(Currency)}

    def rate(inv):
        cur = currencies.get(inv.currency)
        if cur is None or cur.name == "RON":
            return Decimal(1)
        return inv.exchange_rate or cur.exchange_rate or None

    invoices = [i for i in db.session.query(Invoice) if start <= i.date <= end and i.status in (1, 2, 3, 4)]
    payments = [p for p in db.session.query(InvoicePayment) if start <= p.date <= end]
    return {"invoices": len(invoices), "payments": len(payments),
            "invoiced": money(sum((i.total * rate(i) for i in invoices if rate(i)), Decimal(0))),
            "collected": money(sum((p.amount * rate(p.invoice) for p in payments if rate(p.invoice)), Decimal(0)))}


def assert_report_agrees(client):
    data = client.get(f"/admin/reports/sales/data?{YEAR}&by=agent").get_json()
    want = expected_from_raw(date(2026, 1, 1), date(2026, 12, 31))
    got = data["figures"]
    assert {k: got[k] for k in want} == {k: (str(v) if isinstance(v, Decimal) else v) for k, v in want.items()}
    agents = data["tables"]["by_agent"]
    assert sum(Decimal(r["invoiced"]) for r in agents["rows"]) == want["invoiced"]
    assert sum(Decimal(r["collected"]) for r in agents["rows"]) == want["collected"]
    items = client.get(f"/admin/reports/sales/data?{YEAR}&by=item").get_json()["tables"]["by_item"]["rows"]
    assert {r["item"]: Decimal(r["net"]) for r in items} == lines_from_raw(date(2026, 1, 1), date(2026, 12, 31))
    return data


def lines_from_raw(start: date, end: date) -> dict:
    """Net amount in RON per item (or description) of the period's invoiced lines, from the lines."""
    from crm.catalog.models import Currency, Item
    from crm.core.models.base import money
    from crm.sales.models.documents import Invoice, ItemLine

    currencies = {c.id: c for c in db.session.query(Currency)}
    names = {i.id: i.commodity_name for i in db.session.query(Item)}
    out: dict[str, Decimal] = {}
    for line, inv in db.session.query(ItemLine, Invoice).join(Invoice, Invoice.id == ItemLine.rel_id).filter(
            ItemLine.rel_type == "invoice"):
        cur = currencies.get(inv.currency)
        rate = Decimal(1) if cur is None or cur.name == "RON" else inv.exchange_rate or cur.exchange_rate or None
        if start <= inv.date <= end and inv.status in (1, 2, 3, 4) and rate:
            name = names[line.item_id] if line.item_id else line.description
            out[name] = out.get(name, Decimal(0)) + line.qty * line.rate * (100 - line.discount_percent) / 100 * rate
    return {name: money(v) for name, v in out.items()}


def test_rollups_follow_every_change_and_reports_agree(app, admin_client):
    from sqlalchemy import update

    from crm.catalog.models import Currency, PaymentMode
    from crm.core.models.settings import Staff
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice, InvoicePayment

    with app.app_context():
        build_sales()
        bank = PaymentMode(name="Bank transfer", selected_by_default=True)
        db.session.add(bank)
        db.session.commit()
        ids = {i.number: i.id for i in db.session.query(Invoice)}
        eur = db.session.query(Currency).filter_by(name="EUR").one().id
        client_b = db.session.query(Client).filter_by(company="Beta SRL").one().userid
        bob = db.session.query(Staff).filter_by(email="bob@test.example").one().staffid
        bank_id = bank.id
        assert_rollups_fresh()
        before = assert_report_agrees(admin_client)

    api, h = app.test_client(), api_token(app.test_client())
    # a new EUR invoice through the API, then a payment recorded with the action
    r = api.post("/api/v1/invoices", headers=h, json={
        "clientid": client_b, "date": "2026-04-02", "duedate": "2026-05-02", "currency": eur,
        "exchange_rate": "5.10", "sale_agent": bob,
        "items": [{"description": "Audit", "qty": "2", "rate": "150.00"}]})
    assert r.status_code == 201, r.get_json()
    new_id = r.get_json()["id"]
    assert api.post(f"/api/v1/invoices/{new_id}/actions/issue", headers=h).status_code == 200
    r = api.post(f"/api/v1/invoices/{new_id}/actions/record_payment", headers=h,
                 json={"amount": "100.00", "paymentmode": bank_id, "date": "2026-04-10"})
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        assert_rollups_fresh()
        after_new = assert_report_agrees(admin_client)
    assert Decimal(after_new["figures"]["invoiced"]) == Decimal(before["figures"]["invoiced"]) + Decimal("1530.00")
    assert Decimal(after_new["figures"]["collected"]) == Decimal(before["figures"]["collected"]) + Decimal("510.00")

    # cancel an unpaid invoice (its status leaves the invoiced ones)
    r = api.post(f"/api/v1/invoices/{ids[3]}/actions/mark_cancelled", headers=h, json={})
    assert r.status_code == 200, r.get_json()
    # edit date and sale agent of a paid invoice: its payment moves too (its lines are frozen)
    r = api.patch(f"/api/v1/invoices/{ids[1]}", headers=h, json={"date": "2026-06-30", "sale_agent": bob})
    assert r.status_code == 200, r.get_json()
    r = api.patch(f"/api/v1/invoices/{ids[1]}", headers=h, json={
        "items": [{"description": "Widget, installed", "qty": "3", "rate": "400.00"}]})
    assert r.status_code == 422 and r.get_json()["field"] == "items"
    with app.app_context():
        assert_rollups_fresh()
        assert_report_agrees(admin_client)
        paid_on_2 = db.session.query(InvoicePayment).filter_by(invoiceid=ids[2]).one().id
    # reverse a payment; the invoice's lines (so its total) may change again
    r = api.post(f"/api/v1/invoicepaymentrecords/{paid_on_2}/actions/reverse_payment", headers=h, json={})
    assert r.status_code == 200, r.get_json()
    r = api.patch(f"/api/v1/invoices/{ids[2]}", headers=h, json={
        "items": [{"description": "Widget, installed", "qty": "3", "rate": "400.00"}]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["total"] == "1200.00"
    with app.app_context():
        assert_rollups_fresh()
        data = assert_report_agrees(admin_client)
    rows = {r["agent"]: r for r in data["tables"]["by_agent"]["rows"]}
    assert rows["Bob Ionescu"]["invoices"] == 3  # the new one, no. 1 moved to him and no. 4; no. 3 is cancelled

    # an UPDATE statement run through the session (as jobs do) and a payment changed in memory
    with app.app_context():
        db.session.execute(update(Invoice).where(Invoice.id == ids[4]).values(date=date(2027, 1, 5)))
        payment = db.session.query(InvoicePayment).filter_by(invoiceid=new_id).one()
        payment.date, payment.amount = date(2026, 12, 31), Decimal("50.00")
        db.session.commit()
        assert_rollups_fresh()
        assert_report_agrees(admin_client)
        # the currency's rate is read when the report runs: no rebuild needed
        db.session.query(Currency).filter_by(name="USD").one().exchange_rate = Decimal("4.5")
        db.session.commit()
        data = assert_report_agrees(admin_client)
        assert data["warnings"] == []


def test_rebuild_command_restores_the_rollups(app):
    from crm.reports.models import ReportInvoiceDay

    with app.app_context():
        build_sales()
        db.session.query(ReportInvoiceDay).delete()
        db.session.commit()
        assert db.session.query(ReportInvoiceDay).count() == 0
    result = app.test_cli_runner().invoke(args=["crm", "reports-rebuild"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.query(ReportInvoiceDay).count() > 0
        assert_rollups_fresh()


def clients_from_raw(start: date, end: date) -> dict:
    """Invoiced and collected in RON per client, from the invoices and payments."""
    from crm.catalog.models import Currency
    from crm.core.models.base import money
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice, InvoicePayment

    currencies = {c.id: c for c in db.session.query(Currency)}
    names = {c.userid: c.company for c in db.session.query(Client)}

    def rate(inv):
        cur = currencies.get(inv.currency)
        return Decimal(1) if cur is None or cur.name == "RON" else inv.exchange_rate or cur.exchange_rate or None

    out: dict[str, list] = {}
    for inv in db.session.query(Invoice):
        if start <= inv.date <= end and inv.status in (1, 2, 3, 4) and rate(inv):
            out.setdefault(names[inv.clientid], [Decimal(0), Decimal(0)])[0] += inv.total * rate(inv)
    for p in db.session.query(InvoicePayment):
        if start <= p.date <= end and rate(p.invoice):
            out.setdefault(names[p.invoice.clientid], [Decimal(0), Decimal(0)])[1] += p.amount * rate(p.invoice)
    return {name: (money(a), money(b)) for name, (a, b) in out.items()}


def assert_breakdowns_agree(client, start: date, end: date) -> None:
    period = f"from={start}&to={end}"
    rows = client.get(f"/admin/reports/sales/data?{period}&by=client").get_json()["tables"]["by_client"]["rows"]
    assert {r["client"]: (Decimal(r["invoiced"]), Decimal(r["collected"])) for r in rows} \
        == clients_from_raw(start, end)
    items = client.get(f"/admin/reports/sales/data?{period}&by=item").get_json()["tables"]["by_item"]["rows"]
    assert {r["item"]: Decimal(r["net"]) for r in items} == lines_from_raw(start, end)


def test_monthly_rollups_serve_whole_months_and_follow_changes(app, admin_client):
    from crm.sales.models.documents import Invoice

    with app.app_context():
        build_sales()
        db.session.commit()
        ids = {i.number: i.id for i in db.session.query(Invoice)}
        assert built_months() == set()
    year, odd = (date(2026, 1, 1), date(2026, 12, 31)), (date(2026, 1, 12), date(2026, 3, 5))
    with app.app_context():  # before any month is built: every figure from the daily roll-ups
        for period in (year, odd):
            assert_breakdowns_agree(admin_client, *period)

    # the hourly job sums every finished month since the first invoice
    result = app.test_cli_runner().invoke(args=["crm", "cron", "build_report_months"])
    assert result.exit_code == 0, result.output
    first_open, month, want = date.today().replace(day=1), date(2025, 12, 1), set()
    while month < first_open:
        want.add(month)
        month = (month + timedelta(days=32)).replace(day=1)
    assert f"build_report_months: {len(want)} month(s)" in result.output
    with app.app_context():
        assert built_months() == want
        assert_rollups_fresh()
        with QueryCounter(db.engine) as sql:
            for period in (year, odd):  # whole months from the monthly rows, the rest from the days
                assert_breakdowns_agree(admin_client, *period)
        assert any("tblreport_invoice_client_month" in s for s in sql.statements)
        assert any("tblreport_item_month" in s for s in sql.statements)

    # a change to an invoice of a finished month: the month is read from its days until rebuilt
    api, h = app.test_client(), api_token(app.test_client())
    r = api.patch(f"/api/v1/invoices/{ids[4]}", headers=h, json={
        "items": [{"description": "Consulting", "qty": "5", "rate": "60.00"}]})
    assert r.status_code == 200, r.get_json()
    with app.app_context():  # read from the month's rows and the pending moves until they are folded
        assert date(2026, 3, 1) in built_months()
        for period in (year, odd):
            assert_breakdowns_agree(admin_client, *period)
    assert app.test_cli_runner().invoke(args=["crm", "cron", "fold_report_rollups"]).exit_code == 0
    with app.app_context():
        assert date(2026, 3, 1) not in built_months() and date(2026, 2, 1) in built_months()
        for period in (year, odd):
            assert_breakdowns_agree(admin_client, *period)
    assert app.test_cli_runner().invoke(args=["crm", "cron", "build_report_months"]).output.startswith(
        "build_report_months: 1 month(s)")
    with app.app_context():
        assert built_months() == want
        assert_rollups_fresh()
        for period in (year, odd):
            assert_breakdowns_agree(admin_client, *period)



def test_each_change_writes_the_rollups_it_moves_and_no_more(app):
    """A commit writes only the roll-ups its change can move, and those stay exact."""
    from crm.catalog.models import Currency
    from crm.reports.models import ReportItemDay, ReportPaymentDay
    from crm.sales.models.documents import Invoice, InvoicePayment

    with app.app_context():
        build_sales()
        db.session.commit()
        ids = {i.number: i.id for i in db.session.query(Invoice)}
        eur = db.session.query(Currency).filter_by(name="EUR").one().id

    def writes_to(table: str, change) -> int:
        """The moves the change's commit wrote for the roll-up ``table`` (before they are folded)."""
        from sqlalchemy import func, select

        from crm.reports.models import ReportPending

        with app.app_context():
            folded()
            change()
            db.session.commit()
            moves = db.session.scalar(select(func.count()).where(ReportPending.rollup == table))
            assert_rollups_fresh()
            return moves

    def pay():  # a payment: the invoice goes from Unpaid to Partially paid; no invoiced line moves
        db.session.add(InvoicePayment(invoiceid=ids[3], amount=Decimal("10.00"), date=date(2026, 2, 25)))
        db.session.get(Invoice, ids[3]).status = 3
    assert writes_to(ReportItemDay.__tablename__, pay) == 0

    def total_only():  # a new total moves the invoice roll-ups only
        db.session.get(Invoice, ids[4]).total = Decimal("333.00")
    assert writes_to(ReportPaymentDay.__tablename__, total_only) == 0

    def recurrency():  # the currency of a paid invoice moves its payments too
        db.session.get(Invoice, ids[1]).currency = eur
    assert writes_to(ReportPaymentDay.__tablename__, recurrency) >= 1

    with app.app_context():  # cancelled without its old status loaded: its lines leave the item roll-up
        inv = db.session.get(Invoice, ids[4])
        db.session.commit()  # (expires it)
        inv.status = 5
        db.session.commit()
        assert_rollups_fresh()


def test_a_commit_moves_only_its_own_rollup_rows_however_busy_the_day(app):
    """A busy day costs each commit no more than a quiet one: changing one client's invoice moves
    that client's and that agent's rows of the day and reads no other invoice (the same statements
    with 1 or 40 other invoices that day, none grouping raw rows); another client's and agent's
    rows of the same day are left as they were, and everything stays exact."""
    from sqlalchemy import select

    from crm.catalog.models import Currency
    from crm.core.models.settings import Staff
    from crm.reports.models import ReportInvoiceClientDay, ReportInvoiceDay
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice, InvoicePayment

    day = date(2026, 1, 15)  # invoice 1's day: client Alfa, agent Ana
    with app.app_context():
        build_sales()
        beta = db.session.query(Client).filter_by(company="Beta SRL").one()
        bob = db.session.query(Staff).filter_by(email="bob@test.example").one()
        ron = db.session.query(Currency).filter_by(name="RON").one().id

        def invoice(number, agent):
            return Invoice(clientid=beta.userid, number=number, prefix="INV-", formatted_number=f"INV-{number:06d}",
                           date=day, duedate=day, currency=ron, total=Decimal("55.00"), subtotal=Decimal("55.00"),
                           total_tax=Decimal("0"), status=1, sale_agent=agent)

        db.session.add(invoice(90, bob.staffid))
        db.session.commit()

        def rows(model, key):
            folded()
            return {k: (i, n, a) for k, i, n, a in db.session.execute(
                select(getattr(model, key), model.id, model.count, model.amount).where(model.day == day)).all()}

        def change_one(total) -> list[str]:
            with QueryCounter(db.engine) as sql:
                db.session.query(Invoice).filter_by(number=1).one().total = total
                db.session.commit()
            return sql.statements

        clients, agents = rows(ReportInvoiceClientDay, "clientid"), rows(ReportInvoiceDay, "sale_agent")
        assert len(clients) == 2 and len(agents) == 2
        quiet = change_one(Decimal("1100.00"))
        after_clients, after_agents = rows(ReportInvoiceClientDay, "clientid"), rows(ReportInvoiceDay, "sale_agent")
        assert after_clients[beta.userid] == clients[beta.userid]  # untouched
        assert after_agents[bob.staffid] == agents[bob.staffid]
        alfa = db.session.query(Client).filter_by(company="Alfa SRL").one().userid
        assert after_clients[alfa][1:] == (1, Decimal("1100.00"))
        assert_rollups_fresh()

        db.session.add_all([invoice(n, None) for n in range(100, 140)])  # a busy day, of no agent
        db.session.commit()
        busy = change_one(Decimal("1200.00"))
        assert len(busy) == len(quiet)
        assert not [s for s in busy if "GROUP BY" in s.upper()]
        assert rows(ReportInvoiceDay, "sale_agent")[None][1:] == (40, Decimal("2200.00"))
        assert_rollups_fresh()

        # moved to another client; its payment and itself deleted: the rows they leave are emptied
        db.session.query(Invoice).filter_by(number=1).one().clientid = beta.userid
        db.session.commit()
        assert_rollups_fresh()
        assert alfa not in rows(ReportInvoiceClientDay, "clientid")
        paid = db.session.query(Invoice).filter_by(number=90).one()
        db.session.add(InvoicePayment(invoiceid=paid.id, amount=Decimal("55.00"), date=day))
        db.session.commit()
        db.session.delete(db.session.query(InvoicePayment).filter_by(invoiceid=paid.id).one())
        db.session.flush()
        db.session.delete(paid)
        db.session.commit()
        assert_rollups_fresh()
        assert bob.staffid not in rows(ReportInvoiceDay, "sale_agent")


def test_a_rollup_row_that_went_wrong_is_mended_by_the_next_change(app):
    """A roll-up row changed behind the application's back (a stray SQL edit) is recomputed from
    the raw rows of its cell as soon as a change cannot apply to it."""
    from sqlalchemy import delete

    from crm.reports.models import ReportInvoiceClientDay
    from crm.sales.models.documents import Invoice

    with app.app_context():
        build_sales()
        db.session.commit()
        inv = db.session.query(Invoice).filter_by(number=1).one()
        db.session.execute(delete(ReportInvoiceClientDay).where(ReportInvoiceClientDay.day == inv.date,
                                                               ReportInvoiceClientDay.clientid == inv.clientid))
        db.session.commit()
        inv.status = 5  # cancelled: its row should lose it, and has nothing to lose
        db.session.commit()
        assert_rollups_fresh()


def _unpaid_invoices_of_one_day(app, company: str, n: int = 6) -> tuple[list[int], str, int]:
    """``n`` unpaid invoices of 100.00 RON of one client, dated today (the same roll-up cells), and
    a payment mode: (invoice ids, payment mode id, the administrator's id)."""
    from crm.catalog.models import Currency, PaymentMode
    from crm.core.models.settings import Staff
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice, ItemLine

    with app.app_context():
        ron = Currency(name="RON", symbol="lei", isdefault=True)
        client, mode = Client(company=company), PaymentMode(name="Cash")
        db.session.add_all([ron, client, mode])
        db.session.flush()
        day = date.today()
        invoices = [Invoice(clientid=client.userid, number=k, prefix="INV-", formatted_number=f"INV-{k:06d}",
                            date=day, duedate=day, currency=ron.id, total=Decimal("100.00"),
                            subtotal=Decimal("100.00"), total_tax=Decimal("0"), status=1,
                            items=[ItemLine(description="Service", qty=Decimal("1"), rate=Decimal("100.00"))])
                    for k in range(1, n + 1)]
        db.session.add_all(invoices)
        db.session.commit()
        return ([i.id for i in invoices], str(mode.id),
                db.session.query(Staff.staffid).filter_by(admin=True).scalar())


def test_concurrent_commits_on_one_cell_keep_the_rollups_exact(app):
    """Several people recording payments at the same moment for invoices of one client and one day
    (the same roll-up cells): every payment is recorded and the roll-ups equal a rebuild (real
    concurrent sessions)."""
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice

    ids, mode_id, admin_id = _unpaid_invoices_of_one_day(app, "Gamma SRL")

    def pay(invoice_id, ready):
        staff = db.session.get(Staff, admin_id)
        ready()
        return run(Invoice, invoice_id, "record_payment", staff, {"amount": "40.00", "paymentmode": mode_id})

    _, errors = at_once(app, pay, ids)
    assert errors == {}
    with app.app_context():
        assert {i.status for i in db.session.query(Invoice).filter(Invoice.id.in_(ids))} == {3}
        assert_rollups_fresh()


def _figures_of(page: str) -> str:
    """A page without its CSRF tokens (signed with the time: they differ between two requests)."""
    import re

    return re.sub(r"<[^>]*csrf[^>]*>", "", page)


def test_reports_read_the_moves_not_yet_folded_and_a_fold_changes_no_figure(app, admin_client, monkeypatch):
    """A commit writes its roll-up moves as pending rows; the report and the home page read them
    with the daily rows, so what they show is the same before and after the fold."""
    from sqlalchemy import func, select

    from crm.catalog.models import PaymentMode
    from crm.reports import rollup
    from crm.reports.models import ReportInvoiceDay, ReportPending
    from crm.sales.models.documents import Invoice

    monkeypatch.setattr(rollup, "_written", [0])  # no fold asked for by the commits below

    with app.app_context():
        build_sales()
        db.session.add(PaymentMode(name="Cash"))
        db.session.commit()
        folded()
        ids = {i.number: i.id for i in db.session.query(Invoice)}
        mode = db.session.query(PaymentMode).filter_by(name="Cash").one().id
        rows_before = db.session.scalar(select(func.count()).select_from(ReportInvoiceDay))

    api, h = app.test_client(), api_token(app.test_client())
    r = api.post(f"/api/v1/invoices/{ids[3]}/actions/record_payment", headers=h,
                 json={"amount": "25.00", "paymentmode": mode, "date": "2026-05-04"})
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        pending = db.session.scalar(select(func.count()).select_from(ReportPending))
        assert pending > 0  # the commit wrote moves, not the roll-up rows
        assert db.session.scalar(select(func.count()).select_from(ReportInvoiceDay)) == rows_before
        unfolded = assert_report_agrees(admin_client)
        home = _figures_of(admin_client.get("/admin/").get_data(as_text=True))
    assert Decimal(unfolded["figures"]["collected"]) > 0

    result = app.test_cli_runner().invoke(args=["crm", "cron", "fold_report_rollups"])
    assert result.exit_code == 0 and f"{pending} pending report roll-up move(s) folded" in result.output, \
        result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReportPending)) == 0
        assert assert_report_agrees(admin_client) == unfolded
        assert _figures_of(admin_client.get("/admin/").get_data(as_text=True)) == home
        assert_rollups_fresh()


def test_commits_ask_for_a_fold_every_so_many_moves(app, monkeypatch):
    """The pending moves do not pile up: every FOLD_EVERY moves a process writes, its commit asks
    for the fold job, which runs after it (inline in the tests)."""
    from sqlalchemy import func, select

    from crm.reports import rollup
    from crm.reports.models import ReportPending
    from crm.sales.models.documents import Invoice

    monkeypatch.setattr(rollup, "FOLD_EVERY", 2)
    monkeypatch.setattr(rollup, "_written", [0])
    with app.app_context():
        build_sales()
        db.session.commit()
        folded()
        inv = db.session.query(Invoice).filter_by(number=4).one()
        rollup._written[0] = 0
        inv.total = Decimal("444.00")  # one move in each of the two invoice roll-ups
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ReportPending)) == 0  # 2 moves: folded
        assert rollup._written[0] == 0
        assert_rollups_fresh()


def test_folds_running_beside_concurrent_payments_keep_the_rollups_exact(app):
    """Payments recorded at the same moment as folds (real concurrent sessions): nothing is
    counted twice or lost, and after the last fold the roll-ups equal a rebuild."""
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.reports.rollup import fold
    from crm.sales.models.documents import Invoice

    ids, mode_id, admin_id = _unpaid_invoices_of_one_day(app, "Delta SRL")

    def work(item, ready):
        kind, invoice_id = item
        ready()
        if kind == "fold":
            fold(db.session)
            db.session.commit()
            return None
        staff = db.session.get(Staff, admin_id)
        return run(Invoice, invoice_id, "record_payment", staff, {"amount": "40.00", "paymentmode": mode_id})

    items = [("pay", i) for i in ids] + [("fold", k) for k in range(3)]
    _, errors = at_once(app, work, items)
    assert errors == {}
    with app.app_context():
        assert {i.status for i in db.session.query(Invoice).filter(Invoice.id.in_(ids))} == {3}
        assert differences(db.session) == []  # as the reports read them, pending moves and all
        assert_rollups_fresh()


def test_differences_name_a_cell_that_does_not_match_its_raw_rows(app):
    """The load test's check: empty while roll-ups and raw rows agree, with moves pending or not;
    a roll-up row changed behind the application's back is named."""
    from sqlalchemy import update

    from crm.reports.models import ReportInvoiceDay
    from crm.sales.models.documents import Invoice

    with app.app_context():
        build_sales()
        db.session.commit()
        assert differences(db.session) == []
        db.session.query(Invoice).filter_by(number=1).one().total = Decimal("1234.00")
        db.session.commit()
        assert differences(db.session) == []
        folded()
        db.session.execute(update(ReportInvoiceDay).values(count=ReportInvoiceDay.count + 1))
        found = differences(db.session)
        db.session.rollback()
    assert found and all(f.startswith("tblreport_invoice_day ") for f in found)
