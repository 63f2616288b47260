"""daily roll-ups of invoices and payments for the sales reports, filled from existing data

Revision ID: rlp6rept0001
Revises: m5merge0001
"""
import sqlalchemy as sa
from alembic import op

revision = "rlp6rept0001"
down_revision = "m5merge0001"
branch_labels = None
depends_on = None

TABLES = {"tblreport_invoice_day": "sale_agent", "tblreport_invoice_client_day": "clientid",
          "tblreport_payment_day": "sale_agent", "tblreport_payment_client_day": "clientid"}


def upgrade():
    for name, key in TABLES.items():
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("currency", sa.Integer(), nullable=True),
            sa.Column("rate", sa.Numeric(15, 6), nullable=True),
            sa.Column("status", sa.Integer(), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.Column("amount", sa.Numeric(20, 2), nullable=False),
            sa.Column(key, sa.Integer(), nullable=True),
        )
        op.create_index(f"ix_{name}_day", name, ["day", "status", key, "currency", "rate", "count", "amount"])
        op.create_index(f"ix_{name}_status", name, ["status"])
    op.create_table(
        "tblreport_item_day",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.Integer(), nullable=True),
        sa.Column("rate", sa.Numeric(15, 6), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(255), nullable=True),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(20, 3), nullable=False),
        sa.Column("net", sa.Numeric(38, 10), nullable=False),
    )
    op.create_index("ix_tblreport_item_day_day", "tblreport_item_day",
                    ["day", "item_id", "text", "currency", "rate", "lines", "quantity", "net"])
    op.create_index("ix_tblreport_payment_client_day_client", "tblreport_payment_client_day",
                    ["clientid", "day", "currency", "rate", "count", "amount"])
    _fill()


def _fill():
    """The roll-ups of the existing invoices and payments (as crm/reports/rollup.py computes them)."""
    inv = sa.table("tblinvoices", *(sa.column(c) for c in (
        "id", "date", "currency", "exchange_rate", "status", "total", "sale_agent", "clientid")))
    pay = sa.table("tblinvoicepaymentrecords", *(sa.column(c) for c in ("id", "invoiceid", "date", "amount")))
    for name, key in TABLES.items():
        rollup = sa.table(name, *(sa.column(c) for c in ("day", "currency", "rate", "status", key, "count", "amount")))
        if "invoice" in name:
            day, amount, counted, src = inv.c.date, inv.c.total, inv.c.id, inv
        else:
            day, amount, counted = pay.c.date, pay.c.amount, pay.c.id
            src = pay.join(inv, inv.c.id == pay.c.invoiceid)
        groups = (day, inv.c.currency, sa.func.nullif(inv.c.exchange_rate, 0), inv.c.status, inv.c[key])
        q = sa.select(*groups, sa.func.count(counted), sa.func.sum(amount)).select_from(src).group_by(*groups)
        op.execute(sa.insert(rollup).from_select(list(rollup.c), q))
    line = sa.table("tblitemable", *(sa.column(c) for c in (
        "id", "rel_id", "rel_type", "description", "qty", "rate", "discount_percent", "item_id", "is_optional",
        "is_selected")))
    net = line.c.qty * line.c.rate * (100 - sa.func.coalesce(line.c.discount_percent, 0)) / 100
    text = sa.case((line.c.item_id.is_(None), line.c.description), else_=None)
    groups = (inv.c.date, inv.c.currency, sa.func.nullif(inv.c.exchange_rate, 0), line.c.item_id, text)
    q = (sa.select(*groups, sa.func.count(line.c.id), sa.func.sum(line.c.qty), sa.func.sum(net))
         .select_from(line.join(inv, (inv.c.id == line.c.rel_id) & (line.c.rel_type == "invoice")))
         .where(inv.c.status.in_((1, 2, 3, 4)),
                sa.or_(line.c.is_optional == sa.false(), line.c.is_selected == sa.true()))
         .group_by(*groups))
    items = sa.table("tblreport_item_day", *(sa.column(c) for c in (
        "day", "currency", "rate", "item_id", "text", "lines", "quantity", "net")))
    op.execute(sa.insert(items).from_select(list(items.c), q))


def downgrade():
    op.drop_index("ix_tblreport_item_day_day", table_name="tblreport_item_day")
    op.drop_table("tblreport_item_day")
    op.drop_index("ix_tblreport_payment_client_day_client", table_name="tblreport_payment_client_day")
    for name in TABLES:
        op.drop_index(f"ix_{name}_day", table_name=name)
        op.drop_index(f"ix_{name}_status", table_name=name)
        op.drop_table(name)
