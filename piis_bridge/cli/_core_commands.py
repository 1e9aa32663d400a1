"""The core's own command modules.  Each module has ``register(cli)``; add one line per module."""

from __future__ import annotations

from piis_bridge.cli._registry import CommandRegistry


def register(cli: CommandRegistry) -> None:
    from piis_bridge.cli import model_commands

    model_commands.register(cli)
    from piis_bridge.cli import plugins_commands

    plugins_commands.register(cli)
    from piis_bridge.cli import pipeline_commands

    pipeline_commands.register(cli)  # noqa: E702
    from piis_bridge.cli import rules_more_commands

    rules_more_commands.register(cli)  # noqa: E702
    from piis_bridge.cli import rules_commands

    rules_commands.register(cli)  # noqa: E702
    from piis_bridge.cli import ops_commands

    ops_commands.register(cli)  # noqa: E702
    from piis_bridge.console import cli as console_cli

    console_cli.register(cli)  # noqa: E702
    from piis_bridge.cli import observability_commands

    observability_commands.register(cli)  # noqa: E702
