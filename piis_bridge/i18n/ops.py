"""The codes of the operator commands shown in words: run and quarantine statuses, form statuses,
transfer states, eligibility, consent and delivery answers.

Why codes and not sentences: the database and ``--json`` keep the code (``consent_given``,
``refused``), which scripts and the console read; only the human output of ``runs``, ``quarantine``,
``forms`` and ``transfer`` writes it in the reader's language.  Each code is a message id in its own
context (the catalogue tool lists them, :func:`piis_bridge.i18n.catalog.template`); in English the
code itself is shown, exactly as before.  A code not listed here (a newer state, a plugin's own) is
shown as it is rather than hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from piis_bridge.i18n import N_, Join, Translator
from piis_bridge.i18n.text import Text, text_from_json

__all__ = [
    "CODES",
    "WaitingTexts",
    "abandoned_text",
    "code_text",
    "form_unreadable_text",
    "gave_up_text",
    "move_without_ins_text",
    "no_longer_maps_text",
    "notice_failed_text",
    "notice_problem_text",
    "poison_text",
    "problems_reason",
    "semicolons",
    "stalled_text",
    "unknown_notice_text",
]

CODES: dict[str, tuple[str, ...]] = {
    # piis_bridge.pipeline.models.SyncRun.status
    "run status": ("running", "finished", "failed", "stalled", "abandoned"),
    # SyncRun.trigger
    "run trigger": ("nightly", "manual", "replay", "statement"),
    # piis_bridge.pipeline.models.QuarantineEntry.status
    "quarantine status": ("open", "replayed", "resolved", "dismissed"),
    # the form ledger's statuses (piis_bridge.cli.ops_commands._STATUSES)
    "form status": (
        "built",
        "sent",
        "accepted",
        "partially_accepted",
        "refused",
        "blocked",
        "superseded",
    ),
    # piis_bridge.transfer.states.CaseState and ReceiptState
    "transfer state": (
        "detected",
        "awaiting_consent",
        "consent_given",
        "consent_refused",
        "not_transferable",
        "package_built",
        "sent",
        "acknowledged",
        "assessed",
        "rejected",
        "received",
        "verified",
        "imported_draft",
        "assessment_acknowledged",
    ),
    # piis_bridge.transfer.legal.Eligibility
    "transfer eligibility": ("TRANSFERABLE", "ENDS_NOT_TRANSFERABLE", "STAYS_STUDIES"),
    # piis_bridge.model.enums.Consent
    "consent": ("GIVEN", "REFUSED", "NOT_EXPRESSED"),
    # piis_bridge.transfer.messages.DeliveryReceipt.status and the acknowledgement's status
    "delivery status": ("accepted", "duplicate", "rejected", "failed"),
    # piis_bridge.rules.share.ShareProjection.regime (R-SUB-17)
    "share regime": ("flat", "announced", "adopted", "in force"),
    # piis_bridge.observability.health.Status (the first line of `health` keeps the Nagios name)
    "health status": ("OK", "WARNING", "CRITICAL", "UNKNOWN"),
    # the names of piis_bridge.observability.health's checks (`--json` keeps the name)
    "health check": (
        "database",
        "broker",
        "workers",
        "nightly",
        "quarantine",
        "circuits",
        "certificates",
        "disk",
    ),
    # piis_bridge.forms.DifferenceKind (forms statement)
    "difference kind": (
        "missing_in_statement",
        "unknown_in_ledger",
        "status_mismatch",
        "amount_mismatch",
        "notice",
    ),
}


def code_text(context: str, code: object, t: Translator) -> str:
    """*code* in words in *t*'s language when it is one of :data:`CODES` [*context*], else as it is."""
    text = "" if code is None else str(code)
    if text in CODES.get(context, ()):
        return t.pgettext(context, text)
    return text


def problems_reason(problems: Sequence[Any]) -> Text:
    """The quarantine reason of a record whose mapping found *problems* (``RecordProblem``):
    ``field: reason; field: reason`` as before in English, kept as a :class:`Text` so a reason the
    bridge itself wrote (the plugin host's foreign-record refusal) is said in the reader's
    language; a plugin's own words are shown as written."""
    items = [
        Text(
            N_("{field}: {reason}"),
            field=p.field or Text(N_("(record)")),
            reason=text_from_json(p.text) if p.text else p.reason,
        )
        for p in problems
    ]
    return semicolons(items)


def semicolons(items: Sequence[Text]) -> Text:
    """*items* joined by ``"; "`` as one :class:`Text` (the English is the plain join), each said
    in the reader's language."""
    reason = items[-1]
    for item in reversed(items[:-1]):
        reason = Text(N_("{problem}; {more}"), problem=item, more=reason)
    return reason


class WaitingTexts:
    """The parts of a stalled run's reason (``pipeline.sweeper.why_stalled``), each a :class:`Text`
    whose English is the text the column always had."""

    @staticmethod
    def pull(cpas_id: str, state: str) -> Text:
        # one message per state so the state itself is translated; an unknown one as written
        if state == "pending":
            return Text(N_("the pull of {cpas} is pending"), cpas=cpas_id)
        if state == "pulling":
            return Text(N_("the pull of {cpas} is pulling"), cpas=cpas_id)
        return Text(N_("the pull of {cpas} is {state}"), cpas=cpas_id, state=state)

    @staticmethod
    def circuit(remote: str, until: str, failures: int) -> Text:
        return Text(
            N_("circuit {remote} open until {until} UTC after {failures} failures"),
            remote=remote,
            until=until,
            failures=failures,
        )

    @staticmethod
    def retries(count: int, at: str) -> Text:
        return Text(
            N_("{count} side effects waiting for a retry (next at {at} UTC)"), count=count, at=at
        )

    @staticmethod
    def records(count: int) -> Text:
        return Text(N_("{count} records not processed"), count=count)

    @staticmethod
    def effects(counts: Mapping[str, int]) -> Text:
        """``side effects 2 pending, 1 sending`` from the open side effects' *counts* by state."""
        said = {
            "pending": N_("{count} pending"),
            "sending": N_("{count} sending"),
            "submitted": N_("{count} submitted"),
        }
        parts = [
            Text(said.get(state, "{count} " + state), count=n)
            for state, n in sorted(counts.items())
        ]
        return Text(N_("side effects {states}"), states=Join(", ", parts))

    @staticmethod
    def last_error(error: str) -> Text:
        return Text(N_("last error: {error}"), error=error)

    @staticmethod
    def nothing_open() -> Text:
        return Text(N_("no work is open, yet the run did not close (its last tasks were lost)"))


def stalled_text(seconds: int, why: str) -> Text:
    """The reason the watchdog closes a run as *stalled* (``pipeline.sweeper``)."""
    return Text(N_("no progress for {seconds} s: {why}"), seconds=seconds, why=why)


def abandoned_text(seconds: int, run_id: str) -> Text:
    """The reason a run is closed as *abandoned* when a later run takes its CPAS over
    (``pipeline.runs``)."""
    return Text(
        N_("no progress for more than {seconds} s (its workers are gone); taken over by run {run}"),
        seconds=seconds,
        run=run_id,
    )


def poison_text(attempts: int, stage: str | None = None, error_type: str | None = None) -> Text:
    """The quarantine reason of a poison record (``pipeline.process.poison_reason``): given up
    after *attempts*, in *stage* with an error of *error_type* when a stage was recorded."""
    if stage is None:
        return Text(
            N_(
                "poison record: gave up after {attempts} attempts; its worker died each time "
                "before a stage was recorded"
            ),
            attempts=attempts,
        )
    return Text(
        N_(
            "poison record: gave up after {attempts} attempts in stage '{stage}'; last error {type}"
        ),
        attempts=attempts,
        stage=stage,
        type=error_type or "",
    )


def gave_up_text(attempts: int, reason: str) -> Text:
    """The quarantine reason of a side effect (push, submit) given up after *attempts*; *reason*
    is the remote's answer, shown as written unless it is one of the bridge's texts."""
    return Text(N_("gave up after {attempts} attempts: {reason}"), attempts=attempts, reason=reason)


def form_unreadable_text(exc: BaseException) -> Text:
    """The quarantine reason of a stored form that no longer loads (a form class that moved)."""
    return Text(
        N_("stored form cannot be loaded: {type}: {error}"), type=type(exc).__name__, error=str(exc)
    )


def notice_failed_text(kind: str, reference: str, reason: str) -> Text:
    """The quarantine reason of a federal notice the bridge could not handle."""
    return Text(
        N_("{kind} notice {reference}: {reason}"), kind=kind, reference=reference, reason=reason
    )


def notice_problem_text(problem: Any) -> Text:
    """The quarantine reason of a notice unreadable at the source (a ``RecordProblem``)."""
    return Text(
        N_("{field}: {reason}"),
        field=problem.field or Text(N_("(notice)")),
        reason=text_from_json(problem.text) if problem.text else problem.reason,
    )


def no_longer_maps_text(record_id: str, version: str, why: str | None) -> Text:
    """A notice's dossier whose stored source record no longer maps to a contract."""
    return Text(
        N_("dossier {record} (version {version}) no longer maps: {why}"),
        record=record_id,
        version=version,
        why=str(why),
    )


def move_without_ins_text() -> Text:
    """A move notice that does not name the new municipality."""
    return Text(N_("a move must name the new municipality (new_ins_code)"))


def unknown_notice_text(kind: str) -> Text:
    """A notice of a kind the bridge does not know (*kind* shown as ``repr``, as before)."""
    return Text(N_("unknown notice kind {kind}"), kind=repr(kind))
