"""federal plugin for piis-bridge: forms B, C and D to the SPP IS / NovaPrima over the BCSS SSDN envelope.

This module is the plugin object (entry point ``federal`` in group ``piis_bridge``).  Imports are lazy:
loading the plugin must cost nothing for commands that never talk to the federal service.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

from piis_bridge.hooks import hookimpl

__all__ = [
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

_SERVICES: dict[tuple[str, str], Any] = {}
_DEFAULT_DATABASE_URL: list[str] = []  # the application's database_url, learnt at startup


def _database_url(cpas: Any) -> str:
    """The ledger lives in the application database unless the CPAS's federal settings say otherwise."""
    url = (cpas.settings or {}).get("database_url") or (
        _DEFAULT_DATABASE_URL[-1] if _DEFAULT_DATABASE_URL else None
    )
    return url or os.environ.get("PIIS_DATABASE_URL") or "sqlite:///var/piis-bridge.sqlite3"


def service_for(cpas: Any) -> Any:
    """One service (ledger + zeep client, connections reused) per CPAS and database, per process."""
    from piis_plugins.federal.service import FederalService

    from piis_bridge.ledger import Ledger

    url = _database_url(cpas)
    key = (cpas.cpas_id, url)
    service = _SERVICES.get(key)
    if (
        service is None
        or service.settings.model_dump() != _settings_model()(**(cpas.settings or {})).model_dump()
    ):
        service = FederalService(cpas, Ledger.open(url))
        _SERVICES[key] = service
    return service


def _settings_model() -> Any:
    from piis_plugins.federal.service import FederalSettings

    return FederalSettings


@hookimpl
def piis_plugin_settings() -> Any:
    return _settings_model()


@hookimpl
def piis_startup(config: Any) -> None:
    url = getattr(config, "database_url", None)
    if url:
        _DEFAULT_DATABASE_URL.append(url)


@hookimpl
def piis_register_commands(cli: Any) -> None:
    from piis_plugins.federal.cli import register

    register(cli)


@hookimpl
def piis_mapping_files() -> list[Any]:
    from importlib.resources import files

    root = files("piis_mappings.federal")
    return [
        root.joinpath(name)
        for name in ("form_b.yaml", "form_c.yaml", "form_d.yaml", "piis_codes.yaml", "rubrics.yaml")
    ]


@hookimpl
def piis_federal_build_forms(cpas: Any, contract: Any, event: Any) -> list[Any]:
    from piis_plugins.federal.building import FormBuilder

    from piis_bridge.forms import ContractEvent

    if not isinstance(event, ContractEvent):
        event = ContractEvent.from_contract(contract)
    return [FormBuilder().build(cpas.cpas_id, contract, event)]


@hookimpl
def piis_federal_submit(cpas: Any, forms: list[Any]) -> list[Any]:
    return service_for(cpas).submit(forms)


@hookimpl
def piis_federal_fetch_results(cpas: Any, tickets: list[str]) -> list[Any]:
    return service_for(cpas).fetch_results(tickets)


@hookimpl
def piis_federal_fetch_statement(cpas: Any, month: date) -> Any:
    return service_for(cpas).statement(month)


@hookimpl
def piis_federal_fetch_notices(cpas: Any, cursor: str | None, page_size: int) -> Any:
    return service_for(cpas).notices(cursor, page_size)
