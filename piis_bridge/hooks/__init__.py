"""The hooks that plugins implement, and the plugin manager that calls them.

Plugins depend on this package; this package never imports a plugin.
"""

from piis_bridge.hooks.markers import PROJECT_NAME, hookimpl, hookspec

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]
