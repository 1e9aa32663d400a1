"""Assembling the typer application from core command modules and plugin hooks."""

from __future__ import annotations

import typer

from piis_bridge import __version__


class CommandRegistry:
    """What ``piis_register_commands`` receives: the root app and named sub-command groups."""

    def __init__(self, root: typer.Typer) -> None:
        self.root = root
        self._groups: dict[str, typer.Typer] = {}

    def group(self, name: str, help: str | None = None) -> typer.Typer:
        """Return the sub-command group *name*, creating it on first use."""
        if name not in self._groups:
            sub = typer.Typer(help=help, no_args_is_help=True, add_completion=False)
            self.root.add_typer(sub, name=name)
            self._groups[name] = sub
        return self._groups[name]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"piis-bridge {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(
        help="piis-bridge: PIIS rules, case-system sync, federal forms B/C/D and contract hand-over for CPAS/OCMW.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,  # locals would carry NISS numbers
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                     help="Print the version and exit."),
    ) -> None:
        """piis-bridge command line."""

    registry = CommandRegistry(app)
    from piis_bridge.cli import _core_commands

    _core_commands.register(registry)
    from piis_bridge.hooks.manager import get_plugin_manager

    get_plugin_manager().hook.piis_register_commands(cli=registry)
    return app
