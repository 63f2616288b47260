"""facebook lead ads: one row per announced leadgen id (unique), with its fetch status

Revision ID: fb3lead0001
Revises: m3merge0001
Create Date: 2026-11-23 18:01:07.522552

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fb3lead0001'
down_revision = 'm3merge0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tblfacebook_leads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('leadgen_id', sa.String(length=64), nullable=False),
    sa.Column('page_id', sa.String(length=64), nullable=True),
    sa.Column('form_id', sa.String(length=64), nullable=True),
    sa.Column('ad_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('claim', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('leadid', sa.Integer(), nullable=True),
    sa.Column('created_time', sa.DateTime(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['leadid'], ['tblleads.id'], name=op.f('fk_tblfacebook_leads_leadid_tblleads'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblfacebook_leads')),
    sa.UniqueConstraint('leadgen_id', name=op.f('uq_tblfacebook_leads_leadgen_id'))
    )
    with op.batch_alter_table('tblfacebook_leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblfacebook_leads_leadid'), ['leadid'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblfacebook_leads_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblfacebook_leads_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblfacebook_leads_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('tblfacebook_leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tblfacebook_leads_status'))
        batch_op.drop_index(batch_op.f('ix_tblfacebook_leads_received_at'))
        batch_op.drop_index(batch_op.f('ix_tblfacebook_leads_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_tblfacebook_leads_leadid'))

    op.drop_table('tblfacebook_leads')
