"""e-Factura: invoice upload state, line discounts, vendor bills received from ANAF

Revision ID: ef5fact0001
Revises: m3merge0001
Create Date: 2026-11-23 18:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ef5fact0001'
down_revision = 'm3merge0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tblinvoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('efactura_status', sa.String(length=40), server_default='not_sent',
                                      nullable=False))
        batch_op.add_column(sa.Column('efactura_upload_index', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('efactura_download_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('efactura_sent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('efactura_checked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('efactura_next_check', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('efactura_check_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('efactura_message', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('efactura_archive', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('efactura_billing_reference', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_tblinvoices_efactura_status'), ['efactura_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblinvoices_efactura_upload_index'), ['efactura_upload_index'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_tblinvoices_efactura_next_check'), ['efactura_next_check'],
                              unique=False)

    with op.batch_alter_table('tblitemable', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_percent', sa.Numeric(precision=7, scale=2), server_default='0',
                                      nullable=False))

    with op.batch_alter_table('tblpur_invoices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('efactura_download_id', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_tblpur_invoices_efactura_download_id'),
                                          ['efactura_download_id'])


def downgrade():
    with op.batch_alter_table('tblpur_invoices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_tblpur_invoices_efactura_download_id'), type_='unique')
        batch_op.drop_column('efactura_download_id')

    with op.batch_alter_table('tblitemable', schema=None) as batch_op:
        batch_op.drop_column('discount_percent')

    with op.batch_alter_table('tblinvoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tblinvoices_efactura_next_check'))
        batch_op.drop_index(batch_op.f('ix_tblinvoices_efactura_upload_index'))
        batch_op.drop_index(batch_op.f('ix_tblinvoices_efactura_status'))
        batch_op.drop_column('efactura_billing_reference')
        batch_op.drop_column('efactura_archive')
        batch_op.drop_column('efactura_message')
        batch_op.drop_column('efactura_check_count')
        batch_op.drop_column('efactura_next_check')
        batch_op.drop_column('efactura_checked_at')
        batch_op.drop_column('efactura_sent_at')
        batch_op.drop_column('efactura_download_id')
        batch_op.drop_column('efactura_upload_index')
        batch_op.drop_column('efactura_status')
