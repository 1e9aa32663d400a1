"""transfer plugin: hands a PIIS over to another CPAS over signed packages and mutual TLS
(entry point ``transfer``).

The host registers the plugin object :func:`make_plugin` returns (one per process, see docs/plugins.md
"Plugin state"): the hook implementations are its methods.
"""

from piis_plugins.transfer.plugin import PLUGIN_NAME, TransferPlugin, service_for

__all__ = ["PLUGIN_NAME", "TransferPlugin", "make_plugin", "service_for"]


def make_plugin() -> TransferPlugin:
    """The plugin object registered as ``transfer``: it holds the engines and transfer services."""
    return TransferPlugin()
