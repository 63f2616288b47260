"""unit prices with four decimals

Revision ID: mny9price0001
Revises: job8outbox0001

Unit prices (document lines, catalog items, stock movements) become Numeric(17,4): a price such
as 0.005 per washer is kept as written; amounts stay Numeric(15,2), rounded once by the totals
rule. Downgrading rounds any price with more than 2 decimals (the database's own rounding).
"""
import sqlalchemy as sa
from alembic import op

revision = "mny9price0001"
down_revision = "job8outbox0001"
branch_labels = None
depends_on = None

# (table, column, nullable)
PRICES = (
    ("tblitemable", "rate", False),
    ("tblitems", "rate", False),
    ("tblitems", "purchase_price", True),
    ("tblpur_request_detail", "unit_price", False),
    ("tblpur_estimate_detail", "unit_price", False),
    ("tblpur_order_detail", "unit_price", False),
    ("tblpur_invoice_details", "unit_price", False),
    ("tblinventory_manage", "purchase_price", False),
    ("tblgoods_receipt_detail", "unit_price", False),
    ("tblgoods_delivery_detail", "unit_price", False),
    ("tblgoods_transaction_detail", "purchase_price", True),
    ("tblgoods_transaction_detail", "price", True),
    ("tblwh_packing_list_details", "unit_price", False),
    ("tblwh_order_return_details", "unit_price", False),
    ("tblwh_order_return_details", "purchase_price", False),
)
OLD, NEW = sa.Numeric(15, 2), sa.Numeric(17, 4)


def _alter(old, new):
    tables = {}
    for table, column, nullable in PRICES:
        tables.setdefault(table, []).append((column, nullable))
    for table, cols in tables.items():
        with op.batch_alter_table(table) as batch:  # SQLite rebuilds the table; the others ALTER it
            for column, nullable in cols:
                batch.alter_column(column, type_=new, existing_type=old, existing_nullable=nullable)


def upgrade():
    _alter(OLD, NEW)


def downgrade():
    _alter(NEW, OLD)
