"""trigram indexes for search on PostgreSQL: numbers, names, emails and phones

Revision ID: srch2trgm0001
Revises: svd1view0001

The grids' search box and the search everywhere box (Ctrl+K) match ``ILIKE '%term%'`` on these
columns, which no B-tree can serve: PostgreSQL scanned the whole table (1.1 s at 1,000,000
invoices). A GIN index with pg_trgm's trigram operator class serves ILIKE with a pattern of 3 or
more characters in any position; each column of a grid's OR has one, so the planner ORs the
indexes (BitmapOr). PostgreSQL only: MariaDB and SQLite compile ILIKE to ``lower(col) LIKE
lower(?)``, which none of their indexes serves (a B-tree serves ``col LIKE 'term%'`` only), so
nothing is created there and search stays a scan (figures in bench/README.md). The indexes are not
in the models (they are of one database only): their names end in ``_trgm``, which the schema
comparison (migrations/env.py, tests/core/test_schema.py) leaves out.
"""
from alembic import op

revision = "srch2trgm0001"
down_revision = "svd1view0001"
branch_labels = None
depends_on = None

# table -> the columns searched there (crm/admin_views/search.py FINDABLE, the grids' search lists)
COLUMNS = {
    "tblinvoices": ["formatted_number"],
    "tblproposals": ["formatted_number", "subject", "proposal_to", "email", "phone"],
    "tblestimates": ["formatted_number", "reference_no"],
    "tblclients": ["company", "vat", "phonenumber"],
    "tblleads": ["name", "company", "email", "phonenumber"],
    "tblcontacts": ["firstname", "lastname", "email", "phonenumber", "title"],
}


def _names():
    for table, cols in COLUMNS.items():
        for col in cols:
            yield table, col, f"ix_{table}_{col}_trgm"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, col, name in _names():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({col} gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for _table, _col, name in _names():
        op.execute(f"DROP INDEX IF EXISTS {name}")
