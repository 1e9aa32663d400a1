"""The federal plugin's engine: ledger <-> connector.

Order of operations for every form (issue #5): key + version decided against the ledger -> serialised and
validated (a failing form never leaves, it is refused locally with its rubric) -> recorded *built* ->
marked *sent* -> sent -> answered.  A timeout or broken reply after sending leaves the forms *sent*; they
are resolved by asking the federal status before anything is sent again (no duplicate claims).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from lxml import etree
from piis_plugins.federal.building import rubric_label, to_xml, validate_form
from pydantic import BaseModel, ConfigDict

from piis_bridge.forms import (
    Evaluation,
    FederalForm,
    FormIssue,
    FormKind,
    FormStatus,
    MonthlyStatement,
    StatementLine,
    StatementNotice,
    SubmissionOutcome,
)
from piis_bridge.hooks.types import NoticeKind
from piis_bridge.ledger import Ledger, payload_hash
from piis_bridge.logging import get_logger

__all__ = ["FederalService", "FederalSettings", "outcome_from_result"]

_log = get_logger("piis.federal")
_LOOKUP = object()
_LIVE = (FormStatus.ACCEPTED.value, FormStatus.PARTIALLY_ACCEPTED.value, FormStatus.BLOCKED.value)


class FederalSettings(BaseModel):
    """``[cpas.<id>.plugins.federal]`` settings."""

    model_config = ConfigDict(extra="forbid")

    # No default address: a CPAS routed to this plugin must say where SPP IS is (a default would send
    # forms to whatever listens on a local port); the plugin host refuses a routed federal plugin
    # without it (PIIS_REQUIRED_WHEN_ROUTED).  Ledger-only uses (forms build/status) need none.
    # The simulator: http://127.0.0.1:8765/connectors/webservice/KSZBCSSWebServiceConnectorPort
    endpoint: str | None = None
    user_id: str = "00000000097"
    email: str = "it@cpas.invalid"
    mode: str = "batch"  # batch | online
    batch_size: int = 1000
    connect_timeout: float = 5.0
    operation_timeout: float = 30.0
    retries: int = 3
    cert_file: str | None = None
    key_file: str | None = None
    ca_bundle: str | None = None
    basic_auth_user: str | None = None
    basic_auth_password: str | None = None
    wsse_key_file: str | None = None
    wsse_cert_file: str | None = None
    database_url: str | None = None
    integration_purpose: int = (
        2  # BCSS quality code of sector 17: 2 = revenu d'intégration (federal.md 5.1)
    )
    integration_chunk: int = 1000  # ManageAccess requests per SSDN message


#: What :func:`_outcome_of_entry` reads of a ledger entry.
_OUTCOME_COLUMNS = (
    "key",
    "kind",
    "status",
    "ticket",
    "reference",
    "percentage",
    "accepted_amount",
    "errors",
)
#: What sending reads of a ledger entry (:meth:`FederalService.send_keys` and ``_send_entries``).
_SEND_COLUMNS = ("key", "kind", "status", "ticket", "dossier", "niss", "xml", "payload_hash")


def _outcome_of_entry(entry: Any) -> SubmissionOutcome:
    """What the ledger says of one form, as the hooks return it (PENDING while not answered)."""
    status = FormStatus(entry.status)
    evaluation = {
        FormStatus.ACCEPTED: Evaluation.ACCEPTED,
        FormStatus.REFUSED: Evaluation.REFUSED,
        FormStatus.PARTIALLY_ACCEPTED: Evaluation.PARTIALLYACCEPTED,
        FormStatus.BLOCKED: Evaluation.BLOCKED,
    }.get(status, Evaluation.PENDING)
    return SubmissionOutcome(
        client_reference=entry.key,
        kind=FormKind(entry.kind),
        status=status,
        evaluation=evaluation,
        ticket=entry.ticket,
        reference=entry.reference,
        percentage=entry.percentage,
        accepted_amount=entry.accepted_amount,
        issues=[FormIssue(**e) for e in (entry.errors or [])],
    )


def _aware(moment: datetime | None) -> datetime:
    """A stored timestamp as an aware UTC datetime (SQLite hands them back naive)."""
    if moment is None:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _forms_interact(forms: Sequence[FederalForm]) -> bool:
    """True when recording one form of the chunk could change how another is recorded: two different forms B
    for the same person and period (the second is decided against the first: correction or not).  The same
    form twice does not: the second is the first's ledger entry."""
    seen: dict[tuple[str, str], tuple[str, str | None]] = {}
    for form in forms:
        if form.kind is FormKind.B:
            slot, what = (form.niss, form.period_key), (form.content_hash(), form.client_reference)
            if seen.setdefault(slot, what) != what:
                return True
    return False


def outcome_from_result(result: Any, kind: str, ticket: str | None = None) -> SubmissionOutcome:
    evaluation = Evaluation(result.evaluation)
    status = {
        Evaluation.ACCEPTED: FormStatus.ACCEPTED,
        Evaluation.REFUSED: FormStatus.REFUSED,
        Evaluation.PARTIALLYACCEPTED: FormStatus.PARTIALLY_ACCEPTED,
        Evaluation.BLOCKED: FormStatus.BLOCKED,
    }[evaluation]
    received = None
    if result.received_at:
        try:
            received = datetime.fromisoformat(result.received_at)
        except ValueError:
            received = None
    issues = [
        FormIssue(
            code=e.code,
            severity=e.severity,
            field=e.field,
            rubric=rubric_label(kind, e.field),
            message=e.description,
        )
        for e in result.errors
        if e.code != "GEN004"
    ]
    return SubmissionOutcome(
        client_reference=result.client_reference,
        kind=FormKind(kind),
        status=status,
        evaluation=evaluation,
        ticket=ticket,
        reference=result.reference_spp,
        attestation_id=result.unique_attest_id,
        percentage=result.percentage,
        accepted_amount=result.accepted_amount,
        received_at=received,
        issues=issues,
    )


@dataclass
class Prepared:
    form: FederalForm
    xml: bytes
    issues: list[FormIssue] = field(default_factory=list)
    element: Any = None


class FederalService:
    def __init__(self, cpas: Any, ledger: Ledger, client: Any | None = None) -> None:
        self.cpas = cpas
        self.cpas_id: str = cpas.cpas_id
        self.settings = FederalSettings(**(cpas.settings or {}))
        self.ledger = ledger
        self._client = client
        self._own_clients = (
            client is None
        )  # the stream may then send on a thread with a client of its own

    def close(self) -> None:
        """Release what the service holds open: its own federal client's HTTP connections and its
        ledger's connection pool (a client handed in stays the caller's)."""
        if self._own_clients and self._client is not None:
            self._client.close()
            self._client = None
        self.ledger.close()

    # ------------------------------------------------------------------ connector
    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self) -> Any:
        """A zeep client on this CPAS's settings (one per thread: zeep's thread safety is undocumented)."""
        from piis_connectors.federal.client import ClientConfig, FederalClient, make_signature
        from piis_connectors.federal.envelope import AuthorizedUser

        s = self.settings
        if not s.endpoint:
            from piis_bridge.config import ConfigError

            raise ConfigError(
                f"cpas.{self.cpas_id}.plugins.federal.endpoint is not set: nothing is sent to SPP IS "
                "without the endpoint of the federal service (or of its simulator)"
            )
        wsse = (
            make_signature(s.wsse_key_file, s.wsse_cert_file)
            if s.wsse_key_file and s.wsse_cert_file
            else None
        )
        return FederalClient(
            ClientConfig(
                endpoint=s.endpoint,
                user=AuthorizedUser(s.user_id, s.email, str(self.cpas.bce)),
                connect_timeout=s.connect_timeout,
                operation_timeout=s.operation_timeout,
                retries=s.retries,
                cert=(s.cert_file, s.key_file) if s.cert_file and s.key_file else None,
                verify=s.ca_bundle or True,
                basic_auth=(s.basic_auth_user, s.basic_auth_password or "")
                if s.basic_auth_user
                else None,
                wsse=wsse,
            )
        )

    # ------------------------------------------------------------------ preparing
    def prepare(self, form: FederalForm, live: Any = _LOOKUP, *, validate: bool = True) -> Prepared:
        """Decide key/version against the ledger, serialise, validate.

        ``live`` is the ledger's live B for the same (NISS, EntryDate) when the caller already looked it up
        (bulk path); by default it is queried here.  ``validate=False``: the caller validates (a whole chunk
        in one pass)."""
        if (
            form.kind is FormKind.D
            and form.sequence_number is None
            and form.recovery_month is not None
        ):
            form = form.model_copy(
                update={
                    "sequence_number": self.ledger.next_sequence(
                        self.cpas_id, form.dossier, form.recovery_month
                    )
                }
            )
        if form.kind is FormKind.B and not form.supersedes:
            if live is _LOOKUP:
                live = self.ledger.latest(self.cpas_id, FormKind.B, form.niss, form.period_key)
            if (
                live is not None
                and live.key != form.client_reference
                and live.content_hash != form.content_hash()
            ):
                if live.status in _LIVE or live.status == FormStatus.SENT.value:
                    # same EntryDate, other data: a correction (statut de l'avis 1) replacing it entirely
                    form = form.model_copy(update={"correction": True, "supersedes": live.key})
                elif live.status == FormStatus.REFUSED.value:
                    form = form.model_copy(update={"supersedes": live.key})
        form = form.with_key()
        xml = to_xml(form)
        if not validate:  # the caller parses and validates the whole chunk (_prepare_chunk)
            return Prepared(form, xml)
        element = etree.fromstring(xml)
        return Prepared(form, xml, validate_form(form, element), element)

    def record(self, forms: Iterable[FederalForm]) -> list[SubmissionOutcome]:
        """Build step: record every form (built); an invalid one is refused locally and never leaves.

        Chunk by chunk in bulk (one parse and XSD pass, one ledger insert, one read of the outcomes) when no
        form of the chunk can change how another is recorded; otherwise (two forms B for the same person and
        EntryDate, or a form refused locally, which later forms see in the ledger) that chunk goes form by
        form, in order, exactly as before."""
        outcomes: list[SubmissionOutcome] = []
        for keys, each in self._record_chunks(forms):
            outcomes.extend(each if each is not None else self._outcomes_of(keys))
        return outcomes

    def _record_chunks(
        self, forms: Iterable[FederalForm]
    ) -> Iterator[tuple[list[str], list[SubmissionOutcome] | None]]:
        """Record chunk by chunk (see :meth:`record`): the keys of each chunk, with their outcomes when the
        chunk went form by form (None: recorded in bulk, outcomes not read)."""
        for part in chunks(forms, max(1, self.settings.batch_size)):
            if _forms_interact(part):
                each = self._record_each(part)
                yield [o.client_reference for o in each], each
                continue
            prepared = self._prepare_chunk(part)
            if any(p.issues for p in prepared):
                each = self._record_each(part)  # nothing was written: the same forms, one by one
                yield [o.client_reference for o in each], each
                continue
            self.ledger.record_new([(p.form, p.xml) for p in prepared])
            yield [p.form.key for p in prepared], None

    def _record_each(self, forms: Iterable[FederalForm]) -> list[SubmissionOutcome]:
        outcomes = []
        for form in forms:
            prepared = self.prepare(form)
            entry, created = self.ledger.record(prepared.form, prepared.xml)
            if prepared.issues and created:
                outcome = SubmissionOutcome(
                    client_reference=entry.key,
                    kind=prepared.form.kind,
                    status=FormStatus.REFUSED,
                    evaluation=Evaluation.REFUSED,
                    issues=prepared.issues,
                )
                self.ledger.apply([outcome])
                for issue in prepared.issues:
                    _log.warning(
                        "form refused locally",
                        key=entry.key,
                        rubric=issue.rubric,
                        field=issue.field,
                    )
                outcomes.append(outcome)
            else:
                outcomes.append(self._outcome_of(entry.key))
        return outcomes

    def record_stream(self, forms: Iterable[FederalForm], chunk: int = 1000) -> dict[str, int]:
        """Bulk build step for large volumes: one ledger query and one insert per chunk, bounded memory."""
        counts = {"recorded": 0, "refused": 0, "known": 0}
        for part in chunks(forms, chunk):
            good = []
            for prepared in self._prepare_chunk(part):
                if prepared.issues:
                    self.record([prepared.form])
                    counts["refused"] += 1
                else:
                    good.append((prepared.form, prepared.xml))
            created = len(self.ledger.record_new(good))
            counts["recorded"] += created
            counts["known"] += len(good) - created
        return counts

    def _outcomes_of(self, keys: Sequence[str]) -> list[SubmissionOutcome]:
        """The outcome of each key, in order, read in one query per 900 keys."""
        from sqlalchemy import select

        from piis_bridge.ledger import FormEntry

        entries: dict[str, Any] = {}
        unique = list(dict.fromkeys(keys))
        # The columns an outcome needs, as rows: not whole entries (their NISS, payload and XML
        # decrypted, an ORM instance each) for what is read after every record and every send.
        columns = select(*(getattr(FormEntry, c) for c in _OUTCOME_COLUMNS))
        with self.ledger.sessions() as s:
            for i in range(0, len(unique), 900):
                entries.update(
                    (e.key, e)
                    for e in s.execute(columns.where(FormEntry.key.in_(unique[i : i + 900])))
                )
        return [_outcome_of_entry(entries[key]) for key in keys]

    def _outcome_of(self, key: str) -> SubmissionOutcome:
        return _outcome_of_entry(self.ledger.get(key))

    # ------------------------------------------------------------------ sending
    def submit(
        self, forms: Sequence[FederalForm], mode: str | None = None
    ) -> list[SubmissionOutcome]:
        """Record then send exactly these forms; returns one outcome per form, in order (PENDING with a
        ticket in batch mode).

        Never another form of the CPAS: the pipeline hands each task the forms *it* claimed, and a second
        task sending "every built form" is how forms reached the federal service twice (issue #12)."""
        mode = mode or self.settings.mode
        keys: list[str] = []
        known: dict[str, SubmissionOutcome] = {}  # outcomes known without reading the ledger back
        handled: set[str] = set()  # recorded and sent (or held back) here: not sent again below
        for part in chunks(forms, max(1, self.settings.batch_size)):
            if mode == "batch" and not _forms_interact(part):
                prepared = self._prepare_chunk(part)
                if not any(p.issues for p in prepared):
                    keys.extend(p.form.key for p in prepared)
                    outcomes, done = self._record_and_send(prepared)
                    known.update(outcomes)
                    handled |= done
                    continue
                # nothing was written: the same forms, one by one (as _record_chunks does)
                keys.extend(o.client_reference for o in self._record_each(part))
                continue
            keys.extend(key for each, _ in self._record_chunks(part) for key in each)
        to_send = [k for k in keys if k not in known and k not in handled]
        if to_send:
            self.send_keys(to_send, mode=mode)
        rest = [k for k in keys if k not in known]
        if rest:
            # The outcomes are read once, after sending (reading them after recording too cost a
            # third of the ledger reads of a submit, for keys only).
            known.update(zip(rest, self._outcomes_of(rest), strict=True))
        return [known[k] for k in keys]

    def _record_and_send(
        self, prepared: list[Prepared]
    ) -> tuple[dict[str, SubmissionOutcome], set[str]]:
        """Batch mode, one chunk of valid forms that do not interact: the forms new to the ledger are
        recorded *sent* and sent in one batch; returns the outcome (PENDING, with the ticket) of each
        form sent here, and the keys this call recorded (sent, or held back *built* because their
        NISS could not be integrated just now: not tried again in the same call).  The forms
        already recorded (an earlier attempt) are left to :meth:`send_keys`.

        Why: recorded *built*, read back (NISS and XML, decrypted), parsed again, moved *built ->
        sent* and read once more for the outcomes, every form cost the ledger two more statements and
        a full new version of its row (payload and XML included) besides the insert.  The guarantee
        is the same as :meth:`submit_stream`'s: the NISS are integrated first, then the forms are
        recorded in one write, *sent* only when they leave right after it, and only the forms this
        insert created are sent (a key already in the ledger, whoever recorded it, is not sent here:
        the unique key makes a concurrent insert of the same form fail, never send it twice).  A
        crash after that write leaves the forms *sent* without a ticket, which the next attempt
        resolves by asking their status (:meth:`send_keys`), never by sending them blindly.  The
        elements sent are the ones just validated, parsed from the exact bytes recorded and hashed."""
        unknown = self.ledger.unknown_keys(p.form.key for p in prepared)
        candidates = list({p.form.key: p for p in prepared if p.form.key in unknown}.values())
        if not candidates:
            return {}, set()
        needs = _needs((p.form.niss, p.element) for p in candidates)
        integrated = self.ensure_integrated(needs)
        ready = {
            p.form.key for p in candidates if p.form.niss in integrated or p.form.niss not in needs
        }
        fresh = set(
            self.ledger.record_new(
                [(p.form, p.xml) for p in candidates], sent=ready, known=frozenset()
            )
        )
        to_send = [p for p in candidates if p.form.key in fresh and p.form.key in ready]
        if not to_send:
            return {}, fresh
        ticket = self._send_prepared(to_send, marked=True)
        if not ticket:  # the outcome is unknown (asked already): the ledger says what it is now
            return {}, fresh
        return {
            p.form.key: SubmissionOutcome(
                client_reference=p.form.key,
                kind=p.form.kind,
                status=FormStatus.SENT,
                evaluation=Evaluation.PENDING,
                ticket=ticket,
            )
            for p in to_send
        }, fresh

    def send_keys(self, keys: Sequence[str], mode: str | None = None) -> int:
        """Send the recorded forms *keys* that are still to send; returns how many left now.

        A form already *sent* without a ticket (an earlier attempt under the same key whose outcome was
        never learnt: a crash, a timeout) is asked first (status): answered -> its answer; unknown at the
        federal side -> back to *built* and sent again under the same key; pending -> left to collect.
        Answered forms are not touched.  Each form is moved *built -> sent* by one conditional update
        before the call, and only the process that moved it sends it."""
        mode = mode or self.settings.mode
        unique = list(dict.fromkeys(keys))
        entries = self._entries(unique, _SEND_COLUMNS)
        unsure = [
            k
            for k in unique
            if k in entries and entries[k].status == FormStatus.SENT.value and not entries[k].ticket
        ]
        if unsure:
            self.resolve_unknown(keys=unsure, others=True)
            entries = self._entries(unique, _SEND_COLUMNS)
        built = [
            entries[k]
            for k in unique
            if k in entries and entries[k].status == FormStatus.BUILT.value
        ]
        sent = 0
        for part in chunks(built, max(1, self.settings.batch_size)):
            sent += self._send_entries(part, mode)
        return sent

    def _entries(self, keys: Sequence[str], columns: Sequence[str] | None = None) -> dict[str, Any]:
        """The ledger entries of *keys*; with *columns*, rows of those columns only (no ORM instance,
        nothing else decrypted)."""
        from sqlalchemy import select

        from piis_bridge.ledger import FormEntry

        stmt = (
            select(FormEntry)
            if columns is None
            else select(*(getattr(FormEntry, c) for c in columns))
        )
        out: dict[str, Any] = {}
        with self.ledger.sessions() as s:
            for i in range(0, len(keys), 900):
                part = stmt.where(FormEntry.key.in_(keys[i : i + 900]))
                out.update(
                    (e.key, e) for e in (s.scalars(part) if columns is None else s.execute(part))
                )
        return out

    def _send_entries(self, entries: list[Any], mode: str) -> int:
        """Integrate the NISS of these *built* forms, then send those ready (online: one dossier form at a
        time; a form whose NISS could not be integrated stays *built*)."""
        busy = self.ledger.pending_dossiers(self.cpas_id) if mode == "online" else set()
        ready = [e for e in entries if e.dossier not in busy]
        if not ready:
            return 0
        elements = dict(zip((e.key for e in ready), self._elements_of(ready), strict=False))
        needs = _needs((e.niss, elements[e.key]) for e in ready)
        integrated = self.ensure_integrated(needs)
        ready = [e for e in ready if e.niss in integrated or e.niss not in needs]
        sent = 0
        if mode == "online":
            for entry in ready:
                sent += self._send_online(entry, elements[entry.key])
        elif ready:
            sent += self._send_batch(ready, [elements[e.key] for e in ready])
        return sent

    def send_built(self, mode: str | None = None, limit: int | None = None) -> int:
        """Send every *built* form of this CPAS (oldest first), one dossier form at a time: the operator's
        ``forms submit`` (never the pipeline, which sends what each task claimed: :meth:`submit`).

        The NISS of each chunk are integrated first (ManageAccess REGISTER, once per CPAS and NISS); a form
        whose NISS could not be integrated stays *built* for a later run.  Forms another process moves to
        *sent* meanwhile are not sent here (the conditional ``built -> sent``)."""
        mode = mode or self.settings.mode
        self.resolve_unknown()
        sent = 0
        for chunk in self.ledger.iter_with_status(
            self.cpas_id, FormStatus.BUILT, chunk=self.settings.batch_size
        ):
            done = self._send_entries(chunk, mode)
            if not done:
                break
            sent += done
            if limit and sent >= limit:
                break
        return sent

    def _elements_of(self, entries: Sequence[Any]) -> list[etree._Element]:
        """The recorded bytes of several forms, each checked against its hash, parsed in one pass."""
        from piis_connectors.federal import dis

        for entry in entries:
            if payload_hash(entry.xml) != entry.payload_hash:
                raise RuntimeError(f"payload of form {entry.key} changed since it was recorded")
        try:
            return list(dis.parse_forms(entry.xml.encode() for entry in entries))
        except etree.XMLSyntaxError:  # e.g. a row written by another version: one by one
            return [self._xml_of(entry) for entry in entries]

    def _xml_of(self, entry: Any) -> etree._Element:
        """The exact bytes recorded (and hashed) at build time: what is sent is what was validated."""
        if payload_hash(entry.xml) != entry.payload_hash:
            raise RuntimeError(f"payload of form {entry.key} changed since it was recorded")
        return etree.fromstring(entry.xml.encode())

    def _send_online(self, entry: Any, element: etree._Element | None = None) -> int:
        from piis_connectors.federal.client import OutcomeUnknown, TransientError

        element = self._xml_of(entry) if element is None else element
        if not self.ledger.mark_sent([entry.key], claim=True):
            return 0  # another process moved it to sent first: it sends it, not this one
        try:
            results = self.client.submit_online(entry.kind, [element])
        except OutcomeUnknown as exc:
            _log.warning(
                "outcome unknown after sending, will ask the status", key=entry.key, reason=str(exc)
            )
            self.resolve_unknown(keys=[entry.key])
            return 1
        except TransientError:
            self.ledger.transition(
                entry.key, FormStatus.BUILT
            )  # certainly not received: may be sent again
            raise
        self._apply([outcome_from_result(r, entry.kind) for r in results])
        return 1

    def _send_batch(self, entries: list[Any], elements: list[etree._Element] | None = None) -> int:
        from piis_connectors.federal.client import OutcomeUnknown, TransientError

        elements = [self._xml_of(e) for e in entries] if elements is None else elements
        won = set(self.ledger.mark_sent([e.key for e in entries], claim=True))
        pairs = [
            (e, el) for e, el in zip(entries, elements, strict=False) if e.key in won
        ]  # only what this process moved
        if not pairs:
            return 0
        keys = [e.key for e, _ in pairs]
        try:
            ticket = self.client.submit_batch([el for _, el in pairs])
        except OutcomeUnknown as exc:
            _log.warning(
                "batch outcome unknown, will ask the status", forms=len(keys), reason=str(exc)
            )
            self.resolve_unknown(keys=keys)
            return len(keys)
        except TransientError:
            for key in keys:
                self.ledger.transition(key, FormStatus.BUILT)
            raise
        self.ledger.set_ticket(keys, ticket)
        return len(keys)

    # ------------------------------------------------------------------ NISS integration
    def ensure_integrated(self, needs: dict[str, date]) -> set[str]:
        """Integrate each NISS in the CPAS's BCSS repertoire (OCMWCPASManageAccess REGISTER, quality code
        ``integration_purpose``, open period from the earliest day a form needs) before its first form;
        returns the NISS ready for forms.

        Why here and recorded: the BCSS refuses every form for a NISS not integrated (-300020, federal.md
        5.1 / 10.5.1), and a REGISTER is a side effect.  The ledger row is written *pending* before the call
        and *done* once the BCSS confirmed it, so a NISS is integrated once per CPAS; a REGISTER whose outcome
        was never learnt (timeout, crash) is checked with LIST before anything is registered again; an
        "already integrated" answer (or any refusal while LIST shows the integration) counts as done.  The new
        NISS of a batch go in one SSDN message (one ServiceRequest each)."""
        if not needs:
            return set()
        from piis_connectors.federal.client import OutcomeUnknown, PermanentError

        purpose = self.settings.integration_purpose
        known = self.ledger.integrations(self.cpas_id, needs)
        ready = {
            n for n, (status, start) in known.items() if status == "done" and start <= needs[n]
        }
        starts = {
            n: min(d, known[n][1]) if n in known else d for n, d in needs.items() if n not in ready
        }
        if not starts:
            return ready
        unsure = {n: d for n, d in starts.items() if known.get(n, ("",))[0] == "pending"}
        if unsure:  # a REGISTER of an earlier run may or may not have happened: ask first
            ready |= self._confirm_integrated(unsure)
        register = {n: d for n, d in starts.items() if n not in ready}
        items = list(register.items())
        size = max(1, self.settings.integration_chunk)
        for i in range(0, len(items), size):
            part = dict(items[i : i + size])
            self.ledger.integration_pending(
                self.cpas_id, part, purpose, known=[n for n in part if n in known]
            )
            try:
                answers = self.client.manage_access_many("REGISTER", part, purpose)
            except OutcomeUnknown as exc:
                _log.warning(
                    "NISS integration outcome unknown, asking the BCSS",
                    nisses=len(part),
                    reason=str(exc),
                )
                ready |= self._confirm_integrated(part)
                continue
            except PermanentError as exc:
                _log.warning(
                    "NISS integration refused; their forms wait", nisses=len(part), reason=str(exc)
                )
                continue
            done = {n: d for n, d in part.items() if n in answers and answers[n].covers(d, purpose)}
            self.ledger.integration_done(self.cpas_id, done)
            ready |= done.keys()
            unclear = {n: d for n, d in part.items() if n not in done}
            if unclear:  # e.g. refused as already integrated: the repertoire says whether it is
                codes = sorted({c for n in unclear if n in answers for c in answers[n].codes})
                _log.info(
                    "NISS integration not confirmed by REGISTER, asking with LIST",
                    nisses=len(unclear),
                    codes=",".join(codes),
                )
                confirmed = self._confirm_integrated(unclear)
                ready |= confirmed
                if len(confirmed) < len(unclear):
                    _log.warning(
                        "NISS not integrated; their forms wait",
                        nisses=len(unclear) - len(confirmed),
                        codes=",".join(codes),
                    )
        return ready

    def _confirm_integrated(self, starts: dict[str, date]) -> set[str]:
        """LIST (read-only): the NISS whose integration covers the day needed are recorded *done*."""
        from piis_connectors.federal.client import FederalError

        purpose = self.settings.integration_purpose
        try:
            answers = self.client.manage_access_many("LIST", starts, purpose)
        except FederalError as exc:
            _log.warning(
                "NISS integration status unavailable; their forms wait",
                nisses=len(starts),
                reason=str(exc),
            )
            return set()
        done = {n: d for n, d in starts.items() if n in answers and answers[n].covers(d, purpose)}
        self.ledger.integration_done(self.cpas_id, done)
        return set(done)

    def _apply(self, outcomes: list[SubmissionOutcome]) -> int:
        """Store answers; a form refused as "NISS not integrated" (-300020: unregistered meanwhile) makes the
        next form of that NISS integrate again."""
        applied = self.ledger.apply(outcomes)
        lost = [o.client_reference for o in outcomes if any(i.code == "-300020" for i in o.issues)]
        if lost:
            self.ledger.integration_forget(self.cpas_id, lost)
        return applied

    def resolve_unknown(
        self, client: Any | None = None, *, keys: Sequence[str] | None = None, others: bool = False
    ) -> int:
        """Forms *sent* without a ticket (unknown outcome): ask the status; only UNKNOWN ones may be resent.

        ``keys``: only these forms (the pipeline's path: a task never touches forms another task may be
        sending right now; without ``keys`` every such form of the CPAS, for the operator's commands).
        ``others``: the forms may have been marked sent by another process whose call may still be under
        way; an UNKNOWN one marked less than the longest possible call ago (connect + operation timeout
        per attempt) stays *sent* and is asked again later, never resent while it may be in flight."""
        client = client or self.client
        resolved = 0
        in_flight_after = None
        if others:
            st = self.settings
            window = st.connect_timeout + st.operation_timeout * (max(0, st.retries) + 1)
            in_flight_after = datetime.now(UTC) - timedelta(seconds=window)
        if keys is not None:
            found = self._entries(list(keys))
            todo_chunks: Iterable[list[Any]] = chunks(
                [e for e in found.values() if e.status == FormStatus.SENT.value and not e.ticket],
                1000,
            )
        else:
            todo_chunks = self.ledger.iter_with_status(
                self.cpas_id, FormStatus.SENT, chunk=1000, without_ticket=True
            )
        for chunk in todo_chunks:
            todo = list(chunk)
            if not todo:
                continue
            states = client.status([e.key for e in todo])
            answers = []
            for e in todo:
                state, result = states.get(e.key, ("UNKNOWN", None))
                if state == "PROCESSED" and result is not None:
                    answers.append(outcome_from_result(result, e.kind))
                elif state == "UNKNOWN":
                    if in_flight_after is not None and _aware(e.sent_at) > in_flight_after:
                        continue  # may still be on its way (another process's call): asked again later
                    self.ledger.transition(
                        e.key, FormStatus.BUILT
                    )  # never arrived: safe to send again
                resolved += 1
            self._apply(answers)
        return resolved

    def submit_stream(
        self, forms: Iterable[FederalForm], *, results_wait: float = 600.0
    ) -> dict[str, int]:
        """Large volumes in batch mode, streamed: record a chunk, send it, collect the answers of earlier
        chunks as they become ready.  Building, the federal evaluation and the answers overlap; memory is
        bounded by one chunk whatever the number of forms.

        Sending and collecting run on a thread of their own (with a zeep client of its own), in order, so that
        waiting for the federal side overlaps with building and integrating the next chunk.  The next chunk is
        recorded *sent* only once the previous one was acknowledged: a send that fails stops the stream before
        anything else is marked sent, as when everything ran on one thread."""
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        size = self.settings.batch_size
        counts = {"recorded": 0, "refused": 0, "known": 0, "sent": 0, "answered": 0, "held": 0}
        open_tickets: deque[str] = deque()
        threaded = self._own_clients
        sender_client = self._new_client() if threaded else self.client
        pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="federal-stream")
            if threaded
            else None
        )
        last_send: Future[None] | None = None
        collecting: list[Future[None]] = []

        def collect(block: bool) -> None:
            while open_tickets:
                ticket = open_tickets[0]
                if block:
                    results = sender_client.wait_batch(ticket, timeout=results_wait)
                else:
                    status, results = sender_client.batch_result(ticket)
                    if status != "DONE":
                        return
                self._apply([outcome_from_result(r, r.form_type, ticket) for r in results])
                counts["answered"] += len(results)
                open_tickets.popleft()

        def send(items: list[Prepared]) -> None:
            # the elements just validated and recorded (hash of these exact bytes) are what is sent
            ticket = self._send_prepared(
                items, marked=True, record_ticket=False, client=sender_client
            )
            counts["sent"] += len(items)
            if ticket:
                open_tickets.append(ticket)

        def run(task: Any, *args: Any) -> Future[None]:
            if pool is None:
                done: Future[None] = Future()
                task(*args)
                done.set_result(None)
                return done
            return pool.submit(task, *args)

        def settled() -> None:
            """Raise the error of a send or collect that failed on the stream's thread."""
            for future in [f for f in collecting if f.done()]:
                collecting.remove(future)
                future.result()

        try:
            self.resolve_unknown()
            self.send_built(mode="batch")  # leftovers of an earlier run first, in order
            for part in chunks(forms, size):
                settled()
                prepared = self._prepare_chunk(part)
                good = [p for p in prepared if not p.issues]
                for p in prepared:
                    if p.issues:
                        self.record([p.form])
                        counts["refused"] += 1
                # the NISS of the forms new to the ledger are integrated first; the forms are then recorded in one
                # write: *sent* when they leave right after it, *built* when their NISS could not be integrated
                unknown = self.ledger.unknown_keys(p.form.key for p in good)
                candidates = list(
                    {
                        p.form.client_reference: p
                        for p in good
                        if p.form.client_reference in unknown
                    }.values()
                )
                ready_keys: set[str] = set()
                if candidates:
                    needs = _needs((p.form.niss, p.element) for p in candidates)
                    integrated = self.ensure_integrated(needs)
                    ready_keys = {
                        p.form.key
                        for p in candidates
                        if p.form.niss in integrated or p.form.niss not in needs
                    }
                if last_send is not None:
                    last_send.result()  # the previous chunk was acknowledged (or its failure stops the stream here)
                fresh = set(
                    self.ledger.record_new([(p.form, p.xml) for p in good], sent=ready_keys)
                )
                counts["recorded"] += len(fresh)
                counts["known"] += len(good) - len(fresh)
                counts["held"] += len(
                    fresh - ready_keys
                )  # stay *built*: sent by a later run once integrated
                to_send = [
                    p
                    for p in candidates
                    if p.form.client_reference in fresh and p.form.client_reference in ready_keys
                ]
                if to_send:
                    last_send = run(send, to_send)
                collecting.append(run(collect, False))
            if last_send is not None:
                last_send.result()
            final = run(collect, True)
            final.result()
            for future in collecting:
                future.result()
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            if threaded:
                sender_client.close()
        return counts

    def _prepare_chunk(self, part: list[FederalForm]) -> list[Prepared]:
        from piis_bridge.ledger import niss_hash

        # the ledger is looked up by the NISS's keyed hash (the NISS is stored encrypted only)
        hashes = {niss_hash(f.niss): f.niss for f in part if f.kind is FormKind.B}
        live: dict[tuple[str, str], Any] = {}
        for e in self.ledger.live_by_hash(self.cpas_id, "B", list(hashes)):
            live[(hashes[e.niss_hash], e.period_key)] = e
        out = []
        next_seq: dict[tuple[str, Any], int] = {}
        for f in part:
            if f.kind is FormKind.D and f.sequence_number is None and f.recovery_month is not None:
                slot = (
                    f.dossier,
                    f.recovery_month,
                )  # several D of one dossier and month in one chunk: 1, 2, 3...
                if slot not in next_seq:
                    next_seq[slot] = self.ledger.next_sequence(
                        self.cpas_id, f.dossier, f.recovery_month
                    )
                f = f.model_copy(update={"sequence_number": next_seq[slot]})
                next_seq[slot] += 1
            out.append(
                self.prepare(
                    f,
                    live.get((f.niss, f.period_key)) if f.kind is FormKind.B else None,
                    validate=False,
                )
            )
        _validate_chunk(out)
        return out

    def _send_prepared(
        self,
        items: list[Prepared],
        *,
        marked: bool = False,
        record_ticket: bool = True,
        client: Any | None = None,
    ) -> str | None:
        """``marked``: the forms were recorded *sent* already (``record_new(sent=...)``).  ``record_ticket=False``
        (the stream, which collects the answers itself): the ticket reaches the ledger with the answers, one
        write per form less; should the process die before, the forms are *sent* without a ticket, which
        the next run resolves by asking their status (never by sending them again)."""
        from piis_connectors.federal.client import OutcomeUnknown, TransientError

        client = client or self.client
        keys = [p.form.key for p in items]
        if not marked:
            won = set(self.ledger.mark_sent(keys, claim=True))
            items = [p for p in items if p.form.client_reference in won]
            keys = [p.form.key for p in items]
            if not items:
                return None
        try:
            ticket = client.submit_batch([p.element for p in items])
        except OutcomeUnknown as exc:
            _log.warning(
                "batch outcome unknown, will ask the status", forms=len(keys), reason=str(exc)
            )
            self.resolve_unknown(client, keys=keys)
            return None
        except TransientError:
            for key in keys:
                self.ledger.transition(key, FormStatus.BUILT)
            raise
        if record_ticket:
            self.ledger.set_ticket(keys, ticket)
        return ticket

    def fetch_results(
        self, tickets: Sequence[str] | None = None, *, wait: float = 0.0, collect: bool = True
    ) -> list[SubmissionOutcome]:
        """Batch results by ticket (all open tickets of this CPAS when none are given).

        ``collect=False`` writes the answers to the ledger without returning them (bounded memory for
        large volumes: the ledger is the record)."""
        if tickets is None:
            tickets = sorted(
                {
                    e.ticket
                    for chunk in self.ledger.iter_with_status(self.cpas_id, FormStatus.SENT)
                    for e in chunk
                    if e.ticket
                }
            )
        outcomes: list[SubmissionOutcome] = []
        # The answers of several tickets go to the ledger in one write (a collect task asks for up to ten
        # tickets of 100 forms: one transaction instead of ten); at most ~1,000 at a time, so memory stays
        # bounded with collect=False.  What was fetched is stored even when a later ticket fails.
        unapplied: list[SubmissionOutcome] = []
        try:
            for ticket in tickets:
                if wait:
                    results = self.client.wait_batch(ticket, timeout=wait)
                else:
                    status, results = self.client.batch_result(ticket)
                    if status != "DONE":
                        continue
                batch = [outcome_from_result(r, r.form_type, ticket) for r in results]
                unapplied.extend(batch)
                if collect:
                    outcomes.extend(batch)
                if len(unapplied) >= _APPLY_AT_MOST:
                    todo, unapplied = unapplied, []
                    self._apply(todo)
        finally:
            if unapplied:
                self._apply(unapplied)
        return outcomes

    # ------------------------------------------------------------------ National Register notices
    def notices(self, cursor: str | None, page_size: int) -> Any:
        """One page of the National Register notices of persons this CPAS integrated (``SIM.NR.Notices``),
        resuming after ``cursor`` (the last notice id of the previous page: the federal feed only grows at
        its end).  A move names the new municipality (R-TRF-01 hand-over); a replaced NISS names the new
        one.  A notice the types refuse is reported by its notice id, never by its NISS."""
        from pydantic import ValidationError

        from piis_bridge.hooks.types import NoticePage, RecordProblem, RegisterNotice

        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        if cursor is not None and not cursor.isdigit():
            raise ValueError("notice cursor must be the id of the last notice read (digits only)")
        page = self.client.notices(cursor, min(page_size, 1000))
        notices, problems = [], []
        for n in page.notices:
            try:
                notices.append(
                    RegisterNotice(
                        reference=f"NR-{self.cpas.bce}-{n.notice_id}",
                        niss=n.ssin,
                        kind=_NOTICE_KINDS[n.kind],
                        effective_date=date.fromisoformat(n.effective_date),
                        new_ins_code=n.new_ins_code if n.kind == "move" else None,
                        new_municipality=n.new_municipality if n.kind == "move" else None,
                        replaced_by=n.new_ssin if n.kind == "replaced" else None,
                    )
                )
            except (KeyError, ValueError, ValidationError) as exc:
                # Reported, not raised: one unusable notice must not stop the feed every night.
                if isinstance(exc, ValidationError):
                    err = exc.errors(include_input=False)[0]
                    where, what = ".".join(str(p) for p in err["loc"]), err["msg"]
                else:
                    where, what = (
                        "kind",
                        f"unknown notice kind {n.kind!r}"
                        if isinstance(exc, KeyError)
                        else str(exc),
                    )
                problems.append(
                    RecordProblem(
                        record_id=f"NR-{self.cpas.bce}-{n.notice_id}",
                        field=where,
                        reason=f"National Register notice {n.notice_id} ({n.kind}) "
                        f"is not usable: {what}",
                    )
                )
        _log.info(
            "National Register notices read",
            notices=len(notices),
            unusable=len(problems),
            more=page.has_more,
        )
        return NoticePage(
            notices=notices, problems=problems, cursor=page.cursor or cursor, has_more=page.has_more
        )

    # ------------------------------------------------------------------ statement
    def statement(self, month: date) -> MonthlyStatement | None:
        st = self.client.statement(month.isoformat()[:7])
        if not st.available:
            return None
        return MonthlyStatement(
            cpas_bce=st.kbo,
            month=month.replace(day=1),
            lines=[
                StatementLine(
                    legislation=line.legislation,
                    ins_code=line.ins_code,
                    dossier=line.dossier,
                    niss=line.ssin,
                    reference=line.reference,
                    client_reference=line.client_reference or None,
                    amount_type=line.amount_type,
                    first_day=date.fromisoformat(line.first_day),
                    last_day=date.fromisoformat(line.last_day),
                    budget_article=line.budget_article,
                    sign=line.sign,
                    amount_cents=line.amount,
                    percentage=line.percentage,
                    category=line.category,
                )
                for line in st.lines
            ],
            notices=[
                StatementNotice(code=c, client_reference=ref, text=text)
                for c, ref, text in st.notices
            ],
        )


_DIS = "{urn:be:sim:spp-is:dis:v1}"
#: Answers stored per ledger write by :meth:`FederalService.fetch_results`.
_APPLY_AT_MOST = 1000
# the simulator's mutation kinds -> the core's NoticeKind
_NOTICE_KINDS: Mapping[str, NoticeKind] = MappingProxyType(
    {
        "move": "move",
        "death": "death",
        "emigration": "emigration",
        "replaced": "niss_replaced",
    }
)


def _validate_chunk(items: list[Prepared]) -> None:
    """One parse and one XSD pass for a whole chunk (the forms inside one ``DIS_DecisionRequest``, as they will travel);
    only when that fails is each form validated alone, so that every invalid form gets its own issues (with
    its rubric) and the valid ones of the chunk go on.  Same verdicts as validating form by form, at a
    fraction of the calls."""
    from piis_connectors.federal import dis, schemas

    if not items:
        return
    # the recorded bytes of every form, parsed in one pass: each form's element is what will be sent
    holder = dis.parse_forms(p.xml for p in items)
    for p, element in zip(items, holder, strict=False):
        p.element = element
    if not schemas.dis_schema().validate(holder):
        for p in items:
            p.issues = validate_form(p.form, p.element)


def _needs(items: Iterable[tuple[str, etree._Element]]) -> dict[str, date]:
    """NISS -> the earliest day its forms must be covered by the integration: the day the BCSS checks (the
    EntryDate of a B or C, the start of the recovered period of a D)."""
    needs: dict[str, date] = {}
    for niss, element in items:
        text = element.findtext(_DIS + "EntryDate") or element.findtext(_DIS + "PeriodStart")
        if not text:
            continue
        day = date.fromisoformat(text[:10])
        if niss not in needs or day < needs[niss]:
            needs[niss] = day
    return needs


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    buffer: list[Any] = []
    for item in items:
        buffer.append(item)
        if len(buffer) >= size:
            yield buffer
            buffer = []
    if buffer:
        yield buffer
