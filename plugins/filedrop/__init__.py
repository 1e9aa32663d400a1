"""filedrop plugin: nightly CSV/XML export files dropped in a directory (entry point ``filedrop``).

The module is the plugin object: the hook implementations are imported here.
"""

from piis_plugins.filedrop.plugin import (
    PLUGIN_NAME,
    piis_case_fetch_changes,
    piis_case_map_record,
    piis_case_push,
    piis_mapping_files,
    piis_plugin_settings,
    piis_startup,
)

__all__ = [
    "PLUGIN_NAME",
    "piis_case_fetch_changes",
    "piis_case_map_record",
    "piis_case_push",
    "piis_mapping_files",
    "piis_plugin_settings",
    "piis_startup",
]
