"""Mapping files for the federal forms (canonical -> forms B, C, D)."""
