"""merge the branches of payments, Innoship and the other parts built beside them

Revision ID: m4merge0001
Revises: in6ship0001, py3paym0001, fb3lead0001, ct3cont0001, pu4purc0001, ef5fact0001, ev3hook0001, wh4stck0001
"""
revision = "m4merge0001"
down_revision = ("in6ship0001", "py3paym0001", "fb3lead0001", "ct3cont0001", "pu4purc0001", "ef5fact0001", "ev3hook0001", "wh4stck0001")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
