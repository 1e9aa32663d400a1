"""The values that cross the plugin hooks.

Why a module of its own: plugins (neptunus, filedrop, federal, transfer, third-party vendors) and the
core pipeline both import these types, and neither may import the other.  They are pydantic v2 models
so that a plugin returning a malformed value fails at the boundary, with a message that names the
record and the field, never at some later step.

Privacy: every model uses ``hide_input_in_errors=True`` (a validation error never echoes the input,
which may hold a NISS), a ``record_id`` that is a checksum-valid NISS is rejected (vendors must use
their own record ids), and free-text reasons are passed through :func:`piis_bridge.logging.redact`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from piis_bridge.i18n.text import Text, text_json
from piis_bridge.identifiers import Bce, InsCode, Niss, is_valid_niss, mask_niss
from piis_bridge.logging import redact
from piis_bridge.model import PIISContract

__all__ = [
    "ChangePage",
    "CpasContext",
    "MappingOutcome",
    "NoticeKind",
    "NoticePage",
    "PluginFailure",
    "PushItem",
    "PushKind",
    "PushResult",
    "PushStatus",
    "RecordId",
    "RecordProblem",
    "RegisterNotice",
    "RunInfo",
    "RunReport",
    "SourceRecord",
]

PushKind = Literal[
    "federal_answer", "deadline_alert", "transfer_notice", "status", "draft_contract"
]
"""``draft_contract``: ``data["draft_contract"]`` is a canonical contract in DRAFT status (a hand-over
received from another CPAS) to create as a draft in the case system; see docs/plugins.md."""
PushStatus = Literal["created", "duplicate", "failed"]


class _HookModel(BaseModel):
    """Base of every hook value: immutable, strict about unknown fields, silent about inputs."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


def _not_a_niss(value: str) -> str:
    if is_valid_niss(value):
        raise ValueError(
            f"record_id {mask_niss(value)} is a NISS; use the vendor's own record id "
            "(a NISS must never be used as an identifier outside the contract payload)"
        )
    return value


RecordId = Annotated[str, StringConstraints(min_length=1), AfterValidator(_not_a_niss)]
"""A vendor record id: non-empty, and never a checksum-valid NISS."""


class CpasContext(_HookModel):
    """Which CPAS a per-CPAS hook call is for, and that CPAS's settings for the called plugin.

    The facade builds one per (CPAS, plugin) from the configuration file; a plugin never reads the
    configuration itself, so two CPAS sharing one installation can use different vendors.
    """

    cpas_id: str = Field(
        min_length=1, description="Stable short id from the configuration, e.g. 'liege'."
    )
    name: str = Field(min_length=1, description="Display name, e.g. 'CPAS de Liège'.")
    ins_code: InsCode
    bce: Bce
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="The called plugin's settings for this CPAS (secrets already resolved from env/files).",
    )
    state_dir: Path = Field(
        description="A directory the plugin may write to (one per CPAS and plugin)."
    )
    plugin: str | None = Field(
        default=None, description="Name of the plugin this context was built for."
    )
    run_id: str | None = Field(
        default=None, description="The sync run the call belongs to, if any."
    )
    language: str = Field(
        default="en",
        description="The CPAS's language (fr, nl, de, en) for any text the "
        "plugin itself writes for its social workers (docs/i18n.md).",
    )


class SourceRecord(_HookModel):
    """One record as the vendor case system holds it, before mapping."""

    source: str = Field(min_length=1, description="Name of the plugin that fetched the record.")
    record_id: RecordId = Field(description="The vendor's record id. Never a NISS.")
    kind: str = Field(
        min_length=1, description="Vendor record type, e.g. 'piis_contract', 'evaluation'."
    )
    modified_at: AwareDatetime
    version: str | None = Field(
        default=None, description="Vendor version or ETag; None if it has none."
    )
    payload: dict[str, Any] = Field(
        default_factory=dict, description="The vendor record as parsed JSON/CSV."
    )
    cpas_bce: str | None = Field(
        default=None,
        description="BCE/KBO of the CPAS the case system files this record under (its tenant). A multi-tenant "
        "case system must fill it: the host refuses, before mapping, a record of another CPAS.",
    )
    cpas_ins: str | None = Field(
        default=None, description="INS/NIS code of that CPAS, when the record carries it."
    )


class ChangePage(_HookModel):
    """One page of changed records.

    ``cursor`` is opaque to the core: it is persisted only after every record of the page has been
    processed (mapped and stored or quarantined), and handed back on the next call.  A plugin must
    resume exactly after the last record of the page, so a crash between pages loses nothing and a
    crash inside a page replays that page only.
    """

    records: list[SourceRecord] = Field(default_factory=list)
    cursor: str | None = Field(description="Cursor to persist once this page is processed.")
    has_more: bool = False


NoticeKind = Literal["move", "death", "niss_replaced", "emigration"]


class RegisterNotice(_HookModel):
    """A National Register mutation the federal side reports a posteriori for a person a CPAS serves.

    Why the core needs it: a move recorded in the National Register may reach the federal
    application before the social worker types it into the case system, and the PIIS ends by law
    on the day the CPAS stops being competent (R-TRF-01).  A ``move`` notice therefore carries the
    new municipality, so a transfer case can name the CPAS that becomes competent.
    """

    reference: str = Field(
        min_length=1, description="The notice's stable id at the federal side (idempotency)."
    )
    niss: Niss = Field(description="The person concerned; never logged (mask_niss in messages).")
    kind: NoticeKind
    effective_date: date = Field(
        description="Day the mutation takes effect (the move, the death...)."
    )
    new_ins_code: InsCode | None = Field(
        default=None, description="New municipality's INS code (move)."
    )
    new_municipality: str | None = Field(
        default=None, description="New municipality's name (move)."
    )
    replaced_by: Niss | None = Field(default=None, description="The new NISS (niss_replaced).")

    @model_validator(mode="after")
    def _move_names_its_municipality(self) -> RegisterNotice:
        if self.kind == "move" and self.new_ins_code is None:
            raise ValueError(
                f"notice {self.reference}: a move must name the new municipality (new_ins_code)"
            )
        if self.kind == "niss_replaced" and self.replaced_by is None:
            raise ValueError(f"notice {self.reference}: niss_replaced must give replaced_by")
        return self


class NoticePage(_HookModel):
    """One page of National Register notices; ``cursor`` works like :class:`ChangePage`'s.

    A notice the plugin cannot turn into a :class:`RegisterNotice` (unknown kind, a move without its
    municipality...) goes into ``problems`` with its reference as ``record_id``, never its NISS: the
    core quarantines it and reads on, so one bad notice does not stop the feed every night.
    """

    notices: list[RegisterNotice] = Field(default_factory=list)
    problems: list[RecordProblem] = Field(
        default_factory=list, description="Notices of this page that could not be read."
    )
    cursor: str | None = Field(description="Cursor to persist once this page is processed.")
    has_more: bool = False


class RecordProblem(_HookModel):
    """Why a record (or one of its fields) could not be accepted.  Never holds a full NISS."""

    record_id: RecordId
    field: str = Field(
        description="Dotted path in the record, e.g. 'beneficiary.niss'; '' for the whole record."
    )
    reason: str = Field(min_length=1)
    rule: str | None = Field(
        default=None, description="Rule id (R-...) when a legal rule was violated."
    )
    text: dict[str, Any] | None = Field(
        default=None,
        exclude=True,
        description="The reason as message id + values (piis_bridge.i18n.text.text_json), filled "
        "when the reason is given as a piis_bridge.i18n.text.Text: the quarantine entry keeps it "
        "so the reason is shown in the reader's language.  Not serialized.",
    )

    @model_validator(mode="before")
    @classmethod
    def _keep_text(cls, data: Any) -> Any:
        # pydantic turns a str subclass into a plain str: keep the Text's id and values first
        if isinstance(data, dict) and isinstance(data.get("reason"), Text) and "text" not in data:
            return {**data, "text": redact(text_json(data["reason"]))}
        return data

    @field_validator("field", "reason")
    @classmethod
    def _mask(cls, value: str) -> str:
        return redact(value)


class MappingOutcome(_HookModel):
    """The result of mapping one :class:`SourceRecord`.

    Exactly one of: a ``contract`` (accepted), a non-empty ``problems`` list (quarantined), or a
    ``skip_reason`` (the record is not a contract the core cares about, e.g. an unrelated record kind).
    """

    record_id: RecordId
    contract: PIISContract | None = None
    problems: list[RecordProblem] = Field(default_factory=list)
    skip_reason: str | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> MappingOutcome:
        given = [self.contract is not None, bool(self.problems), self.skip_reason is not None]
        if sum(given) != 1:
            raise ValueError(
                f"record {self.record_id}: a MappingOutcome holds exactly one of contract, problems or "
                "skip_reason"
            )
        return self

    @property
    def ok(self) -> bool:
        return self.contract is not None


class PushItem(_HookModel):
    """A task or status to show in the vendor case system (the federal answer, a deadline alert...).

    ``key`` is the idempotency key: pushing the same key twice must not create a second task in the
    vendor system (the second push answers ``duplicate``).
    """

    key: str = Field(min_length=1, max_length=200)
    record_id: RecordId = Field(description="The vendor record the item is attached to.")
    kind: PushKind
    title: str = Field(min_length=1)
    body: str = ""
    due: date | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    message: dict[str, Any] | None = Field(
        default=None,
        description="What title and body say, as message ids and values (piis_bridge.i18n.push): the host "
        "writes them in the CPAS's language before the push.  None: title and body are pushed as is.",
    )


class PushResult(_HookModel):
    """What happened to one :class:`PushItem` (one result per item, same order)."""

    key: str = Field(min_length=1)
    status: PushStatus
    detail: str = ""
    remote_id: str | None = Field(
        default=None, description="Id of the task/status in the vendor system."
    )

    @field_validator("detail")
    @classmethod
    def _mask(cls, value: str) -> str:
        return redact(value)


class PluginFailure(_HookModel):
    """A plugin raised; the run went on.  Shown in the run report and in ``piis_run_finished``."""

    plugin: str
    hook: str
    cpas_id: str | None = None
    record_id: str | None = None
    error_type: str
    message: str

    @field_validator("message", "record_id")
    @classmethod
    def _mask(cls, value: str | None) -> str | None:
        # Masked, not rejected: recording a failure must never fail.
        return redact(value)


class RunInfo(_HookModel):
    """Passed to ``piis_run_started``: which run, for which CPAS, and why it started."""

    run_id: str
    started_at: AwareDatetime
    cpas_ids: list[str] = Field(default_factory=list)
    trigger: str = Field(default="manual", description="'nightly', 'manual', 'cli', ...")


class RunReport(_HookModel):
    """Passed to ``piis_run_finished``: enough to write a report or send an alert."""

    run_id: str
    started_at: AwareDatetime
    finished_at: AwareDatetime
    cpas_ids: list[str] = Field(default_factory=list)
    counts: dict[str, int] = Field(
        default_factory=dict, description="e.g. {'fetched': 120, 'mapped': 118, 'quarantined': 2}."
    )
    problems: list[RecordProblem] = Field(default_factory=list)
    plugin_failures: list[PluginFailure] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.plugin_failures
