"""FTS5 trigram tables for search on SQLite: numbers, names, emails and phones

Revision ID: srch3fts0001
Revises: srch2trgm0001

On SQLite the grids' search box and Ctrl+K scanned their tables (``LIKE '%term%'``: 30-760 ms at
1,000,000 invoices). Each searched table gets an external-content FTS5 table with the trigram
tokenizer over its searched columns, kept in step by triggers and filled from the rows there; the
search asks it for the candidate keys (crm/core/search_index.py, which names the tables and
columns). SQLite only: PostgreSQL has its trigram indexes (srch2trgm0001), MariaDB nothing. The
tables are not in the models: the schema comparison (migrations/env.py, tests/core/test_schema.py)
leaves them and their shadow tables out.
"""
from alembic import op

from crm.core import search_index

revision = "srch3fts0001"
down_revision = "srch2trgm0001"
branch_labels = None
depends_on = None


def upgrade():
    search_index.create(op.get_bind())


def downgrade():
    search_index.drop(op.get_bind())
