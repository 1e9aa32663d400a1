"""federal connector: BCSS/SSDN SOAP transport (zeep) and the NovaPrima simulator.

The public API is ``__all__`` below (``from piis_connectors.federal import FederalClient``); each name
is imported from its module on first use, so this package stays light for its pytest plugin.  The
payload and envelope modules are used as namespaces: ``dis`` (our DIS payloads), ``envelope`` (real
SSDN envelope), ``schemas`` (compiled XSDs, validation); ``testing`` holds the pytest fixtures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from piis_connectors.lazy import lazy_exports

if TYPE_CHECKING:
    from piis_connectors.federal.admin import (
        SimulatorAdmin,
    )
    from piis_connectors.federal.client import (
        AccessResult,
        ClientConfig,
        DeadlineExceeded,
        FederalClient,
        FederalError,
        OutcomeUnknown,
        OutgoingInvalid,
        PermanentError,
        ReplyTooLarge,
        TransientError,
        make_signature,
    )
    from piis_connectors.federal.safexml import (
        UnsafeXmlError,
        parse_untrusted,
    )
    from piis_connectors.federal.simulator.server import (
        SimulatorServer,
        start_simulator,
    )

__all__ = [
    "AccessResult",
    "ClientConfig",
    "DeadlineExceeded",
    "FederalClient",
    "FederalError",
    "OutcomeUnknown",
    "OutgoingInvalid",
    "PermanentError",
    "ReplyTooLarge",
    "SimulatorAdmin",
    "SimulatorServer",
    "TransientError",
    "UnsafeXmlError",
    "make_signature",
    "parse_untrusted",
    "start_simulator",
]

# Where each public name lives; imported on first use so that this package (imported by its pytest
# plugin in every test process) stays as light as before.
_EXPORTS = {
    "AccessResult": "client",
    "ClientConfig": "client",
    "DeadlineExceeded": "client",
    "FederalClient": "client",
    "FederalError": "client",
    "OutcomeUnknown": "client",
    "OutgoingInvalid": "client",
    "PermanentError": "client",
    "ReplyTooLarge": "client",
    "TransientError": "client",
    "make_signature": "client",
    "SimulatorAdmin": "admin",
    "UnsafeXmlError": "safexml",
    "parse_untrusted": "safexml",
    "SimulatorServer": "simulator.server",
    "start_simulator": "simulator.server",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
