"""The catalog: items, groups, units, taxes, currencies, payment modes."""
