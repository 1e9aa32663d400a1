"""Operations: what IT staff need to run piis-bridge day to day, as plain functions.

The CLI (``runs show``, ``forms list``, ``quarantine list``, ``rules agenda --cpas``) and, later, the
web console call the same functions, so both show the same facts:

* :mod:`piis_bridge.ops.errors` — a dependency failure as one paragraph (what, setting and its
  source, host or path, fix) with a documented exit code;
* :mod:`piis_bridge.ops.preflight` — the checks a worker makes before it starts, and the
  configuration fingerprint of runs and workers;
* :mod:`piis_bridge.ops.queries` — read-only listings with a stable JSON shape (``docs/ops.md``).
"""

from piis_bridge.ops.errors import (
    EXIT_CONFIG,
    EXIT_DEPENDENCY,
    EXIT_RUN_FAILED,
    OperatorError,
    explain,
)

__all__ = ["EXIT_CONFIG", "EXIT_DEPENDENCY", "EXIT_RUN_FAILED", "OperatorError", "explain"]
