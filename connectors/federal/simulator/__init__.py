"""A faithful local simulator of the BCSS SSDN connector and of NovaPrima (federal.md section 10).

Import :mod:`piis_connectors.federal.simulator.server` for :class:`SimulatorServer`; this package module
stays light so that importing the pytest fixtures costs nothing.
"""

__all__: list[str] = []
