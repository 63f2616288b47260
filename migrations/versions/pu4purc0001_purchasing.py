"""purchasing: an item's preferred vendor (replenishment), a quotation's promised delivery date

Revision ID: pu4purc0001
Revises: m3merge0001
Create Date: 2026-11-23 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'pu4purc0001'
down_revision = 'm3merge0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tblitems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_vendor', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tblitems_preferred_vendor'), ['preferred_vendor'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tblitems_preferred_vendor_tblpur_vendor'), 'tblpur_vendor',
                                    ['preferred_vendor'], ['userid'], ondelete='SET NULL')
    with op.batch_alter_table('tblpur_estimates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_date', sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tblpur_estimates_delivery_date'), ['delivery_date'], unique=False)


def downgrade():
    with op.batch_alter_table('tblpur_estimates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tblpur_estimates_delivery_date'))
        batch_op.drop_column('delivery_date')
    with op.batch_alter_table('tblitems', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tblitems_preferred_vendor_tblpur_vendor'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tblitems_preferred_vendor'))
        batch_op.drop_column('preferred_vendor')
