"""monthly roll-ups of the client and item report tables (a cache of finished months)

Revision ID: rlm7month0001
Revises: rlp6rept0001

The tables start empty: until the job build_report_months (or `crm reports-rebuild`) fills them,
reports read the daily roll-ups, with the same figures.
"""
import sqlalchemy as sa
from alembic import op

revision = "rlm7month0001"
down_revision = "rlp6rept0001"
branch_labels = None
depends_on = None

MONEY = ("tblreport_invoice_client_month", "tblreport_payment_client_month")


def upgrade():
    op.create_table(
        "tblreport_month",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.UniqueConstraint("month", name="uq_tblreport_month_month"),
    )
    for name in MONEY:
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("currency", sa.Integer(), nullable=True),
            sa.Column("rate", sa.Numeric(15, 6), nullable=True),
            sa.Column("status", sa.Integer(), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.Column("amount", sa.Numeric(20, 2), nullable=False),
            sa.Column("clientid", sa.Integer(), nullable=True),
        )
        op.create_index(f"ix_{name}_month", name, ["month", "status", "clientid", "currency", "rate", "count",
                                                   "amount"])
        op.create_index(f"ix_{name}_status", name, ["status"])
    op.create_index("ix_tblreport_payment_client_month_client", "tblreport_payment_client_month",
                    ["clientid", "month", "currency", "rate", "count", "amount"])
    op.create_table(
        "tblreport_item_month",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("currency", sa.Integer(), nullable=True),
        sa.Column("rate", sa.Numeric(15, 6), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(255), nullable=True),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(20, 3), nullable=False),
        sa.Column("net", sa.Numeric(38, 10), nullable=False),
    )
    op.create_index("ix_tblreport_item_month_month", "tblreport_item_month",
                    ["month", "item_id", "text", "currency", "rate", "lines", "quantity", "net"])


def downgrade():
    for name in ("tblreport_item_month", *MONEY, "tblreport_month"):
        op.drop_table(name)
