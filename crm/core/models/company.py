"""The company's own bank accounts (crm.core.company reads them)."""
from __future__ import annotations

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from crm.core.extensions import db
from crm.core.models.base import FieldError, Resource, fk


class CompanyBankAccount(db.Model):
    """An account clients pay into: printed on invoices, proposals and the portal; the e-Factura XML
    names the one in the invoice's currency (or the default)."""

    __tablename__ = "tblcompany_bank_accounts"
    __crm__ = Resource(module="settings", label="Bank accounts", category="Settings", url="settings/bank_accounts")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_name: Mapped[str] = mapped_column(String(100))
    iban: Mapped[str] = mapped_column(String(34), unique=True)  # compact: RO49AAAA1B31007593840000
    currency: Mapped[int | None] = fk("tblcurrencies.id")  # empty: any currency
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    currency_rel = relationship("Currency")

    @validates("iban")
    def _iban(self, key, value):
        try:
            return IBAN(value or "").compact
        except SchwiftyException as exc:
            raise FieldError("iban", f"“{value}” is not an IBAN ({str(exc).rstrip('.').lower()})") from None

    def __str__(self):
        return f"{self.bank_name} {self.iban}"
