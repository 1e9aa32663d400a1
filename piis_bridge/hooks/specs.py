"""Hook specifications (first draft; the plugin-system issue completes and documents them).

Every hook name starts with ``piis_``.  Documentation for each lives in docs/plugins.md.
"""

from __future__ import annotations

from typing import Any

from piis_bridge.hooks.markers import hookspec


@hookspec
def piis_register_commands(cli: Any) -> None:
    """Add CLI commands.  ``cli`` is a :class:`piis_bridge.cli.CommandRegistry`:
    ``cli.root`` is the top-level typer app and ``cli.group(name, help)`` returns (creating it on
    first use) a sub-command group such as ``sim``."""
