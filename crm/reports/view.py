"""The admin view of a report: the page, its JSON (``/data``) and its exports (``/export``).

A subclass names the tables a person must be allowed to view (``_models``) and builds its
:class:`~crm.reports.table.Report` from a :class:`~crm.reports.period.Period` in ``build``. The
three endpoints render that one object, with the same query string."""
from __future__ import annotations

from flask import abort, jsonify, request, url_for
from flask_admin import BaseView, expose
from flask_login import current_user

from crm.admin_views.access import StaffOnly
from crm.core.permissions import can, can_table
from crm.reports import export
from crm.reports.period import GRAINS, PRESETS, Period, PeriodError
from crm.reports.table import shown, to_json


class ReportView(StaffOnly, BaseView):
    template = "admin/report.html"
    default_grain = "month"
    uses_grain = True  # the page offers the day/week/month/quarter/year control
    tabs: dict = {}  # ?by=<key>: label, when the report shows one breakdown at a time

    def can_view(self, model) -> bool:
        """Reports show company figures: ``reports.view`` and view all of the table (crm/core/permissions.py)."""
        return current_user.is_authenticated and can(current_user, "reports.view") \
            and can_table(current_user, model, "view_all")

    def is_accessible(self):
        return current_user.is_authenticated and any(self.can_view(m) for m in self._models())

    def _models(self) -> tuple:
        """The tables behind the report: the viewer needs "view" on one of them (build hides the rest)."""
        return ()

    def build(self, period: Period, choices: dict):
        raise NotImplementedError

    def choices(self) -> dict:
        """The report's own query-string choices besides the period (validated; PeriodError if not)."""
        return {}

    def _period(self) -> Period:
        return Period.from_args(request.args, default_grain=self.default_grain)

    def _read(self):
        period = self._period()
        return period, self.choices()

    @expose("/")
    def index(self):
        try:
            period, choices = self._read()
        except PeriodError as e:
            return self.render(self.template, report=None, error=e.message, field=e.field, view=self,
                               presets=PRESETS, grains=GRAINS, args=request.args), 400
        report = self.build(period, choices)
        args = period.args(**choices)
        return self.render(self.template, report=report, error=None, view=self, presets=PRESETS, grains=GRAINS,
                           shown=shown, args=request.args, period=period, choices=choices,
                           data_url=url_for(".data", **args),
                           csv_url=url_for(".export_file", format="csv", **args),
                           xlsx_url=url_for(".export_file", format="xlsx", **args))

    @expose("/data")
    def data(self):
        try:
            period, choices = self._read()
        except PeriodError as e:
            return jsonify({"error": e.message, "field": e.field}), 400
        return jsonify(to_json(self.build(period, choices)))

    @expose("/export")
    def export_file(self):
        fmt = request.args.get("format", "csv")
        if fmt not in ("csv", "xlsx"):
            abort(400, "format must be csv or xlsx.")
        try:
            period, choices = self._read()
        except PeriodError as e:
            abort(400, e.message)
        report = self.build(period, choices)
        name = f"{report.key}-{period.start.isoformat()}-{period.end.isoformat()}"
        return export.csv_response(report, name) if fmt == "csv" else export.xlsx_response(report, name)
