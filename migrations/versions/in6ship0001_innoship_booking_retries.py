"""Innoship: booking retries on tblwh_omni_shipments (attempts, next_attempt_at)

Revision ID: in6ship0001
Revises: m3merge0001
"""
from alembic import op
import sqlalchemy as sa

revision = "in6ship0001"
down_revision = "m3merge0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tblwh_omni_shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_tblwh_omni_shipments_next_attempt_at", ["next_attempt_at"], unique=False)


def downgrade():
    with op.batch_alter_table("tblwh_omni_shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_tblwh_omni_shipments_next_attempt_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
