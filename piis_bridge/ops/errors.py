"""Failures of the things piis-bridge depends on, told as one paragraph an operator can act on.

Why: a missing database, a wrong broker password or a full disk used to print a 300-line traceback
whose last line, at best, held the cause.  IT staff need four facts: what failed, which setting
points at it and where that setting came from (file, environment, default), the host or path, and
the likely fix.  :func:`explain` turns the exceptions SQLAlchemy/psycopg, kombu/redis/amqp and the
file system raise into an :class:`OperatorError` holding exactly that, with the exit code the CLI
documents:

* ``2`` the configuration is wrong (unknown URL scheme, wrong user or password, a loopback
  endpoint outside a simulator installation, a missing required setting);
* ``3`` a dependency is unavailable (database or broker down or unreachable, database not
  created, data directory read-only or full);
* ``1`` a run failed (the run's own report says why).

Never a NISS: messages are passed through :func:`piis_bridge.logging.redact`, URLs lose their password.

What, cause and fix are English :class:`~piis_bridge.i18n.text.Text`: :meth:`OperatorError.paragraph`
writes the paragraph in the reader's language (the command line's ``--lang`` or the configured CPAS's
``language``); setting names, values, hosts, paths and a driver's own words stay as they are.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from piis_bridge.i18n import Translator, translator
from piis_bridge.i18n.text import Text, error_text, say
from piis_bridge.logging import redact

__all__ = [
    "EXIT_CONFIG",
    "EXIT_DEPENDENCY",
    "EXIT_RUN_FAILED",
    "OperatorError",
    "explain",
    "mask_url",
]

EXIT_RUN_FAILED = 1
EXIT_CONFIG = 2
EXIT_DEPENDENCY = 3


@dataclass
class OperatorError(Exception):
    """What failed, the setting (and its source), the host or path, the likely fix, the exit code."""

    what: str
    cause: str
    fix: str
    exit_code: int = EXIT_DEPENDENCY
    setting: str | None = None
    value: str | None = None
    source: str | None = None
    target: str | None = None

    def __str__(self) -> str:
        return self.paragraph()

    def paragraph(self, t: Translator | None = None) -> str:
        """The paragraph in *t*'s language (English by default)."""
        t = t or translator("en")
        parts = [
            t.gettext(
                "{what}: {cause}.", what=say(self.what, t), cause=say(self.cause, t).rstrip(".")
            )
        ]
        if self.setting:
            setting = f"{self.setting} = {self.value}" if self.value is not None else self.setting
            source = say(self.source or Text("default"), t)
            parts.append(
                t.gettext("Setting {setting} (from {source}).", setting=setting, source=source)
            )
        if self.target:
            parts.append(t.gettext("Target: {target}.", target=self.target))
        parts.append(t.gettext("Fix: {fix}.", fix=say(self.fix, t).rstrip(".")))
        return redact(" ".join(parts))


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``."""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        pass
    return url


def _source(settings: Any, key: str) -> str:
    try:
        return settings.source_of(key)
    except Exception:  # noqa: BLE001 - a settings object without provenance
        return Text("default")


def _host_port(url: str, default_port: int | None) -> str:
    try:
        parts = urlsplit(url)
        if parts.scheme.startswith("sqlite"):
            return url.split(":///", 1)[-1]
        return f"{parts.hostname or 'localhost'}:{parts.port or default_port}"
    except ValueError:
        return url


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
        orig = getattr(seen[-1], "orig", None)
        if isinstance(orig, BaseException) and orig not in seen:
            current = orig
    return seen


def _text(exc: BaseException) -> str:
    return " ".join(str(e) for e in _chain(exc)).lower()


def explain(
    exc: BaseException, settings: Any, *, during: str | None = None
) -> OperatorError | None:
    """The :class:`OperatorError` for *exc*, or None when it is not a known dependency failure."""
    if isinstance(exc, OperatorError):
        return exc
    from piis_bridge.config import ConfigError

    if isinstance(exc, ConfigError):
        return OperatorError(
            Text("configuration error"),
            error_text(exc),
            Text("correct the setting named above"),
            EXIT_CONFIG,
        )
    chain = _chain(exc)
    modules = {type(e).__module__.split(".")[0] for e in chain}
    names = {type(e).__name__ for e in chain}
    text = _text(exc)
    if "NoSuchModuleError" in names or ("ArgumentError" in names and "could not parse" in text):
        return database_url_error(settings, text)
    if modules & {"sqlalchemy", "psycopg", "psycopg2", "sqlite3"} and not modules & {
        "kombu",
        "amqp",
        "redis",
    }:
        return database_error(settings, text)
    if modules & {"kombu", "amqp", "redis"} or ("OperationalError" in names and "kombu" in text):
        return broker_error(settings, text)
    for e in chain:
        if isinstance(e, OSError) and e.errno in (
            errno.EROFS,
            errno.ENOSPC,
            errno.EACCES,
            errno.EPERM,
            errno.EDQUOT,
        ):
            return filesystem_error(settings, e)
    if (
        any(isinstance(e, (ConnectionRefusedError, TimeoutError)) for e in chain)
        and during == "broker"
    ):
        return broker_error(settings, text)
    return None


def database_url_error(settings: Any, text: str) -> OperatorError:
    url = str(getattr(settings, "database_url", ""))
    scheme = url.split("://", 1)[0] if "://" in url else url
    fix = Text(
        "use postgresql://user@host:5432/dbname (or postgresql+psycopg://...) for PostgreSQL, "
        "sqlite:///path for SQLite"
    )
    if scheme == "postgres":
        fix = Text(
            "write postgresql:// instead of postgres:// (SQLAlchemy does not know the short "
            "Heroku-style scheme)"
        )
    return OperatorError(
        Text("database URL not understood"),
        Text("the scheme {scheme} is not a database driver piis-bridge knows", scheme=repr(scheme)),
        fix,
        EXIT_CONFIG,
        "database_url",
        mask_url(url),
        _source(settings, "database_url"),
    )


def database_error(settings: Any, text: str) -> OperatorError:
    url = str(getattr(settings, "database_url", ""))
    common = dict(
        setting="database_url",
        value=mask_url(url),
        source=_source(settings, "database_url"),
        target=_host_port(url, 5432),
    )
    target = common["target"]
    if "does not exist" in text and "database" in text:
        name = urlsplit(url).path.lstrip("/") or "?"
        return OperatorError(
            Text("database not found"),
            Text("PostgreSQL at {target} has no database {name}", target=target, name=repr(name)),
            Text(
                "create it (createdb -O <user> {name}) then run piis-bridge db upgrade, or correct "
                "the database name in database_url",
                name=name,
            ),
            EXIT_DEPENDENCY,
            **common,
        )
    if (
        ("role" in text and "does not exist" in text)
        or "password authentication failed" in text
        or "authentication failed" in text
        or "no password supplied" in text
    ):
        return OperatorError(
            Text("database login refused"),
            Text("PostgreSQL at {target} refused the user or password", target=target),
            Text(
                "correct the user in database_url (and its password, given in PIIS_DATABASE_URL "
                "in the environment file, never in the TOML file), or create that role"
            ),
            EXIT_CONFIG,
            **common,
        )
    if (
        "connection refused" in text
        or "could not connect" in text
        or "timeout" in text
        or "timed out" in text
        or "name or service not known" in text
        or "could not translate host name" in text
    ):
        return OperatorError(
            Text("database unreachable"),
            Text("nothing answers as PostgreSQL at {target}", target=target),
            Text(
                "start PostgreSQL, or correct the host and port in database_url (default port 5432)"
            ),
            EXIT_DEPENDENCY,
            **common,
        )
    if "readonly database" in text or "read-only" in text:
        return OperatorError(
            Text("database file read-only"),
            Text("SQLite cannot write {target}", target=target),
            Text(
                "make the file and its directory writable by the user running piis-bridge, or "
                "point database_url at a writable place"
            ),
            EXIT_DEPENDENCY,
            **common,
        )
    if "disk is full" in text or "no space left" in text:
        return OperatorError(
            Text("disk full"),
            Text("the database at {target} cannot grow", target=target),
            Text("free space on that file system"),
            EXIT_DEPENDENCY,
            **common,
        )
    if "unable to open database file" in text:
        return OperatorError(
            Text("database file cannot be opened"),
            Text("SQLite cannot open or create {target}", target=target),
            Text(
                "create the directory and make it writable by the user running piis-bridge, or "
                "point database_url at a writable place"
            ),
            EXIT_DEPENDENCY,
            **common,
        )
    return OperatorError(
        Text("database error"),
        _first_line(text),
        Text(
            "check that the database named by database_url is up and migrated (piis-bridge db "
            "upgrade); rerun with --debug for the traceback"
        ),
        EXIT_DEPENDENCY,
        **common,
    )


def broker_error(settings: Any, text: str) -> OperatorError:
    url = str(getattr(settings, "broker_url", ""))
    default_port = 6379 if url.startswith("redis") else 5672
    common = dict(
        setting="broker_url",
        value=mask_url(url),
        source=_source(settings, "broker_url"),
        target=_host_port(url, default_port),
    )
    target = common["target"]
    kind: str = (
        "Redis"
        if url.startswith("redis")
        else "RabbitMQ"
        if url.startswith("amqp")
        else Text("the broker")
    )
    if (
        "access_refused" in text
        or "access refused" in text
        or "authentication" in text
        or "invalid password" in text
        or "wrongpass" in text
        or "noauth" in text
        or "invalid username-password" in text
    ):
        return OperatorError(
            Text("broker login refused"),
            Text("{broker} at {target} refused the user or password", broker=kind, target=target),
            Text(
                "correct the user and password in PIIS_BROKER_URL (environment file), or create "
                "that user on the broker"
            ),
            EXIT_CONFIG,
            **common,
        )
    return OperatorError(
        Text("broker unreachable"),
        Text("cannot connect to {broker} at {target}", broker=kind, target=target),
        Text(
            "start the broker, or correct the host and port in broker_url; workers and 'run "
            "--no-embedded' need it"
        ),
        EXIT_DEPENDENCY,
        **common,
    )


def filesystem_error(settings: Any, exc: OSError) -> OperatorError:
    path = exc.filename or str(getattr(settings, "state_dir", "?"))
    setting = "state_dir"
    if path and str(path).startswith(
        str(getattr(settings, "database_url", "@")).split(":///", 1)[-1]
    ):
        setting = "database_url"
    value = str(getattr(settings, setting, "")) if settings is not None else None
    common = dict(
        setting=setting, value=value, source=_source(settings, setting), target=str(Path(path))
    )
    if exc.errno == errno.EROFS:
        return OperatorError(
            Text("data directory read-only"),
            Text("cannot write {path} (read-only file system)", path=str(path)),
            Text("remount it read-write or point state_dir at a writable directory"),
            EXIT_DEPENDENCY,
            **common,
        )
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OperatorError(
            Text("disk full"),
            Text("no space left to write {path}", path=str(path)),
            Text(
                "free space on that file system (old logs, var/broker/processed) or move state_dir"
            ),
            EXIT_DEPENDENCY,
            **common,
        )
    return OperatorError(
        Text("permission denied"),
        Text("cannot write {path}", path=str(path)),
        Text(
            "give the user running piis-bridge write access (chown piis:piis), or point the "
            "setting at a directory it owns"
        ),
        EXIT_CONFIG,
        **common,
    )


def _first_line(text: str) -> str:
    # the driver's own words, shown as written
    return text.strip().splitlines()[0][:300] if text.strip() else Text("unknown error")
