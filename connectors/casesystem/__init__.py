"""casesystem connector: httpx client and simulator of a NeptunusWeb-like vendor REST API.

The public API is ``__all__`` below (``from piis_connectors.casesystem import CaseSystemClient``); each
name is imported from its module on first use.  Further modules, for what they name::

    piis_connectors.casesystem.vocab       the vendor's code lists and date formats
    piis_connectors.casesystem.seed        deterministic synthetic data
    piis_connectors.casesystem.testing     pytest fixture ``casesystem_simulator``
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from piis_connectors.lazy import lazy_exports

if TYPE_CHECKING:
    from piis_connectors.casesystem.client import (
        CaseSystemClient,
        CaseSystemError,
        CaseSystemHTTPError,
        CaseSystemUnavailable,
        FeedPage,
    )
    from piis_connectors.casesystem.drafts import (
        Ontwerpcontract,
        validation_errors,
    )
    from piis_connectors.casesystem.simulator import (
        CaseSystemSimulator,
        SimulatorConfig,
    )
    from piis_connectors.casesystem.sync import (
        FileCursorStore,
        PullResult,
        pull,
    )

__all__ = [
    "CaseSystemClient",
    "CaseSystemError",
    "CaseSystemHTTPError",
    "CaseSystemSimulator",
    "CaseSystemUnavailable",
    "FeedPage",
    "FileCursorStore",
    "Ontwerpcontract",
    "PullResult",
    "SimulatorConfig",
    "pull",
    "validation_errors",
]

# Where each public name lives; imported on first use so that this package (imported by its pytest
# plugin in every test process) stays as light as before.
_EXPORTS = {
    "CaseSystemClient": "client",
    "CaseSystemError": "client",
    "CaseSystemHTTPError": "client",
    "CaseSystemUnavailable": "client",
    "FeedPage": "client",
    "Ontwerpcontract": "drafts",
    "validation_errors": "drafts",
    "CaseSystemSimulator": "simulator",
    "SimulatorConfig": "simulator",
    "FileCursorStore": "sync",
    "PullResult": "sync",
    "pull": "sync",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
