"""The admin home: per role, the figures a person needs first, each counted from known data, each
linking to the list that shows the same records; panels follow the role's permissions; few queries."""
from __future__ import annotations

import html as htmllib
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import QueryCounter, login, make_staff

TODAY = date.today()
NOON = datetime.combine(TODAY, time(12, 0))
ROLES = {"sdr": "SDR", "agent": "Sales Agent", "manager": "Sales Manager", "wh": "Warehouse", "buyer": "Purchasing",
         "fin": "Finance"}


@pytest.fixture
def world(app):
    """One of each thing every panel counts, and one of each it must not count."""
    from crm.catalog.models import Currency, Item
    from crm.purchasing.models import PurchaseOrder, PurchaseQuotation, PurchaseRequest, VendorInvoice
    from crm.sales.models.clients import Client, Lead, OpportunityStatus, Reminder
    from crm.sales.models.documents import Goal, Invoice, InvoicePayment, Proposal
    from crm.warehouse.models import (
        GoodsDelivery,
        GoodsDeliveryDetail,
        InventoryBalance,
        MinimumStock,
        PackingList,
        Shipment,
        Warehouse,
    )

    with app.app_context():
        staff = {key: make_staff(f"{key}@test.example", role).staffid for key, role in ROLES.items()}
        agent, sdr = staff["agent"], staff["sdr"]
        ron, eur = Currency(symbol="lei", name="RON", isdefault=True), Currency(symbol="€", name="EUR")
        open_st, won_st = OpportunityStatus(name="Negotiation"), OpportunityStatus(name="Won", is_won=True)
        client = Client(company="Nordic Trade SRL")
        db.session.add_all([ron, eur, open_st, won_st, client])
        db.session.flush()
        ago = lambda days: NOON - timedelta(days=days)  # noqa: E731
        db.session.add_all([
            # leads: 2 new ones for the agent; old, lost, an opportunity and the SDR's do not count for them
            Lead(name="New 1", assigned=agent, dateadded=ago(1)), Lead(name="New 2", assigned=agent, dateadded=ago(6)),
            Lead(name="Old", assigned=agent, dateadded=ago(10)),
            Lead(name="Lost", assigned=agent, dateadded=ago(1), lost=True),
            Lead(name="SDR's", assigned=sdr, dateadded=ago(2)),
            # opportunities: the agent's 2 open ones; won (by status) and lost ones are closed
            Lead(name="Opp A", assigned=agent, is_opportunity=True, opportunity_status=open_st.id,
                 lead_value=Decimal("1000.00"), probability=Decimal("50")),
            Lead(name="Opp B", assigned=agent, is_opportunity=True, opportunity_status=open_st.id,
                 lead_value=Decimal("500.00"), probability=Decimal("20")),
            Lead(name="Opp won", assigned=agent, is_opportunity=True, opportunity_status=won_st.id,
                 lead_value=Decimal("9000.00"), probability=Decimal("100")),
            Lead(name="Opp lost", assigned=agent, is_opportunity=True, opportunity_status=open_st.id, lost=True,
                 lead_value=Decimal("7000.00"), probability=Decimal("10")),
            Lead(name="Opp SDR", assigned=sdr, is_opportunity=True, opportunity_status=open_st.id,
                 lead_value=Decimal("200.00"), probability=Decimal("10")),
            # follow-ups: 2 due today for the agent (one already reminded); tomorrow's and the SDR's do not count
            Reminder(description="Call back", date=NOON, staff=agent, rel_id=1, rel_type="lead"),
            Reminder(description="Send offer", date=datetime.combine(TODAY, time(8, 0)), staff=agent, rel_id=1,
                     rel_type="lead", isnotified=True),
            Reminder(description="Tomorrow", date=NOON + timedelta(days=1), staff=agent, rel_id=1, rel_type="lead"),
            Reminder(description="SDR's", date=NOON, staff=sdr, rel_id=1, rel_type="lead"),
            # proposals with the client: sent 100 RON, opened 50 EUR, sent by hand 25.50 RON; draft/accepted do not
            *[Proposal(subject=f"P{s}", date=TODAY, status=s, assigned=agent, total=Decimal(t), currency=c)
              for s, t, c in ((4, "100.00", ron.id), (1, "50.00", eur.id), (7, "25.50", ron.id), (6, "999.00", ron.id),
                              (3, "888.00", ron.id))],
            Proposal(subject="Someone else's", date=TODAY, status=4, assigned=sdr, total=Decimal("5.00"),
                     currency=ron.id),
            # goals running today: the agent's (invoiced amount) and a company-wide one; one that ended
            Goal(subject="Agent March", goal_type=8, achievement=Decimal("400.00"), staff_id=agent,
                 start_date=TODAY - timedelta(days=5), end_date=TODAY + timedelta(days=5)),
            Goal(subject="Company income", goal_type=1, achievement=Decimal("1000.00"), staff_id=0,
                 start_date=TODAY - timedelta(days=5), end_date=TODAY + timedelta(days=5)),
            Goal(subject="Last year", goal_type=1, achievement=Decimal("1.00"), staff_id=0,
                 start_date=TODAY - timedelta(days=400), end_date=TODAY - timedelta(days=300)),
        ])
        # finance: overdue 100 RON + 50 EUR; an unpaid one and a draft are not overdue; e-Factura problems
        inv = [Invoice(clientid=client.userid, date=TODAY, status=st, total=Decimal(t), currency=cur, sale_agent=agent,
                       efactura_status=ef)
               for st, t, cur, ef in ((4, "100.00", ron.id, "ok"), (4, "50.00", eur.id, "rejected"),
                                      (1, "300.00", ron.id, "rejected"), (6, "70.00", ron.id, "send_failed"),
                                      (3, "80.00", eur.id, "not_sent"))]
        db.session.add_all(inv)
        db.session.flush()
        db.session.add_all([
            InvoicePayment(invoiceid=inv[4].id, amount=Decimal("30.00"), date=TODAY),
            InvoicePayment(invoiceid=inv[2].id, amount=Decimal("10.25"), date=TODAY),
            InvoicePayment(invoiceid=inv[2].id, amount=Decimal("5.00"), date=TODAY - timedelta(days=1)),
            VendorInvoice(total=Decimal("120.00"), currency=ron.id, payment_status="unpaid"),
            VendorInvoice(total=Decimal("80.00"), currency=ron.id, payment_status="unpaid"),
            VendorInvoice(total=Decimal("60.00"), currency=eur.id, payment_status="partially_paid"),
            VendorInvoice(total=Decimal("999.00"), currency=ron.id, payment_status="paid"),
        ])
        # warehouse: 2 items below their minimum (one has some stock), one above
        wh = Warehouse(warehouse_code="W1", warehouse_name="Main")
        items = [Item(description=f"Item {i}", commodity_name=f"Item {i}") for i in range(3)]
        db.session.add_all([wh, *items])
        db.session.flush()
        db.session.add_all([MinimumStock(commodity_id=it.id, inventory_number_min=Decimal("10")) for it in items])
        db.session.add_all([InventoryBalance(warehouse_id=wh.warehouse_id, commodity_id=items[1].id,
                                             inventory_number=Decimal("4")),
                            InventoryBalance(warehouse_id=wh.warehouse_id, commodity_id=items[2].id,
                                             inventory_number=Decimal("25"))])
        # delivery notes: 2 drafts short of stock; a draft with stock and an approved one do not count
        # (a draft's stock check runs on every save: its lines decide the flag)
        db.session.flush()

        def note(approval, item, qty, flag=1):
            line = GoodsDeliveryDetail(commodity_code=items[item].id, warehouse_id=wh.warehouse_id,
                                       quantities=Decimal(qty))
            return GoodsDelivery(approval=approval, warehouse_id=wh.warehouse_id, flag_export_warehouse=flag,
                                 items=[line])

        db.session.add_all([note(0, 0, "5"), note(0, 1, "6"), note(0, 2, "1"), note(1, 0, "5", flag=0)])
        # packing lists approved and ready: one without AWB, one whose AWB failed, one booked; a draft
        pls = [PackingList(approval=a, delivery_status=s) for a, s in
               ((1, "wh_ready_to_deliver"), (1, "wh_ready_to_deliver"), (1, "wh_ready_to_deliver"),
                (0, "wh_ready_to_deliver"), (1, "wh_in_transit"))]
        db.session.add_all(pls)
        db.session.flush()
        db.session.add_all([Shipment(packing_list_id=pls[1].id, status="failed"),
                            Shipment(packing_list_id=pls[2].id, status="created")])
        # purchasing: approved orders not delivered (100 RON) and partially delivered (40 EUR + 60 RON)
        db.session.add_all([PurchaseOrder(status=s, delivery_status=d, total=Decimal(t), currency=c)
                            for s, d, t, c in ((2, 0, "100.00", ron.id), (2, 3, "40.00", eur.id),
                                               (2, 3, "60.00", ron.id), (2, 1, "500.00", ron.id),
                                               (1, 0, "700.00", ron.id))])
        rfqs = [PurchaseRequest(pur_rq_name=f"RFQ {s}", status=s) for s in (1, 2, 2, 3)]
        db.session.add_all(rfqs)
        db.session.flush()
        db.session.add_all([PurchaseQuotation(pur_request=r.id, status=s) for r, s in
                            ((rfqs[1], 1), (rfqs[1], 1), (rfqs[2], 1), (rfqs[2], 2))])
        db.session.commit()
        return staff


def panels_of(html: str) -> dict[str, list[dict]]:
    """panel key -> its figures (label, count, link, amounts) or goal rows, as the page shows them."""
    out = {}
    for chunk in html.split('data-panel="')[1:]:
        key, body = chunk.split('"', 1)
        body = body.split("</ul>", 1)[0]
        figures = [{"label": htmllib.unescape(label), "count": int(count), "url": htmllib.unescape(url),
                    "amounts": [(Decimal(a), c)
                                for a, c in re.findall(r'data-amount="([^"]+)" data-currency="([^"]*)"', rest)],
                    "note": " ".join(re.findall(r"data-note>([^<]*)<", rest))}
                   for label, count, url, rest in re.findall(
                       r'data-figure="([^"]*)" data-count="(\d+)">\s*<a href="([^"]+)"(.*?)</li>', body, re.S)]
        goals = [{"subject": s, "total": t, "percent": p} for _, t, p, s in re.findall(
            r'data-goal="(\d+)" data-total="([^"]+)" data-percent="([^"]+)">\s*<a href="[^"]+">([^<]+)</a>', body)]
        out[key] = goals if 'data-goal="' in body or "No goal running" in body else figures
    return out


def home(app, who):
    client = app.test_client()
    if who == "admin":
        login(client)
    else:
        login(client, f"{who}@test.example", "pass-1234")
    return client, panels_of(client.get("/admin/").get_data(as_text=True))


def figures(panel):
    return [(f["label"], f["count"], f["amounts"]) for f in panel]


def test_every_figure_from_known_data(app, world):
    _, p = home(app, "admin")
    R, E = "RON", "EUR"
    d = Decimal
    assert figures(p["new_leads"]) == [("Assigned to me, last 7 days", 0, [])]  # the admin has none
    _, agent = home(app, "agent")
    assert figures(agent["new_leads"]) == [("Assigned to me, last 7 days", 2, [])]
    assert figures(agent["follow_ups"]) == [("Due today, not yet reminded", 1, []), ("Due today, reminded", 1, [])]
    assert figures(agent["my_opportunities"]) == [("Open opportunities (value)", 2, [(d("1500.00"), R)])]
    assert agent["my_opportunities"][0]["note"] == "weighted 600.00 RON"
    assert figures(agent["my_proposals"]) == [("Sent, not yet accepted or declined", 3,
                                               [(d("50.00"), E), (d("125.50"), R)])]
    # the agent's invoiced amount goal: invoices not draft or cancelled = 100 + 50 + 300 + 80
    assert agent["my_goals"] == [{"subject": "Agent March", "total": "530.00", "percent": "100.00"}]
    # company income: every payment in its period (30 + 10.25 today, 5 yesterday); 45.25 x 100 / 1000, half-up
    assert p["team_goals"] == [{"subject": "Agent March", "total": "530.00", "percent": "100.00"},
                               {"subject": "Company income", "total": "45.25", "percent": "4.53"}]
    team = {f["label"]: (f["count"], f["amounts"], f["note"]) for f in p["team_pipeline"]}
    assert team == {"Agent Test": (2, [(d("1500.00"), R)], "weighted 600.00 RON"),
                    "Sdr Test": (1, [(d("200.00"), R)], "weighted 20.00 RON")}
    assert figures(p["stock_minimum"]) == [("Items below their minimum stock", 2, [])]
    assert "purchase_minimum" not in p  # the same figure: shown once, under Warehouse
    assert figures(p["blocked_deliveries"]) == [("Draft delivery notes short of stock", 2, [])]
    assert figures(p["awaiting_awb"]) == [("Approved, ready to deliver, no AWB booked", 2, [])]
    assert figures(p["undelivered_orders"]) == [("Not delivered", 1, [(d("100.00"), R)]), ("Pending", 0, []),
                                                ("Partially delivered", 2, [(d("40.00"), E), (d("60.00"), R)])]
    assert figures(p["open_rfqs"]) == [("Draft", 1, []), ("Sent to vendors", 2, [])]
    assert figures(p["quotations"]) == [("Pending vendor quotations", 3, [])]
    assert p["quotations"][0]["note"] == "answering 2 RFQ(s)"
    assert figures(p["overdue_invoices"]) == [("Overdue (past due, nothing paid)", 2,
                                               [(d("50.00"), E), (d("100.00"), R)])]
    assert figures(p["vendor_invoices"]) == [("Unpaid", 2, [(d("200.00"), R)]),
                                             ("Partially paid", 1, [(d("60.00"), E)])]
    assert figures(p["efactura"]) == [("Rejected", 2, []), ("Send failed", 1, []), ("Upload uncertain", 0, [])]
    assert figures(p["payments_today"]) == [("Payments dated today", 2, [(d("30.00"), E), (d("10.25"), R)])]


def _listed(client, url) -> int:
    resp = client.get(url)
    assert resp.status_code == 200, url  # a filter the grid cannot take is a 400
    page = resp.get_data(as_text=True)
    found = re.search(r"List \((\d+)\)", page)
    return int(found.group(1)) if found else 0


def test_each_figure_links_to_the_list_of_what_it_counts(app, world):
    client, p = home(app, "agent")
    for key in ("new_leads", "follow_ups", "my_proposals"):
        for f in p[key]:
            assert _listed(client, f["url"]) == f["count"], (key, f)
    client, p = home(app, "admin")
    for key in ("blocked_deliveries", "undelivered_orders", "open_rfqs", "quotations", "overdue_invoices",
                "vendor_invoices", "efactura", "payments_today"):
        for f in p[key]:
            assert _listed(client, f["url"]) == f["count"], (key, f)
    # lists that show a little more than the figure, with what the figure counts among them
    assert _listed(client, p["awaiting_awb"][0]["url"]) == 3  # one of the 3 has its AWB booked
    page = client.get(p["stock_minimum"][0]["url"]).get_data(as_text=True)
    assert "2 item(s) below their minimum" in page


def sections(app, who) -> set[str]:
    return set(home(app, who)[1])


def test_panels_follow_the_role_permissions(app, world):
    sales = {"new_leads", "follow_ups", "my_goals"}
    agent = {"my_opportunities", "my_proposals"}
    warehouse = {"stock_minimum", "blocked_deliveries", "awaiting_awb"}
    purchasing = {"undelivered_orders", "open_rfqs", "quotations", "purchase_minimum"}
    finance = {"overdue_invoices", "vendor_invoices", "efactura", "payments_today"}
    assert sections(app, "wh") == warehouse  # no finance, no sales panels
    assert sections(app, "sdr") == sales
    assert sections(app, "agent") == sales | agent
    assert sections(app, "manager") == sales | agent | {"team_pipeline", "team_goals"} | finance
    assert sections(app, "buyer") == purchasing
    assert sections(app, "fin") == finance
    assert sections(app, "admin") == sales | agent | {"team_pipeline", "team_goals"} | warehouse | finance \
        | purchasing - {"purchase_minimum"}


def test_the_dashboard_costs_one_query_per_panel(app, world):
    from crm.admin_views.dashboard import visible
    from crm.core.models.settings import Staff

    with app.app_context():
        make_staff("norole@test.example")
        engine = db.engine
        admin = db.session.query(Staff).filter_by(admin=True).one()
        panels = len(visible(admin))
    client = app.test_client()
    login(client, "norole@test.example", "pass-1234")
    client.get("/admin/")
    with QueryCounter(engine) as bare:  # the page around the panels: user, menu, notifications
        client.get("/admin/")
    admin_client, _ = home(app, "admin")
    with QueryCounter(engine) as full:
        admin_client.get("/admin/")
    # each panel one query; the goals panels one more each (their totals); the shared stock figure once
    assert full.count - bare.count <= panels + 2 - 1
