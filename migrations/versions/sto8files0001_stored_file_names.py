"""stored files are named by plain names in their storage area (crm/core/storage.py); imports keep a preview

Revision ID: sto8files0001
Revises: rlm7month0001

- tblinvoices.efactura_archive held "efactura/<invoice id>/<download id>.zip"; it now holds the
  name in the invoice's folder of the e-Factura area (the file does not move).
- tblleads_import.stored_path held an absolute path; it now holds the name in the imports area.
- tblleads_import.preview (new): the header row and first rows, read by the import job.
"""
import posixpath

import sqlalchemy as sa
from alembic import op

revision = "sto8files0001"
down_revision = "rlm7month0001"
branch_labels = None
depends_on = None


def _rename(conn, table, key, column, convert):
    rows = conn.execute(sa.text(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
    for row_id, value in rows:
        new = convert(row_id, value)
        if new != value:
            conn.execute(sa.text(f"UPDATE {table} SET {column} = :v WHERE {key} = :k"), {"v": new, "k": row_id})


def _archive_name(invoice_id, value):
    folder, _, name = value.rpartition("/")
    return name if folder == f"efactura/{invoice_id}" else value  # anything else stays (and is refused)


def _import_name(_id, value):
    return posixpath.basename(value.replace("\\", "/"))


def upgrade():
    with op.batch_alter_table("tblleads_import") as batch_op:
        batch_op.add_column(sa.Column("preview", sa.Text(), nullable=True))
    conn = op.get_bind()
    _rename(conn, "tblinvoices", "id", "efactura_archive", _archive_name)
    _rename(conn, "tblleads_import", "id", "stored_path", _import_name)


def downgrade():
    conn = op.get_bind()
    _rename(conn, "tblinvoices", "id", "efactura_archive",
            lambda invoice_id, value: value if "/" in value else f"efactura/{invoice_id}/{value}")
    with op.batch_alter_table("tblleads_import") as batch_op:
        batch_op.drop_column("preview")
