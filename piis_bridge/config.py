"""Configuration: one TOML file plus ``PIIS_``-prefixed environment variables (pydantic-settings).

Why this shape:
- One installation serves several CPAS, each with its own case system, federal channel and plugin
  settings, so the CPAS are a table keyed by a short id (``[cpas.liege]``) and plugin settings
  live under the CPAS (``[cpas.liege.plugins.neptunus]``).
- The file is meant to be committed or copied around; secrets are not.  A secret (a key whose name
  ends in ``secret``, ``password``, ``token``, ``api_key`` or ``private_key``, or a URL holding a
  password) written inline in the TOML file is rejected with the environment variable to use
  instead.  Secrets come from the environment (``PIIS_CPAS__LIEGE__PLUGINS__NEPTUNUS__API_TOKEN``)
  or from a file named by a ``<key>_file`` setting (``api_token_file = "/run/secrets/neptunus"``).
- Unknown keys are errors naming the key: a misspelled setting must not silently fall back to a
  default.  Plugin settings are checked against the plugin's own model at startup
  (:mod:`piis_bridge.hooks.manager`), since only the plugin knows them.

The file is ``$PIIS_CONFIG`` if set (it must then exist), else ``./piis-bridge.toml`` if present;
without a file the embedded defaults apply (SQLite + filesystem broker, no CPAS).

No silent default sends data: a CPAS has a federal plugin only when ``federal = "..."`` says so, and
a plugin endpoint on a loopback address (the local simulators) is refused unless
``environment = "simulator"`` says this installation is a test/simulator one.  Every effective
setting knows where it came from (:func:`setting_source`: the file, an environment variable or the
default), so an error can name it and ``plugins check`` can show it.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from piis_bridge.i18n import N_, Join
from piis_bridge.i18n.text import Text, validation_message
from piis_bridge.identifiers import Bce, InsCode
from piis_bridge.observability.settings import AlertSettings, MonitoringSettings

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "ConfigError",
    "CpasSettings",
    "PluginsSettings",
    "Settings",
    "config_file_path",
    "default_settings",
    "is_secret_key",
    "load_settings",
    "loopback_problems",
    "resolve_secret_files",
    "setting_source",
]

DEFAULT_CONFIG_FILE = "piis-bridge.toml"
ENV_PREFIX = "PIIS_"
_SECRET_SUFFIXES = ("secret", "password", "passwd", "token", "api_key", "apikey", "private_key")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_config_path: ContextVar[Path | None] = ContextVar("piis_config_path", default=None)
_defaults_only: ContextVar[bool] = ContextVar("piis_defaults_only", default=False)


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file, the key and what to do.

    Raised with a :class:`~piis_bridge.i18n.text.Text` (English, with its message id and values), so
    the command line says it in the reader's language (``say(error_text(exc), t)``)."""


def is_secret_key(key: str) -> bool:
    """True for setting names that hold a secret and so may not be written in the TOML file."""
    name = key.lower()
    return not name.endswith("_file") and name.endswith(_SECRET_SUFFIXES)


def _env_name(path: tuple[str, ...]) -> str:
    return ENV_PREFIX + "__".join(p.upper() for p in path)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class CpasSettings(_Strict):
    """One CPAS/OCMW served by this installation."""

    name: str = Field(min_length=1)
    ins_code: InsCode
    bce: Bce
    case_system: str | None = Field(
        default=None, description="Plugin that talks to the case system."
    )
    federal: str | None = Field(
        default=None,
        description="Plugin that sends forms B/C/D to SPP IS / NovaPrima; none (nothing is sent) unless configured.",
    )
    transfer: str | None = Field(
        default="transfer", description="Plugin that hands contracts over."
    )
    plugins: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Settings per plugin name, checked by the plugin's model."
    )
    disabled_plugins: list[str] = Field(
        default_factory=list,
        description="Plugins enabled in [plugins] but not used for this CPAS (e.g. another CPAS's local rules).",
    )
    language: str = Field(
        default="en",
        description="Language of every text that reaches this CPAS's case system and social workers (tasks, "
        "statuses, alerts, notices) and of the command line's output: fr, nl, de or en (docs/i18n.md).",
    )

    @field_validator("language", mode="before")
    @classmethod
    def _supported_language(cls, value: Any) -> str:
        from piis_bridge.i18n import LANGUAGES

        if isinstance(value, str) and value.strip().lower() in LANGUAGES:
            return value.strip().lower()
        env = sorted(
            k
            for k, v in os.environ.items()
            if re.fullmatch(r"PIIS_CPAS__\w+__LANGUAGE", k, re.IGNORECASE) and v == value
        )
        if env:
            raise ValueError(
                Text(
                    "unsupported language {value} (from the environment variable {env}); set it "
                    "to fr, nl, de or en, or unset it to use the configuration file",
                    value=repr(value),
                    env=env[0],
                )
            )
        raise ValueError(
            Text(
                'unsupported language {value}; write language = "fr", "nl", "de" or "en" under '
                "this [cpas.<id>] table (or set PIIS_CPAS__<ID>__LANGUAGE), or remove the key for "
                'the default "en"',
                value=repr(value),
            )
        )

    @model_validator(mode="after")
    def _routed_not_disabled(self) -> CpasSettings:
        for role, plugin in self.routed_plugins().items():
            if plugin in self.disabled_plugins:
                raise ValueError(
                    Text(
                        "{role} plugin {plugin} is listed in disabled_plugins",
                        role=role,
                        plugin=repr(plugin),
                    )
                )
        return self

    def routed_plugins(self) -> dict[str, str]:
        """role -> plugin name, for the roles this CPAS uses."""
        roles = {
            "case_system": self.case_system,
            "federal": self.federal,
            "transfer": self.transfer,
        }
        return {role: name for role, name in roles.items() if name}


class PluginsSettings(_Strict):
    """Which installed plugins are loaded.  A disabled plugin is never imported."""

    disabled: list[str] = Field(default_factory=list)
    enabled: list[str] | None = Field(
        default=None, description="Allow-list; when set, only these installed plugins are loaded."
    )
    strict: bool = Field(default=True, description="A plugin that fails to load stops startup.")

    def is_enabled(self, name: str) -> bool:
        if name in self.disabled:
            return False
        return self.enabled is None or name in self.enabled


class Settings(BaseSettings):
    """The whole configuration.  Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        hide_input_in_errors=True,
        validate_default=True,
    )

    environment: Literal["production", "simulator"] = Field(
        default="production",
        description="'simulator' allows plugin endpoints on loopback addresses (the local simulators); "
        "'production' refuses them, so nothing is ever sent to whatever listens on a local port.",
    )
    deployment: Literal["embedded", "scale-out"] = Field(
        default="embedded",
        description="'embedded': run/replay start a worker for the run (SQLite + filesystem broker); "
        "'scale-out': they enqueue on broker_url for the workers running elsewhere.",
    )
    nightly_catchup: bool = Field(
        default=False,
        description="When beat starts after tonight's nightly time, start the missed run (within "
        "PIIS_PIPELINE_NIGHTLY_CATCHUP_HOURS); off: the first run is the next scheduled one.",
    )
    database_url: str = "sqlite:///var/piis-bridge.sqlite3"
    broker_url: str = "filesystem://"
    result_backend: str = "db+sqlite:///var/piis-bridge-results.sqlite3"
    state_dir: Path = Path("var/state")
    log_format: Literal["console", "json"] = "console"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    nightly_time: time = Field(default=time(2, 30), description="Local time of the nightly sync.")
    timezone: str = Field(default="Europe/Brussels", description="Time zone of nightly_time.")
    statement_time: time = Field(
        default=time(6, 0),
        description="Local time, on the Monday after the first Sunday of a month, from which the federal "
        "monthly statement of the previous month is fetched and reconciled (retried until available).",
    )
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Purge the payloads of finished work (done items superseded by a newer version, final "
        "effects and forms, closed transfers) older than this many days, at the start of each "
        "nightly run and with `piis-bridge db purge`; keys, states and hashes stay. None = keep.",
    )
    plugins: PluginsSettings = Field(default_factory=PluginsSettings)
    cpas: dict[str, CpasSettings] = Field(default_factory=dict)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    # key path -> where it came from ("file <path>", "environment PIIS_...", "default"); see setting_source.
    _sources: dict[tuple[str, ...], str] = PrivateAttr(default_factory=dict)
    _file: Path | None = PrivateAttr(default=None)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                Text(
                    "unknown time zone {value} (expected e.g. 'Europe/Brussels')", value=repr(value)
                )
            ) from None
        return value

    @field_validator("cpas")
    @classmethod
    def _ids(cls, value: dict[str, CpasSettings]) -> dict[str, CpasSettings]:
        for cpas_id in value:
            if not _ID.match(cpas_id):
                raise ValueError(
                    Text(
                        "CPAS id {cpas} must be lower-case letters, digits or '_' (max 40)",
                        cpas=repr(cpas_id),
                    )
                )
        return value

    @model_validator(mode="after")
    def _routed_plugins_enabled(self) -> Settings:
        for cpas_id, cpas in self.cpas.items():
            for role, plugin in cpas.routed_plugins().items():
                if not self.plugins.is_enabled(plugin):
                    raise ValueError(
                        Text(
                            "cpas.{cpas}.{role}: plugin {plugin} is disabled in [plugins]",
                            cpas=cpas_id,
                            role=role,
                            plugin=repr(plugin),
                        )
                    )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = _config_path.get()
        if _defaults_only.get():
            return (init_settings,)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path is not None:
            sources.append(_NoSecretsToml(settings_cls, path))
        return tuple(sources)

    def source_of(self, *path: str) -> str:
        """Where the effective value of the setting *path* came from (see :func:`setting_source`)."""
        return setting_source(self, path)

    def nightly_zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_today(self, now: datetime | None = None) -> date:
        """Today in the installation's time zone (``timezone``): the day the pipeline judges the
        contracts on, so what a screen calls overdue is what the night's run called overdue -- not
        the server clock's day, which differs around midnight on a host kept in UTC."""
        return (now or datetime.now(UTC)).astimezone(self.nightly_zone()).date()

    def plugin_settings(self, cpas_id: str, plugin: str) -> dict[str, Any]:
        """The plugin's settings for a CPAS, with ``<key>_file`` secrets read from their files."""
        raw = self.cpas[cpas_id].plugins.get(plugin, {})
        return resolve_secret_files(raw, where=f"cpas.{cpas_id}.plugins.{plugin}")

    def state_dir_for(self, cpas_id: str, plugin: str) -> Path:
        return self.state_dir / cpas_id / plugin


class _NoSecretsToml(TomlConfigSettingsSource):
    """The TOML source, refusing secrets written inline (they belong in the environment or a file)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        self._path = path
        super().__init__(settings_cls, toml_file=path)

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        offenders = _inline_secrets(data, ())
        if offenders:
            lines = [
                Text(
                    _SECRET_FILE if is_secret_key(p[-1]) else _SECRET_ENV,
                    key=".".join(p),
                    env=_env_name(p),
                    name=p[-1],
                )
                for p in offenders
            ]
            raise ConfigError(
                Text(
                    "{path}: secrets must not be written in the configuration file:\n{lines}",
                    path=str(self._path),
                    lines=Join("\n", lines),
                )
            )
        return data


_SECRET_ENV = N_("  {key}: set {env} in the environment")
_SECRET_FILE = N_('  {key}: set {env} in the environment, or {name}_file = "/path/to/file"')


def _inline_secrets(value: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            sub = (*path, str(key))
            if is_secret_key(str(key)) and item not in (None, ""):
                found.append(sub)
            elif isinstance(item, str) and _url_has_password(item):
                found.append(sub)  # any setting: result_backend, a plugin's endpoint, ...
            else:
                found.extend(_inline_secrets(item, sub))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            sub = (*path, str(i))
            if isinstance(item, str) and _url_has_password(item):
                found.append(sub)
            else:
                found.extend(_inline_secrets(item, sub))
    return found


_URL_USERINFO = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#@]*:[^/?#@]*@")


def _url_has_password(url: str) -> bool:
    """True for any URL (any scheme: db+postgresql, amqp, redis, https...) carrying a password.

    Checked on the raw text too: urlsplit refuses some malformed URLs that a driver would still use.
    """
    if "://" not in url or "@" not in url:
        return False
    try:
        if urlsplit(url.strip()).password:
            return True
    except ValueError:
        pass
    match = _URL_USERINFO.match(url.strip())
    return bool(match and match.group(0).split("://", 1)[1].split(":", 1)[1][:-1])


def resolve_secret_files(settings: dict[str, Any], *, where: str) -> dict[str, Any]:
    """Replace each ``<key>_file = path`` by ``<key> = <file content, stripped>``.

    Why: container orchestrators mount secrets as files; naming the file keeps the secret itself
    out of the configuration file and out of the process environment.
    """
    resolved: dict[str, Any] = {}
    for key, value in settings.items():
        if key.endswith("_file") and is_secret_key(key[: -len("_file")]):
            target = key[: -len("_file")]
            if settings.get(target) not in (None, ""):
                raise ConfigError(
                    Text(
                        "{where}: both {target} and {key} are set; keep one",
                        where=where,
                        target=target,
                        key=key,
                    )
                )
            try:
                resolved[target] = Path(str(value)).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    Text(
                        "{where}.{key}: cannot read secret file {path}: {error}",
                        where=where,
                        key=key,
                        path=str(value),
                        error=str(exc.strerror),
                    )
                ) from None
        elif key not in resolved:
            resolved[key] = value
    return resolved


def config_file_path(path: str | os.PathLike[str] | None = None) -> Path | None:
    """The configuration file to read: *path*, else ``$PIIS_CONFIG``, else ``./piis-bridge.toml`` if present."""
    if path is not None:
        chosen = Path(path)
    elif os.environ.get("PIIS_CONFIG"):
        chosen = Path(os.environ["PIIS_CONFIG"])
    else:
        default = Path(DEFAULT_CONFIG_FILE)
        return default if default.is_file() else None
    if not chosen.is_file():
        raise ConfigError(Text("configuration file {path} does not exist", path=str(chosen)))
    return chosen


def default_settings(**values: Any) -> Settings:
    """The embedded defaults (plus *values*), ignoring the environment and any file.

    Why: a command that must work with a broken configuration (``plugins``, ``--help``) needs a
    configuration that cannot fail.
    """
    token = _defaults_only.set(True)
    try:
        return Settings(**values)
    finally:
        _defaults_only.reset(token)


def _flatten(value: Any, path: tuple[str, ...], out: dict[tuple[str, ...], Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, (*path, str(key).lower()), out)
    else:
        out[path] = value


def _record_sources(settings: Settings, file: Path | None) -> None:
    sources: dict[tuple[str, ...], str] = {}
    if file is not None:
        try:
            flat: dict[tuple[str, ...], Any] = {}
            _flatten(tomllib.loads(file.read_text(encoding="utf-8")), (), flat)
            sources.update({key: Text("file {path}", path=str(file)) for key in flat})
        except (OSError, tomllib.TOMLDecodeError):
            pass
    for name in os.environ:
        if name.upper().startswith(ENV_PREFIX) and not name.upper().startswith(
            ENV_PREFIX + "PIPELINE_"
        ):
            key = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
            sources[key] = Text("environment {name}", name=name)
    settings._sources = sources
    settings._file = file


def setting_source(settings: Settings, path: Sequence[str]) -> str:
    """``file <path>``, ``environment PIIS_...`` or ``default`` for the setting at *path*.

    Why: an operator fixing "connection refused" must know whether to edit the file, the env file
    of the unit or nothing at all (a default he never wrote).  A table set in the file makes its keys
    come from the file; an environment variable overrides both (pydantic-settings' order).
    """
    key = tuple(p.lower() for p in path)
    sources = settings._sources
    for n in range(len(key), 0, -1):
        found = sources.get(key[:n])
        if found is not None and (n == len(key) or found.startswith("environment")):
            return found
    if any(k[: len(key)] == key for k in sources):
        return next(v for k, v in sources.items() if k[: len(key)] == key)
    return Text("default")


_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _urls(value: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_urls(item, (*path, str(key))))
    elif isinstance(value, str) and "://" in value:
        found.append((path, value))
    return found


def loopback_problems(settings: Settings) -> list[str]:
    """Plugin endpoints on a loopback address while ``environment`` is not ``simulator``, one line each.

    Why: the shipped simulators listen on 127.0.0.1; a production installation whose endpoint was
    left at (or copied from) a simulator address would send personal data to whatever listens there.
    """
    if settings.environment == "simulator":
        return []
    lines: list[str] = []
    for cpas_id, cpas in settings.cpas.items():
        for plugin, raw in cpas.plugins.items():
            for path, url in _urls(raw, ("cpas", cpas_id, "plugins", plugin)):
                if _is_loopback(url):
                    lines.append(
                        Text(
                            "{key} = {url} ({source}) is a loopback address, allowed only in a "
                            "test/simulator installation: set the real endpoint, or set "
                            'environment = "simulator" (PIIS_ENVIRONMENT=simulator) if this '
                            "installation talks to the local simulators (environment is now "
                            "{environment}, {environment_source})",
                            key=".".join(path),
                            url=url,
                            source=setting_source(settings, path),
                            environment=repr(settings.environment),
                            environment_source=setting_source(settings, ("environment",)),
                        )
                    )
    return lines


def load_settings(
    path: str | os.PathLike[str] | None = None, *, check_endpoints: bool = True
) -> Settings:
    """Read and validate the configuration; every problem is one :class:`ConfigError` naming the keys.

    Also refuses plugin endpoints on loopback addresses unless ``environment = "simulator"``
    (:func:`loopback_problems`; ``check_endpoints=False`` lets ``plugins check`` list them with the
    other problems), and records where each setting came from (:func:`setting_source`).
    """
    file = config_file_path(path)
    token = _config_path.set(file)
    try:
        settings = Settings()
        _record_sources(settings, file)
        problems = loopback_problems(settings) if check_endpoints else []
        if problems:
            raise _invalid(file, [Text("  {problem}", problem=p) for p in problems])
        return settings
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = validation_message(err, Text("unknown key (not a setting)"))
            lines.append(
                Text(
                    "  {key}: {problem} ({source})",
                    key=loc,
                    problem=msg,
                    source=_source_of_loc(err["loc"], file),
                )
                if loc
                else Text("  {problem}", problem=msg)
            )
        raise _invalid(file, lines) from None
    except Exception as exc:  # TOML syntax errors
        if isinstance(exc, ConfigError):
            raise
        if type(exc).__name__ == "TOMLDecodeError":
            # the parser's own words (line and column), shown as written
            raise ConfigError(
                Text("{path}: not valid TOML: {error}", path=str(file), error=str(exc))
            ) from None
        raise
    finally:
        _config_path.reset(token)


def _invalid(file: Path | None, lines: list[Text]) -> ConfigError:
    where = str(file) if file else Text("configuration")
    return ConfigError(
        Text("{where}: invalid configuration:\n{lines}", where=where, lines=Join("\n", lines))
    )


def _source_of_loc(loc: Sequence[Any], file: Path | None) -> str:
    """Where an invalid key came from, before a Settings object exists."""
    probe = Settings.model_construct()
    _record_sources(probe, file)
    return setting_source(probe, [str(p) for p in loc])
