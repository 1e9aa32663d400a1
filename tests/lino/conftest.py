"""A real Lino Welfare for the lino plugin's tests (see piis_connectors.lino.testenv).

The first run on a machine builds Lino's own virtualenv and the "gerd" demo database (minutes; cached
under ~/.cache/piis-bridge); then each test module gets its own copy of the demo database and its own
Lino server on a free loopback port.  Nothing here is skipped: without Lino these tests fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from piis_connectors.lino.testenv import (
    DEMO_PASSWORD,
    LinoServer,
    ensure_demo_site,
    fresh_site_copy,
    start_server,
)

USER = "robin"  # a demo user of type 900 (administrator: SiteStaff, reads the change log)


@pytest.fixture(scope="session")
def lino_demo_site() -> Path:
    return ensure_demo_site()


@pytest.fixture(scope="module")
def lino_server(
    lino_demo_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LinoServer]:
    site = fresh_site_copy(tmp_path_factory.mktemp("lino-site"))
    server = start_server(site)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def lino_settings(lino_server: LinoServer) -> dict[str, object]:
    return {"url": lino_server.url, "user": USER, "password": DEMO_PASSWORD}
