"""Lead → Cash once in a real browser: log in, convert, send, accept in the portal, convert, get paid."""
from __future__ import annotations

from decimal import Decimal

import pytest

from crm.core.extensions import db
from tests.e2e.test_e2e_browser import live_url, page, row_action, sign_in  # noqa: F401  (browser fixtures)

pytestmark = pytest.mark.e2e


@pytest.fixture
def prospect(app, monkeypatch, tmp_path):
    from crm.catalog.models import Currency, PaymentMode
    from crm.sales.models.clients import Lead, LeadSource, LeadStatus, Pipeline

    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # signatures, outbox attachments
    monkeypatch.delenv("SMTP_URL", raising=False)  # the email waits in the outbox
    with app.app_context():
        pipeline = Pipeline(name="Sales", isdefault=True)
        db.session.add_all([pipeline, Currency(symbol="lei", name="RON", isdefault=True),
                            PaymentMode(name="Bank transfer", selected_by_default=True), LeadSource(name="Web")])
        db.session.flush()
        status = LeadStatus(name="New", pipeline=pipeline.id, isdefault=True, statusorder=1)
        db.session.add(status)
        db.session.flush()
        lead = Lead(name="Elena Marin", company="Marin Logistic SRL", email="elena@marin.ro", status=status.id,
                    lead_value=Decimal("2500.00"))
        db.session.add(lead)
        db.session.commit()
        return lead.id


def press(page, row_text: str, action: str) -> str:
    """Click a row's action button in the grid; returns the message shown."""
    row_action(page, f"tr:has-text('{row_text}')", action)
    page.wait_for_selector(".alert")
    return page.inner_text(".alert")


def sign(page) -> None:
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 60)
    page.mouse.down()
    for dx, dy in ((70, 30), (130, 90), (200, 40), (260, 80)):
        page.mouse.move(box["x"] + dx, box["y"] + dy, steps=4)
    page.mouse.up()


def test_lead_to_cash_in_the_browser(app, live_url, page, prospect):  # noqa: F811
    from crm.core.models.messaging import EmailOutbox
    from crm.sales.models.clients import Lead
    from crm.sales.models.documents import Invoice, Proposal

    page.on("dialog", lambda dialog: dialog.accept())  # confirmations of the row actions
    sign_in(page, live_url)

    page.goto(f"{live_url}/admin/leads/")
    assert "Opportunity #" in press(page, "Elena Marin", "convert_to_opportunity")
    page.goto(f"{live_url}/admin/opportunities/")
    assert "Proposal PRO-" in press(page, "Elena Marin", "create_proposal")

    page.goto(f"{live_url}/admin/proposals/")
    assert "elena@marin.ro" in press(page, "Marin Logistic SRL", "send")
    with app.app_context():
        proposal = db.session.query(Proposal).one()
        assert proposal.status == 4  # Sent
        assert db.session.query(EmailOutbox).filter_by(to_email="elena@marin.ro").count() == 1
        portal = f"/portal/proposal/{proposal.id}/{proposal.hash}"

    # the client, in the portal: opening it marks it Reviewed; accepting needs a signature
    page.goto(live_url + portal)
    sign(page)
    page.fill("#firstname", "Elena")
    page.fill("#lastname", "Marin")
    page.fill("#email", "elena@marin.ro")
    page.click("[data-testid=accept]")
    page.wait_for_selector("[data-testid=flash]")
    assert "Accepted" in page.inner_text("[data-testid=status]")

    page.goto(f"{live_url}/admin/proposals/")
    assert "Invoice INV-" in press(page, "Marin Logistic SRL", "convert_to_invoice")
    with app.app_context():
        invoice = db.session.query(Invoice).one()
        assert invoice.total == Decimal("2500.00")
        assert db.session.query(Lead).filter_by(name="Elena Marin", is_opportunity=False).one().client_id

    page.goto(f"{live_url}/admin/invoices/")
    row_action(page, "tr:has-text('Marin Logistic SRL')", "record_payment")
    page.wait_for_selector("input[name=amount]")
    page.fill("input[name=amount]", "1000")
    page.click("button:has-text(\"Record payment\")")
    assert "Partially paid, 1,500.00 RON left to pay" in page.inner_text(".alert")
    row_action(page, "tr:has-text('Marin Logistic SRL')", "record_payment")
    page.wait_for_selector("input[name=amount]")
    page.fill("input[name=amount]", "1500")
    page.click("button:has-text(\"Record payment\")")
    with app.app_context():
        invoice = db.session.query(Invoice).one()
        assert invoice.status == 2 and invoice.formatted_number  # paid, and numbered on the way
    assert f"recorded on {invoice.formatted_number}; Paid" in page.inner_text(".alert")
