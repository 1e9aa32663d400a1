"""neptunus plugin: a NeptunusWeb-like vendor case system over REST (entry point ``neptunus``).

The module is the plugin object: the hook implementations are imported here.
"""

from piis_plugins.neptunus.plugin import (
    PLUGIN_NAME,
    close_clients,
    piis_case_fetch_changes,
    piis_case_fetch_record,
    piis_case_map_record,
    piis_case_push,
    piis_mapping_files,
    piis_plugin_settings,
    piis_register_commands,
    piis_startup,
)

__all__ = [
    "PLUGIN_NAME",
    "close_clients",
    "piis_case_fetch_changes",
    "piis_case_fetch_record",
    "piis_case_map_record",
    "piis_case_push",
    "piis_mapping_files",
    "piis_plugin_settings",
    "piis_register_commands",
    "piis_startup",
]
