"""staff session version and issued API tokens

Revision ID: lgn8sess0001
Revises: sto8files0001

tblstaff.session_version is carried in the login cookie: raising it signs a staff member out of
every browser. tblstaff_api_tokens lists the bearer tokens issued (a hash of each secret only).
Tokens issued before this revision carried part of the password hash and are no longer accepted.
"""
import sqlalchemy as sa
from alembic import op

revision = "lgn8sess0001"
down_revision = "sto8files0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tblstaff") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "tblstaff_api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("staffid", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["staffid"], ["tblstaff.staffid"], name=op.f("fk_tblstaff_api_tokens_staffid_tblstaff"),
                                ondelete="CASCADE"),
        sa.UniqueConstraint("hash", name=op.f("uq_tblstaff_api_tokens_hash")),
    )
    op.create_index(op.f("ix_tblstaff_api_tokens_staffid"), "tblstaff_api_tokens", ["staffid"])
    op.create_index(op.f("ix_tblstaff_api_tokens_expires_at"), "tblstaff_api_tokens", ["expires_at"])


def downgrade():
    op.drop_table("tblstaff_api_tokens")
    with op.batch_alter_table("tblstaff") as batch:
        batch.drop_column("session_version")
