"""The filedrop plugin: conformance kit, quarantine with line numbers, done/failed, re-drop, resume."""

from __future__ import annotations

import copy
import json

import piis_plugins.filedrop as filedrop
import pytest
from piis_connectors.filedrop.directory import DropDirectory
from piis_connectors.filedrop.outbox import Outbox
from piis_connectors.filedrop.samples import contract_element, write_csv, write_xml

from piis_bridge.config import Settings
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.testing import CaseSystemPluginConformance, PluginUnderTest

from .conftest import settle


class DropHarness:
    """Plays the vendor package: every change is a new export file in incoming/."""

    def __init__(self, root, template: dict) -> None:
        self.drop = DropDirectory(root, settle_seconds=0)
        self.template = template
        self.n = 0

    def _write(self, rows: list[dict]) -> None:
        self.n += 1
        path = write_csv(self.drop.incoming / f"export-{self.n:05d}.csv", rows)
        settle(path, offset=self.n)

    def _row(self, cid: str) -> dict:
        row = copy.deepcopy(self.template)
        row["contractnr"] = cid
        return row

    def create_record(self, index: int) -> str:
        cid = f"CONF-{index:05d}"
        self._write([self._row(cid)])
        return cid

    def modify_record(self, record_id: str) -> None:
        row = self._row(record_id)
        row["status"] = "LOPEND" if row["status"] == "AFGESLOTEN" else "AFGESLOTEN"
        self._write([row])

    def create_invalid_record(self) -> str:
        row = self._row("CONF-BAD")
        row["rijksregisternr"] = row["rijksregisternr"][:-2] + "00"
        row["type"] = "ONBEKEND"
        self._write([row])
        return "CONF-BAD"

    def task_count(self, key: str) -> int:
        return Outbox(self.drop.root / "outbox").count(key)


class TestFiledropConformance(CaseSystemPluginConformance):
    @pytest.fixture
    def case_plugin(self, tmp_path, rows):
        root = tmp_path / "drop"
        return PluginUnderTest(
            name="filedrop",
            plugin=filedrop,
            harness=DropHarness(root, rows[0]),
            settings={"directory": str(root), "settle_seconds": 0},
            cpas={"name": "OCMW Brussel", "ins_code": "21004", "bce": "0212560454"},
        )


@pytest.fixture
def host(tmp_path):
    root = tmp_path / "drop"
    cpas = {
        "brussel": {
            "name": "OCMW Brussel",
            "ins_code": "21004",
            "bce": "0212560454",
            "case_system": "filedrop",
            "federal": None,
            "transfer": None,
            "plugins": {"filedrop": {"directory": str(root), "settle_seconds": 1}},
        }
    }
    h = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path / "state"),
        plugins=[("filedrop", filedrop)],
        load_entrypoints=False,
        strict=True,
    )
    h.startup()
    h.drop = DropDirectory(root, settle_seconds=1)
    return h


def _run(host, cursor=None, page_size=100):
    """A sync run as the pipeline does it: fetch, map every record, persist the cursor, repeat."""
    outcomes = []
    while True:
        page = host.case_fetch_changes("brussel", cursor, page_size)
        outcomes += [host.case_map_record("brussel", r) for r in page.records]
        cursor = page.cursor
        if not page.has_more:
            return outcomes, cursor


def test_bad_rows_are_quarantined_with_their_line_and_the_rest_goes_through(host, rows) -> None:
    bad_niss, bad_date, unknown = (
        copy.deepcopy(rows[1]),
        copy.deepcopy(rows[2]),
        copy.deepcopy(rows[3]),
    )
    bad_niss["rijksregisternr"] = bad_niss["rijksregisternr"][:-2] + "00"
    bad_date["startdatum"] = "31/02/2025"
    unknown["domeinen"] = "werk,astrologie"
    missing = copy.deepcopy(rows[4])
    missing["ocmw_kbo"] = ""
    path = write_csv(
        host.drop.incoming / "nacht.csv", [rows[0], bad_niss, bad_date, unknown, missing, rows[5]]
    )
    with open(path, "ab") as fh:
        fh.write(b"kapotte;rij\r\n")  # line 8: wrong number of fields
    settle(path)
    outcomes, _ = _run(host)
    assert sum(o.ok for o in outcomes) == 2
    problems = sorted(
        (p.record_id, p.field, p.reason.split(": ", 1)[0]) for o in outcomes for p in o.problems
    )
    assert problems == [
        (bad_niss["contractnr"], "rijksregisternr", "nacht.csv line 3"),
        (bad_date["contractnr"], "startdatum", "nacht.csv line 4"),
        (unknown["contractnr"], "domeinen[1]", "nacht.csv line 5"),
        (missing["contractnr"], "ocmw_kbo", "nacht.csv line 6"),
        ("nacht.csv#L8", "line 8", "nacht.csv line 8"),
    ]
    assert not any(bad_niss["rijksregisternr"] in p.reason for o in outcomes for p in o.problems)
    report = json.loads((host.drop.done / "nacht.csv.report.json").read_text())
    assert report["quarantined_rows"] == [
        {"line": 8, "reason": "expected 25 fields separated by ';', found 2"}
    ]
    assert list(host.drop.incoming.iterdir()) == [] and list(host.drop.processing.iterdir()) == []


def test_redropping_the_same_file_changes_nothing(host, rows) -> None:
    settle(write_csv(host.drop.incoming / "a.csv", rows[:3]))
    first, cursor = _run(host)
    assert len(first) == 3
    settle(write_csv(host.drop.incoming / "a-kopie.csv", rows[:3]))
    again, _ = _run(host, cursor)
    assert again == []
    assert (
        json.loads((host.drop.done / "a-kopie.csv.report.json").read_text())["status"]
        == "duplicate"
    )


def test_a_bad_file_goes_to_failed_with_a_report_and_the_next_file_is_read(host, rows) -> None:
    settle(
        write_csv(host.drop.incoming / "1-kapot.csv", rows[:2], columns=["naam", "voornaam"]),
        offset=1,
    )
    settle(
        host.drop.incoming.joinpath("2-kapot.xml").write_text("<export><contrat>")
        and host.drop.incoming / "2-kapot.xml",
        offset=2,
    )
    settle(write_csv(host.drop.incoming / "3-goed.csv", rows[:2]), offset=3)
    outcomes, _ = _run(host)
    assert [o.ok for o in outcomes] == [True, True]
    csv_report = json.loads((host.drop.failed / "1-kapot.csv.report.json").read_text())
    assert "missing columns: contractnr" in csv_report["reason"] and csv_report["line"] == 1
    assert (
        "malformed XML"
        in json.loads((host.drop.failed / "2-kapot.xml.report.json").read_text())["reason"]
    )
    assert (host.drop.done / "3-goed.csv").exists()


def test_half_written_files_are_not_read(host, rows) -> None:
    write_csv(host.drop.incoming / "nacht.csv.part", rows[:2])
    assert _run(host)[0] == []
    (host.drop.incoming / "nacht.csv.part").rename(host.drop.incoming / "nacht.csv")  # fresh mtime
    assert _run(host)[0] == []  # not settled yet
    settle(host.drop.incoming / "nacht.csv")
    assert len(_run(host)[0]) == 2


def test_xml_export_maps(host, seed_docs) -> None:
    settle(
        write_xml(host.drop.incoming / "export.xml", [contract_element(d) for d in seed_docs[:10]])
    )
    outcomes, _ = _run(host, page_size=4)
    assert len(outcomes) == len({o.record_id for o in outcomes}) >= 10
    assert all(o.ok for o in outcomes), [p for o in outcomes for p in o.problems]
    assert any(c.contract.evaluations for c in outcomes)


def test_crash_inside_a_file_replays_one_page_and_the_file_stays_in_processing(host, rows) -> None:
    settle(write_csv(host.drop.incoming / "nacht.csv", rows[:5]))
    p1 = host.case_fetch_changes("brussel", None, 2)
    p2 = host.case_fetch_changes("brussel", p1.cursor, 2)
    # crash while processing p2: its cursor was never persisted; the next run resumes from p1.cursor
    replay = host.case_fetch_changes("brussel", p1.cursor, 2)
    assert [r.record_id for r in replay.records] == [r.record_id for r in p2.records]
    p3 = host.case_fetch_changes("brussel", replay.cursor, 2)
    assert [r.record_id for r in p1.records + p2.records + p3.records] == [
        r["contractnr"] for r in rows[:5]
    ]
    assert (
        host.drop.processing / "nacht.csv"
    ).exists() and p3.has_more  # last page not yet acknowledged
    end = host.case_fetch_changes("brussel", p3.cursor, 2)
    assert end.records == [] and not end.has_more and (host.drop.done / "nacht.csv").exists()


def test_a_crash_before_any_cursor_restarts_the_claimed_file(host, rows) -> None:
    settle(write_csv(host.drop.incoming / "nacht.csv", rows[:3]))
    first = host.case_fetch_changes("brussel", None, 2)
    assert (host.drop.processing / "nacht.csv").exists()
    again = host.case_fetch_changes("brussel", None, 2)  # new process, no cursor persisted
    assert [r.record_id for r in again.records] == [r.record_id for r in first.records]


def test_push_writes_outbox_tasks_once(host, rows) -> None:
    from piis_bridge.hooks.types import PushItem

    items = [
        PushItem(
            key="fed-1",
            record_id=rows[0]["contractnr"],
            kind="federal_answer",
            title="Formulier B aanvaard",
        )
    ]
    assert [r.status for r in host.case_push("brussel", items)] == ["created"]
    assert [r.status for r in host.case_push("brussel", items)] == ["duplicate"]
    (task,) = (host.drop.root / "outbox").iterdir()
    assert json.loads(task.read_text())["titel"] == "Formulier B aanvaard"


def test_a_quarantined_row_goes_through_once_the_vendor_re_exports_it_fixed(host, rows) -> None:
    broken = copy.deepcopy(rows[0])
    broken["startdatum"] = "31/02/2025"
    settle(write_csv(host.drop.incoming / "1.csv", [broken, rows[1]]), offset=1)
    first, cursor = _run(host)
    assert [o.ok for o in first] == [False, True]
    settle(
        write_csv(host.drop.incoming / "2.csv", [rows[0]]), offset=2
    )  # the fixed row, next night
    again, _ = _run(host, cursor)
    assert [(o.record_id, o.ok) for o in again] == [(rows[0]["contractnr"], True)]


def test_a_row_of_another_cpas_is_refused_before_mapping(host, rows) -> None:
    """Tenancy: an export holding another OCMW's row never makes it a contract of this CPAS."""
    foreign = copy.deepcopy(rows[0])
    foreign["contractnr"], foreign["ocmw_kbo"], foreign["ocmw_nis"] = (
        "FOREIGN-1",
        "0212345173",
        "44021",
    )
    settle(write_csv(host.drop.incoming / "mixed.csv", [rows[1], foreign]))
    outcomes = {o.record_id: o for o in _run(host)[0]}
    assert outcomes[rows[1]["contractnr"]].ok
    problem = outcomes["FOREIGN-1"].problems[0]
    assert not outcomes["FOREIGN-1"].ok and problem.field == "cpas"
    assert problem.reason.startswith(
        "belongs to CPAS BCE 0212345173 / INS 44021, not to cpas.brussel"
    )


def test_max_file_bytes_and_hostile_xml_go_to_failed_with_a_report(tmp_path, rows) -> None:
    """The plugin's max_file_bytes setting refuses a large export before reading it; a DTD is refused."""
    root = tmp_path / "drop"
    cpas = {
        "brussel": {
            "name": "OCMW Brussel",
            "ins_code": "21004",
            "bce": "0212560454",
            "case_system": "filedrop",
            "federal": None,
            "transfer": None,
            "plugins": {
                "filedrop": {"directory": str(root), "settle_seconds": 1, "max_file_bytes": 2000}
            },
        }
    }
    h = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path / "state"),
        plugins=[("filedrop", filedrop)],
        load_entrypoints=False,
        strict=True,
    )
    h.startup()
    h.drop = DropDirectory(root, settle_seconds=1)
    settle(write_csv(h.drop.incoming / "1-groot.csv", rows[:20]), offset=1)
    settle(
        h.drop.incoming.joinpath("2-dtd.xml").write_text(
            '<?xml version="1.0"?><!DOCTYPE export [<!ENTITY a "b">]><export><contrat><numero>&a;</numero>'
            "</contrat></export>"
        )
        and h.drop.incoming / "2-dtd.xml",
        offset=2,
    )
    settle(write_csv(h.drop.incoming / "3-klein.csv", rows[:2]), offset=3)
    outcomes, _ = _run(h)
    assert len(outcomes) == 2
    big = json.loads((h.drop.failed / "1-groot.csv.report.json").read_text())
    assert "exceeds the limit of 2000 bytes (max_file_bytes)" in big["reason"]
    assert "DTD" in json.loads((h.drop.failed / "2-dtd.xml.report.json").read_text())["reason"]
