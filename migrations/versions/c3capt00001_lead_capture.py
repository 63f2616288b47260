"""lead capture: web-to-lead forms, captured email ids, spreadsheet imports, rate-limit hits

Revision ID: c3capt00001
Revises: f5471d868902
Create Date: 2026-11-24 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3capt00001'
down_revision = 'f5471d868902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tblweb_to_lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_key', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=191), nullable=False),
    sa.Column('form_data', sa.Text(), nullable=True),
    sa.Column('lead_source', sa.Integer(), nullable=True),
    sa.Column('lead_status', sa.Integer(), nullable=True),
    sa.Column('responsible', sa.Integer(), nullable=True),
    sa.Column('notify_email', sa.String(length=100), nullable=True),
    sa.Column('submit_btn_name', sa.String(length=40), nullable=False),
    sa.Column('success_submit_msg', sa.Text(), nullable=True),
    sa.Column('honeypot_field', sa.String(length=50), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('dateadded', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['lead_source'], ['tblleads_sources.id'], name=op.f('fk_tblweb_to_lead_lead_source_tblleads_sources'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lead_status'], ['tblleads_status.id'], name=op.f('fk_tblweb_to_lead_lead_status_tblleads_status'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responsible'], ['tblstaff.staffid'], name=op.f('fk_tblweb_to_lead_responsible_tblstaff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblweb_to_lead')),
    sa.UniqueConstraint('form_key', name=op.f('uq_tblweb_to_lead_form_key'))
    )
    with op.batch_alter_table('tblweb_to_lead', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblweb_to_lead_lead_source'), ['lead_source'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblweb_to_lead_lead_status'), ['lead_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblweb_to_lead_responsible'), ['responsible'], unique=False)

    op.create_table('tblrate_limit_hits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('date', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblrate_limit_hits'))
    )
    with op.batch_alter_table('tblrate_limit_hits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblrate_limit_hits_key'), ['key'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblrate_limit_hits_date'), ['date'], unique=False)

    op.create_table('tblleads_email_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('leadid', sa.Integer(), nullable=True),
    sa.Column('from_email', sa.String(length=100), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('date', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['leadid'], ['tblleads.id'], name=op.f('fk_tblleads_email_messages_leadid_tblleads'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblleads_email_messages')),
    sa.UniqueConstraint('message_id', name=op.f('uq_tblleads_email_messages_message_id'))
    )
    with op.batch_alter_table('tblleads_email_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblleads_email_messages_leadid'), ['leadid'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblleads_email_messages_date'), ['date'], unique=False)

    op.create_table('tblleads_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('stored_path', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('mapping', sa.Text(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('staffid', sa.Integer(), nullable=True),
    sa.Column('dateadded', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['staffid'], ['tblstaff.staffid'], name=op.f('fk_tblleads_import_staffid_tblstaff'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblleads_import'))
    )
    with op.batch_alter_table('tblleads_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblleads_import_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblleads_import_staffid'), ['staffid'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblleads_import_dateadded'), ['dateadded'], unique=False)


def downgrade():
    op.drop_table('tblleads_import')
    op.drop_table('tblleads_email_messages')
    op.drop_table('tblrate_limit_hits')
    op.drop_table('tblweb_to_lead')
