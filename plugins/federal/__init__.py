"""federal plugin for piis-bridge: forms B, C and D to the SPP IS / NovaPrima over the BCSS SSDN envelope.

The host registers the plugin object :func:`make_plugin` returns (entry point ``federal`` in group
``piis_bridge``; one per process, see docs/plugins.md "Plugin state").  Imports are lazy: loading the
plugin must cost nothing for commands that never talk to the federal service.
"""

from __future__ import annotations

import os
import threading
from datetime import date
from typing import TYPE_CHECKING

from piis_bridge.hooks import hookimpl

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from piis_plugins.federal.service import FederalService, FederalSettings

    from piis_bridge.cli import CommandRegistry
    from piis_bridge.config import Settings
    from piis_bridge.forms import ContractEvent, FederalForm, MonthlyStatement, SubmissionOutcome
    from piis_bridge.hooks.types import CpasContext, NoticePage
    from piis_bridge.model import PIISContract

__all__ = ["FederalPlugin", "make_plugin"]


class FederalPlugin:
    """The federal plugin object (registered by the host as ``federal``, one per process): the
    application's ``database_url`` (learnt at start-up) and one service (ledger + zeep client,
    connections reused) per CPAS and database.  Shared by the hosts of the process's threads, so the
    services are made under a lock; a SQLAlchemy engine and a zeep transport are thread-safe pools."""

    # Settings a CPAS routed to this plugin (federal = "federal") must give: the plugin host refuses the
    # configuration without them (no default address that would send forms to a local port).
    PIIS_REQUIRED_WHEN_ROUTED = ("endpoint",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._services: dict[tuple[str, str], FederalService] = {}
        self.default_database_url: str | None = None

    def database_url(self, cpas: CpasContext) -> str:
        """The ledger lives in the application database unless the CPAS's federal settings say otherwise."""
        url = (cpas.settings or {}).get("database_url") or self.default_database_url
        return url or os.environ.get("PIIS_DATABASE_URL") or "sqlite:///var/piis-bridge.sqlite3"

    def service(self, cpas: CpasContext) -> FederalService:
        """One service (ledger + zeep client, connections reused) per CPAS and database (the federal
        CLI and tests use it too: ``host.plugin("federal").service(host.context(cpas, "federal"))``)."""
        from piis_plugins.federal.service import FederalService, FederalSettings

        from piis_bridge.ledger import Ledger

        url = self.database_url(cpas)
        key = (cpas.cpas_id, url)
        wanted = FederalSettings(**(cpas.settings or {})).model_dump()
        with self._lock:
            service = self._services.get(key)
            if service is None or service.settings.model_dump() != wanted:
                if service is not None:
                    service.close()  # the settings changed: its pool and sessions are not reused
                service = self._services[key] = FederalService(cpas, Ledger.open(url))
            return service

    def close(self) -> None:
        """Close and forget the services, their ledgers' connection pools and their federal clients'
        HTTP sessions (process shutdown: ``PluginInstances.close``; tests)."""
        with self._lock:
            services = list(self._services.values())
            self._services.clear()
        for service in services:
            service.close()

    @hookimpl
    def piis_plugin_settings(self) -> type[FederalSettings]:
        from piis_plugins.federal.service import FederalSettings

        return FederalSettings

    @hookimpl
    def piis_startup(self, config: Settings) -> None:
        self.default_database_url = config.database_url or self.default_database_url

    @hookimpl
    def piis_register_commands(self, cli: CommandRegistry) -> None:
        from piis_plugins.federal.cli import register

        register(cli)

    @hookimpl
    def piis_mapping_files(self) -> list[Traversable]:
        from importlib.resources import files

        root = files("piis_mappings.federal")
        return [
            root.joinpath(name)
            for name in (
                "form_b.yaml",
                "form_c.yaml",
                "form_d.yaml",
                "piis_codes.yaml",
                "rubrics.yaml",
            )
        ]

    @hookimpl
    def piis_federal_build_forms(
        self, cpas: CpasContext, contract: PIISContract, event: ContractEvent | None
    ) -> list[FederalForm]:
        from piis_plugins.federal.building import FormBuilder

        from piis_bridge.forms import ContractEvent

        if not isinstance(event, ContractEvent):
            event = ContractEvent.from_contract(contract)
        return [FormBuilder().build(cpas.cpas_id, contract, event)]

    @hookimpl
    def piis_federal_submit(
        self, cpas: CpasContext, forms: list[FederalForm]
    ) -> list[SubmissionOutcome]:
        return self.service(cpas).submit(forms)

    @hookimpl
    def piis_federal_fetch_results(
        self, cpas: CpasContext, tickets: list[str]
    ) -> list[SubmissionOutcome]:
        return self.service(cpas).fetch_results(tickets)

    @hookimpl
    def piis_federal_fetch_statement(
        self, cpas: CpasContext, month: date
    ) -> MonthlyStatement | None:
        return self.service(cpas).statement(month)

    @hookimpl
    def piis_federal_fetch_notices(
        self, cpas: CpasContext, cursor: str | None, page_size: int
    ) -> NoticePage:
        return self.service(cpas).notices(cursor, page_size)


def make_plugin() -> FederalPlugin:
    """The plugin object registered as ``federal``: it holds the ledgers and SOAP clients."""
    return FederalPlugin()
