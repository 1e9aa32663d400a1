"""The celery app for ``celery -A piis_bridge.pipeline.worker:app worker|beat`` (systemd, compose).

Settings come from the configuration file and ``PIIS_*`` environment (see :mod:`piis_bridge.config`);
``piis-bridge run`` passes the exact settings it runs with in a file named by
``PIIS_PIPELINE_SETTINGS_FILE`` (mode 0600, removed once read) so the embedded worker it starts can
never disagree with it.  Never the settings themselves in the environment: they hold secrets taken
from the parent's environment or secret files, and a child's environment is readable in /proc and
inherited by everything it starts.
"""

from __future__ import annotations

import contextlib
import os
from typing import cast

from celery import signals

from piis_bridge.config import Settings, load_settings
from piis_bridge.pipeline.app import make_celery_app

__all__ = ["SETTINGS_ENV", "app", "read_settings_file"]

SETTINGS_ENV = "PIIS_PIPELINE_SETTINGS_FILE"


def read_settings_file(path: str) -> Settings:
    """Settings from a file written by EmbeddedWorker; refused unless only its owner can read it."""
    st = os.stat(path)
    if st.st_mode & 0o077:
        raise PermissionError(
            f"{SETTINGS_ENV}={path}: mode {st.st_mode & 0o777:o}, expected 600 (holds secrets)"
        )
    with open(path, encoding="utf-8") as fh:
        settings = Settings.model_validate_json(fh.read())
    with contextlib.suppress(OSError):
        os.unlink(path)  # read once; the parent writes a fresh one for each (re)start
    return settings


def _settings() -> Settings:
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return read_settings_file(path)
    return load_settings()


def _settings_or_exit() -> Settings:
    """A bare ``celery -A piis_bridge.pipeline.worker:app`` with a broken configuration: the message and
    exit 2, not a traceback (``piis-bridge worker`` checks the same before it gets here)."""
    import sys

    from piis_bridge.config import ConfigError

    try:
        return _settings()
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(2) from None


app = make_celery_app(_settings_or_exit())
PREFLIGHT_DONE_ENV = "PIIS_PREFLIGHT_DONE"


@signals.setup_logging.connect
def _logging(loglevel: object = None, **_: object) -> None:
    # Our redacting structlog configuration instead of celery's own handlers.
    from piis_bridge.logging import configure_logging

    rt = app.piis_runtime
    configure_logging(
        rt.settings.log_format if os.environ.get("PIIS_LOG_FORMAT") else "json",
        level=cast("int | str", loglevel or rt.settings.log_level),  # celery passes an int
    )


@signals.worker_init.connect
def _preload(**_: object) -> None:
    """Import the plugins and the rules once in the parent, so prefork children start warm.

    The host itself (HTTP clients, database pools) is rebuilt in each child after the fork.
    """
    rt = app.piis_runtime
    if not os.environ.get(SETTINGS_ENV) and not os.environ.get(PREFLIGHT_DONE_ENV):
        # A standalone worker started with bare celery: refuse to start, with the paragraph, when the
        # database, the broker or the data directory is not usable (`piis-bridge worker` did it already).
        import sys

        from piis_bridge.ops.errors import OperatorError
        from piis_bridge.ops.preflight import preflight

        try:
            preflight(rt.settings)
        except OperatorError as exc:
            sys.stderr.write(exc.paragraph() + "\n")
            sys.stderr.flush()
            os._exit(exc.exit_code)
    try:
        rt.host  # noqa: B018 - imports every enabled plugin
        import piis_bridge.rules  # noqa: F401
    except Exception:  # noqa: BLE001 - the child will report the same problem with context
        pass
    freeze_imported_objects()


def freeze_imported_objects() -> None:
    """Move every object alive after the imports out of the cyclic garbage collector's sight.

    Why (issue #20, measured): the modules, plugins, rules, schemas and mappings imported here are
    never freed, yet each full collection of a prefork child walked them all again: with
    ``gc.callbacks`` timing every collection, the two children of a 5,000-dossier run spent 1.85 s
    of their 18.6 s of CPU (10 %) collecting, 11 full collections each.  ``gc.freeze()`` before the
    fork (the pattern Python's documentation gives for a forking server) leaves them out of every
    later collection and keeps their pages shared with the parent instead of copied when a child's
    collector writes their reference counts of its bookkeeping.  Objects created afterwards are
    collected as before."""
    import gc

    gc.collect()
    gc.freeze()


@signals.celeryd_after_setup.connect
def _record_fingerprint(sender: object = None, **_: object) -> None:
    """Write this worker's configuration fingerprint (``runs show`` lists it; a run started with
    another configuration is failed with "restart the workers" by the first task this worker takes)."""
    from piis_bridge.ops.preflight import config_fingerprint, record_worker_fingerprint

    rt = app.piis_runtime
    rt.worker_node = str(sender)
    try:
        record_worker_fingerprint(rt.sessions, str(sender), config_fingerprint(rt.settings))
    except Exception as exc:  # noqa: BLE001 - `piis-bridge worker` checked the database before; log, go on
        import logging

        logging.getLogger("piis_bridge.worker").error(
            "cannot record the worker's configuration fingerprint: %s", type(exc).__name__
        )
    finally:
        # The pool forks its children after this: a connection still open here would be inherited,
        # dropped unclosed by each child (it must not close the parent's socket) and reported by
        # psycopg as a ResourceWarning in the child's first task.  Close it properly instead.
        rt.close_connections()
