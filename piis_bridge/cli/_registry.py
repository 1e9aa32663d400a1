"""Assembling the typer application from core command modules and plugin hooks."""

from __future__ import annotations

from typing import Any

import typer

from piis_bridge import __version__
from piis_bridge.i18n.cli import LANG_ENV, ROOT_LANG_HELP, set_global_language
from piis_bridge.i18n.cli_help import LocalizedGroup, localize


class CommandRegistry:
    """What ``piis_register_commands`` receives: the root app and named sub-command groups."""

    def __init__(self, root: typer.Typer) -> None:
        self.root = root
        self._groups: dict[str, typer.Typer] = {}

    def group(self, name: str, help: str | None = None) -> typer.Typer:  # noqa: A002 - typer's own name
        """Return the sub-command group *name*, creating it on first use."""
        if name not in self._groups:
            sub = typer.Typer(
                help=help, no_args_is_help=True, add_completion=False, cls=LocalizedGroup
            )
            self.root.add_typer(sub, name=name)
            self._groups[name] = sub
        return self._groups[name]

    def snapshot(self) -> tuple[Any, ...]:
        """What is registered now; :meth:`restore` drops what a failing plugin added after it."""
        return (
            list(self.root.registered_commands),
            list(self.root.registered_groups),
            dict(self._groups),
            {
                name: (list(g.registered_commands), list(g.registered_groups))
                for name, g in self._groups.items()
            },
        )

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        commands, groups, named, inner = snapshot
        self.root.registered_commands[:] = commands
        self.root.registered_groups[:] = groups
        self._groups = dict(named)
        for name, (sub_commands, sub_groups) in inner.items():
            self._groups[name].registered_commands[:] = sub_commands
            self._groups[name].registered_groups[:] = sub_groups


def _lang_callback(value: str | None) -> str | None:
    """The root ``--lang`` is eager: ``piis-bridge --lang de --help`` formats the root's help after it
    (an eager ``--help`` is answered while the options are parsed, before the root callback runs)."""
    set_global_language(value)
    return value


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"piis-bridge {__version__}")
        raise typer.Exit()


def _no_type_on_flags() -> None:
    """Help screens show ``--version  Print the version...``, not ``--version <bool>``.

    Why a patch: this typer's rich help panel prints a type column for every option, flags included, so
    every screen read ``--help <bool>``; the plain (non-rich) formatter already leaves flags without one.
    Only flags are touched; a typer without ``display_type_rich`` is left alone."""
    from typer.core import TyperOption

    original = getattr(TyperOption, "display_type_rich", None)
    if original is None or getattr(original, "_piis_flags", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        return (
            None
            if getattr(self, "is_flag", False) and self.metavar is None
            else original(self, ctx)
        )

    display_type_rich._piis_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


def build_app() -> typer.Typer:
    _no_type_on_flags()
    app = typer.Typer(
        help="piis-bridge: PIIS rules, case-system sync, federal forms B/C/D and contract hand-over for CPAS/OCMW.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,  # locals would carry NISS numbers
    )

    @app.callback()
    def _root(
        lang: str | None = typer.Option(
            None,
            "--lang",
            help=ROOT_LANG_HELP,
            envvar=LANG_ENV,
            show_envvar=False,  # the English help stays as it was; docs/i18n.md documents PIIS_LANG
            callback=_lang_callback,
            is_eager=True,
        ),
        version: bool = typer.Option(
            False,
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
        debug: bool = typer.Option(
            False, "--debug", help="Show the traceback of an error (anywhere on the line)."
        ),
    ) -> None:
        """piis-bridge command line."""
        set_global_language(lang)

    registry = CommandRegistry(app)
    from piis_bridge.cli import _core_commands

    _core_commands.register(registry)
    _register_plugin_commands(registry)
    localize(app)  # every --help in the chosen language, plugins' commands included
    return app


def _register_plugin_commands(registry: CommandRegistry) -> None:
    """Plugins add their commands; a broken plugin or configuration never takes the CLI down.

    ``piis-bridge plugins`` and ``plugins check`` show the details; here one line on stderr says
    which plugin lost its commands.
    """
    from piis_bridge.config import ConfigError, default_settings, load_settings
    from piis_bridge.hooks.manager import PluginHost

    try:
        settings = load_settings()
    except ConfigError:
        settings = (
            default_settings()
        )  # the configuration error is reported by the command that needs it
    from piis_bridge.i18n.cli import settings_translator

    try:
        host = PluginHost(settings, strict=False)
    except Exception as exc:  # noqa: BLE001 - keep the core commands available
        t = settings_translator(settings)
        typer.echo(
            "piis-bridge: "
            + t.gettext(
                "plugins not loaded ({error}); run 'piis-bridge plugins check'",
                error=type(exc).__name__,
            ),
            err=True,
        )
        return
    for failure in host.register_commands(registry):
        t = settings_translator(settings)
        typer.echo(
            "piis-bridge: "
            + t.gettext(
                "plugin {plugin} failed to register its commands ({error_type}: {message}); "
                "run 'piis-bridge plugins check'",
                plugin=repr(failure.plugin),
                error_type=failure.error_type,
                message=failure.message,
            ),
            err=True,
        )
