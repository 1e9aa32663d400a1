"""Core commands: schema, validate, demo (more are added by their own modules)."""

from __future__ import annotations

from piis_bridge.cli._registry import CommandRegistry


def register(cli: CommandRegistry) -> None:
    pass
