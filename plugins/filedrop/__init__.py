"""filedrop plugin: nightly CSV/XML export files dropped in a directory (entry point ``filedrop``).

The host registers the plugin object :func:`make_plugin` returns (one per process, see docs/plugins.md
"Plugin state"): the hook implementations are its methods.
"""

from piis_plugins.filedrop.plugin import PLUGIN_NAME, FiledropPlugin

__all__ = ["PLUGIN_NAME", "FiledropPlugin", "make_plugin"]


def make_plugin() -> FiledropPlugin:
    """The plugin object registered as ``filedrop``: it holds the mapping cache and parsed files."""
    return FiledropPlugin()
