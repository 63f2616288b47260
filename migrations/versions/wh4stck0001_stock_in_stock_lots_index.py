"""stock: index of the lots still in stock; the backorder link from an RFQ to its delivery note

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
    with op.batch_alter_table("tblpur_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("goods_delivery_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_tblpur_request_goods_delivery_id"), ["goods_delivery_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_tblpur_request_goods_delivery_id_tblgoods_delivery"),
                                    "tblgoods_delivery", ["goods_delivery_id"], ["id"], ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("tblpur_request", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_tblpur_request_goods_delivery_id_tblgoods_delivery"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_tblpur_request_goods_delivery_id"))
        batch_op.drop_column("goods_delivery_id")
    op.drop_index("ix_tblinventory_manage_in_stock", table_name="tblinventory_manage")
