"""the audit trail of the generic doors: tblaudit_log

Revision ID: aud8trail0001
Revises: lgn8sess0001
"""
import sqlalchemy as sa
from alembic import op

revision = "aud8trail0001"
down_revision = "lgn8sess0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tblaudit_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("date", sa.DateTime(), nullable=False),
        sa.Column("staffid", sa.Integer(), sa.ForeignKey("tblstaff.staffid", ondelete="SET NULL"), nullable=True),
        sa.Column("door", sa.String(10), nullable=False),
        sa.Column("operation", sa.String(10), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("row_table", sa.String(64), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.Text(), nullable=False),
    )
    op.create_index("ix_tblaudit_log_date", "tblaudit_log", ["date"])
    op.create_index("ix_tblaudit_log_staffid", "tblaudit_log", ["staffid"])
    op.create_index("ix_tblaudit_log_door", "tblaudit_log", ["door"])
    op.create_index("ix_tblaudit_log_record", "tblaudit_log", ["table_name", "record_id", "id"])


def downgrade():
    op.drop_table("tblaudit_log")
