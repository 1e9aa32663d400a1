"""Building the plugin manager (first draft; the plugin-system issue completes it)."""

from __future__ import annotations

import pluggy

from piis_bridge.hooks import specs
from piis_bridge.hooks.markers import PROJECT_NAME


def get_plugin_manager(load_entrypoints: bool = True) -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(specs)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(PROJECT_NAME)
    pm.check_pending()
    return pm
