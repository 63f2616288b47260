"""Sales report, leads report and sales overview: every figure on the page, in the JSON and in the
CSV/Excel exports, on known data (two currencies with rates, one without, payments, leads in two
pipelines, converted and lost ones)."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.conftest import QueryCounter, login, make_staff

YEAR = "from=2026-01-01&to=2026-12-31"


def build_sales():
    """Invoices in RON, EUR (rate on the invoice, and the currency's rate) and USD (no rate)."""
    from crm.catalog.models import Currency, Item
    from crm.core.models.settings import Staff
    from crm.sales.models.clients import Client, Lead, OpportunityStatus
    from crm.sales.models.documents import Invoice, InvoicePayment, ItemLine

    ron = Currency(name="RON", symbol="lei", isdefault=True, exchange_rate=Decimal("1"))
    eur = Currency(name="EUR", symbol="€", exchange_rate=Decimal("4.975"))
    usd = Currency(name="USD", symbol="$", exchange_rate=Decimal("0"))  # nobody set its rate
    ana = Staff(email="ana@test.example", firstname="Ana", lastname="Pop", active=True)
    bob = Staff(email="bob@test.example", firstname="Bob", lastname="Ionescu", active=True)
    a, b = Client(company="Alfa SRL"), Client(company="Beta SRL")
    widget = Item(description="Widget", commodity_name="Widget", rate=Decimal("400"))
    db.session.add_all([ron, eur, usd, ana, bob, a, b, widget])
    db.session.flush()
    past = date.today() - timedelta(days=10)

    def inv(n, client, cur, when, total, status, agent=None, rate=None, lines=()):
        i = Invoice(clientid=client.userid, number=n, prefix="INV-", formatted_number=f"INV-{n:06d}", date=when,
                    duedate=past, currency=cur.id, exchange_rate=rate, total=Decimal(total), subtotal=Decimal(total),
                    total_tax=Decimal("0"), status=status, sale_agent=agent.staffid if agent else None)
        for pos, (desc, item, qty, price, disc) in enumerate(lines):
            i.items.append(ItemLine(description=desc, item_id=item.id if item else None, qty=Decimal(qty),
                                    rate=Decimal(price), discount_percent=Decimal(disc), item_order=pos))
        db.session.add(i)
        db.session.flush()
        return i

    def pay(invoice, amount, when):
        db.session.add(InvoicePayment(invoiceid=invoice.id, amount=Decimal(amount), date=when))

    i1 = inv(1, a, ron, date(2026, 1, 15), "1000.00", 2, ana, lines=[("Widget", widget, "2", "400", "0")])
    i2 = inv(2, b, eur, date(2026, 2, 10), "200.00", 3, ana, rate=Decimal("5"),
             lines=[("Widget", widget, "1", "100", "0")])
    inv(3, b, eur, date(2026, 2, 20), "100.00", 1, bob)  # at EUR's rate 4.975: 497.50 RON
    inv(4, a, ron, date(2026, 3, 1), "300.00", 4, bob, lines=[("Consulting", None, "3", "50", "10")])
    inv(5, a, ron, date(2026, 1, 10), "999.00", 6, ana, lines=[("Widget", widget, "10", "99", "0")])  # draft
    inv(6, a, ron, date(2026, 2, 1), "888.00", 5, ana)  # cancelled
    i7 = inv(7, b, ron, date(2025, 12, 31), "777.00", 2)  # invoiced last year, paid this year
    inv(8, a, usd, date(2026, 3, 10), "50.00", 1, ana)  # no rate: named, not summed
    pay(i1, "1000.00", date(2026, 1, 20))
    pay(i2, "100.00", date(2026, 3, 5))  # EUR at the invoice's rate 5: 500.00 RON
    pay(i7, "777.00", date(2026, 1, 2))
    won = OpportunityStatus(name="Negotiation", statusorder=1)
    db.session.add(won)
    db.session.flush()
    db.session.add(Lead(name="Big deal", is_opportunity=True, opportunity_status=won.id,
                        lead_value=Decimal("10000.00"), probability=Decimal("50"),
                        estimated_close_date=date(2026, 12, 15)))
    db.session.commit()


def build_leads():
    from crm.sales.models.clients import Lead, LeadSource, LeadStatus, Pipeline

    inbound, partners = Pipeline(name="Inbound", pipeline_order=1), Pipeline(name="Partners", pipeline_order=2)
    web, referral = LeadSource(name="Web"), LeadSource(name="Referral")
    db.session.add_all([inbound, partners, web, referral])
    db.session.flush()
    new, contacted, qualified = (LeadStatus(name=n, statusorder=i, pipeline=inbound.id)
                                 for i, n in enumerate(("New", "Contacted", "Qualified"), 1))
    intro = LeadStatus(name="Intro", statusorder=1, pipeline=partners.id)
    db.session.add_all([new, contacted, qualified, intro])
    db.session.flush()

    def lead(name, src, pipe, status, added, converted=None, **kw):
        db.session.add(Lead(name=name, source=src.id, pipeline=pipe.id, status=status.id, dateadded=added,
                            date_converted=converted, **kw))

    lead("L1", web, inbound, new, datetime(2026, 1, 1, 10, 0))
    lead("L2", web, inbound, contacted, datetime(2026, 1, 5), datetime(2026, 1, 15, 12, 0))  # 10.5 days
    lead("L3", referral, inbound, qualified, datetime(2026, 2, 1), datetime(2026, 2, 21))  # 20 days
    lead("L4", referral, partners, intro, datetime(2026, 3, 1), lost=True)
    lead("L5", web, inbound, new, datetime(2026, 3, 2), junk=True)
    lead("L6", web, inbound, new, datetime(2025, 12, 31), datetime(2026, 1, 2))  # added last year
    lead("Opp of L2", web, inbound, contacted, datetime(2026, 1, 15, 12, 0), is_opportunity=True)
    db.session.commit()


def table(html: str, key: str) -> list[list[str]]:
    part = html.split(f'data-testid="{key}"')[1].split("</table>")[0]
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", part, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)]
        rows.append(cells)
    return rows


def figure(html: str, key: str) -> str:
    m = re.search(rf'data-figure="{key}">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", "", m.group(1)).strip()


def csv_sections(text: str) -> dict[str, list[list[str]]]:
    out, current = {}, None
    for row in csv.reader(io.StringIO(text)):
        if not row:
            current = None
        elif current is None:
            current = out.setdefault(row[0], [])
        else:
            current.append(row)
    return out


# --- sales report ------------------------------------------------------------------------------

def test_sales_report_page_json_and_exports_agree(app, admin_client):
    with app.app_context():
        build_sales()
    html = admin_client.get(f"/admin/reports/sales/?{YEAR}&group=month").get_data(as_text=True)
    assert figure(html, "invoiced") == "2,797.50" and figure(html, "invoices") == "5"
    assert figure(html, "collected") == "2,277.00" and figure(html, "payments") == "3"
    # USD has no rate: said on the page, its 50.00 not summed
    assert "1 invoice(s) in USD (50.00 USD) are left out of the RON totals" in html
    assert table(html, "by_period") == [
        ["Month", "Invoices", "Invoiced", "Payments", "Collected"],
        ["2026-01", "1", "1,000.00", "2", "1,777.00"],
        ["2026-02", "2", "1,497.50", "0", "0.00"],
        ["2026-03", "2", "300.00", "1", "500.00"],
        ["Total", "5", "2,797.50", "3", "2,277.00"]]
    assert table(html, "by_status") == [
        ["Status", "Invoices", "Invoiced"], ["Unpaid", "2", "497.50"], ["Partially paid", "1", "1,000.00"],
        ["Paid", "1", "1,000.00"], ["Overdue", "1", "300.00"], ["Total", "5", "2,797.50"]]
    assert table(html, "by_agent") == [
        ["Sale agent", "Invoices", "Invoiced (RON)", "Payments", "Collected (RON)"],
        ["Ana Pop", "3", "2,000.00", "2", "1,500.00"], ["Bob Ionescu", "2", "797.50", "0", "0.00"],
        ["Other sale agents", "0", "0.00", "1", "777.00"], ["Total", "5", "2,797.50", "3", "2,277.00"]]

    data = admin_client.get(f"/admin/reports/sales/data?{YEAR}&group=month").get_json()
    assert data["currency"] == "RON" and data["period"] == {
        "from": "2026-01-01", "to": "2026-12-31", "group": "month", "group_label": "Month", "preset": None}
    assert data["figures"] == {"invoiced": "2797.50", "invoices": 5, "collected": "2277.00", "payments": 3}
    months = data["tables"]["by_period"]["rows"]
    assert months[1] == {"period": "2026-02", "invoices": 2, "invoiced": "1497.50", "payments": 0, "collected": "0.00"}
    assert data["tables"]["by_agent"]["total"]["invoiced"] == "2797.50"
    assert any("USD" in w for w in data["warnings"])

    resp = admin_client.get(f"/admin/reports/sales/export?{YEAR}&group=month&format=csv")
    assert resp.mimetype == "text/csv"
    sections = csv_sections(resp.get_data(as_text=True))
    assert sections["Summary"][1:] == [["Invoiced", "2797.50"], ["Invoices issued", "5"], ["Collected", "2277.00"],
                                       ["Payments received", "3"]]
    assert sections["Invoiced and collected by month (RON)"][1:] == [
        ["2026-01", "1", "1000.00", "2", "1777.00"], ["2026-02", "2", "1497.50", "0", "0.00"],
        ["2026-03", "2", "300.00", "1", "500.00"], ["Total", "5", "2797.50", "3", "2277.00"]]
    assert sections["By sale agent"][2] == ["Bob Ionescu", "2", "797.50", "0", "0.00"]

    from openpyxl import load_workbook

    resp = admin_client.get(f"/admin/reports/sales/export?{YEAR}&group=month&format=xlsx")
    book = load_workbook(io.BytesIO(resp.data))
    sheet = book["Invoiced and collected by month"]
    assert [c.value for c in sheet[3]] == ["2026-02", 2, 1497.5, 0, 0]
    assert sheet["C3"].number_format == "#,##0.00" and isinstance(sheet["C3"].value, float)
    assert [c.value for c in book["Summary"]["B"]][1:] == [2797.5, 5, 2277, 3]
    assert [c.value for c in book["By sale agent"]["A"]][1:] == ["Ana Pop", "Bob Ionescu", "Other sale agents", "Total"]


def test_sales_report_breakdowns_by_client_currency_and_item(app, admin_client):
    with app.app_context():
        build_sales()
    html = admin_client.get(f"/admin/reports/sales/?{YEAR}&by=client").get_data(as_text=True)
    assert table(html, "by_client")[1:] == [
        # Beta's collected: 100 EUR at 5 and the 777.00 paid this year on last year's invoice
        ["Beta SRL", "2", "1,497.50", "2", "1,277.00"], ["Alfa SRL", "3", "1,300.00", "1", "1,000.00"],
        ["Total", "5", "2,797.50", "3", "2,277.00"]]
    # a client's name opens its invoices of the period
    link = re.search(r'<a href="([^"]+)">Alfa SRL', html).group(1).replace("&amp;", "&")
    listing = admin_client.get(link).get_data(as_text=True)
    assert "INV-000001" in listing and "INV-000004" in listing and "INV-000002" not in listing

    data = admin_client.get(f"/admin/reports/sales/data?{YEAR}&by=currency").get_json()
    rows = {r["currency"]: r for r in data["tables"]["by_currency"]["rows"]}
    assert rows["RON"] == {"currency": "RON", "invoices": 2, "invoiced_original": "1300.00", "invoiced": "1300.00",
                           "payments": 2, "collected_original": "1777.00", "collected": "1777.00", "note": None}
    assert rows["EUR"] == {"currency": "EUR", "invoices": 2, "invoiced_original": "300.00", "invoiced": "1497.50",
                           "payments": 1, "collected_original": "100.00", "collected": "500.00", "note": None}
    assert rows["USD"]["invoiced_original"] == "50.00" and rows["USD"]["invoiced"] == "0.00"
    assert rows["USD"]["note"] == "no exchange rate: left out of the totals"
    html = admin_client.get(f"/admin/reports/sales/?{YEAR}&by=currency").get_data(as_text=True)
    assert ["USD", "1", "50.00", "0.00", "0", "0.00", "0.00", "no exchange rate: left out of the totals"] \
        in table(html, "by_currency")

    data = admin_client.get(f"/admin/reports/sales/data?{YEAR}&by=item").get_json()
    assert data["tables"]["by_item"]["rows"] == [
        {"item": "Widget", "lines": 2, "quantity": "3.000", "net": "1300.00"},  # 2×400 + 1×100 EUR at 5
        {"item": "Consulting", "lines": 1, "quantity": "3.000", "net": "135.00"}]  # 3×50 less 10 %
    xlsx = admin_client.get(f"/admin/reports/sales/export?{YEAR}&by=item&format=xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.data))["By item"]
    assert [c.value for c in sheet[2]] == ["Widget", 2, 3, 1300] and sheet["C2"].number_format == "0.000"


@pytest.mark.parametrize("group,expected", [
    ("day", {"2026-01-15": "1000.00", "2026-02-10": "1000.00", "2026-02-20": "497.50", "2026-03-01": "300.00",
             "2026-03-10": "0.00"}),
    ("week", {"2026-W03": "1000.00", "2026-W07": "1000.00", "2026-W08": "497.50", "2026-W09": "300.00",
              "2026-W11": "0.00"}),
    ("quarter", {"2026-Q1": "2797.50"}),
    ("year", {"2026": "2797.50"}),
])
def test_sales_report_groups_by_day_week_quarter_year(app, admin_client, group, expected):
    with app.app_context():
        build_sales()
    rows = admin_client.get(f"/admin/reports/sales/data?{YEAR}&group={group}").get_json()["tables"]["by_period"]["rows"]
    assert {r["period"]: r["invoiced"] for r in rows if r["invoices"]} == expected
    # payments fall in their own buckets: 2026-01-02 (a Friday) is in ISO week 1
    if group == "week":
        assert {r["period"]: r["collected"] for r in rows if r["payments"]} == {
            "2026-W01": "777.00", "2026-W04": "1000.00", "2026-W10": "500.00"}


@pytest.mark.parametrize("query,field", [
    ("from=2026-13-01&to=2026-12-31", "from"), ("from=2026-01-01&to=yesterday", "to"),
    ("from=2026-05-01&to=2026-04-01", "to"), ("to=2026-04-01", "from"), ("from=2999-01-01", "from"), ("preset=fortnight", "preset"),
    ("preset=this_year&from=2026-01-01", "preset"), (f"{YEAR}&group=hour", "group"), (f"{YEAR}&by=colour", "by"),
])
def test_invalid_period_is_a_clear_400(admin_client, query, field):
    for url in (f"/admin/reports/sales/?{query}", f"/admin/reports/sales/export?{query}&format=csv"):
        resp = admin_client.get(url)
        assert resp.status_code == 400, url
        assert field in resp.get_data(as_text=True)
    data = admin_client.get(f"/admin/reports/sales/data?{query}")
    assert data.status_code == 400 and data.get_json()["field"] == field
    if field not in ("by",):
        for base in ("/admin/reports/leads/", "/admin/sales/"):
            assert admin_client.get(f"{base}?{query}").status_code == 400


def test_presets_cover_the_period_asked(app, admin_client):
    today = date.today()
    data = admin_client.get("/admin/reports/sales/data?preset=this_month").get_json()
    assert data["period"]["from"] == today.replace(day=1).isoformat()
    data = admin_client.get("/admin/reports/sales/data").get_json()  # default: this year
    assert (data["period"]["from"], data["period"]["to"]) == (f"{today.year}-01-01", f"{today.year}-12-31")
    data = admin_client.get("/admin/reports/sales/data?preset=last_quarter").get_json()
    start = date.fromisoformat(data["period"]["from"])
    end = date.fromisoformat(data["period"]["to"])
    assert start.month in (1, 4, 7, 10) and start.day == 1 and (end - start).days in range(89, 92)
    assert end < today
    data = admin_client.get("/admin/reports/sales/data?preset=last_12_months").get_json()
    assert date.fromisoformat(data["period"]["from"]).day == 1 and data["period"]["to"][:7] == today.isoformat()[:7]


# --- leads report ------------------------------------------------------------------------------

def test_leads_report_conversions_funnels_and_exports(app, admin_client):
    with app.app_context():
        build_leads()
    html = admin_client.get(f"/admin/reports/leads/?{YEAR}").get_data(as_text=True)
    assert figure(html, "leads") == "5" and figure(html, "converted") == "2"
    assert figure(html, "conversion_rate") == "40.00 %" and figure(html, "avg_days_to_convert") == "15.3"
    assert figure(html, "lost") == "1"
    assert table(html, "by_source")[1:] == [
        ["Web", "3", "1", "0", "33.33 %", "10.5"], ["Referral", "2", "1", "1", "50.00 %", "20.0"],
        ["Total", "5", "2", "1", "40.00 %", "15.3"]]
    assert table(html, "by_pipeline")[1:] == [
        ["Inbound", "4", "2", "0", "50.00 %", "15.3"], ["Partners", "1", "0", "1", "0.00 %", ""],
        ["Total", "5", "2", "1", "40.00 %", "15.3"]]
    funnels = re.findall(r'data-testid="(funnel_\d+)"', html)
    assert len(funnels) == 2
    assert table(html, funnels[0])[1:] == [
        ["New", "1", "3", "100.00 %"], ["Contacted", "1", "2", "66.67 %"], ["Qualified", "1", "1", "33.33 %"]]
    assert table(html, funnels[1])[1:] == [["Intro", "1", "1", "100.00 %"]]
    # a source opens its leads of the period
    link = re.search(r'<a href="([^"]+)">Referral', html).group(1).replace("&amp;", "&")
    listing = admin_client.get(link).get_data(as_text=True)
    assert "L3" in listing and "L4" in listing and "L1<" not in listing

    data = admin_client.get(f"/admin/reports/leads/data?{YEAR}").get_json()
    assert data["figures"] == {"leads": 5, "converted": 2, "conversion_rate": "40.00", "avg_days_to_convert": "15.3",
                               "lost": 1}
    assert data["tables"]["by_source"]["rows"][0] == {"name": "Web", "leads": 3, "converted": 1, "lost": 0,
                                                      "rate": "33.33", "avg_days": "10.5"}
    assert [r["reached"] for r in data["tables"][funnels[0]]["rows"]] == [3, 2, 1]

    sections = csv_sections(admin_client.get(f"/admin/reports/leads/export?{YEAR}&format=csv").get_data(as_text=True))
    assert sections["Conversions by source"][1:] == [["Web", "3", "1", "0", "33.33", "10.5"],
                                                     ["Referral", "2", "1", "1", "50.00", "20.0"],
                                                     ["Total", "5", "2", "1", "40.00", "15.3"]]
    assert sections["Funnel: Inbound"][1:] == [["New", "1", "3", "100.00"], ["Contacted", "1", "2", "66.67"],
                                               ["Qualified", "1", "1", "33.33"]]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(admin_client.get(f"/admin/reports/leads/export?{YEAR}&format=xlsx").data))
    assert [c.value for c in book["Conversions by pipeline"][3]] == ["Partners", 1, 0, 1, 0, None]
    assert [c.value for c in book["Summary"]["B"]][1:] == [5, 2, 40, 15.3, 1]


# --- sales overview ----------------------------------------------------------------------------

def test_sales_overview_figures_link_to_their_lists(app, admin_client):
    with app.app_context():
        build_sales()
    html = admin_client.get(f"/admin/sales/?{YEAR}").get_data(as_text=True)
    assert figure(html, "pipeline_value") == "10,000.00" and figure(html, "weighted_forecast") == "5,000.00"
    assert figure(html, "invoiced") == "2,797.50" and figure(html, "collected") == "2,277.00"
    # outstanding now: 497.50 unpaid (USD left out, said) + 1000.00 − 500.00 partially paid + 300.00 overdue
    assert figure(html, "outstanding") == "1,297.50" and figure(html, "overdue") == "300.00"
    assert figure(html, "dso") == "169.3"  # 1297.50 / 2797.50 × 365
    assert "DSO = outstanding ÷ invoiced in the period × 365 days in the period" in html
    assert "1 open invoice(s) in USD (50.00 USD)" in html
    assert table(html, "outstanding")[1:] == [
        ["Unpaid", "2", "497.50", "0.00", "497.50"], ["Partially paid", "1", "1,000.00", "500.00", "500.00"],
        ["Overdue", "1", "300.00", "0.00", "300.00"], ["Total", "4", "1,797.50", "500.00", "1,297.50"]]
    assert table(html, "forecast")[1:] == [["2026-12", "1", "10,000.00", "5,000.00"],
                                           ["Total", "1", "10,000.00", "5,000.00"]]

    def follow(key):
        m = re.search(rf'data-figure="{key}">\s*<a href="([^"]+)"', html)
        assert m, html.split(f'data-figure="{key}"')[1][:300]
        return admin_client.get(m.group(1).replace("&amp;", "&")).get_data(as_text=True)

    assert "INV-000004" in follow("overdue") and "INV-000003" not in follow("overdue")
    payments = follow("collected")
    assert "1,000.00" in payments and "777.00" in payments and "100.00" in payments
    unpaid = admin_client.get(re.search(r'<a href="([^"]+)">Unpaid', html).group(1).replace("&amp;", "&"))
    assert "INV-000003" in unpaid.get_data(as_text=True) and "INV-000004" not in unpaid.get_data(as_text=True)
    assert "Negotiation" in follow("pipeline_value")

    data = admin_client.get(f"/admin/sales/data?{YEAR}").get_json()
    assert data["figures"] == {"pipeline_value": "10000.00", "weighted_forecast": "5000.00", "invoiced": "2797.50",
                               "invoices": 5, "collected": "2277.00", "payments": 3, "outstanding": "1297.50",
                               "overdue": "300.00", "dso": "169.3"}
    sections = csv_sections(admin_client.get(f"/admin/sales/export?{YEAR}&format=csv").get_data(as_text=True))
    assert ["Days sales outstanding", "169.3"] in sections["Summary"]
    assert sections["Outstanding now, by status (RON)"][-1] == ["Total", "4", "1797.50", "500.00", "1297.50"]


# --- permissions, menu, queries -------------------------------------------------------------

def test_reports_need_permission_to_view_sales(app):
    with app.app_context():
        make_staff("nobody@test.example")  # no role: may view nothing
    client = app.test_client()
    login(client, "nobody@test.example", "pass-1234")
    for url in ("/admin/reports/sales/", "/admin/reports/leads/", "/admin/sales/", "/admin/reports/sales/data",
                "/admin/reports/leads/export?format=csv", "/admin/sales/data"):
        assert client.get(url).status_code == 403, url
    with app.app_context():
        make_staff("sdr@test.example", "SDR")
        make_staff("manager@test.example", "Sales Manager")
    client = app.test_client()
    login(client, "sdr@test.example", "pass-1234")
    assert client.get("/admin/reports/leads/").status_code == 403  # view own: company figures are not theirs
    client = app.test_client()
    login(client, "manager@test.example", "pass-1234")
    assert client.get("/admin/reports/leads/").status_code == 200


def test_menu_has_a_reports_category(admin_client):
    html = admin_client.get("/admin/").get_data(as_text=True)
    menu = html.split("Reports", 1)[1][:2000]
    for href in ("/admin/sales/", "/admin/reports/sales/", "/admin/reports/leads/"):
        assert href in menu


@pytest.mark.parametrize("url", ["/admin/reports/sales/?by=agent", "/admin/reports/sales/?by=client",
                                 "/admin/reports/sales/?by=item", "/admin/reports/sales/?by=currency",
                                 "/admin/reports/leads/", "/admin/sales/", "/admin/reports/sales/data?by=client",
                                 "/admin/reports/leads/export?format=xlsx"])
def test_query_count_does_not_grow_with_rows(app, admin_client, url):
    sep = "&" if "?" in url else "?"
    url = f"{url}{sep}{YEAR}&group=week"

    def count():
        admin_client.get(url)  # warm: options cache, first-request work
        with app.app_context(), QueryCounter(db.engine) as qc:
            assert admin_client.get(url).status_code == 200
        return qc.count

    with app.app_context():
        build_sales()
        build_leads()
    few = count()
    with app.app_context():
        _more(40)
    assert count() == few


def _more(n):
    """More invoices, clients, payments, lines and leads of every kind already there."""
    from crm.catalog.models import Currency
    from crm.sales.models.clients import Client, Lead, LeadSource, LeadStatus
    from crm.sales.models.documents import Invoice, InvoicePayment, ItemLine

    eur = db.session.query(Currency).filter_by(name="EUR").one()
    usd = db.session.query(Currency).filter_by(name="USD").one()
    statuses = db.session.query(LeadStatus).all()
    sources = db.session.query(LeadSource).all()
    for k in range(n):
        c = Client(company=f"More {k} SRL")
        db.session.add(c)
        db.session.flush()
        inv = Invoice(clientid=c.userid, number=1000 + k, date=date(2026, 1 + k % 12, 1 + k % 28),
                      currency=(eur if k % 3 else usd).id, total=Decimal("12.34"), status=(1, 2, 3, 4)[k % 4])
        inv.items.append(ItemLine(description=f"Thing {k}", qty=Decimal(1), rate=Decimal("12.34")))
        db.session.add(inv)
        db.session.flush()
        if k % 3:  # (payments in USD would add the query that names them; the base data has none)
            db.session.add(InvoicePayment(invoiceid=inv.id, amount=Decimal("1.00"), date=inv.date))
        st = statuses[k % len(statuses)]
        db.session.add(Lead(name=f"M{k}", source=sources[k % 2].id, pipeline=st.pipeline, status=st.id,
                            dateadded=datetime(2026, 6, 1 + k % 28), lost=k % 5 == 0,
                            date_converted=datetime(2026, 7, 1) if k % 2 else None))
    db.session.commit()
