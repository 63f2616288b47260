"""Goals: what each goal type counts (crm.sales.goals), the progress shown in the list, on the details page
and in the API, and the daily job that tells the staff member (or the admins) once how it went."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import QueryCounter, api_token, make_staff

START, END = date(2026, 3, 1), date(2026, 3, 31)
INSIDE, BEFORE, AFTER = date(2026, 3, 15), date(2026, 2, 28), date(2026, 4, 1)


def at(d: date, hour=12, minute=0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute)


@pytest.fixture
def people(app):
    """Two agents (Ana, Bob) and a client."""
    from crm.sales.models.clients import Client

    with app.app_context():
        ana = make_staff("ana@test.example", "Sales Agent")
        bob = make_staff("bob@test.example", "Sales Agent")
        client = Client(company="Nordic Trade SRL", datecreated=at(BEFORE))
        db.session.add(client)
        db.session.commit()
        return {"ana": ana.staffid, "bob": bob.staffid, "client": client.userid}


def goal(goal_type, achievement, staff_id=0, start=START, end=END, **kw):
    from crm.sales.models.documents import Goal

    g = Goal(subject=f"Goal type {goal_type} for {staff_id}", goal_type=goal_type, achievement=Decimal(achievement),
             staff_id=staff_id, start_date=start, end_date=end, **kw)
    db.session.add(g)
    db.session.flush()
    return g


def totals_of(*goals):
    from crm.sales import goals as arithmetic

    found = arithmetic.totals(goals)
    return [found[g.id] for g in goals]


def invoice(client, day, total, status, sale_agent=None):
    from crm.sales.models.documents import Invoice

    inv = Invoice(clientid=client, date=day, total=Decimal(total), subtotal=Decimal(total), status=status,
                  sale_agent=sale_agent)
    db.session.add(inv)
    db.session.flush()
    return inv


def test_total_income_sums_payments_by_payment_date(app, people):
    from crm.sales.models.documents import InvoicePayment

    with app.app_context():
        ana_inv = invoice(people["client"], BEFORE, "1000.00", 3, sale_agent=people["ana"])
        bob_inv = invoice(people["client"], BEFORE, "1000.00", 3, sale_agent=people["bob"])
        db.session.add_all([
            InvoicePayment(invoiceid=ana_inv.id, amount=Decimal("100.10"), date=START),  # first day counts
            InvoicePayment(invoiceid=ana_inv.id, amount=Decimal("200.20"), date=END),  # last day counts
            InvoicePayment(invoiceid=ana_inv.id, amount=Decimal("999.00"), date=AFTER),  # after: no
            InvoicePayment(invoiceid=bob_inv.id, amount=Decimal("50.05"), date=INSIDE),
        ])
        company, ana, bob = goal(1, "1000"), goal(1, "300", people["ana"]), goal(1, "100", people["bob"])
        assert totals_of(company, ana, bob) == [Decimal("350.35"), Decimal("300.30"), Decimal("50.05")]


def test_invoiced_amount_counts_issued_invoices_not_drafts_or_cancelled(app, people):
    from crm.sales.models.documents import InvoiceStatus as S

    with app.app_context():
        c, ana = people["client"], people["ana"]
        for status, total in ((S.UNPAID, "10.00"), (S.PAID, "20.00"), (S.PARTIALLY_PAID, "40.00"),
                              (S.OVERDUE, "80.00"), (S.DRAFT, "1000.00"), (S.CANCELLED, "2000.00")):
            invoice(c, INSIDE, total, status.value, sale_agent=ana)
        invoice(c, AFTER, "5000.00", S.PAID.value, sale_agent=ana)  # outside the period
        invoice(c, INSIDE, "0.50", S.PAID.value, sale_agent=people["bob"])
        company, mine = goal(8, "500"), goal(8, "100", ana)
        assert totals_of(company, mine) == [Decimal("150.50"), Decimal("150.00")]


def test_converted_leads_are_leads_that_became_customers(app, people, admin):
    """Converting to a customer counts; converting to an opportunity (date_converted set too) does not."""
    from crm.core.registry import run
    from crm.sales.models.clients import Lead

    with app.app_context():
        ana = people["ana"]
        leads = [Lead(name=f"Lead {i}", email=f"lead{i}@example.test", assigned=assigned, addedfrom=added)
                 for i, (assigned, added) in enumerate([(ana, None), (None, ana), (people["bob"], ana), (ana, None)])]
        db.session.add_all(leads)
        db.session.commit()
        ids = [lead.id for lead in leads]
        staff = db.session.get(type(admin), admin.staffid)
        for lid in ids[:3]:
            run(Lead, lid, "convert_to_customer", staff)
        run(Lead, ids[3], "convert_to_opportunity", staff)  # an opportunity is not a customer
        today = date.today()
        company, mine = goal(2, "10", start=today, end=today), goal(2, "4", ana, start=today, end=today)
        later = goal(2, "1", start=today + timedelta(days=1), end=today + timedelta(days=30))
        assert db.session.get(Lead, ids[3]).date_converted is not None
        # Ana's: the lead assigned to her, and the unassigned one she added; not Bob's lead she added
        assert totals_of(company, mine, later) == [Decimal(3), Decimal(2), Decimal(0)]


def test_new_customers_with_and_without_leads_by_creation_day(app, people):
    from crm.sales.models.clients import Client, Lead

    with app.app_context():
        ana = people["ana"]
        lead = Lead(name="From a lead")
        db.session.add(lead)
        db.session.flush()
        db.session.add_all([
            Client(company="Direct 1", datecreated=at(START, 0, 0), addedfrom=ana),
            Client(company="Direct 2", datecreated=at(END, 23, 59), addedfrom=people["bob"]),
            Client(company="From lead", datecreated=at(INSIDE), leadid=lead.id, addedfrom=ana),
            Client(company="Too late", datecreated=at(AFTER, 0, 0), addedfrom=ana),
        ])
        not_from_leads, all_new = goal(3, "5"), goal(4, "5")
        ana_not_from_leads, ana_all = goal(3, "5", ana), goal(4, "5", ana)
        assert totals_of(not_from_leads, all_new, ana_not_from_leads, ana_all) == [Decimal(2), Decimal(3),
                                                                                   Decimal(1), Decimal(2)]


def test_contracts_of_a_type_by_date_added_or_start_date(app, people):
    from crm.sales.models.documents import Contract, ContractType

    with app.app_context():
        support, licence = ContractType(name="Support"), ContractType(name="Licence")
        db.session.add_all([support, licence])
        db.session.flush()
        c, ana = people["client"], people["ana"]
        db.session.add_all([
            # added in March, starting in April
            Contract(subject="A", client=c, contract_type=support.id, dateadded=at(INSIDE), datestart=AFTER,
                     addedfrom=ana),
            # added in February, starting in March
            Contract(subject="B", client=c, contract_type=support.id, dateadded=at(BEFORE), datestart=START,
                     addedfrom=people["bob"]),
            Contract(subject="C", client=c, contract_type=support.id, dateadded=at(INSIDE), datestart=INSIDE,
                     addedfrom=ana, trash=True),  # in the trash: never counts
            Contract(subject="D", client=c, contract_type=licence.id, dateadded=at(INSIDE), datestart=INSIDE,
                     addedfrom=ana),  # another type
        ])
        by_added, by_start = goal(5, "2", contract_type=support.id), goal(7, "2", contract_type=support.id)
        ana_added = goal(5, "2", ana, contract_type=support.id)
        bob_start = goal(7, "2", people["bob"], contract_type=support.id)
        licences = goal(5, "1", contract_type=licence.id)
        db.session.add(Contract(subject="E", client=c, dateadded=at(INSIDE), datestart=INSIDE))  # no type: not counted
        assert totals_of(by_added, by_start, ana_added, bob_start, licences) == [Decimal(1)] * 5


def test_estimates_converted_to_invoices_not_cancelled(app, people):
    from crm.sales.models.documents import Estimate, InvoiceStatus as S

    with app.app_context():
        c, ana, bob = people["client"], people["ana"], people["bob"]

        def converted(day, status, **kw):
            inv = invoice(c, day.date(), "100.00", status.value)
            db.session.add(Estimate(clientid=c, date=BEFORE, status=4, invoiceid=inv.id, invoiced_date=day, **kw))

        converted(at(INSIDE), S.PAID, addedfrom=ana)
        converted(at(END, 23, 59), S.UNPAID, addedfrom=bob, sale_agent=ana)  # Ana is its sale agent
        converted(at(INSIDE), S.CANCELLED, addedfrom=ana)  # its invoice was cancelled
        converted(at(AFTER, 0, 0), S.PAID, addedfrom=ana)
        db.session.add(Estimate(clientid=c, date=INSIDE, status=2, addedfrom=ana))  # never invoiced
        company, mine, bobs = goal(6, "4"), goal(6, "2", ana), goal(6, "2", bob)
        assert totals_of(company, mine, bobs) == [Decimal(2), Decimal(2), Decimal(1)]


def test_progress_is_total_times_100_over_target_capped_at_100():
    from crm.sales.goals import percent

    assert percent(Decimal("25"), Decimal("200")) == Decimal("12.50")
    assert percent(Decimal("1"), Decimal("3")) == Decimal("33.33")
    assert percent(Decimal("2"), Decimal("3")) == Decimal("66.67")  # half-up
    assert str(percent(Decimal("150"), Decimal("100"))) == "100.00"
    assert str(percent(Decimal("0"), Decimal("0"))) == "100.00"


def _bars(html) -> dict[int, tuple[str, str]]:
    return {int(g): (t, p) for g, t, p in re.findall(
        r'data-testid="goal-progress" data-goal="(\d+)" data-total="([^"]+)" data-percent="([^"]+)"', html)}


def test_list_details_and_api_show_each_goal_total_and_progress(app, admin_client, people):
    from crm.sales.models.documents import InvoicePayment, InvoiceStatus as S

    with app.app_context():
        inv = invoice(people["client"], INSIDE, "400.00", S.PARTIALLY_PAID.value, sale_agent=people["ana"])
        db.session.add(InvoicePayment(invoiceid=inv.id, amount=Decimal("250.00"), date=INSIDE))
        income = goal(1, "1000.00")
        invoiced = goal(8, "300.00", people["ana"])
        clients = goal(4, "4")
        db.session.commit()
        ids = income.id, invoiced.id, clients.id
        engine = db.engine
    expected = {ids[0]: ("250.00", "25.00"), ids[1]: ("400.00", "100.00"), ids[2]: ("0", "0.00")}
    html = admin_client.get("/admin/goals/").get_data(as_text=True)
    assert _bars(html) == expected
    assert "250.00 of 1,000.00" in html and "0 of 4" in html
    assert "Ana Test" in html and "Company-wide" in html  # who the goal is for, by name
    details = admin_client.get(f"/admin/goals/details/?id={ids[0]}").get_data(as_text=True)
    assert _bars(details) == {ids[0]: expected[ids[0]]}
    api = app.test_client().get("/api/v1/goals", headers=api_token(app.test_client())).get_json()
    assert {g["id"]: (g["progress"]["total"], g["progress"]["percent"], g["progress"]["achieved"]) for g in api} == {
        ids[0]: ("250.00", "25.00", False), ids[1]: ("400.00", "100.00", True), ids[2]: ("0", "0.00", False)}
    # one query for the totals of the whole page: as many queries for 3 goals as for 40
    with QueryCounter(engine) as few:
        admin_client.get("/admin/goals/")
    with app.app_context():
        from crm.sales.models.documents import ContractType

        kind = ContractType(name="Support")
        db.session.add(kind)
        db.session.flush()
        for i in range(37):
            goal(1 + i % 8, "10", contract_type=kind.id if 1 + i % 8 in (5, 7) else None)
        db.session.commit()
    with QueryCounter(engine) as many:
        admin_client.get("/admin/goals/?page_size=50")
    assert many.count == few.count


# --- the daily job -----------------------------------------------------------------------------------

def _notes(app):
    from crm.core.models.messaging import EmailOutbox
    from crm.notifications.models import Notification

    with app.app_context():
        notes = [(n.touserid, n.description) for n in db.session.query(Notification).order_by(Notification.id)]
        mails = [m.to_email for m in db.session.query(EmailOutbox).filter(EmailOutbox.rel_type == "goals")
                 .order_by(EmailOutbox.id)]
        return notes, mails


def run(app, job, *args):
    """The job as the scheduler runs it: in an app context of its own, with a fresh session."""
    with app.app_context():
        return job(*args)


def test_job_tells_once_of_achievement_and_failure_honouring_the_flags(app, people, admin, monkeypatch):
    from crm.core import options
    from crm.jobs.periodic import PERIODIC, settle_goals
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Goal

    assert PERIODIC["settle_goals"][0] is settle_goals
    today = date(2026, 4, 2)
    with app.app_context():
        options.set("notifications_email_staff", True)
        ana, bob = people["ana"], people["bob"]
        db.session.add_all([Client(company=f"New {i}", datecreated=at(INSIDE), addedfrom=ana) for i in range(3)])
        won = goal(4, "3", ana)  # ended, achieved: Ana told
        lost = goal(4, "5", bob)  # ended (3 new customers, none Bob's), failed: Bob told
        company_lost = goal(4, "10")  # company-wide, failed: the admins told
        quiet = goal(4, "10", bob, notify_when_fail=False)  # failed, nobody wants to know: only marked
        early = goal(4, "3", ana, start=START, end=date(2026, 12, 31))  # running, already achieved: told now
        running = goal(4, "50", ana, start=START, end=date(2026, 12, 31))  # running, not achieved: wait
        silent_early = goal(4, "1", ana, start=START, end=date(2026, 12, 31), notify_when_achieve=False)
        db.session.commit()
        gids = [g.id for g in (won, lost, company_lost, quiet, early, running, silent_early)]
        admin_id = admin.staffid

    assert run(app, settle_goals, today) == "5 goal(s) settled, 4 with a notification"
    notes, mails = _notes(app)
    assert sorted(notes) == sorted([
        (ana, "Goal “Goal type 4 for %d” achieved: 3 of 3 (100.00%%)" % ana),
        (bob, "Goal “Goal type 4 for %d” ended on 31.03.2026 short of its target: 0 of 5 (0.00%%)" % bob),
        (admin_id, "Goal “Goal type 4 for 0” ended on 31.03.2026 short of its target: 3 of 10 (30.00%)"),
        (ana, "Goal “Goal type 4 for %d” achieved: 3 of 3 (100.00%%)" % ana),
    ])
    assert sorted(mails) == sorted(["ana@test.example", "bob@test.example", "admin@test.example", "ana@test.example"])
    with app.app_context():
        notified = {g.id: g.notified for g in db.session.query(Goal)}
    assert [notified[i] for i in gids] == [True, True, True, True, True, False, False]
    # once only
    assert run(app, settle_goals, today) == "0 goal(s) settled, 0 with a notification"
    assert len(_notes(app)[0]) == 4
    # after its end, the goal achieved quietly is marked, nobody told
    assert run(app, settle_goals, date(2027, 1, 1)) == "2 goal(s) settled, 1 with a notification"
    notes = _notes(app)[0]
    assert notes[-1] == (ana, "Goal “Goal type 4 for %d” ended on 31.12.2026 short of its target: 3 of 50 (6.00%%)"
                         % ana)


def test_cron_command_runs_the_goal_job(app):
    result = app.test_cli_runner().invoke(args=["crm", "cron", "settle_goals"])
    assert result.exit_code == 0, result.output
    assert "settle_goals: 0 goal(s) settled, 0 with a notification" in result.output


def test_a_contract_goal_without_its_contract_type_is_refused_naming_the_field(app, admin_client, client):
    from crm.sales.models.documents import Goal
    from tests.conftest import csrf_from

    fields = {"subject": "SLA contracts", "goal_type": "5", "start_date": "2026-01-01", "end_date": "2026-12-31",
              "achievement": "3", "staff_id": "0"}
    page = admin_client.get("/admin/goals/new/").get_data(as_text=True)
    resp = admin_client.post("/admin/goals/new/", data={"csrf_token": csrf_from(page), **fields})
    assert resp.status_code == 422
    assert "goal needs the contract type it counts" in resp.get_data(as_text=True)
    api = client.post("/api/v1/goals", json={**fields, "goal_type": 5, "staff_id": 0}, headers=api_token(client))
    assert api.status_code == 422 and api.get_json()["field"] == "contract_type"
    with app.app_context():
        assert db.session.query(Goal).count() == 0
