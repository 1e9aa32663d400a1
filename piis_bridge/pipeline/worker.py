"""The celery app for ``celery -A piis_bridge.pipeline.worker:app worker|beat`` (systemd, compose).

Settings come from the configuration file and ``PIIS_*`` environment (see :mod:`piis_bridge.config`);
``piis-bridge run`` passes the exact settings it runs with in a file named by
``PIIS_PIPELINE_SETTINGS_FILE`` (mode 0600, removed once read) so the embedded worker it starts can
never disagree with it.  Never the settings themselves in the environment: they hold secrets taken
from the parent's environment or secret files, and a child's environment is readable in /proc and
inherited by everything it starts.
"""

from __future__ import annotations

import os

from celery import signals

from piis_bridge.config import Settings, load_settings
from piis_bridge.pipeline.app import make_celery_app

__all__ = ["app", "SETTINGS_ENV", "read_settings_file"]

SETTINGS_ENV = "PIIS_PIPELINE_SETTINGS_FILE"


def read_settings_file(path: str) -> Settings:
    """Settings from a file written by EmbeddedWorker; refused unless only its owner can read it."""
    st = os.stat(path)
    if st.st_mode & 0o077:
        raise PermissionError(f"{SETTINGS_ENV}={path}: mode {st.st_mode & 0o777:o}, expected 600 (holds secrets)")
    with open(path, encoding="utf-8") as fh:
        settings = Settings.model_validate_json(fh.read())
    try:
        os.unlink(path)  # read once; the parent writes a fresh one for each (re)start
    except OSError:
        pass
    return settings


def _settings() -> Settings:
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return read_settings_file(path)
    return load_settings()


app = make_celery_app(_settings())


@signals.setup_logging.connect
def _logging(loglevel: object = None, **_: object) -> None:
    # Our redacting structlog configuration instead of celery's own handlers.
    from piis_bridge.logging import configure_logging

    rt = app.piis_runtime  # type: ignore[attr-defined]
    configure_logging(rt.settings.log_format if os.environ.get("PIIS_LOG_FORMAT") else "json",
                      level=loglevel or rt.settings.log_level)  # type: ignore[arg-type]


@signals.worker_init.connect
def _preload(**_: object) -> None:
    """Import the plugins and the rules once in the parent, so prefork children start warm.

    The host itself (HTTP clients, database pools) is rebuilt in each child after the fork.
    """
    rt = app.piis_runtime  # type: ignore[attr-defined]
    try:
        rt.host  # noqa: B018 - imports every enabled plugin
        import piis_bridge.rules  # noqa: F401
    except Exception:  # noqa: BLE001 - the child will report the same problem with context
        pass
