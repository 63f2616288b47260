"""stock: index of the lots still in stock, per warehouse and item in receipt order

Revision ID: wh4stck0001
Revises: m3merge0001
Create Date: 2026-11-23 18:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = "wh4stck0001"
down_revision = "m3merge0001"
branch_labels = None
depends_on = None


def upgrade():
    # Partial where the database has partial indexes (PostgreSQL, SQLite); plain on MariaDB.
    op.create_index("ix_tblinventory_manage_in_stock", "tblinventory_manage", ["warehouse_id", "commodity_id", "id"],
                    unique=False, postgresql_where=sa.text("inventory_number > 0"),
                    sqlite_where=sa.text("inventory_number > 0"))


def downgrade():
    op.drop_index("ix_tblinventory_manage_in_stock", table_name="tblinventory_manage")
