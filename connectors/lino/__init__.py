"""Lino Welfare connector: an HTTP client for its web API, and its test environment."""
