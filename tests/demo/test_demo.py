"""The demo data (`flask crm demo-data`): every stage of both workflows, as a user would find it."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm.core.extensions import db
from tests.admin_views.test_admin_urls import DEFERRED, URLS
from tests.conftest import api_token, login


@pytest.fixture
def demo(app, ctx):
    from crm.demo import load

    load()
    db.session.expire_all()


def _statuses(model) -> set:
    return set(db.session.scalars(select(model.status).distinct()))


def test_every_status_of_proposals_sales_orders_and_invoices(demo):
    from crm.sales.models.documents import Estimate, Invoice, Proposal

    assert _statuses(Proposal) == {6, 4, 1, 7, 3, 2, 5}
    assert _statuses(Estimate) == {1, 2, 3, 4, 5}
    assert _statuses(Invoice) == {6, 1, 3, 2, 4, 5}


def _continuous(numbers, option, what) -> None:
    """Numbers 1..n once each, and the series' next number right after them (as the actions leave it)."""
    from crm.core import options

    assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"{what}: {sorted(numbers)}"
    assert options.get(option) == len(numbers) + 1, what


def test_documents_are_numbered_and_the_next_numbers_follow(demo):
    from crm.core.numbering import shown
    from crm.sales.models.documents import Estimate, Invoice, Proposal

    for model, pattern, option in ((Invoice, r"INV-\d{6}", "next_invoice_number"),
                                   (Estimate, r"EST-\d{6}", "next_estimate_number"),
                                   (Proposal, r"PRO-\d{6}", "next_proposal_number")):
        docs = db.session.query(model).all()
        draft = model.__table__.c.status.info["enum"].DRAFT.value
        numbered = [d for d in docs if d.status != draft]
        assert all(re.fullmatch(pattern, d.formatted_number) for d in numbered), model
        _continuous([d.number for d in numbered], option, model.__name__)
        drafts = [d for d in docs if d.status == draft]
        assert drafts and all(d.number is None and d.formatted_number is None for d in drafts)
        assert all(shown(d).endswith("-DRAFT") for d in drafts)


def test_warehouse_and_purchasing_numbers_come_from_their_series(demo):
    from crm.purchasing.models import PurchaseOrder, PurchaseRequest
    from crm.warehouse.models import GoodsDelivery, GoodsReceipt, PackingList, PhysicalInventory

    for model, column, option in ((GoodsReceipt, "goods_receipt_code", "next_goods_receipt_number"),
                                  (GoodsDelivery, "goods_delivery_code", "next_goods_delivery_number"),
                                  (PackingList, "packing_list_number", "next_packing_list_number"),
                                  (PurchaseRequest, "pur_rq_code", "next_pr_number"),
                                  (PurchaseOrder, "pur_order_number", "next_po_number"),
                                  (PhysicalInventory, "code", "next_physical_inventory_number")):
        codes = [getattr(row, column) for row in db.session.query(model)]
        assert codes and all(codes), model.__name__
        _continuous([int(re.search(r"(\d+)$", code).group(1)) for code in codes], option, model.__name__)


def test_invoices_in_ron_and_eur_with_payments_that_explain_their_status(demo):
    from crm.core.totals import compute
    from crm.sales.models.documents import Invoice, InvoicePayment

    invoices = db.session.query(Invoice).all()
    assert {i.currency_rel.name for i in invoices} == {"RON", "EUR"}
    assert all(i.exchange_rate == i.currency_rel.exchange_rate for i in invoices)
    for invoice in invoices:
        assert invoice.total == compute(invoice.items).total > 0
        assert all(line.item_id and line.taxes for line in invoice.items)
        paid = sum((p.amount for p in invoice.payments), Decimal(0))
        if invoice.status == 2:
            assert paid == invoice.total
        elif invoice.status == 3:
            assert 0 < paid < invoice.total
        else:
            assert paid == 0
        if invoice.status == 4:
            assert invoice.duedate < date.today()
    assert db.session.query(InvoicePayment).count() == 2


def test_conversions_leave_their_links(demo):
    from crm.sales.models.clients import Lead
    from crm.sales.models.documents import Contract, Estimate, Proposal

    to_invoice = db.session.query(Proposal).filter(Proposal.status == 3, Proposal.invoice_id.isnot(None)).one()
    assert [(line.description, line.qty) for line in to_invoice.invoice.items] == \
        [(line.description, line.qty) for line in to_invoice.items]
    assert to_invoice.invoice.total == to_invoice.total
    invoiced = db.session.query(Estimate).filter(Estimate.status == 4, Estimate.invoiceid.isnot(None)).all()
    assert invoiced and all(e.invoiced_date for e in invoiced)
    from_proposal = db.session.query(Contract).filter(Contract.proposal_id.isnot(None)).one()
    assert from_proposal.proposal.status == 3
    opportunities = db.session.query(Lead).filter_by(is_opportunity=True).all()
    assert len(opportunities) >= 6
    assert all(o.converted_from_lead and o.opportunity_status and o.estimated_close_date for o in opportunities)
    assert {o.opportunity_status_rel.name for o in opportunities} >= {"Won", "Lost", "Qualification"}


def test_leads_in_both_pipelines_every_source_lost_and_junk(demo):
    from crm.sales.models.clients import Lead, LeadSource, LeadStatus

    leads = db.session.query(Lead).filter_by(is_opportunity=False).all()
    assert len(leads) >= 25
    assert {lead.pipeline_rel.name for lead in leads} == {"Direct sales", "Partners"}
    assert {lead.source for lead in leads} == {s.id for s in db.session.query(LeadSource)}
    assert {lead.status_rel.name for lead in leads} == {s.name for s in db.session.query(LeadStatus)}
    lost = [lead for lead in leads if lead.lost]
    assert len(lost) == 2 and all(lead.lost_reason and lead.last_lead_status for lead in lost)
    assert sum(lead.junk for lead in leads) == 1


def test_stock_balance_equals_the_ledger_and_deliveries_drain_lots_fifo(demo):
    from crm.catalog.models import Item
    from crm.warehouse.models import GoodsDelivery, InventoryBalance, StockTransaction
    from tests.warehouse.warehouse_support import ledger_matches_balances

    ledger_matches_balances()  # every lot equals the sum of its ledger rows, none below zero
    lots = defaultdict(Decimal)  # each row: old_quantity is its lot's quantity before, as crm.warehouse.actions.stock writes
    for move in db.session.query(StockTransaction).order_by(StockTransaction.id):
        key = (move.warehouse_id, move.commodity_id, move.lot_number, move.expiry_date, move.purchase_price)
        assert move.old_quantity == lots[key], f"ledger row {move.id}: old_quantity is not its lot's quantity before"
        lots[key] += move.quantity
    for item in db.session.query(Item).filter_by(without_checking_warehouse=False):
        on_hand = sum((b.inventory_number for b in db.session.query(InventoryBalance).filter_by(commodity_id=item.id)),
                      Decimal(0))
        assert on_hand == sum(m.quantity for m in db.session.query(StockTransaction).filter_by(commodity_id=item.id))
        assert on_hand >= 0
    assert {m.status for m in db.session.query(StockTransaction)} == {1, 2, 3}
    dated = sorted(db.session.query(StockTransaction), key=lambda m: m.id)
    assert [m.date_add for m in dated] == sorted(m.date_add for m in dated)  # posted in the order of their days
    assert min(m.date_add for m in dated).date() < date.today() - timedelta(days=60)

    approved = db.session.query(GoodsDelivery).filter_by(approval=1).one()
    assert approved.flag_export_warehouse == 1
    for line in approved.items:
        moves = db.session.query(StockTransaction).filter_by(status=2, goods_id=line.id) \
            .order_by(StockTransaction.id).all()
        assert -sum(m.quantity for m in moves) == line.quantities
        lot_ids = [db.session.query(InventoryBalance.id).filter_by(
            lot_number=m.lot_number, warehouse_id=m.warehouse_id).scalar() for m in moves]
        assert lot_ids == sorted(lot_ids)  # oldest receipt first
        earlier = db.session.query(InventoryBalance).filter(
            InventoryBalance.commodity_id == line.commodity_code, InventoryBalance.warehouse_id == line.warehouse_id,
            InventoryBalance.id < lot_ids[-1]).all()
        assert all(lot.inventory_number == 0 for lot in earlier)  # drained before the next lot is touched
    assert any("," in line.lot_number.split(",", 2)[-1] for line in approved.items)  # one line took two lots

    blocked = db.session.query(GoodsDelivery).filter_by(approval=0).one()
    assert blocked.flag_export_warehouse == 0
    assert any(line.available_quantity < line.quantities for line in blocked.items)
    assert db.session.query(StockTransaction).filter_by(rel_type="goods_delivery",
                                                        goods_receipt_id=blocked.id).count() == 0


def test_stock_alerts_a_user_would_see(demo):
    from crm.warehouse.models import InventoryBalance, MinimumStock, PackingList

    below = [m for m in db.session.query(MinimumStock) if db.session.query(
        func.coalesce(func.sum(InventoryBalance.inventory_number), 0)).filter_by(
        commodity_id=m.commodity_id).scalar() < m.inventory_number_min]
    assert below, "no item below its minimum"
    soon = db.session.query(InventoryBalance).filter(
        InventoryBalance.inventory_number > 0, InventoryBalance.expiry_date >= date.today(),
        InventoryBalance.expiry_date <= date.today() + timedelta(days=30)).all()
    assert soon, "no lot expiring within 30 days"
    packing = db.session.query(PackingList).one()
    assert packing.delivery_status == "wh_ready_to_deliver" and packing.weight and packing.lenght
    assert packing.delivery_note.approval == 1


def test_purchasing_cycle_for_the_short_sales_order(demo):
    from crm.purchasing.models import PurchaseOrder, PurchaseQuotation, PurchaseRequest, VendorInvoice
    from crm.warehouse.models import GoodsDelivery, GoodsReceipt

    request = db.session.query(PurchaseRequest).one()
    blocked = db.session.query(GoodsDelivery).filter_by(approval=0).one()
    assert request.goods_delivery_id == blocked.id and request.sale_estimate_rel.invoiceid == blocked.invoice_id
    assert request.items
    quotes = db.session.query(PurchaseQuotation).filter_by(pur_request=request.id).all()
    assert sorted(q.status for q in quotes) == [2, 3]
    pending = db.session.query(PurchaseOrder).filter_by(delivery_status=0).one()
    assert pending.status == 2 and pending.estimate_rel.status == 2 and pending.pur_request == request.id
    delivered = db.session.query(PurchaseOrder).filter_by(delivery_status=1).one()
    receipt = db.session.query(GoodsReceipt).filter_by(pr_order_id=delivered.id).one()
    assert receipt.approval == 1
    assert all(line.wh_quantity_received == line.quantity for line in delivered.items)
    assert {v.payment_status for v in db.session.query(VendorInvoice)} == {"unpaid", "partially_paid"}
    partial = db.session.query(VendorInvoice).filter_by(payment_status="partially_paid").one()
    assert 0 < sum(p.amount for p in partial.payments) < partial.total


def test_admin_screens_show_the_demo(app, admin_client):
    from crm.demo import load

    with app.app_context():
        load()
    html = admin_client.get("/admin/purchase/purchase_order?delivery_status=0").get_data(as_text=True)
    assert "#PO000002" in html and "#PO000001" not in html
    assert "INV-000005" in admin_client.get("/admin/invoices/list_invoices?status=1").get_data(as_text=True)
    for url in URLS:
        if url.split("?")[0] in DEFERRED:
            continue
        resp = admin_client.get(url, follow_redirects=True)
        assert resp.status_code == 200 and "Traceback" not in resp.get_data(as_text=True), url


def test_one_demo_staff_member_per_role_signs_in_with_the_demo_password(app):
    from crm.core.models.settings import Staff
    from crm.demo import STAFF, load

    with app.app_context():
        load()
        roles = {s.email: s.role_rel.name for s in db.session.query(Staff).filter(Staff.role.isnot(None))}
    assert roles == {email: role for role, email, *_ in STAFF}
    client = app.test_client()
    for email in roles:
        api_token(client, email, "demo1234")


def test_demo_staff_use_the_login_form(app):
    from crm.demo import load

    with app.app_context():
        load()
    client = app.test_client()
    login(client, "sdr@crmconnect.test", "demo1234")
    assert client.get("/admin/leads").status_code == 200
    assert client.get("/admin/warehouse/manage_delivery").status_code == 403


def _row_counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in db.metadata.sorted_tables}


def test_cli_loads_once_and_a_second_run_changes_nothing(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["crm", "demo-data"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = _row_counts()
    assert counts["tblclients"] >= 8 and counts["tblleads"] >= 25 and counts["tblitems"] >= 12
    second = runner.invoke(args=["crm", "demo-data"])
    assert second.exit_code == 0, second.output
    assert "Demo data already loaded" in second.output
    with app.app_context():
        assert _row_counts() == counts


def test_the_demo_reports_read_its_finished_months_and_agree_with_the_invoices(app, admin_client):
    from crm.demo import load
    from crm.sales.models.documents import Invoice
    from tests.reports.test_report_rollup import assert_breakdowns_agree, built_months

    with app.app_context():
        load()
        first = min(db.session.scalars(select(Invoice.date)))
        assert built_months() and min(built_months()) == first.replace(day=1)
        assert max(built_months()) < date.today().replace(day=1)
        assert_breakdowns_agree(admin_client, first, date.today())


def _shape(move) -> dict:
    """What a ledger row says, as a person reading the stock movements would compare two of them."""
    columns = ("rel_type", "status", "goods_receipt_id", "goods_id", "commodity_id", "warehouse_id", "lot_number",
               "expiry_date", "purchase_price", "price")
    return {c: getattr(move, c) is not None for c in columns} | {"sign": move.quantity > 0}


def test_demo_ledger_rows_read_like_those_the_approve_actions_write(demo):
    """A receipt approved now by a person writes a ledger row of the very shape the demo's have,
    and it continues each lot's balance from where the demo left it."""
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.warehouse.models import GoodsReceipt, InventoryBalance, StockTransaction
    from tests.warehouse.warehouse_support import ledger_matches_balances, receipt

    demo_row = db.session.query(StockTransaction).filter_by(rel_type="goods_receipt").order_by(
        StockTransaction.id).first()
    lot = db.session.query(InventoryBalance).filter_by(lot_number=demo_row.lot_number).one()
    warehouse = db.session.query(Staff).filter_by(email="warehouse@crmconnect.test").one()
    new_id = receipt(lot.warehouse_id, [(lot.commodity_id, 3, lot.lot_number, lot.expiry_date, lot.purchase_price)])
    run(GoodsReceipt, new_id, "approve", warehouse)
    db.session.expire_all()
    real_row = db.session.query(StockTransaction).filter_by(rel_type="goods_receipt",
                                                            goods_receipt_id=new_id).one()
    assert _shape(real_row) == _shape(demo_row)
    assert real_row.old_quantity == lot.inventory_number - 3  # the lot as the demo left it
    assert (real_row.lot_number, real_row.expiry_date) == (demo_row.lot_number, demo_row.expiry_date)
    ledger_matches_balances()

    delivered = db.session.query(StockTransaction).filter_by(rel_type="goods_delivery").all()
    assert delivered and all(m.status == 2 and m.quantity < 0 and m.price and m.goods_id for m in delivered)


def test_each_invoice_is_paid_what_its_payments_say_and_its_status_follows(demo):
    from crm.sales.actions.invoices import amount_paid, compute_status
    from crm.sales.models.documents import Invoice, InvoicePayment

    for invoice in db.session.query(Invoice):
        paid = sum((p.amount for p in db.session.query(InvoicePayment).filter_by(invoiceid=invoice.id)), Decimal(0))
        assert amount_paid(invoice.id) == paid
        assert compute_status(invoice.status, invoice.total, paid, invoice.duedate, date.today()) == invoice.status
    assert {p.date for p in db.session.query(InvoicePayment)} <= {date.today() - timedelta(days=n) for n in range(60)}


def test_conversions_and_state_changes_leave_their_activity_lines(demo):
    from crm.core.models.records import ActivityLog
    from crm.sales.models.clients import LeadActivityLog, SalesActivity
    from crm.sales.models.documents import Estimate, Invoice, Proposal

    converted = db.session.query(Proposal).filter(Proposal.estimate_id.isnot(None)).one()
    lines = [a.description for a in db.session.query(SalesActivity).filter_by(rel_type="proposal", rel_id=converted.id)]
    assert any(line.startswith("Converted to sales order") for line in lines), lines
    for estimate in db.session.query(Estimate).filter(Estimate.invoiceid.isnot(None)):
        lines = [a.description for a in db.session.query(SalesActivity).filter_by(rel_type="estimate",
                                                                                    rel_id=estimate.id)]
        assert f"Converted to invoice {estimate.invoice.formatted_number}" in lines
    paid = db.session.query(Invoice).filter_by(status=2).one()
    assert any("Payment of" in a.description for a in db.session.query(SalesActivity).filter_by(
        rel_type="invoice", rel_id=paid.id))
    assert db.session.query(ActivityLog).filter(ActivityLog.description.like("Convert to invoice:%")).count() >= 2
    assert db.session.query(LeadActivityLog).filter(LeadActivityLog.description.like("Converted to opportunity%")) \
        .count() == 6
    logged = [a.date for a in db.session.query(ActivityLog)]
    assert min(logged).date() < date.today() - timedelta(days=30)  # dated on the demo's days, not all today
