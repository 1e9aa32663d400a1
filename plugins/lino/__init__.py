"""lino plugin: Lino Welfare over its web API (entry point ``lino``).

The host registers the plugin object :func:`make_plugin` returns (one per process, see docs/plugins.md
"Plugin state"): the hook implementations are its methods.
"""

from piis_plugins.lino.plugin import PLUGIN_NAME, LinoPlugin

__all__ = ["PLUGIN_NAME", "LinoPlugin", "make_plugin"]


def make_plugin() -> LinoPlugin:
    """The plugin object registered as ``lino``: it holds the HTTP clients, caches and file locks."""
    return LinoPlugin()
