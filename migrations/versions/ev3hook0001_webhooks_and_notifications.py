"""outgoing webhooks, their deliveries, and staff notifications

Revision ID: ev3hook0001
Revises: m3merge0001
Create Date: 2026-11-23 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ev3hook0001'
down_revision = 'm3merge0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tblwebhooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=191), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('events', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('addedfrom', sa.Integer(), nullable=True),
    sa.Column('datecreated', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['addedfrom'], ['tblstaff.staffid'], name=op.f('fk_tblwebhooks_addedfrom_tblstaff'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblwebhooks'))
    )
    with op.batch_alter_table('tblwebhooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblwebhooks_addedfrom'), ['addedfrom'], unique=False)

    op.create_table('tblwebhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=32), nullable=False),
    sa.Column('webhookid', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('rel_type', sa.String(length=40), nullable=True),
    sa.Column('rel_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('sending_since', sa.DateTime(), nullable=True),
    sa.Column('response_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('datecreated', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['webhookid'], ['tblwebhooks.id'],
                            name=op.f('fk_tblwebhook_deliveries_webhookid_tblwebhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblwebhook_deliveries')),
    sa.UniqueConstraint('uuid', name=op.f('uq_tblwebhook_deliveries_uuid'))
    )
    with op.batch_alter_table('tblwebhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblwebhook_deliveries_datecreated'), ['datecreated'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblwebhook_deliveries_event'), ['event'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblwebhook_deliveries_status'), ['status'], unique=False)
        batch_op.create_index('ix_tblwebhook_deliveries_status_next', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblwebhook_deliveries_webhookid'), ['webhookid'], unique=False)

    op.create_table('tblnotifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('isread', sa.Boolean(), nullable=False),
    sa.Column('isread_inline', sa.Boolean(), nullable=False),
    sa.Column('date', sa.DateTime(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('fromuserid', sa.Integer(), nullable=True),
    sa.Column('fromclientid', sa.Integer(), nullable=True),
    sa.Column('from_fullname', sa.String(length=100), nullable=False),
    sa.Column('touserid', sa.Integer(), nullable=False),
    sa.Column('fromcompany', sa.Integer(), nullable=True),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('additional_data', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['fromclientid'], ['tblclients.userid'],
                            name=op.f('fk_tblnotifications_fromclientid_tblclients'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fromuserid'], ['tblstaff.staffid'],
                            name=op.f('fk_tblnotifications_fromuserid_tblstaff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['touserid'], ['tblstaff.staffid'],
                            name=op.f('fk_tblnotifications_touserid_tblstaff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblnotifications'))
    )
    with op.batch_alter_table('tblnotifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tblnotifications_fromclientid'), ['fromclientid'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblnotifications_fromuserid'), ['fromuserid'], unique=False)
        batch_op.create_index(batch_op.f('ix_tblnotifications_touserid'), ['touserid'], unique=False)
        batch_op.create_index('ix_tblnotifications_touserid_isread', ['touserid', 'isread'], unique=False)

    op.create_table('tblnotification_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staffid', sa.Integer(), nullable=False),
    sa.Column('email', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['staffid'], ['tblstaff.staffid'],
                            name=op.f('fk_tblnotification_preferences_staffid_tblstaff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tblnotification_preferences')),
    sa.UniqueConstraint('staffid', name=op.f('uq_tblnotification_preferences_staffid'))
    )


def downgrade():
    # Indexes go with their tables (MariaDB refuses to drop an index a foreign key uses first).
    op.drop_table('tblnotification_preferences')
    op.drop_table('tblnotifications')
    op.drop_table('tblwebhook_deliveries')
    op.drop_table('tblwebhooks')
