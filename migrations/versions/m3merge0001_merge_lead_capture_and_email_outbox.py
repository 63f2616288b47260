"""merge lead capture and email outbox

Revision ID: m3merge0001
Revises: c3capt00001, e3mail00001
Create Date: 2026-11-23 16:29:04.742463

"""


# revision identifiers, used by Alembic.
revision = 'm3merge0001'
down_revision = ('c3capt00001', 'e3mail00001')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
