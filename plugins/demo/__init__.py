"""``piis-bridge demo``: the nightly job end to end on the embedded defaults, against the local simulators.

A plugin rather than a core command because it wires concrete connectors (the vendor case-system
simulator and the NovaPrima simulator) to the pipeline, which the core must never import.
"""

from piis_plugins.demo.command import piis_register_commands

__all__ = ["piis_register_commands"]
