"""Declarative vendor -> canonical mapping engine (YAML files, validated at load time).

Generic: it maps nested dicts onto any pydantic model given at load time, so the federal helper can
reuse it for form code tables.  It never imports plugins or connectors.  See
:mod:`piis_bridge.mapping.engine` for the file format and docs/casesystem.md for examples.
"""

from piis_bridge.mapping.engine import (
    CONVERTERS,
    ConversionError,
    Mapping,
    MappingFileError,
    MappingProblem,
    MappingResult,
    load_mapping,
    parse_mapping,
)

__all__ = [
    "CONVERTERS",
    "ConversionError",
    "Mapping",
    "MappingFileError",
    "MappingProblem",
    "MappingResult",
    "load_mapping",
    "parse_mapping",
]
