"""casesystem connector: httpx client and simulator of a NeptunusWeb-like vendor REST API.

Public surface (imported lazily by the modules that need it, so ``testing`` stays cheap)::

    piis_connectors.casesystem.client      CaseSystemClient, FeedPage, CaseSystemError...
    piis_connectors.casesystem.simulator   CaseSystemSimulator, SimulatorConfig
    piis_connectors.casesystem.sync        pull, FileCursorStore
    piis_connectors.casesystem.vocab       the vendor's code lists and date formats
    piis_connectors.casesystem.seed        deterministic synthetic data
    piis_connectors.casesystem.testing     pytest fixture ``casesystem_simulator``
"""

__all__: list[str] = []
