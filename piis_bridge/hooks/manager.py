"""The plugin host: loads plugins, validates them at startup, routes per-CPAS hooks and isolates errors.

Why a facade over ``pm.hook`` (tox's ``Plugin`` class, conda's manager):
- pluggy stops a call chain at the first exception and isolates nothing; the nightly sync must go
  on with the other plugins and records.  Every call here catches the plugin's exception, records a
  :class:`PluginFailure` (plugin name, hook, CPAS, record id, redacted message) and returns a value
  the pipeline understands (a quarantine outcome, failed push results, ``None``).
- Several plugins implement the same per-CPAS hooks (neptunus and filedrop both fetch changes); the
  CPAS configuration says which one serves which CPAS, so the host calls only that plugin (plus any
  plugin's ``wrapper=True`` implementation, which may see and amend the result).
- Mistakes must surface at startup, not as silent no-ops at 02:30: an unknown ``piis_*`` hook, a
  ``piis_*`` function without ``@hookimpl``, a hook argument not in the spec, an unknown plugin
  setting, a CPAS routed to a missing plugin.  They are collected and raised together
  (:class:`PluginStartupError`), or kept in :attr:`PluginHost.problems` when ``strict`` is off
  (``piis-bridge plugins`` shows them).

Nothing outside this package touches ``pm.hook`` for the per-CPAS hooks.
"""

from __future__ import annotations

import copy
import difflib
import importlib.metadata
import inspect
import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy
from pydantic import BaseModel, ValidationError

from piis_bridge.config import ConfigError, Settings, default_settings
from piis_bridge.forms import ContractEvent, MonthlyStatement, SubmissionOutcome
from piis_bridge.hooks import specs
from piis_bridge.hooks.markers import PROJECT_NAME
from piis_bridge.hooks.types import (
    ChangePage,
    CpasContext,
    MappingOutcome,
    NoticePage,
    PluginFailure,
    PushItem,
    PushResult,
    RecordProblem,
    RunInfo,
    RunReport,
    SourceRecord,
)
from piis_bridge.i18n import N_, Join
from piis_bridge.i18n.text import Text, error_text, validation_message
from piis_bridge.logging import redact
from piis_bridge.observability.metrics import observe_call

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from pluggy import HookCaller, HookImpl, Result

    from piis_bridge.cli import CommandRegistry
    from piis_bridge.model import PIISContract, TransferRequest
    from piis_bridge.rules.registry import RuleRegistry
    from piis_bridge.transfer import (
        DeliveryReceipt,
        Destination,
        ExportedPackage,
        IncomingPackage,
        ReceiveOutcome,
    )

__all__ = [
    "ENTRY_POINT_GROUP",
    "HOOK_PREFIX",
    "ROLE_HOOKS",
    "TRACE_ENV",
    "PluginCallError",
    "PluginHost",
    "PluginInfo",
    "PluginInstances",
    "PluginStartupError",
    "get_plugin_manager",
    "hook_names",
]

ENTRY_POINT_GROUP = PROJECT_NAME
HOOK_PREFIX = "piis_"
TRACE_ENV = "PIIS_TRACE_PLUGINS"  # =1: log every routed hook call (names only), like DATASETTE_TRACE_PLUGINS
# The hooks a plugin must implement to serve a CPAS in a role (checked at startup).
ROLE_HOOKS: dict[str, tuple[str, ...]] = {
    "case_system": ("piis_case_fetch_changes", "piis_case_map_record"),
    "federal": (),
    "transfer": (),
}
# A case-system plugin that serves several CPAS from one vendor instance declares, as a module (or
# plugin object) attribute, the name of its setting that restricts it to one CPAS (its BCE/KBO):
#   PIIS_TENANT_FILTER = "ocmw_kbo"
# The host then requires that setting, equal to the CPAS's BCE, wherever the plugin is routed.
TENANT_FILTER_ATTR = "PIIS_TENANT_FILTER"
# Settings a plugin needs wherever it is routed (e.g. the federal plugin's endpoint), as an attribute:
#   PIIS_REQUIRED_WHEN_ROUTED = ("endpoint",)
# Their model may leave them optional (ledger-only uses), the routing may not.
REQUIRED_WHEN_ROUTED_ATTR = "PIIS_REQUIRED_WHEN_ROUTED"
# A plugin that keeps state (HTTP clients, database engines, caches) names, in its entry-point module, a
# factory of its plugin object:  def make_plugin() -> object.  The host registers that object under the
# entry-point name instead of the module (pytest registers its stateful plugins as objects the same way),
# one per process: see PluginInstances and docs/plugins.md "Plugin state".
PLUGIN_FACTORY_ATTR = "make_plugin"
_ROLE_OF_HOOK = {
    "piis_case_": "case_system",
    "piis_federal_": "federal",
    "piis_transfer_": "transfer",
}
# stdlib logging, not a bare structlog logger: unconfigured structlog prints to stdout, which would
# corrupt command output such as ``plugins --json``.  Once configure_logging() ran, these records go
# through the same redacting structlog chain.
_log = logging.getLogger("piis_bridge.plugins")
_T = TypeVar("_T")


def hook_names() -> list[str]:
    """Every hook name the core specifies, in the order of :mod:`piis_bridge.hooks.specs`."""
    return [name for name in specs.__all__ if name.startswith(HOOK_PREFIX)]


class PluginStartupError(ConfigError):
    """Plugins or their configuration are wrong; ``problems`` lists each, naming plugin and key
    (each an English :class:`~piis_bridge.i18n.text.Text`, said in the reader's language by the CLI)."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            Text(
                "plugin problems at startup:\n{problems}",
                problems=Join("\n", [Text("  - {problem}", problem=p) for p in self.problems]),
            )
        )


def _did_you_mean(problem: Text, hint: list[str], quoted: bool = True) -> Text:
    """*problem*, with the closest known name when there is one."""
    if not hint:
        return problem
    name = repr(hint[0]) if quoted else hint[0]
    return Text("{problem}; did you mean {name}?", problem=problem, name=name)


class PluginCallError(RuntimeError):
    """Raised by :meth:`PluginHost.require` when a routed call could not produce a result."""

    def __init__(self, failure: PluginFailure) -> None:
        self.failure = failure
        where = f" (cpas {failure.cpas_id}" + (
            f", record {failure.record_id})" if failure.record_id else ")"
        )
        super().__init__(
            f"plugin {failure.plugin!r} failed in {failure.hook}{where}: {failure.message}"
        )


@dataclass(frozen=True)
class PluginInfo:
    """What ``piis-bridge plugins`` shows for one plugin."""

    name: str
    distribution: str | None
    version: str | None
    module: str | None
    hooks: tuple[str, ...]
    enabled: bool
    error: str | None = None


class PluginInstances:
    """The plugin objects of one process, made once and shared by every :class:`PluginHost` of it.

    Why per process and not per host: the pipeline makes one host per thread (a call's failures are
    read from ``host.failures``), but what plugins keep is made to be shared by threads: a SQLAlchemy
    ``Engine`` is a thread-safe connection pool meant to live as long as the process, an
    ``httpx.Client`` likewise.  An object per host would open a pool per thread (connections times
    threads against the vendor and the database) for nothing.  So each plugin object guards its own
    mutable state with a lock; the owner of this store (the pipeline's ``Runtime``, per process)
    drops it after a fork, where the parent's sockets must not be reused, and closes it on shutdown.
    A host made without a store (CLI commands, tests) gets its own, so nothing leaks between them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, object] = {}

    def get(self, name: str, factory: Any) -> object:
        """The object registered as *name* in this process, made by *factory* on first use."""
        with self._lock:
            found = self._objects.get(name)
            if found is None:
                found = self._objects[name] = factory()
            return found

    def close(self) -> None:
        """Close every object that can be closed (its clients and engines), then forget them all."""
        with self._lock:
            objects, self._objects = list(self._objects.values()), {}
        for obj in objects:
            close = getattr(obj, "close", None)
            if callable(close):
                close()


@dataclass
class _Entry:
    name: str
    distribution: str | None = None
    version: str | None = None
    module: str | None = None
    plugin: object | None = None
    enabled: bool = True
    error: str | None = None


@dataclass
class _Failed:
    failure: PluginFailure


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def _settings_copy(value: Any) -> Any:
    """A deep copy of a plugin's settings: dicts and lists rebuilt, immutable scalars shared, anything
    else through ``copy.deepcopy``."""
    cls = value.__class__
    if cls is dict:
        return {k: _settings_copy(v) for k, v in value.items()}
    if cls is list:
        return [_settings_copy(v) for v in value]
    if cls in _IMMUTABLE:
        return value
    return copy.deepcopy(value)


class PluginHost:
    """One per process: the loaded plugins, the configuration, and a typed method per hook.

    :param settings: the configuration (default: the embedded defaults, no CPAS, environment ignored).
    :param plugins: extra ``(name, plugin)`` pairs to register, e.g. a plugin under test.
    :param load_entrypoints: load the ``piis_bridge`` entry points (off in unit tests).
    :param strict: raise :class:`PluginStartupError` on any problem (default: ``settings.plugins.strict``).
    :param instances: the process's plugin objects, shared with its other hosts (default: this host's own).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        plugins: Iterable[tuple[str, object]] = (),
        load_entrypoints: bool = True,
        strict: bool | None = None,
        instances: PluginInstances | None = None,
    ) -> None:
        self.instances = instances if instances is not None else PluginInstances()
        self.settings = settings if settings is not None else default_settings()
        self.strict = self.settings.plugins.strict if strict is None else strict
        self.pm = pluggy.PluginManager(PROJECT_NAME)
        self.pm.add_hookspecs(specs)
        self.problems: list[str] = []
        # Multi-tenant case systems routed without their tenant filter: `plugins check` fails on them;
        # at startup they are logged (the host refuses another CPAS's records one by one anyway).
        self.tenancy_problems: list[str] = []
        self.failures: list[PluginFailure] = []
        self.settings_models: dict[str, type[BaseModel] | None] = {}
        self._entries: dict[str, _Entry] = {}
        self._contexts: dict[tuple[str, str], CpasContext] = {}
        self._callers: dict[tuple[str, str], HookCaller] = {}
        # Explicit plugins first: one named like an installed entry point replaces it (a test double,
        # a patched build), instead of clashing with it.
        for name, plugin in plugins:
            module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
            entry = _Entry(
                name=name,
                module=module,
                plugin=self._instance(name, plugin),
                enabled=self.settings.plugins.is_enabled(name),
            )
            self._entries[name] = entry
            if entry.enabled:
                self._register(entry)
        if load_entrypoints:
            self._load_entrypoints()
        if os.environ.get(TRACE_ENV, "").strip() not in ("", "0"):
            self.pm.add_hookcall_monitoring(_trace_before, _trace_after)
        self._validate()
        if self.problems and self.strict:
            raise PluginStartupError(self.problems)

    # ---------------------------------------------------------------- loading and validation

    def _load_entrypoints(self) -> None:
        for ep in sorted(
            importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name
        ):
            if ep.name in self._entries:
                continue
            dist = getattr(ep, "dist", None)
            entry = _Entry(
                name=ep.name,
                distribution=dist.name if dist else None,
                version=dist.version if dist else None,
                module=ep.value,
                enabled=self.settings.plugins.is_enabled(ep.name),
            )
            self._entries[ep.name] = entry
            if not entry.enabled:
                self.pm.set_blocked(ep.name)
                continue
            try:
                entry.plugin = self._instance(ep.name, ep.load())
            except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, not fatal by itself
                entry.error = Text("cannot be imported: {error}", error=_describe(exc))
                self.problems.append(
                    Text(
                        "plugin {plugin} ({module}) {error}",
                        plugin=repr(ep.name),
                        module=ep.value,
                        error=entry.error,
                    )
                )
                continue
            self._register(entry)

    def _instance(self, name: str, plugin: object) -> object:
        """The object to register for *plugin*: its module's ``make_plugin()`` result when it has one
        (made once per process, see :class:`PluginInstances`), else *plugin* itself."""
        factory = (
            getattr(plugin, PLUGIN_FACTORY_ATTR, None) if isinstance(plugin, ModuleType) else None
        )
        return self.instances.get(name, factory) if callable(factory) else plugin

    def _register(self, entry: _Entry) -> None:
        try:
            self.pm.register(entry.plugin, name=entry.name)
        except pluggy.PluginValidationError as exc:
            entry.error = Text("invalid hook implementation: {error}", error=str(exc))
            self.problems.append(
                Text("plugin {plugin}: {problem}", plugin=repr(entry.name), problem=entry.error)
            )
        except ValueError as exc:  # duplicate name / already registered (pluggy's words)
            entry.error = str(exc)
            self.problems.append(
                Text("plugin {plugin}: {problem}", plugin=repr(entry.name), problem=str(exc))
            )

    def _registered(self) -> dict[str, object]:
        return {name: plugin for name, plugin in self.pm.list_name_plugin() if plugin is not None}

    def _validate(self) -> None:
        self._check_hook_names()
        self._collect_settings_models()
        self._check_cpas_routing()
        self._check_plugin_settings()
        self._check_required_when_routed()
        self._check_tenancy()

    def _check_hook_names(self) -> None:
        known = hook_names()
        for name, plugin in self._registered().items():
            for attr in dir(plugin):
                if not attr.startswith(HOOK_PREFIX):
                    continue
                value = getattr(plugin, attr, None)
                if not callable(value):
                    continue
                opts = self.pm.parse_hookimpl_opts(plugin, attr)
                hook_name = (opts.get("specname") if opts else None) or attr
                if opts is None:
                    if attr in known:
                        self.problems.append(
                            Text(
                                "plugin {plugin}: function {hook} is not marked with @hookimpl "
                                "(from piis_bridge.hooks import hookimpl), so it would never be "
                                "called",
                                plugin=repr(name),
                                hook=attr,
                            )
                        )
                    continue
                function = getattr(value, "__func__", value)
                wrapper = opts.get("wrapper") or opts.get("hookwrapper")
                if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
                    self.problems.append(
                        Text(
                            "plugin {plugin}: {hook} is async; hooks are called synchronously",
                            plugin=repr(name),
                            hook=attr,
                        )
                    )
                elif inspect.isgeneratorfunction(function) and not wrapper:
                    self.problems.append(
                        Text(
                            "plugin {plugin}: {hook} is a generator but not marked "
                            "@hookimpl(wrapper=True); return a value instead of yielding",
                            plugin=repr(name),
                            hook=attr,
                        )
                    )
                elif wrapper and not inspect.isgeneratorfunction(function):
                    self.problems.append(
                        Text(
                            "plugin {plugin}: {hook} is marked wrapper=True but does not yield",
                            plugin=repr(name),
                            hook=attr,
                        )
                    )
                if hook_name not in known and not opts.get("optionalhook"):
                    hint = difflib.get_close_matches(hook_name, known, n=1)
                    self.problems.append(
                        _did_you_mean(
                            Text(
                                "plugin {plugin}: {hook} is not a piis-bridge hook",
                                plugin=repr(name),
                                hook=hook_name,
                            ),
                            hint,
                            quoted=False,
                        )
                    )

    def _collect_settings_models(self) -> None:
        for impl in self.pm.hook.piis_plugin_settings.get_hookimpls():
            if impl.wrapper or impl.hookwrapper:
                continue
            try:
                model = impl.function()
            except Exception as exc:  # noqa: BLE001
                self.problems.append(
                    Text(
                        "plugin {plugin}: piis_plugin_settings raised {error}",
                        plugin=repr(impl.plugin_name),
                        error=_describe(exc),
                    )
                )
                continue
            if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
                self.problems.append(
                    Text(
                        "plugin {plugin}: piis_plugin_settings must return a pydantic model "
                        "class, got {type}",
                        plugin=repr(impl.plugin_name),
                        type=type(model).__name__,
                    )
                )
                continue
            self.settings_models[impl.plugin_name] = model

    def _check_cpas_routing(self) -> None:
        registered = self._registered()
        for cpas_id, cpas in self.settings.cpas.items():
            for plugin in cpas.disabled_plugins:
                if plugin not in self._entries:
                    hint = difflib.get_close_matches(plugin, list(self._entries), n=1)
                    self.problems.append(
                        _did_you_mean(
                            Text(
                                "cpas.{cpas}.disabled_plugins: no plugin named {plugin}",
                                cpas=cpas_id,
                                plugin=repr(plugin),
                            ),
                            hint,
                        )
                    )
            for role, plugin in cpas.routed_plugins().items():
                if plugin not in registered:
                    entry = self._entries.get(plugin)
                    why = (
                        Text("it failed to load ({error})", error=entry.error)
                        if entry and entry.error
                        else Text("it is not installed")
                    )
                    self.problems.append(
                        Text(
                            "cpas.{cpas}.{role}: plugin {plugin} cannot serve: {why}",
                            cpas=cpas_id,
                            role=role,
                            plugin=repr(plugin),
                            why=why,
                        )
                    )
                    continue
                for hook in ROLE_HOOKS[role]:
                    if not self._implements(plugin, hook):
                        self.problems.append(
                            Text(
                                "cpas.{cpas}.{role}: plugin {plugin} does not implement {hook}",
                                cpas=cpas_id,
                                role=role,
                                plugin=repr(plugin),
                                hook=hook,
                            )
                        )

    def _check_plugin_settings(self) -> None:
        registered = self._registered()
        for cpas_id, cpas in self.settings.cpas.items():
            # A routed plugin is checked even without a settings table: a required endpoint that is
            # missing is a configuration error here, not a default address at 02:30.
            tables = dict(cpas.plugins)
            for plugin in cpas.routed_plugins().values():
                if plugin in registered and self.settings_models.get(plugin) is not None:
                    tables.setdefault(plugin, {})
            for plugin, raw in tables.items():
                where = f"cpas.{cpas_id}.plugins.{plugin}"
                if plugin not in registered:
                    if plugin in self._entries and not self._entries[plugin].enabled:
                        continue  # settings for a disabled plugin are kept, not checked
                    hint = difflib.get_close_matches(plugin, list(registered), n=1)
                    self.problems.append(
                        _did_you_mean(
                            Text(
                                "{where}: no enabled plugin named {plugin}",
                                where=where,
                                plugin=repr(plugin),
                            ),
                            hint,
                        )
                    )
                    continue
                model = self.settings_models.get(plugin)
                if model is None:
                    if raw:
                        self.problems.append(
                            Text(
                                "{where}: plugin {plugin} takes no settings (unknown keys: {keys})",
                                where=where,
                                plugin=repr(plugin),
                                keys=", ".join(sorted(raw)),
                            )
                        )
                    continue
                try:
                    model.model_validate(self.settings.plugin_settings(cpas_id, plugin))
                except ConfigError as exc:
                    self.problems.append(error_text(exc))
                except ValidationError as exc:
                    for err in exc.errors():
                        loc = ".".join(str(p) for p in err["loc"])
                        msg: str
                        if err["type"] == "missing":
                            env = "PIIS_" + "__".join(
                                p.upper() for p in (*where.split("."), *map(str, err["loc"]))
                            )
                            msg = Text(
                                "required setting missing: add it under [{where}] in the "
                                "configuration file (or set {env})",
                                where=where,
                                env=env,
                            )
                        else:
                            msg = validation_message(
                                err, Text("unknown key (not a setting of this plugin)")
                            )
                        self.problems.append(
                            Text("{where}.{key}: {problem}", where=where, key=loc, problem=msg)
                        )

    def _check_required_when_routed(self) -> None:
        registered = self._registered()
        for cpas_id, cpas in self.settings.cpas.items():
            for role, plugin in cpas.routed_plugins().items():
                keys = (
                    getattr(registered.get(plugin), REQUIRED_WHEN_ROUTED_ATTR, ())
                    if plugin in registered
                    else ()
                )
                given = cpas.plugins.get(plugin) or {}
                for key in keys:
                    if given.get(key) in (None, "") and given.get(f"{key}_file") in (None, ""):
                        where = f"cpas.{cpas_id}.plugins.{plugin}"
                        env = "PIIS_" + "__".join(p.upper() for p in (*where.split("."), key))
                        self.problems.append(
                            Text(
                                "{where}.{key}: required setting missing (cpas.{cpas}.{role} = "
                                "{plugin}): add it under [{where}] in the configuration file (or "
                                "set {env}), or remove {role} = {plugin} so that nothing is sent",
                                where=where,
                                key=key,
                                cpas=cpas_id,
                                role=role,
                                plugin=repr(plugin),
                                env=env,
                            )
                        )

    def tenant_filter_setting(self, plugin: str) -> str | None:
        """The setting that restricts a multi-tenant case-system plugin to one CPAS, or None."""
        obj = self._registered().get(plugin)
        value = getattr(obj, TENANT_FILTER_ATTR, None) if obj is not None else None
        return value if isinstance(value, str) and value else None

    def _check_tenancy(self) -> None:
        for cpas_id, cpas in self.settings.cpas.items():
            plugin = cpas.case_system
            key = self.tenant_filter_setting(plugin) if plugin else None
            if plugin is None or key is None:
                continue
            where = f"cpas.{cpas_id}.plugins.{plugin}.{key}"
            value = (cpas.plugins.get(plugin) or {}).get(key)
            if value in (None, ""):
                self.tenancy_problems.append(
                    Text(
                        "{where}: {plugin} serves several CPAS from one case system; without "
                        '{key} = "{bce}" (the BCE of {name}) it would read other CPAS\'s dossiers '
                        "as its own",
                        where=where,
                        plugin=repr(plugin),
                        key=key,
                        bce=cpas.bce,
                        name=cpas.name,
                    )
                )
            elif _digits(str(value)) != _digits(cpas.bce):
                self.tenancy_problems.append(
                    Text(
                        "{where} = {value} is not the BCE of cpas.{cpas} ({bce}): it would read "
                        "another CPAS's dossiers as this one's",
                        where=where,
                        value=repr(value),
                        cpas=cpas_id,
                        bce=cpas.bce,
                    )
                )
        for line in self.tenancy_problems:
            _log.warning("tenancy: %s", line)

    def foreign_record_problem(self, cpas_id: str, record: SourceRecord) -> RecordProblem | None:
        """A problem when *record* is filed under another CPAS than *cpas_id* (checked before mapping).

        Why here and not in each plugin: whatever a vendor's filter does (or fails to do), a record of
        another CPAS must never become a contract, a federal form or a push into that CPAS's dossier.
        """
        cpas = self.settings.cpas[cpas_id]
        theirs: list[Text] = []
        if record.cpas_bce and _digits(record.cpas_bce) != _digits(cpas.bce):
            theirs.append(Text(N_("BCE {bce}"), bce=record.cpas_bce))
        if record.cpas_ins and record.cpas_ins.strip() != cpas.ins_code:
            theirs.append(Text(N_("INS {ins}"), ins=record.cpas_ins))
        if not theirs:
            return None
        return RecordProblem(
            record_id=record.record_id,
            field="cpas",
            reason=Text(
                N_(
                    "belongs to CPAS {theirs}, not to cpas.{cpas_id} ({name}, BCE {bce}, INS {ins}): "
                    "refused before mapping; check the case system's tenant filter"
                ),
                theirs=Join(" / ", theirs),
                cpas_id=cpas_id,
                name=cpas.name,
                bce=cpas.bce,
                ins=cpas.ins_code,
            ),
        )

    def _implements(self, plugin: str, hook: str, *, wrappers: bool = False) -> bool:
        caller = getattr(self.pm.hook, hook)
        return any(
            impl.plugin_name == plugin and (wrappers or not (impl.wrapper or impl.hookwrapper))
            for impl in caller.get_hookimpls()
        )

    # ---------------------------------------------------------------- introspection

    def plugin_infos(self) -> list[PluginInfo]:
        """Every installed or registered plugin, enabled or not, with the hooks it implements."""
        infos = []
        for name, entry in sorted(self._entries.items()):
            hooks: tuple[str, ...] = ()
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                hooks = tuple(
                    sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or ())
                )
            infos.append(
                PluginInfo(
                    name=name,
                    distribution=entry.distribution,
                    version=entry.version,
                    module=entry.module,
                    hooks=hooks,
                    enabled=entry.enabled,
                    error=entry.error,
                )
            )
        return infos

    def plugin(self, name: str) -> object:
        """The object registered as *name* (a plugin's public API: e.g. the federal plugin's
        ``service(cpas)``); ``KeyError`` naming the active plugins when there is none."""
        found = self.pm.get_plugin(name)
        if found is None:
            raise KeyError(
                f"no active plugin named {name!r}; active: {', '.join(sorted(self._registered()))}"
            )
        return found

    def is_active(self, name: str) -> bool:
        return self.pm.get_plugin(name) is not None

    # ---------------------------------------------------------------- contexts and routing

    def context(self, cpas_id: str, plugin: str, *, run_id: str | None = None) -> CpasContext:
        """The :class:`CpasContext` *plugin* receives for *cpas_id* (its own settings only)."""
        base = self._contexts.get((cpas_id, plugin))
        if base is None:  # validated once per process; secret files are read once too
            cpas = self.settings.cpas[cpas_id]
            base = CpasContext(
                cpas_id=cpas_id,
                name=cpas.name,
                ins_code=cpas.ins_code,
                bce=cpas.bce,
                language=cpas.language,
                settings=self.settings.plugin_settings(cpas_id, plugin),
                state_dir=self.settings.state_dir_for(cpas_id, plugin),
                plugin=plugin,
            )
            self._contexts[(cpas_id, plugin)] = base
        # A fresh settings dict per call: a plugin mutating it cannot leak into the next call.  Exactly
        # ``base.model_copy(update={"settings": copy.deepcopy(base.settings), "run_id": run_id})``,
        # without pydantic's generic update path and with a copy made for plain settings values: a
        # context is made for every hook call (twice a record in the process stage), 45 -> 20 us a
        # call (timeit, load ~15; py-spy had it at ~2% of the process stage).
        ctx = base.__copy__()
        ctx.__dict__["settings"] = _settings_copy(base.settings)
        ctx.__dict__["run_id"] = run_id
        ctx.__pydantic_fields_set__.update(("settings", "run_id"))
        return ctx

    def route(self, cpas_id: str, role: str) -> str:
        """Name of the plugin serving *role* (``case_system``, ``federal``, ``transfer``) for a CPAS."""
        if cpas_id not in self.settings.cpas:
            raise KeyError(
                f"unknown CPAS {cpas_id!r}; configured: {', '.join(sorted(self.settings.cpas)) or 'none'}"
            )
        plugin = self.settings.cpas[cpas_id].routed_plugins().get(role)
        if plugin is None:
            raise LookupError(f"cpas.{cpas_id}: no {role} plugin configured")
        return plugin

    def _routed_call(
        self,
        hook: str,
        cpas_id: str,
        *,
        record_id: str | None,
        run_id: str | None,
        hook_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        role = next(role for prefix, role in _ROLE_OF_HOOK.items() if hook.startswith(prefix))
        plugin = self.route(cpas_id, role)
        if not self._implements(plugin, hook):
            return self._fail(
                plugin,
                hook,
                cpas_id,
                record_id,
                NotImplementedError(
                    f"plugin {plugin!r} ({role} of cpas {cpas_id}) does not implement {hook}"
                ),
            )
        subset = self._callers.get((hook, cpas_id))
        if subset is None:
            caller = getattr(self.pm.hook, hook)
            disabled = set(self.settings.cpas[cpas_id].disabled_plugins)
            others = {
                impl.plugin
                for impl in caller.get_hookimpls()
                if impl.plugin_name != plugin
                and (impl.plugin_name in disabled or not (impl.wrapper or impl.hookwrapper))
            }
            subset = self.pm.subset_hook_caller(hook, remove_plugins=others) if others else caller
            self._callers[(hook, cpas_id)] = subset
        ctx = self.context(cpas_id, plugin, run_id=run_id)
        try:
            with observe_call(
                role, hook
            ):  # remote-call latency for Prometheus (observability.metrics)
                return subset(cpas=ctx, **kwargs, **(hook_kwargs or {}))
        except Exception as exc:  # noqa: BLE001 - isolation is the point
            return self._fail(self._blame(exc, plugin), hook, cpas_id, record_id, exc)

    def _fail(
        self, plugin: str, hook: str, cpas_id: str | None, record_id: str | None, exc: BaseException
    ) -> _Failed:
        failure = PluginFailure(
            plugin=plugin,
            hook=hook,
            cpas_id=cpas_id,
            record_id=record_id,
            error_type=type(exc).__name__,
            message=redact(str(exc)) or type(exc).__name__,
        )
        self.failures.append(failure)
        _log.error(
            "plugin %s failed in %s (cpas %s, record %s): %s: %s",
            plugin,
            hook,
            cpas_id,
            record_id,
            failure.error_type,
            failure.message,
            extra={"plugin": plugin, "hook": hook, "cpas": cpas_id, "record_id": record_id},
        )
        return _Failed(failure)

    def _bad_result(
        self,
        plugin: str,
        hook: str,
        cpas_id: str,
        record_id: str | None,
        result: Any,
        expected: str,
    ) -> _Failed:
        return self._fail(
            plugin,
            hook,
            cpas_id,
            record_id,
            TypeError(f"{hook} returned {type(result).__name__}, expected {expected}"),
        )

    def _blame(self, exc: BaseException, default: str) -> str:
        """The plugin whose code raised: the deepest traceback frame inside a plugin's module."""
        modules = {}
        for name, plugin in self._registered().items():
            entry = self._entries.get(name)
            mod = (
                entry.module.partition(":")[0]
                if entry is not None and entry.module
                else plugin.__name__
                if isinstance(plugin, ModuleType)
                else type(plugin).__module__
            )
            modules[name] = mod
        culprit = default
        tb = exc.__traceback__
        while tb is not None:
            frame_mod = tb.tb_frame.f_globals.get("__name__", "")
            for name, mod in modules.items():
                if (frame_mod == mod or frame_mod.startswith(mod + ".")) and not mod.startswith(
                    "piis_bridge."
                ):
                    culprit = name
            tb = tb.tb_next
        return culprit

    def drain_failures(self) -> list[PluginFailure]:
        """The failures recorded since the last drain (the pipeline puts them in the run report)."""
        drained, self.failures = self.failures, []
        return drained

    def require(self, result: Any) -> Any:
        """Turn a failed call's fallback into an exception for callers that cannot go on without it."""
        if result is None and self.failures:
            raise PluginCallError(self.failures[-1])
        return result

    # ---------------------------------------------------------------- case system

    def case_fetch_changes(
        self, cpas_id: str, cursor: str | None, page_size: int = 100, *, run_id: str | None = None
    ) -> ChangePage | None:
        """One page from the CPAS's case system; ``None`` if the plugin failed (failure recorded)."""
        hook = "piis_case_fetch_changes"
        result = self._routed_call(
            hook, cpas_id, record_id=None, run_id=run_id, cursor=cursor, page_size=page_size
        )
        if isinstance(result, _Failed):
            return None
        if not isinstance(result, ChangePage):
            self._bad_result(
                self.route(cpas_id, "case_system"), hook, cpas_id, None, result, "ChangePage"
            )
            return None
        if len(result.records) > page_size:
            self._bad_result(
                self.route(cpas_id, "case_system"),
                hook,
                cpas_id,
                None,
                result,
                f"at most {page_size} records (got {len(result.records)})",
            )
            return None
        return result

    def case_fetch_record(
        self, cpas_id: str, record_id: str, *, run_id: str | None = None
    ) -> SourceRecord | None:
        """The current version of one record, or ``None`` when the case system has none.

        Raises :class:`PluginCallError` when the plugin failed, does not implement the hook or
        answered something else: a caller asking for one dossier must not mistake a failure for
        "no such record".
        """
        hook = "piis_case_fetch_record"
        result = self._routed_call(
            hook, cpas_id, record_id=record_id, run_id=run_id, hook_kwargs={"record_id": record_id}
        )
        if result is not None and not isinstance(result, (SourceRecord, _Failed)):
            result = self._bad_result(
                self.route(cpas_id, "case_system"),
                hook,
                cpas_id,
                record_id,
                result,
                "SourceRecord or None",
            )
        if isinstance(result, _Failed):
            raise PluginCallError(result.failure)
        return result

    def case_map_record(
        self, cpas_id: str, record: SourceRecord, *, run_id: str | None = None
    ) -> MappingOutcome:
        """Map one record; a plugin error becomes a quarantine outcome naming the plugin and record."""
        hook = "piis_case_map_record"
        foreign = self.foreign_record_problem(cpas_id, record)
        if foreign is not None:
            return MappingOutcome(record_id=record.record_id, problems=[foreign])
        result = self._routed_call(
            hook, cpas_id, record_id=record.record_id, run_id=run_id, record=record
        )
        if not isinstance(result, (MappingOutcome, _Failed)):
            result = self._bad_result(
                self.route(cpas_id, "case_system"),
                hook,
                cpas_id,
                record.record_id,
                result,
                "MappingOutcome",
            )
        if isinstance(result, _Failed):
            f = result.failure
            return MappingOutcome(
                record_id=record.record_id,
                problems=[
                    RecordProblem(
                        record_id=record.record_id,
                        field="",
                        reason=f"plugin {f.plugin!r} failed in {hook}: {f.error_type}: {f.message}",
                    )
                ],
            )
        return result

    def _localized(self, cpas_id: str, items: list[PushItem]) -> list[PushItem]:
        """The items' titles and bodies in the CPAS's ``language`` (keys unchanged: never a second task)."""
        from piis_bridge.i18n.push import localize_push

        cpas = self.settings.cpas.get(cpas_id)
        language = cpas.language if cpas is not None else None
        return [localize_push(item, language) for item in items]

    def case_push(
        self, cpas_id: str, items: list[PushItem], *, run_id: str | None = None
    ) -> list[PushResult]:
        """Push items; on a plugin error every item answers ``failed`` (one failure per record)."""
        hook = "piis_case_push"
        if not items:
            return []
        items = self._localized(cpas_id, items)
        result = self._routed_call(hook, cpas_id, record_id=None, run_id=run_id, items=list(items))
        if not isinstance(result, _Failed):
            keys = [item.key for item in items]
            if not (
                isinstance(result, list)
                and all(isinstance(r, PushResult) for r in result)
                and [r.key for r in result] == keys
            ):
                result = self._bad_result(
                    self.route(cpas_id, "case_system"),
                    hook,
                    cpas_id,
                    None,
                    result,
                    "one PushResult per item, in the same order",
                )
        if isinstance(result, _Failed):
            self.failures.pop()
            f = result.failure
            for item in items:
                self.failures.append(f.model_copy(update={"record_id": item.record_id}))
            return [
                PushResult(key=item.key, status="failed", detail=f"{f.error_type}: {f.message}")
                for item in items
            ]
        return result

    # ---------------------------------------------------------------- federal

    def federal_build_forms(
        self,
        cpas_id: str,
        contract: PIISContract,
        event: ContractEvent,
        *,
        run_id: str | None = None,
    ) -> list[BaseModel]:
        """Forms from every enabled plugin, concatenated; a failing plugin contributes none.

        A CPAS without a federal plugin in its configuration gets no forms at all: nothing would
        (or may) send them.  The forms are the federal plugin's models (the bundled one builds
        :class:`piis_bridge.forms.FederalForm`); the core stores and hands them back as they are.
        """
        forms: list[BaseModel] = []
        if self.settings.cpas[cpas_id].federal is None:
            return forms
        record_id = getattr(contract, "contract_id", None)
        for plugin, value in self._each(
            "piis_federal_build_forms",
            cpas_id=cpas_id,
            record_id=record_id,
            run_id=run_id,
            contract=contract,
            event=event,
        ):
            if value is None:
                continue
            if not (isinstance(value, list) and all(isinstance(f, BaseModel) for f in value)):
                self._bad_result(
                    plugin, "piis_federal_build_forms", cpas_id, record_id, value, "list of forms"
                )
                continue
            forms.extend(value)
        return forms

    def _outcomes(self, hook: str, cpas_id: str, result: Any) -> list[SubmissionOutcome] | None:
        """*result* if it is a list of :class:`SubmissionOutcome`; else a recorded failure (None)."""
        if isinstance(result, _Failed):
            return None
        if isinstance(result, list) and all(isinstance(o, SubmissionOutcome) for o in result):
            return result
        self._bad_result(
            self.route(cpas_id, "federal"), hook, cpas_id, None, result, "list of SubmissionOutcome"
        )
        return None

    def federal_submit(
        self, cpas_id: str, forms: Sequence[BaseModel], *, run_id: str | None = None
    ) -> list[SubmissionOutcome] | None:
        """One outcome per form; ``None`` if the plugin failed or answered something else (recorded)."""
        hook = "piis_federal_submit"
        result = self._routed_call(hook, cpas_id, record_id=None, run_id=run_id, forms=list(forms))
        return self._outcomes(hook, cpas_id, result)

    def federal_fetch_results(
        self, cpas_id: str, tickets: list[str], *, run_id: str | None = None
    ) -> list[SubmissionOutcome] | None:
        """The outcomes now known for *tickets*; ``None`` if the plugin failed (recorded)."""
        hook = "piis_federal_fetch_results"
        result = self._routed_call(
            hook, cpas_id, record_id=None, run_id=run_id, tickets=list(tickets)
        )
        return self._outcomes(hook, cpas_id, result)

    def federal_fetch_statement(
        self, cpas_id: str, month: date, *, run_id: str | None = None
    ) -> MonthlyStatement | None:
        """The month's statement, ``None`` when not available yet or the plugin failed (recorded)."""
        hook = "piis_federal_fetch_statement"
        result = self._routed_call(
            hook, cpas_id, record_id=None, run_id=run_id, month=month.replace(day=1)
        )
        return self._checked(hook, cpas_id, None, result, MonthlyStatement)

    def federal_fetch_notices(
        self, cpas_id: str, cursor: str | None, page_size: int = 100, *, run_id: str | None = None
    ) -> NoticePage | None:
        """One page of National Register notices; ``None`` if the plugin failed (failure recorded)."""
        hook = "piis_federal_fetch_notices"
        result = self._routed_call(
            hook, cpas_id, record_id=None, run_id=run_id, cursor=cursor, page_size=page_size
        )
        if isinstance(result, _Failed):
            return None
        if not isinstance(result, NoticePage):
            self._bad_result(
                self.route(cpas_id, "federal"), hook, cpas_id, None, result, "NoticePage"
            )
            return None
        if len(result.notices) > page_size:
            self._bad_result(
                self.route(cpas_id, "federal"),
                hook,
                cpas_id,
                None,
                result,
                f"at most {page_size} notices (got {len(result.notices)})",
            )
            return None
        return result

    # ---------------------------------------------------------------- transfer

    def _checked(
        self, hook: str, cpas_id: str, record_id: str | None, result: Any, expected: type[_T]
    ) -> _T | None:
        """*result* if it is an *expected* (or None); anything else is recorded as a failure."""
        if result is None or isinstance(result, _Failed):
            return None
        if isinstance(result, expected):
            return result
        role = next(role for prefix, role in _ROLE_OF_HOOK.items() if hook.startswith(prefix))
        self._bad_result(
            self.route(cpas_id, role),
            hook,
            cpas_id,
            record_id,
            result,
            f"{expected.__name__} or None",
        )
        return None

    def transfer_export(
        self, cpas_id: str, transfer: str | TransferRequest
    ) -> ExportedPackage | None:
        from piis_bridge.transfer import ExportedPackage

        hook = "piis_transfer_export"
        record_id = _record_of(transfer)
        result = self._routed_call(
            hook, cpas_id, record_id=record_id, run_id=None, transfer=transfer
        )
        return self._checked(hook, cpas_id, record_id, result, ExportedPackage)

    def transfer_send(
        self, cpas_id: str, package: ExportedPackage, destination: Destination | None
    ) -> DeliveryReceipt | None:
        from piis_bridge.transfer import DeliveryReceipt

        hook = "piis_transfer_send"
        record_id = _record_of(package)
        result = self._routed_call(
            hook,
            cpas_id,
            record_id=record_id,
            run_id=None,
            package=package,
            destination=destination,
        )
        return self._checked(hook, cpas_id, record_id, result, DeliveryReceipt)

    def transfer_import(
        self, cpas_id: str, package: IncomingPackage | bytes
    ) -> ReceiveOutcome | None:
        from piis_bridge.transfer import ReceiveOutcome

        hook = "piis_transfer_import"
        result = self._routed_call(hook, cpas_id, record_id=None, run_id=None, package=package)
        return self._checked(hook, cpas_id, None, result, ReceiveOutcome)

    # ---------------------------------------------------------------- every plugin

    def _each(
        self,
        hook: str,
        *,
        cpas_id: str | None = None,
        record_id: str | None = None,
        run_id: str | None = None,
        **kwargs: Any,
    ) -> list[tuple[str, Any]]:
        """Call each non-wrapper implementation on its own (LIFO, pluggy's order), isolating errors.

        Per-plugin calls also let each plugin receive its *own* settings in ``cpas``.
        """
        results: list[tuple[str, Any]] = []
        disabled = (
            set(self.settings.cpas[cpas_id].disabled_plugins) if cpas_id is not None else set()
        )
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            if impl.wrapper or impl.hookwrapper or impl.plugin_name in disabled:
                continue
            call = dict(kwargs)
            if cpas_id is not None:
                call["cpas"] = self.context(cpas_id, impl.plugin_name, run_id=run_id)
            try:
                value = impl.function(*[call[arg] for arg in impl.argnames])
            except Exception as exc:  # noqa: BLE001 - isolation is the point
                self._fail(self._blame(exc, impl.plugin_name), hook, cpas_id, record_id, exc)
                continue
            results.append((impl.plugin_name, value))
        return results

    def startup(self) -> list[PluginFailure]:
        """Call ``piis_startup``; a plugin that raises is reported and unregistered for this process."""
        before = len(self.failures)
        for impl in reversed(self.pm.hook.piis_startup.get_hookimpls()):
            if impl.wrapper or impl.hookwrapper:
                continue
            try:
                impl.function(*[{"config": self.settings}[a] for a in impl.argnames])
            except Exception as exc:  # noqa: BLE001
                self._fail(impl.plugin_name, "piis_startup", None, None, exc)
                self.pm.unregister(name=impl.plugin_name)
                self._callers.clear()
                self._entries[impl.plugin_name].error = Text(
                    "piis_startup raised {error}", error=_describe(exc)
                )
        return self.failures[before:]

    def run_started(self, run: RunInfo) -> None:
        self._each("piis_run_started", run=run)

    def run_finished(self, report: RunReport) -> None:
        self._each("piis_run_finished", report=report)

    def register_commands(self, cli: CommandRegistry) -> list[PluginFailure]:
        """Let each plugin add commands; a plugin that raises loses its commands, the others stay."""
        failures = []
        for impl in reversed(self.pm.hook.piis_register_commands.get_hookimpls()):
            if impl.wrapper or impl.hookwrapper:
                continue
            snapshot = cli.snapshot()
            try:
                impl.function(*[{"cli": cli}[a] for a in impl.argnames])
            except Exception as exc:  # noqa: BLE001
                cli.restore(snapshot)
                failures.append(
                    self._fail(impl.plugin_name, "piis_register_commands", None, None, exc).failure
                )
        return failures

    def mapping_files(self) -> list[Traversable]:
        files: list[Traversable] = []
        for _plugin, value in self._each("piis_mapping_files"):
            if value:
                files.extend(value)
        return files

    def register_rules(self, registry: RuleRegistry) -> None:
        self._each("piis_register_rules", registry=registry)

    def rule_parameters(self, cpas_id: str) -> dict[str, Any]:
        """Merged local rule parameters; two plugins setting the same key is an error naming both."""
        merged: dict[str, Any] = {}
        owner: dict[str, str] = {}
        for plugin, value in self._each("piis_rule_parameters", cpas_id=cpas_id):
            for key, item in (value or {}).items():
                if key in owner:
                    raise PluginStartupError(
                        [
                            Text(
                                "cpas.{cpas}: rule parameter {key} given by both {first} and "
                                "{second}",
                                cpas=cpas_id,
                                key=repr(key),
                                first=repr(owner[key]),
                                second=repr(plugin),
                            )
                        ]
                    )
                owner[key] = plugin
                merged[key] = item
        return merged


def _trace_before(
    hook_name: str, hook_impls: Sequence[HookImpl], kwargs: Mapping[str, Any]
) -> None:
    # Names only: arguments carry contracts and NISS numbers.
    _log.info(
        "hook call %s plugins=%s cpas=%s",
        hook_name,
        [impl.plugin_name for impl in reversed(hook_impls)],
        getattr(kwargs.get("cpas"), "cpas_id", None),
    )


def _trace_after(
    outcome: Result[Any], hook_name: str, hook_impls: Sequence[HookImpl], kwargs: Mapping[str, Any]
) -> None:
    error = outcome.exception
    _log.info("hook done %s error=%s", hook_name, type(error).__name__ if error else None)


def _record_of(value: Any) -> str | None:
    """The id to name in a failure: a transfer case/contract id, never the value itself."""
    if isinstance(value, str) and len(value) <= 64:
        return value
    for attr in ("contract_id", "transfer_id", "case_id"):
        found = getattr(value, attr, None)
        if isinstance(found, str):
            return found
    return None


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _describe(exc: BaseException) -> str:
    return redact(f"{type(exc).__name__}: {exc}")


def get_plugin_manager(load_entrypoints: bool = True) -> pluggy.PluginManager:
    """The bare pluggy manager with the installed plugins (kept for callers that need ``pm.hook``)."""
    return PluginHost(load_entrypoints=load_entrypoints, strict=False).pm
