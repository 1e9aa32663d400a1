"""pytest fixtures for the federal simulator (loaded through the pytest11 entry point; part of the plugin conformance kit)."""
