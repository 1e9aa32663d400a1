"""Helpers shared by the file-drop tests: synthetic export rows and settled files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from piis_connectors.casesystem.seed import generate
from piis_connectors.filedrop.samples import csv_row

# The CPAS the file-drop tests configure; every exported row is filed under it (the host refuses,
# before mapping, a row of another CPAS: test_a_row_of_another_cpas_is_refused_before_mapping).
BRUSSEL = {"kbo": "0212560454", "nis": "21004", "naam": "OCMW Brussel"}


@pytest.fixture(scope="session")
def seed_docs() -> list[dict]:
    return [{**c.data, "ocmw": dict(BRUSSEL)} for c in generate(40, seed=21)]


@pytest.fixture
def rows(seed_docs) -> list[dict]:
    return [csv_row(d) for d in seed_docs]


def settle(path: Path, age: float = 600.0, offset: float = 0.0) -> Path:
    """Make a file look finished long ago (mtime in the past, ordered by *offset*)."""
    when = time.time() - age + offset
    os.utime(path, (when, when))
    return path


def put(
    directory: Path, name: str, content: str | bytes = "x", offset: float = 0.0, age: float = 600.0
) -> Path:
    """Write a file in *directory* and settle it."""
    path = directory / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return settle(path, age=age, offset=offset)
