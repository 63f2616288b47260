"""email outbox and email templates

Revision ID: e3mail00001
Revises: f5471d868902
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3mail00001'
down_revision = 'f5471d868902'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tblemail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_email', sa.String(length=255), nullable=False),
    sa.Column('cc', sa.String(length=255), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=True),
    sa.Column('attachments', sa.Text(), nullable=False),
    sa.Column('rel_type', sa.String(length=40), nullable=True),
    sa.Column('rel_id', sa.Integer(), nullable=True),
    sa.Column('template', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('datecreated', sa.DateTime(), nullable=False),
    sa.Column('sending_since', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('staffid', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['staffid'], ['tblstaff.staffid'], name=op.f('fk_tblemail_outbox_staffid_tblstaff'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblemail_outbox')),
    sa.UniqueConstraint('message_id', name=op.f('uq_tblemail_outbox_message_id'))
    )
    with op.batch_alter_table('tblemail_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblemail_outbox_datecreated'), ['datecreated'], unique=False)
        batch_op.create_index('ix_tblemail_outbox_rel_id_rel_type', ['rel_id', 'rel_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblemail_outbox_staffid'), ['staffid'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblemail_outbox_status'), ['status'], unique=False)

    op.create_table('tblemailtemplates',
    sa.Column('emailtemplateid', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=191), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('fromname', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('emailtemplateid', name=op.f('pk_tblemailtemplates')),
    sa.UniqueConstraint('slug', name=op.f('uq_tblemailtemplates_slug'))
    )


def downgrade():
    # Indexes go with their tables (MariaDB refuses to drop an index a foreign key uses first).
    op.drop_table('tblemailtemplates')
    op.drop_table('tblemail_outbox')
