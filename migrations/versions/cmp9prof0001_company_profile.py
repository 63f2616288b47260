"""one company profile

Revision ID: cmp9prof0001
Revises: mny9price0001

The seller's identity was in two places: company_vat (printed on PDFs) and the efactura_* options
(sent to ANAF). It becomes one profile: company_* options plus tblcompany_bank_accounts. The values
the e-Factura settings held win (they are what ANAF accepted); the IBAN becomes the default bank
account.
"""
import sqlalchemy as sa
from alembic import op

revision = "cmp9prof0001"
down_revision = "mny9price0001"
branch_labels = None
depends_on = None

# old option -> new option
RENAMED = {
    "efactura_vat_registered": "company_vat_registered",
    "efactura_trade_register": "company_trade_register",
    "efactura_street": "company_street",
    "efactura_city": "company_city",
    "efactura_county": "company_county",
    "efactura_postal_code": "company_postal_code",
    "efactura_country": "company_country",
    "efactura_email": "company_email",
    "efactura_phone": "company_phone",
}

options = sa.table("tbloptions", sa.column("id", sa.Integer), sa.column("name", sa.String),
                   sa.column("value", sa.Text), sa.column("autoload", sa.Boolean))


def _stored(conn) -> dict:
    return dict(conn.execute(sa.select(options.c.name, options.c.value)).all())


def _put(conn, stored, name, value):
    if name in stored:
        conn.execute(options.update().where(options.c.name == name).values(value=value))
    else:
        conn.execute(options.insert().values(name=name, value=value, autoload=True))
    stored[name] = value


def _drop(conn, stored, *names):
    conn.execute(options.delete().where(options.c.name.in_(names)))
    for name in names:
        stored.pop(name, None)


def upgrade():
    accounts = op.create_table(
        "tblcompany_bank_accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("bank_name", sa.String(100), nullable=False),
        sa.Column("iban", sa.String(34), nullable=False, unique=True),
        sa.Column("currency", sa.Integer(), sa.ForeignKey("tblcurrencies.id", ondelete="SET NULL"), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_tblcompany_bank_accounts_currency", "tblcompany_bank_accounts", ["currency"])
    conn = op.get_bind()
    stored = _stored(conn)
    if stored.get("efactura_company_name"):
        _put(conn, stored, "companyname", stored["efactura_company_name"])
    cui = stored.get("efactura_cui") or stored.get("company_vat")
    if cui:
        _put(conn, stored, "company_cui", cui.strip().upper().removeprefix("RO").strip())
    for old, new in RENAMED.items():
        if old in stored:
            _put(conn, stored, new, stored[old])
    iban = "".join((stored.get("efactura_iban") or "").split()).upper()
    if iban:
        conn.execute(accounts.insert().values(bank_name="", iban=iban, currency=None, is_default=True, active=True))
    _drop(conn, stored, "company_vat", "efactura_company_name", "efactura_cui", "efactura_iban", *RENAMED)


def downgrade():
    conn = op.get_bind()
    stored = _stored(conn)
    if stored.get("company_cui"):
        _put(conn, stored, "efactura_cui", stored["company_cui"])
        _put(conn, stored, "company_vat", "RO" + stored["company_cui"])
    for old, new in RENAMED.items():
        if new in stored:
            _put(conn, stored, old, stored[new])
    accounts = sa.table("tblcompany_bank_accounts", sa.column("iban", sa.String), sa.column("is_default", sa.Boolean))
    iban = conn.execute(sa.select(accounts.c.iban).order_by(accounts.c.is_default.desc())).scalars().first()
    if iban:
        _put(conn, stored, "efactura_iban", iban)
    _drop(conn, stored, "company_cui", "company_logo", "company_website", *RENAMED.values())
    op.drop_index("ix_tblcompany_bank_accounts_currency", table_name="tblcompany_bank_accounts")
    op.drop_table("tblcompany_bank_accounts")
