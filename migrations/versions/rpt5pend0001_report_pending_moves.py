"""report roll-up moves not yet folded: tblreport_pending

Revision ID: rpt5pend0001
Revises: srch3fts0001

A commit writes what it moves in the daily roll-ups as rows of tblreport_pending (one INSERT) instead
of reading, locking and updating the roll-up rows; a job folds them in, and the reports read both.
"""
import sqlalchemy as sa
from alembic import op

revision = "rpt5pend0001"
down_revision = "srch3fts0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tblreport_pending",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rollup", sa.String(40), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("currency", sa.Integer(), nullable=True),
        sa.Column("rate", sa.Numeric(15, 6), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("sale_agent", sa.Integer(), nullable=True),
        sa.Column("clientid", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(255), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(20, 2), nullable=True),
        sa.Column("lines", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Numeric(20, 3), nullable=True),
        sa.Column("net", sa.Numeric(38, 10), nullable=True),
    )
    op.create_index("ix_tblreport_pending_rollup_day", "tblreport_pending", ["rollup", "day"])
    op.create_index("ix_tblreport_pending_status", "tblreport_pending", ["status"])


def downgrade():
    op.drop_index("ix_tblreport_pending_status", table_name="tblreport_pending")
    op.drop_index("ix_tblreport_pending_rollup_day", table_name="tblreport_pending")
    op.drop_table("tblreport_pending")
