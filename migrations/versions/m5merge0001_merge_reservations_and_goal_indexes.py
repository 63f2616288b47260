"""merge stock reservations and the goal and home page indexes

Revision ID: m5merge0001
Revises: rsv5stck0001, db6goal0001
"""
revision = "m5merge0001"
down_revision = ("rsv5stck0001", "db6goal0001")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
