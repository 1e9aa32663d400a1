"""federal plugin for piis-bridge: forms B, C and D to the SPP IS / NovaPrima over the BCSS SSDN envelope.

This module is the plugin object (entry point ``federal`` in group ``piis_bridge``).  Imports are lazy:
loading the plugin must cost nothing for commands that never talk to the federal service.
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

__all__ = [
    "SERVICES",
    "FederalServices",
    "piis_federal_build_forms",
    "piis_federal_fetch_notices",
    "piis_federal_fetch_results",
    "piis_federal_fetch_statement",
    "piis_federal_submit",
    "piis_mapping_files",
    "piis_plugin_settings",
    "piis_register_commands",
    "piis_startup",
    "service_for",
]

# Settings a CPAS routed to this plugin (federal = "federal") must give: the plugin host refuses the
# configuration without them (no default address that would send forms to a local port).
PIIS_REQUIRED_WHEN_ROUTED = ("endpoint",)


class FederalServices:
    """The plugin's state in one process: the application's ``database_url`` (learnt at start-up) and
    one service (ledger + zeep client, connections reused) per CPAS and database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._services: dict[tuple[str, str], FederalService] = {}
        self.default_database_url: str | None = None

    def start(self, config: Settings) -> None:
        self.default_database_url = config.database_url or self.default_database_url

    def database_url(self, cpas: CpasContext) -> str:
        """The ledger lives in the application database unless the CPAS's federal settings say otherwise."""
        url = (cpas.settings or {}).get("database_url") or self.default_database_url
        return url or os.environ.get("PIIS_DATABASE_URL") or "sqlite:///var/piis-bridge.sqlite3"

    def service(self, cpas: CpasContext) -> FederalService:
        from piis_plugins.federal.service import FederalService, FederalSettings

        from piis_bridge.ledger import Ledger

        url = self.database_url(cpas)
        key = (cpas.cpas_id, url)
        wanted = FederalSettings(**(cpas.settings or {})).model_dump()
        with self._lock:
            service = self._services.get(key)
            if service is None or service.settings.model_dump() != wanted:
                service = self._services[key] = FederalService(cpas, Ledger.open(url))
            return service

    def reset(self) -> None:
        """Forget the services and the learnt database (tests)."""
        with self._lock:
            self._services.clear()
            self.default_database_url = None


SERVICES = FederalServices()


def service_for(cpas: CpasContext) -> FederalService:
    """One service (ledger + zeep client, connections reused) per CPAS and database, per process."""
    return SERVICES.service(cpas)


@hookimpl
def piis_plugin_settings() -> type[FederalSettings]:
    from piis_plugins.federal.service import FederalSettings

    return FederalSettings


@hookimpl
def piis_startup(config: Settings) -> None:
    SERVICES.start(config)


@hookimpl
def piis_register_commands(cli: CommandRegistry) -> None:
    from piis_plugins.federal.cli import register

    register(cli)


@hookimpl
def piis_mapping_files() -> list[Traversable]:
    from importlib.resources import files

    root = files("piis_mappings.federal")
    return [
        root.joinpath(name)
        for name in ("form_b.yaml", "form_c.yaml", "form_d.yaml", "piis_codes.yaml", "rubrics.yaml")
    ]


@hookimpl
def piis_federal_build_forms(
    cpas: CpasContext, contract: PIISContract, event: ContractEvent | None
) -> list[FederalForm]:
    from piis_plugins.federal.building import FormBuilder

    from piis_bridge.forms import ContractEvent

    if not isinstance(event, ContractEvent):
        event = ContractEvent.from_contract(contract)
    return [FormBuilder().build(cpas.cpas_id, contract, event)]


@hookimpl
def piis_federal_submit(cpas: CpasContext, forms: list[FederalForm]) -> list[SubmissionOutcome]:
    return service_for(cpas).submit(forms)


@hookimpl
def piis_federal_fetch_results(cpas: CpasContext, tickets: list[str]) -> list[SubmissionOutcome]:
    return service_for(cpas).fetch_results(tickets)


@hookimpl
def piis_federal_fetch_statement(cpas: CpasContext, month: date) -> MonthlyStatement | None:
    return service_for(cpas).statement(month)


@hookimpl
def piis_federal_fetch_notices(cpas: CpasContext, cursor: str | None, page_size: int) -> NoticePage:
    return service_for(cpas).notices(cursor, page_size)
