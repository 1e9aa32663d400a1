"""Mapping files for the NeptunusWeb-like case system (vendor -> canonical)."""
