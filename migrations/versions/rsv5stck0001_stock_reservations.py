"""stock reservations of accepted sales orders (tblstock_reservations)

Revision ID: rsv5stck0001
Revises: m4merge0001
Create Date: 2026-11-23 21:15:33

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'rsv5stck0001'
down_revision = 'm4merge0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tblstock_reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('estimate_id', sa.Integer(), nullable=False),
    sa.Column('commodity_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=15, scale=3), nullable=False),
    sa.Column('delivered', sa.Numeric(precision=15, scale=3), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('date_reserved', sa.DateTime(), nullable=False),
    sa.Column('date_closed', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['commodity_id'], ['tblitems.id'], name=op.f('fk_tblstock_reservations_commodity_id_tblitems'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['estimate_id'], ['tblestimates.id'], name=op.f('fk_tblstock_reservations_estimate_id_tblestimates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['tblwarehouse.warehouse_id'], name=op.f('fk_tblstock_reservations_warehouse_id_tblwarehouse'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblstock_reservations'))
    )
    with op.batch_alter_table('tblstock_reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblstock_reservations_commodity_id'), ['commodity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblstock_reservations_estimate_id'), ['estimate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblstock_reservations_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblstock_reservations_warehouse_id'), ['warehouse_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblstock_reservations_warehouse_id_commodity_id_status'), ['warehouse_id', 'commodity_id', 'status'], unique=False)



def downgrade():
    with op.batch_alter_table('tblstock_reservations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tblstock_reservations_warehouse_id_commodity_id_status'))
        batch_op.drop_index(batch_op.f('ix_tblstock_reservations_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_tblstock_reservations_status'))
        batch_op.drop_index(batch_op.f('ix_tblstock_reservations_estimate_id'))
        batch_op.drop_index(batch_op.f('ix_tblstock_reservations_commodity_id'))

    op.drop_table('tblstock_reservations')
