"""transfer plugin: hands a PIIS over to another CPAS over signed packages and mutual TLS
(entry point ``transfer``).  The module is the plugin object: the hook implementations are imported here.
"""

from typing import Any

from piis_plugins.transfer.plugin import (
    PLUGIN_NAME,
    piis_plugin_settings,
    piis_startup,
    piis_transfer_export,
    piis_transfer_import,
    piis_transfer_send,
)

from piis_bridge.hooks import hookimpl


@hookimpl
def piis_register_commands(cli: Any) -> None:
    from piis_plugins.transfer.cli import register

    register(cli)


__all__ = [
    "PLUGIN_NAME",
    "piis_plugin_settings",
    "piis_register_commands",
    "piis_startup",
    "piis_transfer_export",
    "piis_transfer_import",
    "piis_transfer_send",
]
