"""Mapping files for nightly export files (CSV and XML) -> canonical contract."""
