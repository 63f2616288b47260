"""The report screens: sales (/admin/reports/sales), leads (/admin/reports/leads) and the sales
overview (/admin/sales). Each builds one :class:`~crm.reports.table.Report` from the figures in
crm/reports, which the page, ``/data`` (JSON) and ``/export`` (CSV, Excel) all render."""
from __future__ import annotations

from decimal import Decimal

from flask import request, url_for

from crm.core.models.base import money
from crm.reports import leads as lead_figures, sales as sales_figures
from crm.reports.currency import base_currency
from crm.reports.links import list_url
from crm.reports.period import GRAINS, Period, PeriodError
from crm.reports.table import Column, Figure, Report, Table
from crm.reports.view import ReportView
from crm.sales.models.clients import Lead
from crm.sales.models.documents import Invoice, InvoiceStatus
from crm.sales.views.weighted_pipeline import pipeline_figures

BREAKDOWNS = {"agent": "Sale agent", "client": "Client", "item": "Item", "currency": "Currency"}


def _status_label(code: int) -> str:
    return InvoiceStatus.label_of(code)


def _revenue_tables(period: Period, rev, base: str) -> list[Table]:
    by_period = Table(
        "by_period", f"Invoiced and collected by {GRAINS[period.grain].lower()} ({base})",
        [Column("period", GRAINS[period.grain]), Column("invoices", "Invoices", "int"),
         Column("invoiced", "Invoiced", "money"), Column("payments", "Payments", "int"),
         Column("collected", "Collected", "money")],
        rows=[{"period": r["bucket"], **{k: r[k] for k in ("invoices", "invoiced", "payments", "collected")}}
              for r in rev.buckets],
        total={"period": "Total", "invoices": rev.invoices, "invoiced": rev.invoiced, "payments": rev.payments,
               "collected": rev.collected},
        chart={"type": "bar", "label": "period", "series": ["invoiced", "collected"]})
    by_status = Table(
        "by_status", f"Invoiced by invoice status ({base})",
        [Column("status", "Status"), Column("invoices", "Invoices", "int"), Column("invoiced", "Invoiced", "money")],
        rows=[{"status": _status_label(r["status"]), "invoices": r["invoices"], "invoiced": r["invoiced"],
               "_links": {"status": list_url("invoices", ("date", period.start, period.end), status=r["status"])}}
              for r in rev.statuses],
        total={"status": "Total", "invoices": rev.invoices, "invoiced": rev.invoiced},
        note="Invoiced: invoices dated in the period that are Unpaid, Partially paid, Paid or Overdue "
             "(drafts and cancelled invoices are not revenue). Totals include tax.")
    return [by_period, by_status]


def _money_figures(period: Period, rev) -> list[Figure]:
    return [
        Figure("invoiced", "Invoiced", rev.invoiced,
               link=url_for("reports_sales.index", **period.args()) + "#by_status",
               note=f"{rev.invoices} invoice(s)"),
        Figure("invoices", "Invoices issued", rev.invoices, "int"),
        Figure("collected", "Collected", rev.collected,
               link=list_url("invoicepaymentrecords", ("date", period.start, period.end)), note=f"{rev.payments} payment(s)"),
        Figure("payments", "Payments received", rev.payments, "int"),
    ]


class SalesReportView(ReportView):
    default_grain = "month"
    tabs = BREAKDOWNS

    def _models(self):
        return (Invoice,)

    def choices(self) -> dict:
        by = (request.args.get("by") or "agent").strip()
        if by not in BREAKDOWNS:
            raise PeriodError("by", f"by must be one of: {', '.join(BREAKDOWNS)}.")
        return {"by": by}

    def build(self, period: Period, choices: dict) -> Report:
        base = base_currency()
        rev = sales_figures.revenue(period, base)
        report = Report("sales", "Sales report", period, currency=base, warnings=list(rev.warnings))
        report.figures = _money_figures(period, rev)
        report.tables = _revenue_tables(period, rev, base)
        report.tables.append(self._breakdown(choices["by"], period, rev, base))
        report.notes = [f"Amounts in other currencies are converted to {base} at the invoice's rate when it has "
                        "one, else at the currency's rate; a currency without a rate is named above and left out.",
                        "Collected: payments recorded in the period, by payment date."]
        return report

    def _breakdown(self, by: str, period: Period, rev, base: str) -> Table:
        money_cols = [Column("invoices", "Invoices", "int"), Column("invoiced", f"Invoiced ({base})", "money"),
                      Column("payments", "Payments", "int"), Column("collected", f"Collected ({base})", "money")]
        totals = {"invoices": rev.invoices, "invoiced": rev.invoiced, "payments": rev.payments,
                  "collected": rev.collected}
        between = ("date", period.start, period.end)
        if by == "agent":
            rows = sales_figures.by_agent(period, rev, base)
            for r in rows:
                if r.get("agent_id"):
                    r["_links"] = {"agent": list_url("invoices", between, sale_agent=r["agent_id"])}
            return Table("by_agent", "By sale agent", [Column("agent", "Sale agent"), *money_cols], rows,
                         {"agent": "Total", **totals},
                         chart={"type": "bar", "label": "agent", "series": ["invoiced", "collected"]},
                         note=f"The {sales_figures.TOP} sale agents who invoiced most; collected: payments on "
                              "their invoices in the period.")
        if by == "client":
            rows = sales_figures.by_client(period, rev, base)
            for r in rows:
                if r.get("client_id"):
                    r["_links"] = {"client": list_url("invoices", between, clientid=r["client_id"])}
            return Table("by_client", "By client", [Column("client", "Client"), *money_cols], rows,
                         {"client": "Total", **totals},
                         chart={"type": "bar", "label": "client", "series": ["invoiced", "collected"]},
                         note=f"The {sales_figures.TOP} clients invoiced most; the rest are one row.")
        if by == "currency":
            rows = sales_figures.by_currency(period, base)
            return Table("by_currency", "By currency", [
                Column("currency", "Currency"), Column("invoices", "Invoices", "int"),
                Column("invoiced_original", "Invoiced (in the currency)", "money"),
                Column("invoiced", f"Invoiced ({base})", "money"), Column("payments", "Payments", "int"),
                Column("collected_original", "Collected (in the currency)", "money"),
                Column("collected", f"Collected ({base})", "money"), Column("note", "Note")], rows,
                {"currency": "Total", **totals}, note="Amounts as invoiced and paid, and converted.")
        rows = sales_figures.by_item(period, base)
        return Table("by_item", "By item", [
            Column("item", "Item"), Column("lines", "Lines", "int"), Column("quantity", "Quantity", "qty"),
            Column("net", f"Net amount ({base})", "money")], rows,
            chart={"type": "bar", "label": "item", "series": ["net"]},
            note=f"The {sales_figures.TOP} items with the largest net amount on the period's invoices: quantity × "
                 "price less line discount, before tax and document discounts (payments are not per item).")


class LeadsReportView(ReportView):
    uses_grain = False

    def _models(self):
        return (Lead,)

    def build(self, period: Period, choices: dict) -> Report:
        total = lead_figures.totals(period)
        report = Report("leads", "Leads report", period)
        added = ("dateadded", period.start, period.end)
        report.figures = [
            Figure("leads", "Leads added", total["leads"], "int", link=list_url("leads", added)),
            Figure("converted", "Converted", total["converted"], "int"),
            Figure("conversion_rate", "Conversion rate", total["rate"], "percent"),
            Figure("avg_days_to_convert", "Average days to convert", total["avg_days"], "days"),
            Figure("lost", "Lost", total["lost"], "int"),
        ]
        cols = [Column("leads", "Leads", "int"), Column("converted", "Converted", "int"),
                Column("lost", "Lost", "int"), Column("rate", "Conversion rate %", "percent"),
                Column("avg_days", "Average days to convert", "days")]
        sources = lead_figures.by_source(period)
        for r in sources:
            if r["id"] is not None:
                r["_links"] = {"name": list_url("leads", added, source=r["id"])}
        pipelines = lead_figures.by_pipeline(period)
        for r in pipelines:
            if r["id"] is not None:
                r["_links"] = {"name": list_url("leads", added, pipeline=r["id"])}
        total_row = {k: total[k] for k in ("leads", "converted", "lost", "rate", "avg_days")}
        report.tables = [
            Table("by_source", "Conversions by source", [Column("name", "Source"), *cols], sources,
                  {"name": "Total", **total_row},
                  chart={"type": "bar", "label": "name", "series": ["leads", "converted"]}),
            Table("by_pipeline", "Conversions by pipeline", [Column("name", "Pipeline"), *cols], pipelines,
                  {"name": "Total", **total_row},
                  chart={"type": "bar", "label": "name", "series": ["leads", "converted"]}),
        ]
        for f in lead_figures.funnels(period):
            for st in f["stages"]:
                if st["status_id"] is not None:
                    st["_links"] = {"stage": list_url("leads", added, pipeline=f["pipeline_id"], status=st["status_id"])}
            report.tables.append(Table(
                f"funnel_{f['pipeline_id']}", f"Funnel: {f['pipeline']}",
                [Column("stage", "Status"), Column("leads", "Leads at this status", "int"),
                 Column("reached", "At this status or a later one", "int"),
                 Column("share", "% of the first status", "percent")], f["stages"],
                chart={"type": "bar", "label": "stage", "series": ["reached"], "horizontal": True}))
        report.notes = ["Leads added in the period (opportunities, created by converting a lead, are not counted "
                        "twice). Converted: the lead became an opportunity or a customer. Average days to convert: "
                        "from the date added to the date converted, over the converted leads.",
                        "Funnels: the period's leads, junk left out, by their current status in the pipeline's "
                        "status order."]
        return report


class SalesOverviewView(ReportView):
    """Combined KPIs. Shows the pipeline to staff who may view leads and the money to staff who
    may view invoices."""

    def _models(self):
        return (Invoice, Lead)

    def build(self, period: Period, choices: dict) -> Report:
        base = base_currency()
        report = Report("sales-overview", "Sales overview", period, currency=base)
        if self.can_view(Lead):
            self._pipeline(report, base)
        if self.can_view(Invoice):
            self._money(report, period, base)
        return report

    def _pipeline(self, report: Report, base: str) -> None:
        pipe = pipeline_figures()
        link = url_for("weighted_pipeline.index")
        report.figures += [
            Figure("pipeline_value", "Pipeline value", pipe["total"]["value"], link=link,
                   note=f"{pipe['total']['count']} open opportunities"),
            Figure("weighted_forecast", "Weighted forecast", pipe["total"]["weighted"], link=link,
                   note="value × probability"),
        ]
        report.tables.append(Table(
            "forecast", f"Weighted forecast by expected close month ({base})",
            [Column("month", "Close month"), Column("count", "Opportunities", "int"),
             Column("value", "Value", "money"), Column("weighted", "Weighted", "money")],
            [{**m, "_links": {"month": link}} for m in pipe["months"]],
            {"month": "Total", **{k: pipe["total"][k] for k in ("count", "value", "weighted")}},
            chart={"type": "bar", "label": "month", "series": ["value", "weighted"]},
            note="Open opportunities (not won, lost or junk), whatever the period."))

    def _money(self, report: Report, period: Period, base: str) -> None:
        rev = sales_figures.revenue(period, base)
        rows, warnings = sales_figures.outstanding(base)
        report.warnings += rev.warnings + warnings
        due = money(sum((r["due"] for r in rows), Decimal(0)))

        overdue = next(r["due"] for r in rows if r["status"] == InvoiceStatus.OVERDUE.value)
        dso = None
        if rev.invoiced:
            dso = (due / rev.invoiced * period.days).quantize(Decimal("0.1"))
        report.figures += _money_figures(period, rev) + [
            Figure("outstanding", "Outstanding", due, link=url_for(".index", **period.args()) + "#outstanding",
                   note="unpaid, partially paid and overdue invoices, now"),
            Figure("overdue", "Overdue", overdue, link=list_url("invoices", status=InvoiceStatus.OVERDUE.value)),
            Figure("dso", "Days sales outstanding", dso, "days",
                   note=f"DSO = outstanding ÷ invoiced in the period × {period.days} days in the period"),
        ]
        report.tables.append(Table(
            "outstanding", f"Outstanding now, by status ({base})",
            [Column("status", "Status"), Column("invoices", "Invoices", "int"), Column("total", "Invoice totals", "money"),
             Column("paid", "Paid so far", "money"), Column("due", "Outstanding", "money")],
            [{"status": _status_label(r["status"]), **{k: r[k] for k in ("invoices", "total", "paid", "due")},
              "_links": {"status": list_url("invoices", status=r["status"])}} for r in rows],
            {"status": "Total", "invoices": sum(r["invoices"] for r in rows),
             "total": money(sum((r["total"] for r in rows), Decimal(0))),
             "paid": money(sum((r["paid"] for r in rows), Decimal(0))), "due": due}))
        report.tables += _revenue_tables(period, rev, base)
        report.notes.append(f"DSO (days sales outstanding) = outstanding now ÷ invoiced in the period × days in "
                            f"the period ({period.days}). Overdue: invoices with status Overdue.")
