"""Hook specifications: everything a plugin can implement.

Every hook name starts with ``piis_``; a function named ``piis_*`` in a plugin that matches no spec
here is an error at startup (``check_pending``), never a silent no-op.  An implementation may accept
any subset of the arguments listed here (pluggy passes only the ones it names), so new arguments can
be added without breaking existing plugins.

Routing: the per-CPAS hooks (``piis_case_*``, ``piis_federal_*`` except ``build_forms``,
``piis_transfer_*``) are called through :class:`piis_bridge.hooks.manager.PluginHost`, which calls
only the plugin the CPAS configuration names (``case_system = "neptunus"``, ``federal = "federal"``,
``transfer = "transfer"``), plus every enabled plugin's ``wrapper=True`` implementation of that hook,
so an implementation may assume the call is meant for it.

The reference documentation (signature, when called, what to return, an example) is
``docs/plugins.md``; ``tests/plugins/test_docs.py`` fails when a hook here is missing from it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from piis_bridge.hooks.markers import hookspec

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from pydantic import BaseModel

    from piis_bridge.cli import CommandRegistry
    from piis_bridge.config import Settings
    from piis_bridge.forms import ContractEvent, FederalForm, MonthlyStatement, SubmissionOutcome
    from piis_bridge.hooks.types import (
        ChangePage,
        CpasContext,
        MappingOutcome,
        NoticePage,
        PushItem,
        PushResult,
        RunInfo,
        RunReport,
        SourceRecord,
    )
    from piis_bridge.model import PIISContract, TransferRequest
    from piis_bridge.rules.registry import RuleRegistry
    from piis_bridge.transfer import (
        DeliveryReceipt,
        Destination,
        ExportedPackage,
        IncomingPackage,
        ReceiveOutcome,
    )

__all__ = [
    "piis_case_fetch_changes",
    "piis_case_fetch_record",
    "piis_case_map_record",
    "piis_case_push",
    "piis_federal_build_forms",
    "piis_federal_fetch_notices",
    "piis_federal_fetch_results",
    "piis_federal_fetch_statement",
    "piis_federal_submit",
    "piis_mapping_files",
    "piis_plugin_settings",
    "piis_register_commands",
    "piis_register_rules",
    "piis_rule_parameters",
    "piis_run_finished",
    "piis_run_started",
    "piis_startup",
    "piis_transfer_export",
    "piis_transfer_import",
    "piis_transfer_send",
]

# --------------------------------------------------------------------------------------------------
# lifecycle
# --------------------------------------------------------------------------------------------------


@hookspec
def piis_plugin_settings() -> type[BaseModel] | None:
    """Declare the settings this plugin accepts in ``[cpas.<id>.plugins.<name>]``.

    Called once per plugin at startup, before :func:`piis_startup`.  Return a pydantic model class;
    the configuration of every CPAS is validated against it, so a misspelled key is an error at
    startup naming the CPAS, the plugin and the key.  Give the model ``extra="forbid"``; fields
    whose name ends in ``_secret``, ``_password`` or ``_token`` may only come from the environment or
    a file (``*_file`` key).  Return ``None`` (or do not implement the hook) for a plugin that takes
    no settings: then any setting given for it is an error.

    The result of each plugin is collected separately (the host calls each implementation on its
    own), so this is neither firstresult nor concatenated.
    """


@hookspec
def piis_startup(config: Settings) -> None:
    """The configuration is loaded and validated; prepare long-lived resources.

    Called once per process (CLI command, celery worker) after every plugin is registered and
    before any other hook.  A plugin that raises here is reported with its name and disabled for
    the process; the others start.

    :param config: the validated :class:`piis_bridge.config.Settings`.
    """


@hookspec
def piis_run_started(run: RunInfo) -> None:
    """A sync run starts (nightly or manual).  For reporting, metrics and alerts.

    Every enabled plugin is notified; one that raises is recorded in the run report and the
    others are still called.

    :param run: :class:`piis_bridge.hooks.types.RunInfo` (run id, start time, CPAS ids, trigger).
    """


@hookspec
def piis_run_finished(report: RunReport) -> None:
    """A sync run finished (also after a partial failure).  Send the report or an alert.

    Every enabled plugin is notified; errors are isolated as for :func:`piis_run_started`.

    :param report: :class:`piis_bridge.hooks.types.RunReport` with counts, record problems and the
        plugin failures of the run.
    """


@hookspec
def piis_register_commands(cli: CommandRegistry) -> None:
    """Add CLI commands.

    Called while the ``piis-bridge`` command line is assembled.  ``cli.root`` is the top-level typer
    app and ``cli.group(name, help)`` returns (creating it on first use) a sub-command group such
    as ``sim``.  A plugin that raises here loses its commands; the rest of the CLI still works and
    ``piis-bridge plugins`` shows the error.

    :param cli: a :class:`piis_bridge.cli.CommandRegistry`.
    """


# --------------------------------------------------------------------------------------------------
# case system (routed to the CPAS's ``case_system`` plugin)
# --------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def piis_case_fetch_changes(
    cpas: CpasContext, cursor: str | None, page_size: int
) -> ChangePage | None:
    """Return one page of records changed after ``cursor``.

    Called by the sync pipeline in a loop until ``has_more`` is false.  The returned
    :class:`ChangePage` carries the cursor the core persists **after** the page is processed; the
    next call receives it.  ``cursor`` is ``None`` on the very first sync (return everything).
    Stops at first non-None result.

    Contract: resume exactly after the last record returned (no gap, no record twice across
    pages), at most ``page_size`` records per page, records ordered so that a cursor is
    meaningful (usually by ``modified_at`` then ``record_id``).

    :param cpas: the CPAS (and this plugin's settings for it).
    :param cursor: the opaque cursor from the previous page, or ``None``.
    :param page_size: maximum number of records to return.
    """


@hookspec(firstresult=True)
def piis_case_map_record(cpas: CpasContext, record: SourceRecord) -> MappingOutcome | None:
    """Map a vendor record to the canonical :class:`piis_bridge.model.PIISContract`.

    Called once per fetched record.  Return a :class:`MappingOutcome` with either the contract, the
    problems (each with the record id, the field path and the reason; never a full NISS), or a
    ``skip_reason`` for records that are not contracts.  Stops at first non-None result.

    A ``wrapper=True`` implementation (e.g. a local-rules plugin) sees and may amend the routed
    plugin's outcome.

    :param cpas: the CPAS (and this plugin's settings for it).
    :param record: the :class:`SourceRecord` returned by :func:`piis_case_fetch_changes`.
    """


@hookspec(firstresult=True)
def piis_case_fetch_record(cpas: CpasContext, record_id: str) -> SourceRecord | None:
    """Return the current version of one record, as :func:`piis_case_fetch_changes` would.

    Called when IT staff run one dossier by hand (``piis-bridge run --dossier ID``): the run must
    process what the case system holds *now*, not the version last fetched by a nightly run.
    Return ``None`` when the case system has no such record (deleted or never existed).
    Stops at first non-None result.

    :param cpas: the CPAS (and this plugin's settings for it).
    :param record_id: the vendor's record id (never a NISS).
    """


@hookspec(firstresult=True)
def piis_case_push(cpas: CpasContext, items: list[PushItem]) -> list[PushResult] | None:
    """Push tasks or statuses back into the case system (federal answer, deadline alert, ...).

    Called after a sync or a federal acknowledgement, with the items to show to social workers.
    Return one :class:`PushResult` per item, in the same order.  Must be idempotent on
    ``PushItem.key``: an item already pushed answers ``duplicate`` and creates nothing.  An item
    that fails answers ``failed`` with a ``detail``; raise only when nothing could be pushed.
    Stops at first non-None result.

    :param cpas: the CPAS (and this plugin's settings for it).
    :param items: the items to push.
    """


# --------------------------------------------------------------------------------------------------
# federal (routed to the CPAS's ``federal`` plugin, except build_forms)
# --------------------------------------------------------------------------------------------------


@hookspec
def piis_federal_build_forms(
    cpas: CpasContext, contract: PIISContract, event: ContractEvent
) -> list[FederalForm] | None:
    """Build the federal forms (B, C, D) a contract event requires.

    Called for each contract event (signature, evaluation, end, ...).  Every enabled plugin may
    contribute: the results are concatenated in call order (so a local plugin can add a form).
    Return a list (possibly empty) or ``None``.

    :param cpas: the CPAS (and this plugin's settings for it).
    :param contract: the canonical contract.
    :param event: what happened to it (:class:`piis_bridge.forms.ContractEvent`).
    """


@hookspec(firstresult=True)
def piis_federal_submit(
    cpas: CpasContext, forms: list[FederalForm]
) -> list[SubmissionOutcome] | None:
    """Submit a batch of forms to the federal service and return one outcome per form.

    Called by the submission step with forms not yet submitted (the ledger guarantees nothing is
    submitted twice).  Stops at first non-None result.

    :param cpas: the CPAS (and this plugin's settings for it).
    :param forms: the forms of one batch.
    """


@hookspec(firstresult=True)
def piis_federal_fetch_results(
    cpas: CpasContext, tickets: list[str]
) -> list[SubmissionOutcome] | None:
    """Fetch acknowledgements / batch results for submissions still pending.

    Called by the nightly run with the tickets returned by :func:`piis_federal_submit`.  Return the
    outcomes now known (a ticket still pending may be omitted).  Stops at first non-None result.

    :param cpas: the CPAS (and this plugin's settings for it).
    :param tickets: the submission tickets to ask about.
    """


@hookspec(firstresult=True)
def piis_federal_fetch_statement(cpas: CpasContext, month: date) -> MonthlyStatement | None:
    """Fetch the monthly statement (décompte) for ``month``.

    Called once a month per CPAS, or from the CLI.  ``month`` is the first day of the month.
    Return ``None`` if the statement is not available yet.  Stops at first non-None result.

    :param cpas: the CPAS (and this plugin's settings for it).
    :param month: first day of the month concerned.
    """


@hookspec(firstresult=True)
def piis_federal_fetch_notices(
    cpas: CpasContext, cursor: str | None, page_size: int
) -> NoticePage | None:
    """Return one page of National Register notices (moves, deaths, replaced NISS, emigrations).

    Called by the nightly run after the answers are collected, in a loop until ``has_more`` is
    false; the cursor is persisted after each page exactly like the case-system change feed, so a
    crash replays at most one page.  A ``move`` notice opens a transfer case for the person's
    contracts (R-TRF-01).  Stops at first non-None result.

    :param cpas: the CPAS (and this plugin's settings for it).
    :param cursor: the opaque cursor from the previous page, or ``None`` (everything kept).
    :param page_size: maximum number of notices to return.
    """


# --------------------------------------------------------------------------------------------------
# transfer between CPAS (routed to the CPAS's ``transfer`` plugin)
# --------------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def piis_transfer_export(
    cpas: CpasContext, transfer: str | TransferRequest
) -> ExportedPackage | None:
    """Export a contract package for another CPAS (change of residence).

    Called when a transfer is decided.  Return the signed package
    (:class:`piis_bridge.transfer.ExportedPackage`), or ``None`` when there is no such case.
    Stops at first non-None result.

    :param cpas: the sending CPAS.
    :param transfer: the transfer case id, or a :class:`piis_bridge.model.TransferRequest`.
    """


@hookspec(firstresult=True)
def piis_transfer_send(
    cpas: CpasContext, package: ExportedPackage, destination: Destination | None
) -> DeliveryReceipt | None:
    """Send an exported package to the destination CPAS; return a delivery receipt.

    Stops at first non-None result.

    :param cpas: the sending CPAS.
    :param package: the value returned by :func:`piis_transfer_export`.
    :param destination: the receiving CPAS (id, INS code, BCE, address); ``None``: the one the
        package names.
    """


@hookspec(firstresult=True)
def piis_transfer_import(
    cpas: CpasContext, package: IncomingPackage | bytes
) -> ReceiveOutcome | None:
    """Import a package received from another CPAS; return what was imported or refused.

    Stops at first non-None result.

    :param cpas: the receiving CPAS.
    :param package: the received package (bytes or the transfer plugin's package type).
    """


# --------------------------------------------------------------------------------------------------
# mapping and rules (every enabled plugin contributes)
# --------------------------------------------------------------------------------------------------


@hookspec
def piis_mapping_files() -> list[Traversable] | None:
    """Provide declarative mapping files (YAML) for a vendor schema.

    Called once when the mapping engine loads.  Return files opened with
    ``importlib.resources.files(...)``; the results of all plugins are concatenated.
    """


@hookspec
def piis_register_rules(registry: RuleRegistry) -> None:
    """Contribute local rules to the rules registry.

    Called once at startup by the rules engine with its registry; call its registration method for
    each rule.  Every enabled plugin is called.

    :param registry: the core rules registry.
    """


@hookspec
def piis_rule_parameters(cpas: CpasContext) -> dict[str, Any] | None:
    """Contribute local rule parameters for a CPAS (e.g. a shorter internal deadline).

    Every enabled plugin is called; the dicts are merged and two plugins giving the same key is an
    error naming both.  Return ``None`` or ``{}`` to contribute nothing.

    :param cpas: the CPAS the parameters are for.
    """
