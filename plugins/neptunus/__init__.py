"""neptunus plugin: a NeptunusWeb-like vendor case system over REST (entry point ``neptunus``).

The host registers the plugin object :func:`make_plugin` returns (one per process, see docs/plugins.md
"Plugin state"): the hook implementations are its methods.
"""

from piis_plugins.neptunus.plugin import PLUGIN_NAME, NeptunusPlugin

__all__ = ["PLUGIN_NAME", "NeptunusPlugin", "make_plugin"]


def make_plugin() -> NeptunusPlugin:
    """The plugin object registered as ``neptunus``: it holds the HTTP clients and mapping caches."""
    return NeptunusPlugin()
