"""saved grid views per staff member

Revision ID: svd1view0001
Revises: cmp9prof0001

A staff member saves a grid's filters, sort and search under a name; a shared one shows on that grid
for every colleague.
"""
import sqlalchemy as sa
from alembic import op

revision = "svd1view0001"
down_revision = "cmp9prof0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tblsaved_views",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("tblstaff.staffid", ondelete="CASCADE"), nullable=False),
        sa.Column("grid", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_tblsaved_views_staff_id", "tblsaved_views", ["staff_id"])
    op.create_index("ix_tblsaved_views_grid", "tblsaved_views", ["grid"])


def downgrade():
    op.drop_index("ix_tblsaved_views_grid", table_name="tblsaved_views")
    op.drop_index("ix_tblsaved_views_staff_id", table_name="tblsaved_views")
    op.drop_table("tblsaved_views")
