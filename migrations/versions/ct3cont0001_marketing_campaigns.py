"""marketing campaigns, their recipients and unsubscribed addresses

Revision ID: ct3cont0001
Revises: m3merge0001
Create Date: 2026-11-23 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ct3cont0001'
down_revision = 'm3merge0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tblmarketing_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=191), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('audience_leads', sa.Boolean(), nullable=False),
    sa.Column('lead_status', sa.Integer(), nullable=True),
    sa.Column('lead_source', sa.Integer(), nullable=True),
    sa.Column('lead_pipeline', sa.Integer(), nullable=True),
    sa.Column('include_lost', sa.Boolean(), nullable=False),
    sa.Column('audience_contacts', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('skipped_no_email', sa.Integer(), nullable=False),
    sa.Column('addedfrom', sa.Integer(), nullable=True),
    sa.Column('datecreated', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['addedfrom'], ['tblstaff.staffid'], name=op.f('fk_tblmarketing_campaigns_addedfrom_tblstaff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_pipeline'], ['tblleads_pipelines.id'], name=op.f('fk_tblmarketing_campaigns_lead_pipeline_tblleads_pipelines'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_source'], ['tblleads_sources.id'], name=op.f('fk_tblmarketing_campaigns_lead_source_tblleads_sources'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_status'], ['tblleads_status.id'], name=op.f('fk_tblmarketing_campaigns_lead_status_tblleads_status'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblmarketing_campaigns'))
    )
    with op.batch_alter_table('tblmarketing_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaigns_addedfrom'), ['addedfrom'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaigns_datecreated'), ['datecreated'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaigns_lead_pipeline'), ['lead_pipeline'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaigns_lead_source'), ['lead_source'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaigns_lead_status'), ['lead_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaigns_scheduled_at'), ['scheduled_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaigns_status'), ['status'], unique=False)

    op.create_table('tblmarketing_unsubscribes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=191), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('dateadded', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['tblmarketing_campaigns.id'], name=op.f('fk_tblmarketing_unsubscribes_campaign_id_tblmarketing_campaigns'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblmarketing_unsubscribes')),
    sa.UniqueConstraint('email', name=op.f('uq_tblmarketing_unsubscribes_email'))
    )
    with op.batch_alter_table('tblmarketing_unsubscribes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblmarketing_unsubscribes_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('tblmarketing_campaign_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=191), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('dateadded', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['tblmarketing_campaigns.id'], name=op.f('fk_tblmarketing_campaign_recipients_campaign_id_tblmarketing_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['tblcontacts.id'], name=op.f('fk_tblmarketing_campaign_recipients_contact_id_tblcontacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_id'], ['tblleads.id'], name=op.f('fk_tblmarketing_campaign_recipients_lead_id_tblleads'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outbox_id'], ['tblemail_outbox.id'], name=op.f('fk_tblmarketing_campaign_recipients_outbox_id_tblemail_outbox'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblmarketing_campaign_recipients')),
    sa.UniqueConstraint('campaign_id', 'email', name=op.f('uq_tblmarketing_campaign_recipients_campaign_id_email')),
    sa.UniqueConstraint('token', name=op.f('uq_tblmarketing_campaign_recipients_token'))
    )
    with op.batch_alter_table('tblmarketing_campaign_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaign_recipients_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaign_recipients_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaign_recipients_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaign_recipients_outbox_id'), ['outbox_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblmarketing_campaign_recipients_status'), ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('tblmarketing_campaign_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaign_recipients_status'))
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaign_recipients_outbox_id'))
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaign_recipients_lead_id'))
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaign_recipients_contact_id'))
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaign_recipients_campaign_id'))

    op.drop_table('tblmarketing_campaign_recipients')
    with op.batch_alter_table('tblmarketing_unsubscribes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tblmarketing_unsubscribes_campaign_id'))

    op.drop_table('tblmarketing_unsubscribes')
    with op.batch_alter_table('tblmarketing_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaigns_status'))
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaigns_scheduled_at'))
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaigns_lead_status'))
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaigns_lead_source'))
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaigns_lead_pipeline'))
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaigns_datecreated'))
        batch_op.drop_index(batch_op.f('ix_tblmarketing_campaigns_addedfrom'))

    op.drop_table('tblmarketing_campaigns')
