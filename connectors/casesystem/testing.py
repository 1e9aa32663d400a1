"""pytest fixtures for the casesystem simulator (loaded through the pytest11 entry point; part of the plugin conformance kit)."""
