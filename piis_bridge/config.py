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
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from datetime import time
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from piis_bridge.identifiers import Bce, InsCode
from piis_bridge.observability.settings import AlertSettings, MonitoringSettings

__all__ = [
    "ConfigError",
    "CpasSettings",
    "PluginsSettings",
    "Settings",
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "is_secret_key",
    "config_file_path",
    "load_settings",
    "default_settings",
    "resolve_secret_files",
]

DEFAULT_CONFIG_FILE = "piis-bridge.toml"
ENV_PREFIX = "PIIS_"
_SECRET_SUFFIXES = ("secret", "password", "passwd", "token", "api_key", "apikey", "private_key")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_config_path: ContextVar[Path | None] = ContextVar("piis_config_path", default=None)
_defaults_only: ContextVar[bool] = ContextVar("piis_defaults_only", default=False)


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file, the key and what to do."""


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
    case_system: str | None = Field(default=None, description="Plugin that talks to the case system.")
    federal: str | None = Field(default="federal", description="Plugin that talks to SPP IS / NovaPrima.")
    transfer: str | None = Field(default="transfer", description="Plugin that hands contracts over.")
    plugins: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Settings per plugin name, checked by the plugin's model."
    )
    disabled_plugins: list[str] = Field(
        default_factory=list,
        description="Plugins enabled in [plugins] but not used for this CPAS (e.g. another CPAS's local rules).",
    )

    @model_validator(mode="after")
    def _routed_not_disabled(self) -> CpasSettings:
        for role, plugin in self.routed_plugins().items():
            if plugin in self.disabled_plugins:
                raise ValueError(f"{role} plugin {plugin!r} is listed in disabled_plugins")
        return self

    def routed_plugins(self) -> dict[str, str]:
        """role -> plugin name, for the roles this CPAS uses."""
        roles = {"case_system": self.case_system, "federal": self.federal, "transfer": self.transfer}
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
                    "monthly statement of the previous month is fetched and reconciled (retried until available).")
    plugins: PluginsSettings = Field(default_factory=PluginsSettings)
    cpas: dict[str, CpasSettings] = Field(default_factory=dict)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (expected e.g. 'Europe/Brussels')") from None
        return value

    @field_validator("cpas")
    @classmethod
    def _ids(cls, value: dict[str, CpasSettings]) -> dict[str, CpasSettings]:
        for cpas_id in value:
            if not _ID.match(cpas_id):
                raise ValueError(f"CPAS id {cpas_id!r} must be lower-case letters, digits or '_' (max 40)")
        return value

    @model_validator(mode="after")
    def _routed_plugins_enabled(self) -> Settings:
        for cpas_id, cpas in self.cpas.items():
            for role, plugin in cpas.routed_plugins().items():
                if not self.plugins.is_enabled(plugin):
                    raise ValueError(f"cpas.{cpas_id}.{role}: plugin {plugin!r} is disabled in [plugins]")
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

    def nightly_zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

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
                f"  {'.'.join(p)}: set {_env_name(p)} in the environment, or {p[-1]}_file = \"/path/to/file\""
                for p in offenders
            ]
            raise ConfigError(
                f"{self._path}: secrets must not be written in the configuration file:\n" + "\n".join(lines)
            )
        return data


def _inline_secrets(value: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            sub = (*path, str(key))
            if is_secret_key(str(key)) and item not in (None, ""):
                found.append(sub)
            elif isinstance(item, str) and str(key).lower().endswith("url") and _url_has_password(item):
                found.append(sub)
            else:
                found.extend(_inline_secrets(item, sub))
    return found


def _url_has_password(url: str) -> bool:
    try:
        return bool(urlsplit(url).password)
    except ValueError:
        return False


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
                raise ConfigError(f"{where}: both {target} and {key} are set; keep one")
            try:
                resolved[target] = Path(str(value)).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{where}.{key}: cannot read secret file {value}: {exc.strerror}") from None
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
        raise ConfigError(f"configuration file {chosen} does not exist")
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


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate the configuration; every problem is one :class:`ConfigError` naming the keys."""
    file = config_file_path(path)
    token = _config_path.set(file)
    try:
        return Settings()
    except ValidationError as exc:
        where = f"{file}" if file else "configuration"
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = "unknown key (not a setting)" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"  {loc}: {msg}")
        raise ConfigError(f"{where}: invalid configuration:\n" + "\n".join(lines)) from None
    except Exception as exc:  # TOML syntax errors
        if isinstance(exc, ConfigError):
            raise
        if type(exc).__name__ == "TOMLDecodeError":
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        raise
    finally:
        _config_path.reset(token)
