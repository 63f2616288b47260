"""goals and the home page: indexes for their aggregates (leads by assignee and date, converted
leads, sales orders invoiced, a sale agent's invoices by date, covering status, total and id)

Revision ID: db6goal0001
Revises: m4merge0001
Create Date: 2026-11-23 21:30:00

"""
from alembic import op


revision = "db6goal0001"
down_revision = "m4merge0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_tblleads_assigned_dateadded", "tblleads", ["assigned", "dateadded"], unique=False)
    op.create_index("ix_tblleads_date_converted", "tblleads", ["date_converted"], unique=False)
    op.create_index("ix_tblestimates_invoiced_date", "tblestimates", ["invoiced_date"], unique=False)
    op.create_index("ix_tblinvoices_sale_agent_date", "tblinvoices", ["sale_agent", "date", "status", "total", "id"],
                    unique=False)


def downgrade():
    op.drop_index("ix_tblinvoices_sale_agent_date", table_name="tblinvoices")
    op.drop_index("ix_tblestimates_invoiced_date", table_name="tblestimates")
    op.drop_index("ix_tblleads_date_converted", table_name="tblleads")
    op.drop_index("ix_tblleads_assigned_dateadded", table_name="tblleads")
