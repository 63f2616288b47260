"""The company profile: who the seller is, in one place.

Every PDF, the client portal, the emails and the e-Factura XML read the seller from
:func:`profile` and nowhere else. The values are options of the "Company" group (edited at
Settings → Company profile, /admin/company); the bank accounts are rows of
tblcompany_bank_accounts; the logo is a stored file (crm.core.storage area "branding") whose name only
the profile screen's upload writes.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from io import BytesIO

from crm.core import options, storage
from crm.core.extensions import db
from crm.core.models.company import CompanyBankAccount


def cui_digits(value: str | None) -> str | None:
    """The CUI without 'RO' and spaces: 'RO 123 456' -> '123456'; None if it is not one."""
    raw = re.sub(r"[\s.-]", "", value or "").upper()
    if raw.startswith("RO"):
        raw = raw[2:]
    return raw if raw.isdigit() and 2 <= len(raw) <= 10 else None


def valid_cui(cui: str | None) -> bool:
    """Romanian CUI check digit (key 753217532, ×10 mod 11, 10 -> 0)."""
    if not cui or not cui.isdigit() or not 2 <= len(cui) <= 10:
        return False
    body, check = cui[:-1].rjust(9, "0"), int(cui[-1])
    total = sum(int(d) * int(k) for d, k in zip(body, "753217532")) * 10 % 11
    return (0 if total == 10 else total) == check


def _check_cui(value: str) -> None:
    if not value:
        return
    digits = cui_digits(value)
    if digits is None:
        raise options.OptionError(f"company_cui: “{value}” is not a CUI (2 to 10 digits, with or without RO)")
    if not valid_cui(digits):
        raise options.OptionError(f"company_cui: {digits} fails the CUI check digit; type it as the trade "
                                  "register certificate shows it")


def _check_logo(value: str) -> None:
    """The logo option names a file the upload stored, never a path someone typed."""
    if value and storage.path_of("branding", value) is None:
        raise options.OptionError("company_logo: upload the logo on the company profile screen (/admin/company)")


options.CHECKS["company_cui"] = _check_cui
options.CHECKS["company_logo"] = _check_logo

LOGO_TYPES = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg")}
LOGO_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class BankAccount:
    bank: str
    iban: str  # compact, as stored
    currency: str | None  # ISO code; None: any currency

    @property
    def formatted(self) -> str:
        """The IBAN in groups of four, as people read it."""
        return " ".join(self.iban[i:i + 4] for i in range(0, len(self.iban), 4))


@dataclass(frozen=True)
class Profile:
    name: str
    cui: str | None  # digits only
    vat_registered: bool
    trade_register: str | None
    street: str | None
    city: str | None
    county: str | None
    postal_code: str | None
    country: str
    email: str | None
    phone: str | None
    website: str | None
    logo: str | None  # stored file name in the "branding" area
    bank_accounts: tuple[BankAccount, ...] = field(default_factory=tuple)

    @property
    def vat_id(self) -> str | None:
        """What the documents print as the tax id: RO + CUI when registered for VAT, else the CUI."""
        if not self.cui:
            return None
        return f"RO{self.cui}" if self.vat_registered else self.cui

    @property
    def address_lines(self) -> list[str]:
        city = " ".join(p for p in (self.postal_code, self.city) if p)
        return [p for p in (self.street, city, self.county, self.country) if p]

    def accounts_for(self, currency: str | None) -> list[BankAccount]:
        """The accounts a client paying in ``currency`` should see: that currency's, else the rest."""
        same = [a for a in self.bank_accounts if currency and a.currency == currency]
        return same or [a for a in self.bank_accounts if a.currency is None] or list(self.bank_accounts)

    def iban_for(self, currency: str | None) -> str | None:
        accounts = self.accounts_for(currency)
        return accounts[0].iban if accounts else None

    def logo_data_uri(self) -> str | None:
        """The logo inlined (PDFs and the portal need no route to it, emails no remote image)."""
        path = storage.path_of("branding", self.logo) if self.logo else None
        if path is None:
            return None
        mime = "image/png" if path.suffix == ".png" else "image/jpeg"
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


_FIELDS = ("companyname", "company_cui", "company_vat_registered", "company_trade_register", "company_street",
           "company_city", "company_county", "company_postal_code", "company_country", "company_email",
           "company_phone", "company_website", "company_logo")


def profile() -> Profile:
    """The seller as the settings say now (options are read once per transaction)."""
    o = options.get_many(*_FIELDS)
    accounts = db.session.query(CompanyBankAccount).filter_by(active=True) \
        .order_by(CompanyBankAccount.is_default.desc(), CompanyBankAccount.id).all()
    return Profile(
        name=o["companyname"] or "", cui=cui_digits(o["company_cui"]), vat_registered=o["company_vat_registered"],
        trade_register=o["company_trade_register"] or None, street=o["company_street"] or None,
        city=o["company_city"] or None, county=o["company_county"] or None,
        postal_code=o["company_postal_code"] or None, country=o["company_country"] or "RO",
        email=o["company_email"] or None, phone=o["company_phone"] or None, website=o["company_website"] or None,
        logo=o["company_logo"] or None,
        bank_accounts=tuple(BankAccount(a.bank_name or "", a.iban, a.currency_rel.name if a.currency_rel else None)
                            for a in accounts))


def save_logo(data: bytes) -> str | None:
    """Check an uploaded logo (a PNG or JPEG image up to 1 MB), store it and point the profile at it.
    Returns the previous file's name, for the caller to remove once it has committed. Raises
    options.OptionError naming the field."""
    from PIL import Image, UnidentifiedImageError  # lazy: Pillow is only for the logo image

    if not data:
        raise options.OptionError("company_logo: choose an image file")
    if len(data) > LOGO_MAX_BYTES:
        raise options.OptionError(f"company_logo: the image is {len(data):,} bytes; at most {LOGO_MAX_BYTES:,}")
    try:
        with Image.open(BytesIO(data)) as img:
            kind = img.format
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise options.OptionError("company_logo: not an image PNG or JPEG can read") from None
    if kind not in LOGO_TYPES:
        raise options.OptionError(f"company_logo: a {kind} image; use PNG or JPEG")
    old = options.get("company_logo") or None
    options.set("company_logo", storage.save("branding", data, LOGO_TYPES[kind][0], label="logo"))
    return old


def remove_logo() -> str | None:
    """Documents go back to the name alone; returns the file to remove once committed."""
    old = options.get("company_logo") or None
    options.set("company_logo", "")
    return old
