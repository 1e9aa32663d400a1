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

# One NeptunusWeb instance serves several OCMWs: the host requires ``ocmw_kbo`` (= the CPAS's BCE)
# wherever this plugin is routed, and refuses any record filed under another OCMW (tenancy).
PIIS_TENANT_FILTER = "ocmw_kbo"

__all__ = [
    "PIIS_TENANT_FILTER",
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
