"""advance payments (tblclient_advance_payments, tblinvoicepaymentrecords.advance_payment_id) and payment gateway events

Revision ID: py3paym0001
Revises: m3merge0001
Create Date: 2026-11-23 18:00:50.274568

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'py3paym0001'
down_revision = 'm3merge0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tblclient_advance_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clientid', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('currency', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('paymentmode', sa.Integer(), nullable=True),
    sa.Column('transactionid', sa.String(length=191), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('staffid', sa.Integer(), nullable=True),
    sa.Column('daterecorded', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clientid'], ['tblclients.userid'], name=op.f('fk_tblclient_advance_payments_clientid_tblclients'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['currency'], ['tblcurrencies.id'], name=op.f('fk_tblclient_advance_payments_currency_tblcurrencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['paymentmode'], ['tblpayment_modes.id'], name=op.f('fk_tblclient_advance_payments_paymentmode_tblpayment_modes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staffid'], ['tblstaff.staffid'], name=op.f('fk_tblclient_advance_payments_staffid_tblstaff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblclient_advance_payments'))
    )
    with op.batch_alter_table('tblclient_advance_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblclient_advance_payments_clientid'), ['clientid'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblclient_advance_payments_currency'), ['currency'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblclient_advance_payments_date'), ['date'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblclient_advance_payments_paymentmode'), ['paymentmode'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblclient_advance_payments_staffid'), ['staffid'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblclient_advance_payments_transactionid'), ['transactionid'], unique=False)

    op.create_table('tblpayment_gateway_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=191), nullable=False),
    sa.Column('reference', sa.String(length=191), nullable=False),
    sa.Column('invoiceid', sa.Integer(), nullable=True),
    sa.Column('paymentid', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('dateadded', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invoiceid'], ['tblinvoices.id'], name=op.f('fk_tblpayment_gateway_events_invoiceid_tblinvoices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['paymentid'], ['tblinvoicepaymentrecords.id'], name=op.f('fk_tblpayment_gateway_events_paymentid_tblinvoicepaymentrecords'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblpayment_gateway_events')),
    sa.UniqueConstraint('gateway', 'event_id', name=op.f('uq_tblpayment_gateway_events_gateway_event_id')),
    sa.UniqueConstraint('gateway', 'reference', name=op.f('uq_tblpayment_gateway_events_gateway_reference'))
    )
    with op.batch_alter_table('tblpayment_gateway_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblpayment_gateway_events_invoiceid'), ['invoiceid'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblpayment_gateway_events_paymentid'), ['paymentid'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblpayment_gateway_events_status'), ['status'], unique=False)

    with op.batch_alter_table('tblinvoicepaymentrecords', schema=None) as batch_op:
        batch_op.add_column(sa.Column('advance_payment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tblinvoicepaymentrecords_advance_payment_id'), ['advance_payment_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tblinvoicepaymentrecords_advance_payment_id_tblclient_advance_payments'), 'tblclient_advance_payments', ['advance_payment_id'], ['id'], ondelete='RESTRICT')



def downgrade():
    with op.batch_alter_table('tblinvoicepaymentrecords', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tblinvoicepaymentrecords_advance_payment_id_tblclient_advance_payments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tblinvoicepaymentrecords_advance_payment_id'))
        batch_op.drop_column('advance_payment_id')

    with op.batch_alter_table('tblpayment_gateway_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tblpayment_gateway_events_status'))
        batch_op.drop_index(batch_op.f('ix_tblpayment_gateway_events_paymentid'))
        batch_op.drop_index(batch_op.f('ix_tblpayment_gateway_events_invoiceid'))

    op.drop_table('tblpayment_gateway_events')
    with op.batch_alter_table('tblclient_advance_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tblclient_advance_payments_transactionid'))
        batch_op.drop_index(batch_op.f('ix_tblclient_advance_payments_staffid'))
        batch_op.drop_index(batch_op.f('ix_tblclient_advance_payments_paymentmode'))
        batch_op.drop_index(batch_op.f('ix_tblclient_advance_payments_date'))
        batch_op.drop_index(batch_op.f('ix_tblclient_advance_payments_currency'))
        batch_op.drop_index(batch_op.f('ix_tblclient_advance_payments_clientid'))

    op.drop_table('tblclient_advance_payments')
