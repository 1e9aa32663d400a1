"""Mapping files of the lino plugin (Lino Welfare ISIP contracts)."""
