"""pluggy markers.  A plugin writes ``from piis_bridge.hooks import hookimpl``."""

import pluggy

PROJECT_NAME = "piis_bridge"  # also the entry-point group plugins register under

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
