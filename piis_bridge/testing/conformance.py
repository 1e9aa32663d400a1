"""Conformance tests a case-system plugin runs against itself.

Why through :class:`~piis_bridge.hooks.manager.PluginHost` and not by calling the hook functions:
that is how the nightly run calls them, so the kit also checks what the host checks (hook names,
settings model, result types, page sizes, push results matching the items) and a failure reads
the way it will read in a run report.

A vendor subclasses :class:`CaseSystemPluginConformance` and provides one fixture, ``case_plugin``,
returning a :class:`PluginUnderTest` whose ``harness`` drives their system (see docs/plugins.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pytest

from piis_bridge.config import CpasSettings, Settings
from piis_bridge.hooks.manager import PluginCallError, PluginHost
from piis_bridge.hooks.types import ChangePage, MappingOutcome, PushItem, SourceRecord

__all__ = ["CaseSystemHarness", "CaseSystemPluginConformance", "ConformanceKit", "PluginUnderTest"]

# A test CPAS with real check digits (Liège: INS 62063; BCE mod-97 valid).
TEST_CPAS = {"name": "CPAS de test", "ins_code": "62063", "bce": "0207916035"}


def cpas_settings(routes: dict[str, dict[str, Any]]) -> dict[str, CpasSettings]:
    """The ``cpas`` table of a kit's configuration, validated (the kits build it as plain dicts)."""
    return {cpas_id: CpasSettings.model_validate(table) for cpas_id, table in routes.items()}


@runtime_checkable
class CaseSystemHarness(Protocol):
    """What the kit needs to do in the vendor system under test."""

    def create_record(self, index: int) -> str:
        """Create a valid contract record (distinct per ``index``); return the vendor record id."""

    def modify_record(self, record_id: str) -> None:
        """Change the record so that it appears again in the change feed."""

    def create_invalid_record(self) -> str:
        """Create a record whose mapping must report problems; return its id."""

    def task_count(self, key: str) -> int:
        """How many tasks/statuses exist in the vendor system for this push idempotency key."""


@dataclass
class PluginUnderTest:
    """The plugin, its settings for the test CPAS, and the harness that drives its system."""

    name: str
    plugin: object
    harness: CaseSystemHarness
    settings: dict[str, Any] = field(default_factory=dict)
    cpas_id: str = "conformance"
    cpas: dict[str, str] | None = (
        None  # name, ins_code, bce of the test CPAS (a default with real check digits)
    )


@dataclass
class ConformanceKit:
    """The host wired to the plugin under test, with helpers the tests share."""

    host: PluginHost
    put: PluginUnderTest

    @property
    def harness(self) -> CaseSystemHarness:
        return self.put.harness

    def fetch(self, cursor: str | None, page_size: int) -> ChangePage:
        page = self.host.case_fetch_changes(self.put.cpas_id, cursor, page_size)
        if page is None:
            failures = "; ".join(
                f"{f.hook}: {f.error_type}: {f.message}" for f in self.host.failures
            )
            pytest.fail(f"piis_case_fetch_changes failed: {failures}")
        return page

    def drain(
        self, cursor: str | None, page_size: int, max_pages: int = 1000
    ) -> tuple[list[SourceRecord], str | None]:
        """Every page from *cursor* until ``has_more`` is false."""
        records: list[SourceRecord] = []
        for _ in range(max_pages):
            page = self.fetch(cursor, page_size)
            records.extend(page.records)
            cursor = page.cursor
            if not page.has_more:
                return records, cursor
        pytest.fail(f"the change feed did not end after {max_pages} pages of {page_size}")

    def map(self, record: SourceRecord) -> MappingOutcome:
        return self.host.case_map_record(self.put.cpas_id, record)

    def implements(self, hook: str) -> bool:
        return hook in next(
            (i.hooks for i in self.host.plugin_infos() if i.name == self.put.name), ()
        )


def start_host(settings: Settings, put: PluginUnderTest) -> PluginHost:
    """A strict host holding only the plugin under test, started; a failing ``piis_startup`` fails the test."""
    host = PluginHost(
        settings, plugins=[(put.name, put.plugin)], load_entrypoints=False, strict=True
    )
    failed = host.startup()
    if failed:
        pytest.fail(
            f"piis_startup of {put.name!r} raised {failed[0].error_type}: {failed[0].message}"
        )
    return host


def _ids(records: list[SourceRecord]) -> list[str]:
    return [r.record_id for r in records]


class CaseSystemPluginConformance:
    """Subclass as ``TestXxxConformance`` and provide the ``case_plugin`` fixture."""

    @pytest.fixture
    def case_plugin(self) -> PluginUnderTest:  # pragma: no cover - must be overridden
        raise NotImplementedError("provide a `case_plugin` fixture returning a PluginUnderTest")

    @pytest.fixture
    def kit(self, case_plugin: PluginUnderTest, tmp_path: Path) -> Iterator[ConformanceKit]:
        put = case_plugin
        identity = (
            put.cpas or TEST_CPAS
        )  # the records' CPAS: the host refuses another CPAS's records
        routes = {
            put.cpas_id: {
                **identity,
                "case_system": put.name,
                "federal": None,
                "transfer": None,
                "plugins": {put.name: put.settings} if put.settings else {},
            }
        }
        settings = Settings(cpas=cpas_settings(routes), state_dir=tmp_path / "state")
        host = start_host(settings, put)
        yield ConformanceKit(host=host, put=put)
        host.instances.close()  # the plugin's clients and engines (docs/plugins.md)

    # ------------------------------------------------------------------ change feed

    def test_first_sync_returns_every_new_record_exactly_once(self, kit: ConformanceKit) -> None:
        created = [kit.harness.create_record(i) for i in range(5)]
        records, _ = kit.drain(None, page_size=2)
        ids = _ids(records)
        assert len(ids) == len(set(ids)), (
            f"records returned twice in one sync: {sorted({i for i in ids if ids.count(i) > 1})}"
        )
        assert set(created) <= set(ids), (
            f"records never returned: {sorted(set(created) - set(ids))}"
        )

    @pytest.mark.parametrize("page_size", [1, 2, 3])
    def test_cursor_resumes_exactly_where_it_stopped(
        self, kit: ConformanceKit, page_size: int
    ) -> None:
        _, start = kit.drain(None, page_size=50)  # skip whatever the system already held
        created = [kit.harness.create_record(100 + i) for i in range(5)]
        first = kit.fetch(start, page_size)
        assert 0 < len(first.records) <= page_size and first.has_more
        # A crash before the cursor is persisted replays the same page, identically.
        replay = kit.fetch(start, page_size)
        assert _ids(replay.records) == _ids(first.records), (
            "the same cursor must give the same page"
        )
        rest, _ = kit.drain(first.cursor, page_size)
        assert not set(_ids(first.records)) & set(_ids(rest)), (
            "a record came back after its page was processed"
        )
        assert _ids(first.records) + _ids(rest) == created, (
            "resuming from the cursor skipped or reordered records"
        )

    def test_a_drained_feed_returns_an_empty_page_and_a_usable_cursor(
        self, kit: ConformanceKit
    ) -> None:
        kit.harness.create_record(200)
        _, cursor = kit.drain(None, page_size=10)
        for _ in range(2):
            page = kit.fetch(cursor, 10)
            assert page.records == [] and page.has_more is False
            cursor = page.cursor

    def test_a_modified_record_comes_back_after_the_cursor(self, kit: ConformanceKit) -> None:
        rid = kit.harness.create_record(300)
        records, cursor = kit.drain(None, page_size=10)
        before = next(r for r in records if r.record_id == rid)
        kit.harness.modify_record(rid)
        again, _ = kit.drain(cursor, page_size=10)
        assert _ids(again) == [rid], f"after modifying {rid}, the feed returned {_ids(again)}"
        after = again[0]
        assert (after.version, after.modified_at) != (before.version, before.modified_at), (
            "a modified record must carry a new version or modification time"
        )

    def test_page_size_is_respected(self, kit: ConformanceKit) -> None:
        for i in range(3):
            kit.harness.create_record(400 + i)
        page = kit.fetch(None, 1)
        assert len(page.records) == 1 and page.has_more

    def test_records_name_their_source_plugin(self, kit: ConformanceKit) -> None:
        kit.harness.create_record(500)
        records, _ = kit.drain(None, page_size=20)
        assert records and {r.source for r in records} == {kit.put.name}

    # ------------------------------------------------------------------ mapping

    def test_a_valid_record_maps_to_a_contract(self, kit: ConformanceKit) -> None:
        rid = kit.harness.create_record(600)
        records, _ = kit.drain(None, page_size=50)
        outcome = kit.map(next(r for r in records if r.record_id == rid))
        assert outcome.record_id == rid
        assert outcome.ok, (
            f"mapping {rid} failed: {[(p.field, p.reason) for p in outcome.problems]}"
        )

    def test_mapping_is_deterministic_and_round_trips(self, kit: ConformanceKit) -> None:
        from piis_bridge.model import PIISContract

        rid = kit.harness.create_record(700)
        records, _ = kit.drain(None, page_size=50)
        record = next(r for r in records if r.record_id == rid)
        first, second = kit.map(record), kit.map(record)
        assert first.ok and first.contract == second.contract, (
            "mapping the same record twice must give the same contract"
        )
        assert first.contract is not None
        dumped = first.contract.model_dump_json()
        assert PIISContract.model_validate_json(dumped) == first.contract, (
            "the contract does not round-trip"
        )

    def test_problems_carry_the_record_id_and_a_field_path(self, kit: ConformanceKit) -> None:
        rid = kit.harness.create_invalid_record()
        records, _ = kit.drain(None, page_size=50)
        outcome = kit.map(next(r for r in records if r.record_id == rid))
        assert kit.host.failures == [], (
            f"map_record raised instead of returning problems: {kit.host.failures[0].message}"
            if kit.host.failures
            else ""
        )
        assert not outcome.ok and outcome.problems, "an invalid record must be reported, not mapped"
        for problem in outcome.problems:
            assert problem.record_id == rid
            assert problem.field and problem.field != "(record)", (
                f"problem without a field path: {problem.reason}"
            )

    # ------------------------------------------------------------------ one record (optional hook)

    @staticmethod
    def _needs_fetch_record(kit: ConformanceKit) -> None:
        """The checks below apply only to a plugin implementing ``piis_case_fetch_record`` (optional)."""
        if kit.implements("piis_case_fetch_record"):
            return
        with pytest.raises(PluginCallError, match="does not implement piis_case_fetch_record"):
            kit.host.case_fetch_record(
                kit.put.cpas_id, "CONF-ANY"
            )  # never mistaken for "no such record"
        kit.host.drain_failures()
        pytest.skip(
            f"{kit.put.name} does not implement piis_case_fetch_record (optional: run --dossier is refused)"
        )

    def test_fetch_record_returns_the_feeds_current_version(self, kit: ConformanceKit) -> None:
        self._needs_fetch_record(kit)
        rid = kit.harness.create_record(1000)
        kit.harness.modify_record(rid)
        records, _ = kit.drain(None, page_size=50)
        current = [r for r in records if r.record_id == rid][-1]  # the version the feed serves last
        fetched = kit.host.case_fetch_record(kit.put.cpas_id, rid)
        assert fetched is not None, (
            f"piis_case_fetch_record({rid!r}) found nothing, the feed serves it"
        )
        for name in ("source", "record_id", "kind", "version", "modified_at", "payload"):
            assert getattr(fetched, name) == getattr(current, name), (
                f"{rid}: fetched {name} differs from the feed's current version"
            )
        assert kit.map(fetched) == kit.map(current), (
            "the fetched record must map like the feed's record"
        )

    def test_fetch_record_of_an_unknown_id_is_none(self, kit: ConformanceKit) -> None:
        self._needs_fetch_record(kit)
        kit.harness.create_record(1100)
        assert kit.host.case_fetch_record(kit.put.cpas_id, "CONF-NO-SUCH-RECORD") is None
        assert kit.host.failures == [], "an unknown id is None, not a failure"

    # ------------------------------------------------------------------ push

    def test_push_is_idempotent_on_the_key(self, kit: ConformanceKit) -> None:
        rid = kit.harness.create_record(800)
        items = [
            PushItem(
                key=f"conformance-{rid}-answer",
                record_id=rid,
                kind="federal_answer",
                title="Form B accepted",
            ),
            PushItem(
                key=f"conformance-{rid}-alert",
                record_id=rid,
                kind="deadline_alert",
                title="Evaluation due",
                body="Plan the evaluation interview.",
                due=date(2026, 6, 8),
            ),
        ]
        first = kit.host.case_push(kit.put.cpas_id, items)
        for item, result in zip(items, first, strict=False):
            assert result.status == "created", (
                f"the first push of key {item.key!r} answered {result.status!r} (expected: created): {result.detail}"
            )
        assert len(first) == len(items), (
            f"{len(items)} items pushed, {len(first)} result(s) (expected: one per item)"
        )
        second = kit.host.case_push(kit.put.cpas_id, items)
        for item, result in zip(items, second, strict=False):
            if result.status == "created":
                pytest.fail(
                    f"the second push of the same key {item.key!r} created a new item (expected: duplicate); "
                    "piis_case_push must be idempotent on PushItem.key",
                    pytrace=False,
                )
            assert result.status == "duplicate", (
                f"the second push of key {item.key!r} answered {result.status!r} (expected: duplicate): {result.detail}"
            )
        for item in items:
            count = kit.harness.task_count(item.key)
            assert count == 1, (
                f"{count} item(s) with key {item.key!r} in the system after two pushes (expected: 1)"
            )

    # ------------------------------------------------------------------ privacy

    def test_no_niss_reaches_the_logs(self, kit: ConformanceKit, niss_guard: Any) -> None:
        logging.getLogger().setLevel(logging.DEBUG)
        valid = kit.harness.create_record(900)
        invalid = kit.harness.create_invalid_record()
        records, _ = kit.drain(None, page_size=3)
        for record in records:
            kit.map(record)
        kit.host.case_push(
            kit.put.cpas_id,
            [PushItem(key=f"niss-{valid}", record_id=valid, kind="status", title="x")],
        )
        assert {valid, invalid} <= set(_ids(records))
        niss_guard.check()
