"""The weighted pipeline: open opportunities' value × probability, by status and by close month."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from crm.core.extensions import db


def test_weighted_pipeline_counts_only_open_opportunities(app, admin_client):
    from crm.sales.models.clients import Lead, OpportunityStatus

    with app.app_context():
        qualify = OpportunityStatus(name="Qualification", statusorder=1)
        negotiate = OpportunityStatus(name="Negotiation", statusorder=2)
        won = OpportunityStatus(name="Won", statusorder=3, is_won=True)
        db.session.add_all([qualify, negotiate, won])
        db.session.flush()

        def opp(name, status, value, probability, close, **kw):
            db.session.add(Lead(name=name, is_opportunity=True, opportunity_status=status.id,
                                lead_value=Decimal(value), probability=Decimal(probability),
                                estimated_close_date=close, **kw))

        opp("A", qualify, "10000.00", "20", date(2026, 12, 10))   # weighted 2000.00
        opp("B", qualify, "3333.33", "15", date(2027, 1, 5))      # weighted 500.00 (499.9995)
        opp("C", negotiate, "8000.00", "75", date(2026, 12, 20))  # weighted 6000.00
        opp("Won deal", won, "50000.00", "100", date(2026, 11, 1))
        opp("Lost deal", negotiate, "7000.00", "50", date(2026, 12, 1), lost=True)
        opp("Junk deal", negotiate, "7000.00", "50", date(2026, 12, 1), junk=True)
        db.session.add(Lead(name="Plain lead", lead_value=Decimal("9999.00"), probability=Decimal("90")))
        db.session.commit()

    html = admin_client.get("/admin/opportunities/pipeline/").get_data(as_text=True)
    assert "<strong>3</strong> open opportunities" in html
    assert "value <strong>21333.33 RON</strong>" in html and "weighted <strong>8500.00 RON</strong>" in html
    by_status = html.split('data-testid="by-status"')[1].split("</table>")[0]
    assert "Qualification</a>" in by_status and "13333.33" in by_status and "2500.00" in by_status
    assert "Negotiation</a>" in by_status and "6000.00" in by_status and "Won" not in by_status
    by_month = html.split('data-testid="by-month"')[1].split("</table>")[0]
    assert by_month.index("2026-12") < by_month.index("2027-01")
    assert "18000.00" in by_month and "8000.00" in by_month and "500.00" in by_month
    # each status links to the opportunities behind it
    link = re.search(r'href="([^"]*opportunity_status=\d+[^"]*)">Qualification', html).group(1)
    listing = admin_client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "10,000.00" in listing and "3,333.33" in listing and "8,000.00" not in listing
