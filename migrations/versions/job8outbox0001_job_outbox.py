"""job outbox: jobs written in the transaction that asks for them, dispatched after commit

Revision ID: job8outbox0001
Revises: aud8trail0001
"""
import sqlalchemy as sa
from alembic import op

revision = "job8outbox0001"
down_revision = "aud8trail0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tbljob_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("func", sa.String(255), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_tbljob_outbox_pending", "tbljob_outbox", ["dispatched_at", "next_attempt_at"])


def downgrade():
    op.drop_index("ix_tbljob_outbox_pending", table_name="tbljob_outbox")
    op.drop_table("tbljob_outbox")
