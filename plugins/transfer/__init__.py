"""transfer plugin for piis-bridge (registered under the piis_bridge entry-point group)."""
