"""The optional hooks ``piis_case_fetch_record`` (one dossier by hand) and
``piis_federal_fetch_notices`` (National Register mutations, R-TRF-01): what the host makes of
every answer a plugin can give."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.manager import PluginCallError, PluginHost
from piis_bridge.hooks.types import NoticePage, RegisterNotice
from tests.plugins._helpers import A_NISS, record, settings
from tests.plugins.test_manager import CasePlugin


class OneRecord(CasePlugin):
    @hookimpl
    def piis_case_fetch_record(self, cpas, record_id):
        if record_id == "gone":
            return None
        if record_id == "boom":
            raise ConnectionError(f"vendor API down while reading {A_NISS}")
        if record_id == "sloppy":
            return {"record_id": record_id}
        return record(record_id, source=self.tag)


class Federal:
    """A federal plugin with the required hooks and a notice feed of three notices."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.notices = [
            RegisterNotice(
                reference=f"N{i}",
                niss=A_NISS,
                kind="move",
                effective_date=date(2026, 11, i),
                new_ins_code="21004",
                new_municipality="Bruxelles",
            )
            for i in (1, 2, 3)
        ]

    @hookimpl
    def piis_federal_submit(self, cpas, forms):
        return []

    @hookimpl
    def piis_federal_fetch_results(self, cpas, tickets):
        return []

    @hookimpl
    def piis_federal_fetch_notices(self, cpas, cursor, page_size):
        if self.mode == "raise":
            raise TimeoutError("BCSS did not answer")
        if self.mode == "dict":
            return {"notices": []}
        start = int(cursor or 0)
        if self.mode == "greedy":
            page_size += 1
        chunk = self.notices[start : start + page_size]
        end = start + len(chunk)
        return NoticePage(notices=chunk, cursor=str(end), has_more=end < len(self.notices))


def _host(tmp_path, plugins, routes) -> PluginHost:
    return PluginHost(settings(tmp_path, routes), plugins=plugins, load_entrypoints=False)


def test_fetch_record_returns_the_current_record_or_none_when_the_case_system_has_none(
    tmp_path,
) -> None:
    host = _host(tmp_path, [("alpha", OneRecord("alpha"))], {"liege": {"case_system": "alpha"}})
    got = host.case_fetch_record("liege", "D-1")
    assert got is not None and got.record_id == "D-1" and got.source == "alpha"
    assert host.case_fetch_record("liege", "gone") is None
    assert host.failures == []


@pytest.mark.parametrize("record_id, error", [("boom", "ConnectionError"), ("sloppy", "TypeError")])
def test_a_failed_fetch_record_raises_naming_plugin_and_record_never_reads_as_not_found(
    tmp_path, record_id: str, error: str
) -> None:
    host = _host(tmp_path, [("alpha", OneRecord("alpha"))], {"liege": {"case_system": "alpha"}})
    with pytest.raises(PluginCallError) as caught:
        host.case_fetch_record("liege", record_id)
    assert caught.value.failure.error_type == error
    assert caught.value.failure.record_id == record_id
    assert "'alpha'" in str(caught.value) and A_NISS not in str(caught.value)


def test_a_case_system_without_fetch_record_is_reported_not_guessed(tmp_path) -> None:
    host = _host(tmp_path, [("alpha", CasePlugin("alpha"))], {"liege": {"case_system": "alpha"}})
    with pytest.raises(PluginCallError, match="does not implement piis_case_fetch_record"):
        host.case_fetch_record("liege", "D-1")


def test_notices_are_paged_with_the_plugins_cursor(tmp_path) -> None:
    host = _host(
        tmp_path,
        [("alpha", CasePlugin("alpha")), ("fed", Federal())],
        {"liege": {"case_system": "alpha", "federal": "fed"}},
    )
    first = host.federal_fetch_notices("liege", None, page_size=2)
    assert [n.reference for n in first.notices] == ["N1", "N2"] and first.has_more
    second = host.federal_fetch_notices("liege", first.cursor, page_size=2)
    assert [n.reference for n in second.notices] == ["N3"] and not second.has_more


@pytest.mark.parametrize(
    "mode, message",
    [
        ("raise", "BCSS did not answer"),
        ("dict", "expected NoticePage"),
        ("greedy", "at most 2 notices"),
    ],
)
def test_a_failing_or_wrong_notice_feed_is_a_recorded_failure_and_returns_none(
    tmp_path, mode, message
) -> None:
    host = _host(
        tmp_path,
        [("alpha", CasePlugin("alpha")), ("fed", Federal(mode))],
        {"liege": {"case_system": "alpha", "federal": "fed"}},
    )
    assert host.federal_fetch_notices("liege", None, page_size=2) is None
    assert message in host.failures[-1].message and host.failures[-1].plugin == "fed"


def test_a_move_notice_must_name_the_new_municipality_and_never_echoes_the_niss() -> None:
    with pytest.raises(ValidationError) as caught:
        RegisterNotice(reference="N9", niss=A_NISS, kind="move", effective_date=date(2026, 11, 2))
    assert "new_ins_code" in str(caught.value) and A_NISS not in str(caught.value)
    with pytest.raises(ValidationError, match="replaced_by"):
        RegisterNotice(
            reference="N10", niss=A_NISS, kind="niss_replaced", effective_date=date(2026, 11, 2)
        )
    death = RegisterNotice(
        reference="N11", niss=A_NISS, kind="death", effective_date=date(2024, 2, 29)
    )
    assert death.new_ins_code is None
