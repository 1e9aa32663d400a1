"""lino plugin: Lino Welfare over its web API (entry point ``lino``)."""

from piis_plugins.lino.plugin import (
    PLUGIN_NAME,
    close_clients,
    piis_case_fetch_changes,
    piis_case_fetch_record,
    piis_case_map_record,
    piis_case_push,
    piis_mapping_files,
    piis_plugin_settings,
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
    "piis_startup",
]
