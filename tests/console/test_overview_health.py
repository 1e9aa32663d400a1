"""The overview's workers online (per queue, with their configuration fingerprint) and certificate
expiry: ``piis-bridge health``'s own checks, shown in the user's CPAS scope."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from piis_bridge.console.app import create_app
from piis_bridge.console.health import installation_health
from piis_bridge.db import make_engine
from piis_bridge.migrations import upgrade_database
from piis_bridge.ops.preflight import config_fingerprint
from tests.conftest import require_service
from tests.console.conftest import login, seed_users
from tests.pipeline.conftest import make_settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _certificate(path: Path, days: int) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bridge.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _client(settings, username: str):
    from starlette.testclient import TestClient

    c = TestClient(create_app(settings), base_url="https://testserver")
    login(c, username)
    return c


def test_certificates_of_the_users_cpas_with_their_expiry(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "http://127.0.0.1:9", cpas=("gent", "antwerpen"))
    gent = _certificate(tmp_path / "gent.pem", 3)
    antwerpen = _certificate(tmp_path / "antwerpen.pem", 200)
    settings.cpas["gent"].plugins["pipetest"]["wsse_cert_file"] = str(gent)
    settings.cpas["antwerpen"].plugins["pipetest"]["tls_cert_path"] = str(antwerpen)
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    from piis_bridge.db import make_sessionmaker

    seed_users(make_sessionmaker(engine))
    page = _client(settings, "olivier").get("/overview/health").text  # operator of gent only
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).astimezone(
        dt.timezone(dt.timedelta(hours=1))
    )
    assert "cpas.gent.plugins.pipetest.wsse_cert_file" in page
    assert expires.strftime("%d/%m/%Y")[:6] in page  # dd/mm of the expiry, Belgian format
    assert "st-critical" in page  # 3 days < the default critical threshold
    assert "antwerpen" not in page  # another CPAS's certificate is not shown
    admin = _client(settings, "ada").get("/overview/health").text
    assert "cpas.antwerpen.plugins.pipetest.tls_cert_path" in admin and "st-ok" in admin
    assert "Embedded mode" in admin or "mode intégré" in admin.lower()
    # the overview page itself loads the part apart (it waits for the workers' answers)
    assert 'hx-get="/overview/health"' in _client(settings, "ada").get("/").text
    engine.dispose()


@pytest.mark.services
def test_workers_online_per_queue_with_their_configuration_fingerprint(tmp_path: Path) -> None:
    require_service("redis")
    from piis_bridge.pipeline import EmbeddedWorker
    from piis_bridge.pipeline.tasks import QUEUES
    from tests.pipeline.conftest import PLUGIN

    settings = make_settings(tmp_path, "http://127.0.0.1:9", broker_url="redis://127.0.0.1:6379/11")
    settings.monitoring.worker_ping_seconds = 1.0
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    from piis_bridge.db import make_sessionmaker

    seed_users(make_sessionmaker(engine))
    with EmbeddedWorker(settings, concurrency=1, extra_plugins=[PLUGIN]):
        deadline = time.monotonic() + 40
        while True:
            health = installation_health(settings, engine, ttl=0)
            if (health.workers and health.workers[0].fingerprint) or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert health.workers_status == "ok", health.workers_summary
        assert all(health.queues.get(q) == 1 for q in QUEUES), health.queues
        [worker] = health.workers
        assert worker.fingerprint == config_fingerprint(settings) and worker.current
        page = _client(settings, "ada").get("/overview/health").text
        assert f'data-worker="{worker.node}"' in page and worker.fingerprint in page
        for q in QUEUES:
            assert f'data-queue="{q}"' in page
        assert "restart the worker" not in page and "redémarrer le worker" not in page
        # the check's summary in the user's language (ada reads French)
        assert "1 worker(s) en ligne, chaque file consommée" in page, page
        assert "every queue consumed" not in page
        # the same worker seen from a changed configuration must be restarted
        changed = settings.model_copy(update={"nightly_time": dt.time(4, 15)})
        stale = installation_health(changed, engine, ttl=0)
        assert stale.workers_status == "critical" and not stale.workers[0].current
    engine.dispose()
