"""Conformance tests a federal plugin runs against itself (forms B/C/D to the federal service).

Why through :class:`~piis_bridge.hooks.manager.PluginHost`: the nightly run calls the federal hooks
that way, so the kit checks what the run relies on (federal.md 3 idempotency, issue #5 "nothing
submitted twice", local validation before sending) exactly as the run sees it.

Generic: the kit imports no connector.  A plugin author subclasses :class:`FederalPluginConformance`
and provides one fixture, ``federal_plugin``, returning a
:class:`~piis_bridge.testing.conformance.PluginUnderTest` whose ``harness`` (a
:class:`FederalHarness`) drives the remote service, usually the ``federal_simulator`` fixture of
``piis_connectors.federal.testing`` (see docs/plugins.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pytest

from piis_bridge.config import Settings
from piis_bridge.forms import (
    TERMINAL_STATUSES,
    FederalForm,
    FormStatus,
    SubmissionOutcome,
    event_for_contract,
)
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.hooks.types import NoticeKind, NoticePage, RegisterNotice
from piis_bridge.testing.conformance import TEST_CPAS, PluginUnderTest, cpas_settings, start_host

__all__ = ["FederalHarness", "FederalKit", "FederalPluginConformance", "NoticeHarness", "form_key"]


@runtime_checkable
class FederalHarness(Protocol):
    """What the kit needs from the remote federal service (or its simulator)."""

    def contract(self, index: int) -> Any:
        """A valid canonical contract of the test CPAS (distinct per ``index``) the remote accepts."""

    def break_form(self, form: FederalForm) -> FederalForm:
        """The same form changed so that it fails the plugin's local validation (e.g. an out-of-range rubric)."""

    def claims(self) -> int:
        """How many forms (claims) the remote service holds in total."""


@runtime_checkable
class NoticeHarness(Protocol):
    """Optional, for plugins that implement ``piis_federal_fetch_notices``: make the remote report National
    Register mutations.  Without it the kit only checks that the feed can be read and resumed."""

    def record_mutation(self, contract: Any, kind: str, on: date) -> None:
        """Have the remote record a mutation of the beneficiary of ``contract`` (one of :meth:`contract`'s)
        that it reports to the test CPAS: ``move`` (to another municipality), ``death``, ``emigration`` or
        ``niss_replaced`` (a new NISS)."""


def form_key(form: FederalForm) -> str:
    """The idempotency key a form travels with (its own, or the one derived from its content)."""
    return form.client_reference or form.derived_key()


@dataclass
class FederalKit:
    host: PluginHost
    put: PluginUnderTest

    @property
    def harness(self) -> FederalHarness:
        return self.put.harness  # type: ignore[return-value]

    def _failures(self) -> str:
        return "; ".join(
            f"{f.hook}: {f.error_type}: {f.message} (record {f.record_id})"
            for f in self.host.failures
        )

    def build(self, contract: Any, event: Any = None) -> list[FederalForm]:
        forms = self.host.federal_build_forms(
            self.put.cpas_id, contract, event or event_for_contract(contract)
        )
        if self.host.failures:
            pytest.fail(f"piis_federal_build_forms failed: {self._failures()}")
        others = [type(f).__name__ for f in forms if not isinstance(f, FederalForm)]
        if others:
            pytest.fail(f"piis_federal_build_forms must return FederalForm values, got {others}")
        return [f for f in forms if isinstance(f, FederalForm)]

    def submit(self, forms: list[FederalForm]) -> list[SubmissionOutcome]:
        outcomes = self.host.federal_submit(self.put.cpas_id, forms)
        if outcomes is None:
            pytest.fail(f"piis_federal_submit failed: {self._failures()}")
        return outcomes

    def settle(
        self, outcomes: list[SubmissionOutcome], timeout: float = 20.0
    ) -> dict[str, SubmissionOutcome]:
        """Ask for results by ticket until every submitted form has a final answer."""
        final = {o.client_reference: o for o in outcomes if o.status in TERMINAL_STATUSES}
        tickets = sorted(
            {o.ticket for o in outcomes if o.ticket and o.client_reference not in final}
        )
        deadline = time.monotonic() + timeout
        while len(final) < len(outcomes) and time.monotonic() < deadline:
            fetched = self.host.federal_fetch_results(self.put.cpas_id, tickets)
            if fetched is None:
                pytest.fail(f"piis_federal_fetch_results failed: {self._failures()}")
            final.update({o.client_reference: o for o in fetched if o.status in TERMINAL_STATUSES})
            if len(final) < len(outcomes):
                time.sleep(0.1)
        missing = sorted({o.client_reference for o in outcomes} - set(final))
        assert not missing, (
            f"no final result after {timeout}s for forms {missing} (tickets {tickets})"
        )
        return final

    # ------------------------------------------------------------------ National Register notices

    def implements_notices(self) -> bool:
        return any(
            info.name == self.put.name and "piis_federal_fetch_notices" in info.hooks
            for info in self.host.plugin_infos()
        )

    def notices(self, cursor: str | None, page_size: int) -> NoticePage:
        page = self.host.federal_fetch_notices(self.put.cpas_id, cursor, page_size)
        if page is None:
            pytest.fail(f"piis_federal_fetch_notices failed: {self._failures()}")
        assert len(page.notices) <= page_size, (
            f"a page of {page_size} held {len(page.notices)} notices"
        )
        return page

    def drain_notices(
        self, cursor: str | None, page_size: int, max_pages: int = 1000
    ) -> tuple[list[RegisterNotice], str | None, int]:
        """Every notice after ``cursor``, page by page: (notices, last cursor, pages read)."""
        seen: list[RegisterNotice] = []
        for pages in range(1, max_pages + 1):
            page = self.notices(cursor, page_size)
            seen.extend(page.notices)
            if page.notices:
                assert page.cursor is not None, (
                    "a page with notices must give a cursor to resume after it"
                )
            cursor = page.cursor if page.cursor is not None else cursor
            if not page.has_more:
                return seen, cursor, pages
            assert page.notices, "has_more is true but the page is empty: the feed would never end"
        pytest.fail(f"the notice feed did not end within {max_pages} pages")


class FederalPluginConformance:
    """Subclass as ``TestXxxFederalConformance`` and provide the ``federal_plugin`` fixture."""

    @pytest.fixture
    def federal_plugin(self) -> PluginUnderTest:  # pragma: no cover - must be overridden
        raise NotImplementedError("provide a `federal_plugin` fixture returning a PluginUnderTest")

    @pytest.fixture
    def federal_kit(self, federal_plugin: PluginUnderTest, tmp_path: Path) -> Iterator[FederalKit]:
        put = federal_plugin
        identity = put.cpas or TEST_CPAS
        routes = {
            put.cpas_id: {
                **identity,
                "case_system": None,
                "federal": put.name,
                "transfer": None,
                "plugins": {put.name: put.settings} if put.settings else {},
            }
        }
        settings = Settings(
            cpas=cpas_settings(routes),
            state_dir=tmp_path / "state",
            database_url=f"sqlite:///{tmp_path / 'kit.sqlite3'}",
        )
        host = start_host(settings, put)
        yield FederalKit(host=host, put=put)
        host.instances.close()  # the plugin's clients and engines (docs/plugins.md)

    # ------------------------------------------------------------------ building

    def test_building_twice_gives_the_same_idempotency_keys(self, federal_kit: FederalKit) -> None:
        contract = federal_kit.harness.contract(0)
        first, second = federal_kit.build(contract), federal_kit.build(contract)
        assert first, "a valid contract must give at least one form"
        keys = [form_key(f) for f in first]
        assert len(keys) == len(set(keys)), f"two forms of one build share a key: {keys}"
        assert keys == [form_key(f) for f in second], (
            "building the same contract twice must give the same keys"
        )

    def test_forms_name_the_contract_they_come_from(self, federal_kit: FederalKit) -> None:
        contract = federal_kit.harness.contract(1)
        for form in federal_kit.build(contract):
            assert form.record_id == contract.contract_id, (
                f"form {form.kind} carries record_id {form.record_id!r}, not the contract id {contract.contract_id!r}"
            )
            assert form.cpas_id == federal_kit.put.cpas_id

    # ------------------------------------------------------------------ submitting

    def test_submitting_the_same_forms_twice_never_creates_a_second_claim(
        self, federal_kit: FederalKit
    ) -> None:
        forms = federal_kit.build(federal_kit.harness.contract(2))
        before = federal_kit.harness.claims()
        first = federal_kit.submit(forms)
        federal_kit.settle(first)
        held = federal_kit.harness.claims()
        assert held == before + len(forms), (
            f"{len(forms)} form(s) submitted, the remote gained {held - before}"
        )
        again = federal_kit.submit(federal_kit.build(federal_kit.harness.contract(2)))
        assert [o.client_reference for o in again] == [o.client_reference for o in first], (
            "a resubmitted form must keep its key"
        )
        federal_kit.settle(again)
        assert federal_kit.harness.claims() == held, (
            "submitting the same forms again created a second claim"
        )

    def test_results_come_back_for_every_submitted_form(self, federal_kit: FederalKit) -> None:
        forms = [f for i in range(3, 6) for f in federal_kit.build(federal_kit.harness.contract(i))]
        outcomes = federal_kit.submit(forms)
        assert len(outcomes) == len(forms), (
            f"{len(forms)} forms submitted, {len(outcomes)} outcomes returned"
        )
        assert [o.client_reference for o in outcomes] == [form_key(f) for f in forms], (
            "outcomes must come back in the order of the forms, under their keys"
        )
        final = federal_kit.settle(outcomes)
        assert set(final) == {form_key(f) for f in forms}

    def test_a_locally_invalid_form_is_reported_with_its_rubric_and_never_sent(
        self, federal_kit: FederalKit
    ) -> None:
        (form, *_) = federal_kit.build(federal_kit.harness.contract(6))
        bad = federal_kit.harness.break_form(form)
        before = federal_kit.harness.claims()
        (outcome,) = federal_kit.submit([bad])
        assert outcome.status is FormStatus.REFUSED, f"an invalid form came back {outcome.status}"
        assert outcome.issues, "a locally refused form must say why"
        assert all(issue.rubric for issue in outcome.issues), (
            f"issues without their rubric: {[(i.code, i.field) for i in outcome.issues]}"
        )
        assert federal_kit.harness.claims() == before, (
            "a form that failed local validation reached the remote"
        )

    def test_an_incomplete_event_is_never_sent_and_its_error_names_the_contract(
        self, federal_kit: FederalKit
    ) -> None:
        """A recovery event without its recovery data (no month, amount, period: federal.md 4) cannot make a
        valid form D.  Either the build fails, reported under the contract id, or the form it gives is refused
        locally with its rubric and still names the contract; either way nothing reaches the remote."""
        from piis_bridge.forms import ContractEvent, EventKind

        contract = federal_kit.harness.contract(9)
        before = federal_kit.harness.claims()
        built = federal_kit.host.federal_build_forms(
            federal_kit.put.cpas_id, contract, ContractEvent(kind=EventKind.RECOVERY)
        )
        forms = [f for f in built if isinstance(f, FederalForm)]
        assert len(forms) == len(built), "piis_federal_build_forms must return FederalForm values"
        if federal_kit.host.failures:
            assert not forms
            for failure in federal_kit.host.failures:
                assert failure.record_id == contract.contract_id, (
                    f"a build failure is reported under {failure.record_id!r}, not the contract id"
                )
        else:
            assert forms, "an event must give forms or a reported failure, not nothing"
            assert {f.record_id for f in forms} == {contract.contract_id}
            outcomes = federal_kit.submit(forms)
            assert [o.status for o in outcomes] == [FormStatus.REFUSED] * len(forms), (
                f"an incomplete form was accepted for sending: {[o.status for o in outcomes]}"
            )
            assert all(o.issues and all(i.rubric for i in o.issues) for o in outcomes)
        assert federal_kit.harness.claims() == before, "an incomplete form reached the remote"

    # ------------------------------------------------------------------ privacy

    def test_no_niss_reaches_the_logs(self, federal_kit: FederalKit, niss_guard: Any) -> None:
        logging.getLogger().setLevel(logging.DEBUG)
        forms = federal_kit.build(federal_kit.harness.contract(7))
        bad = federal_kit.harness.break_form(federal_kit.build(federal_kit.harness.contract(8))[0])
        federal_kit.settle(
            [o for o in federal_kit.submit([*forms, bad]) if o.status is not FormStatus.REFUSED]
        )
        niss_guard.check()

    # ------------------------------------------------------------------ National Register notices (optional hook)

    def _notice_kit(self, federal_kit: FederalKit) -> FederalKit:
        if not federal_kit.implements_notices():
            pytest.skip("the plugin does not implement piis_federal_fetch_notices (optional)")
        return federal_kit

    def test_notices_are_paged_and_resume_exactly_after_the_cursor(
        self, federal_kit: FederalKit
    ) -> None:
        """The nightly run persists the cursor after each page (like the case-system change feed): a resumed
        read must neither skip nor repeat a notice, and a move must name the municipality that becomes
        competent (R-TRF-01), or no transfer case can name the CPAS taking over."""
        kit = self._notice_kit(federal_kit)
        _, start, _ = kit.drain_notices(None, 50)
        harness = kit.harness
        if not isinstance(harness, NoticeHarness):
            again, _cursor, _ = kit.drain_notices(start, 50)
            assert again == [], "reading again from the last cursor gave notices already read"
            pytest.skip(
                "the harness cannot record mutations (NoticeHarness): only the empty feed was checked"
            )
        people = [harness.contract(20 + i) for i in range(5)]
        for i, person in enumerate(people):
            harness.record_mutation(person, "move", date(2025, 4, 1 + i))
        seen, end, pages = kit.drain_notices(start, 2)
        moves = [n for n in seen if n.kind == "move"]
        assert [str(n.niss) for n in moves] == [str(p.beneficiary.niss) for p in people], (
            "each recorded move must come back exactly once, in the order it was recorded"
        )
        assert pages >= 3, f"5 notices in pages of 2 came back in {pages} page(s)"
        for notice in moves:
            assert notice.new_ins_code is not None and notice.new_municipality, (
                f"move notice {notice.reference} does not name the new municipality"
            )
        assert len({n.reference for n in seen}) == len(seen), "two notices share a reference"
        first = kit.notices(start, 2)
        rest, _, _ = kit.drain_notices(first.cursor, 2)
        assert [n.reference for n in first.notices + rest] == [n.reference for n in seen], (
            "resuming after the first page's cursor must give exactly the notices that followed it"
        )
        after, _, _ = kit.drain_notices(end, 2)
        assert after == [], "reading after the last cursor gave notices again"

    def test_every_notice_kind_is_reported(self, federal_kit: FederalKit) -> None:
        kit = self._notice_kit(federal_kit)
        harness = kit.harness
        if not isinstance(harness, NoticeHarness):
            pytest.skip("the harness cannot record mutations (NoticeHarness)")
        _, start, _ = kit.drain_notices(None, 50)
        kinds: tuple[NoticeKind, ...] = ("death", "emigration", "niss_replaced")
        people = {kind: harness.contract(30 + i) for i, kind in enumerate(kinds)}
        for kind, person in people.items():
            harness.record_mutation(person, kind, date(2025, 5, 1))
        seen, _, _ = kit.drain_notices(start, 10)
        got = {n.kind: n for n in seen}
        assert set(got) == set(people), f"expected {sorted(people)}, got {sorted(got)}"
        for kind, person in people.items():
            assert str(got[kind].niss) == str(person.beneficiary.niss)
            assert got[kind].effective_date == date(2025, 5, 1)
        assert got["niss_replaced"].replaced_by is not None

    def test_no_niss_reaches_the_logs_while_reading_notices(
        self, federal_kit: FederalKit, niss_guard: Any
    ) -> None:
        kit = self._notice_kit(federal_kit)
        logging.getLogger().setLevel(logging.DEBUG)
        harness = kit.harness
        if isinstance(harness, NoticeHarness):
            harness.record_mutation(harness.contract(40), "move", date(2025, 6, 1))
        kit.drain_notices(None, 1)
        niss_guard.check()
