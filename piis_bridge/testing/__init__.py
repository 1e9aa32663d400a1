"""Conformance kit for plugin authors, loaded as a pytest plugin (entry point ``pytest11``).

The plugin-system issue fills it with fixtures (local federal simulator, sample case system)
and parametrised conformance tests.
"""
