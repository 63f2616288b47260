"""Code lists e-Factura needs: ISO 3166-2:RO counties, Bucharest sectors, countries, UN/ECE units.

People type addresses as they speak ("Cluj", "București", "Sector 3"); the XML needs codes
("RO-CJ", "RO-B", "SECTOR3"). These helpers translate and return None when they cannot, so the
pre-check can say which field to correct.
"""
from __future__ import annotations

import re
import unicodedata

# The CUI rules belong to the company profile, which checks the seller's own CUI with them.
from crm.core.company import cui_digits, valid_cui  # noqa: F401

# ISO 3166-2:RO: code -> county name (without diacritics).
COUNTIES: dict[str, str] = {
    "AB": "Alba", "AG": "Arges", "AR": "Arad", "B": "Bucuresti", "BC": "Bacau", "BH": "Bihor",
    "BN": "Bistrita-Nasaud", "BR": "Braila", "BT": "Botosani", "BV": "Brasov", "BZ": "Buzau",
    "CJ": "Cluj", "CL": "Calarasi", "CS": "Caras-Severin", "CT": "Constanta", "CV": "Covasna",
    "DB": "Dambovita", "DJ": "Dolj", "GJ": "Gorj", "GL": "Galati", "GR": "Giurgiu", "HD": "Hunedoara",
    "HR": "Harghita", "IF": "Ilfov", "IL": "Ialomita", "IS": "Iasi", "MH": "Mehedinti", "MM": "Maramures",
    "MS": "Mures", "NT": "Neamt", "OT": "Olt", "PH": "Prahova", "SB": "Sibiu", "SJ": "Salaj",
    "SM": "Satu Mare", "SV": "Suceava", "TL": "Tulcea", "TM": "Timis", "TR": "Teleorman", "VL": "Valcea",
    "VN": "Vrancea", "VS": "Vaslui",
}
_COUNTY_BY_NAME = {re.sub(r"[^a-z]", "", n.lower()): c for c, n in COUNTIES.items()}
_COUNTY_BY_NAME.update({"bucharest": "B", "municipiulbucuresti": "B"})

# Country names people write, to ISO 3166-1 alpha-2 (two-letter codes pass through as they are).
_COUNTRIES = {
    "romania": "RO", "germany": "DE", "deutschland": "DE", "germania": "DE", "france": "FR", "franta": "FR",
    "italy": "IT", "italia": "IT", "spain": "ES", "spania": "ES", "austria": "AT", "hungary": "HU",
    "ungaria": "HU", "bulgaria": "BG", "poland": "PL", "polonia": "PL", "netherlands": "NL", "olanda": "NL",
    "belgium": "BE", "belgia": "BE", "moldova": "MD", "republicamoldova": "MD", "unitedkingdom": "GB",
    "marebritanie": "GB", "unitedstates": "US", "usa": "US", "sua": "US", "switzerland": "CH",
    "elvetia": "CH", "czechia": "CZ", "cehia": "CZ", "greece": "GR", "grecia": "GR", "serbia": "RS",
    "ukraine": "UA", "ucraina": "UA", "turkey": "TR", "turcia": "TR", "ireland": "IE", "irlanda": "IE",
    "portugal": "PT", "portugalia": "PT", "sweden": "SE", "suedia": "SE", "denmark": "DK", "danemarca": "DK",
    "slovakia": "SK", "slovacia": "SK", "slovenia": "SI", "croatia": "HR", "croatia ": "HR",
}
EU_COUNTRIES = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
                "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}

# UN/ECE Recommendation 20 unit codes for the unit names people use; default C62 ("one").
_UNITS = {
    "buc": "H87", "bucata": "H87", "bucati": "H87", "pcs": "H87", "pc": "H87", "piece": "H87", "pieces": "H87",
    "ora": "HUR", "ore": "HUR", "h": "HUR", "hour": "HUR", "hours": "HUR", "kg": "KGM", "g": "GRM",
    "l": "LTR", "litru": "LTR", "litri": "LTR", "m": "MTR", "ml": "MTR", "mp": "MTK", "m2": "MTK", "mc": "MTQ",
    "m3": "MTQ", "zi": "DAY", "zile": "DAY", "day": "DAY", "days": "DAY", "luna": "MON", "month": "MON",
    "set": "SET", "pachet": "PK", "pack": "PK", "km": "KMT", "t": "TNE", "to": "TNE", "kwh": "KWH",
    "serviciu": "C62", "service": "C62", "unit": "C62", "unitate": "C62", "abonament": "C62",
}
UNIT_CODE = re.compile(r"^[A-Z0-9]{2,3}$")


def plain(text: str | None) -> str:
    """Lower-case ASCII letters and digits only: 'Bistrița-Năsăud' -> 'bistritanasaud'."""
    ascii_ = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_.lower())


def county_code(value: str | None) -> str | None:
    """'RO-CJ', 'CJ', 'Cluj', 'jud. Cluj', 'București' -> 'RO-CJ' / 'RO-B'; None if unknown."""
    if not value or not value.strip():
        return None
    raw = value.strip().upper()
    code = raw[3:] if raw.startswith("RO-") else raw
    if code in COUNTIES:
        return f"RO-{code}"
    key = plain(value)
    for prefix in ("judetul", "judet", "jud"):
        if key.startswith(prefix) and key[len(prefix):] in _COUNTY_BY_NAME:
            key = key[len(prefix):]
    found = _COUNTY_BY_NAME.get(key)
    return f"RO-{found}" if found else None


def bucharest_sector(*texts: str | None) -> str | None:
    """'Sector 3', 'Bucuresti, sectorul 3', 'S3' -> 'SECTOR3' (CIUS-RO BR-RO-100); None if absent."""
    for text in texts:
        match = re.search(r"\bsect(?:or|orul)?\s*\.?\s*([1-6])\b", plain_spaced(text))
        if match:
            return f"SECTOR{match.group(1)}"
    return None


def plain_spaced(text: str | None) -> str:
    return unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()


def country_code(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    raw = value.strip()
    if len(raw) == 2 and raw.isalpha():
        return raw.upper()
    return _COUNTRIES.get(plain(raw))


def unit_code(unit: str | None) -> str:
    if unit and UNIT_CODE.match(unit.strip()) and unit.strip().isupper():
        return unit.strip()
    return _UNITS.get(plain(unit), "C62")


