"""The report charts in a real browser: Chart.js draws the JSON endpoint's figures."""
from __future__ import annotations

import pytest

from tests.e2e.test_e2e_browser import live_url, page, sign_in  # noqa: F401 (fixtures)
from tests.reports.test_reports import YEAR, build_leads, build_sales

pytestmark = pytest.mark.e2e


def _chart(page, key):  # noqa: F811
    page.wait_for_function(f"() => window.Chart && Chart.getChart(document.querySelector('canvas[data-chart=\"{key}\"]'))")
    return page.evaluate(f"""() => {{
        const c = Chart.getChart(document.querySelector('canvas[data-chart="{key}"]'));
        return {{labels: c.data.labels, series: c.data.datasets.map(d => [d.label, d.data])}};
    }}""")


def test_report_charts_draw_the_figures(app, live_url, page):  # noqa: F811
    from crm.core.extensions import db

    with app.app_context():
        build_sales()
        build_leads()
        db.session.commit()
    sign_in(page, live_url)
    page.goto(f"{live_url}/admin/reports/sales/?{YEAR}&group=month")
    assert _chart(page, "by_period") == {
        "labels": ["2026-01", "2026-02", "2026-03"],
        "series": [["Invoiced", [1000, 1497.5, 300]], ["Collected", [1777, 0, 500]]]}
    page.goto(f"{live_url}/admin/reports/leads/?{YEAR}")
    assert _chart(page, "by_source") == {"labels": ["Web", "Referral"],
                                         "series": [["Leads", [3, 2]], ["Converted", [1, 1]]]}
