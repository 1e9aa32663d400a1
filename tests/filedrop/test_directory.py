"""The drop directory: half-written files are never taken, claims are atomic, hashes de-duplicate."""

from __future__ import annotations

import json
import time

from piis_connectors.filedrop.directory import DropDirectory
from piis_connectors.filedrop.outbox import Outbox

from .conftest import put


def test_only_complete_files_are_ready(tmp_path) -> None:
    drop = DropDirectory(tmp_path, settle_seconds=5)
    for name in ("a.csv.part", "b.csv.tmp", ".c.csv", "d.csv.filepart", "e.csv.report.json"):
        put(drop.incoming, name)
    fresh = put(drop.incoming, "fresh.csv", age=0)
    old = put(drop.incoming, "old.csv")
    assert drop.ready() == [old]
    assert drop.ready(now=time.time() + 10) == [old, fresh]  # settled once unchanged long enough


def test_ready_files_are_ordered_by_age_then_name(tmp_path) -> None:
    drop = DropDirectory(tmp_path, settle_seconds=0)
    for i, name in enumerate(["z.csv", "a.csv", "m.csv"]):
        put(drop.incoming, name, offset=i)
    assert [p.name for p in drop.ready()] == ["z.csv", "a.csv", "m.csv"]


def test_suffix_filter(tmp_path) -> None:
    drop = DropDirectory(tmp_path, settle_seconds=0, suffixes=[".csv"])
    for name in ("a.csv", "b.xml", "c.CSV"):
        put(drop.incoming, name)
    assert sorted(p.name for p in drop.ready()) == ["a.csv", "c.CSV"]


def test_claim_is_atomic_and_exclusive(tmp_path) -> None:
    drop = DropDirectory(tmp_path, settle_seconds=0)
    path = drop.incoming / "x.csv"
    path.write_text("abc")
    claimed = drop.claim(path)
    assert claimed is not None and claimed.path.parent == drop.processing and not path.exists()
    assert drop.claim(path) is None  # a second worker loses the race cleanly
    assert drop.orphans() == [claimed.path]


def test_finish_fail_and_duplicate(tmp_path) -> None:
    drop = DropDirectory(tmp_path, settle_seconds=0)
    (drop.incoming / "x.csv").write_text("abc")
    first = drop.claim(drop.incoming / "x.csv")
    done = drop.finish(first)
    assert done == drop.done / "x.csv" and drop.is_processed(first.sha256) == "x.csv"
    assert drop.finish(first) is None  # idempotent
    (drop.incoming / "x.csv").write_text("abc")
    again = drop.claim(drop.incoming / "x.csv")
    kept = drop.skip_duplicate(again, "x.csv")
    assert kept == drop.done / "x.csv.1"
    assert json.loads(kept.with_name("x.csv.1.report.json").read_text())["status"] == "duplicate"
    (drop.incoming / "y.csv").write_text("bad")
    bad = drop.claim(drop.incoming / "y.csv")
    failed = drop.fail(bad, {"reason": "missing columns", "line": 1})
    report = json.loads((drop.failed / "y.csv.report.json").read_text())
    assert failed.exists() and report["reason"] == "missing columns" and report["line"] == 1
    assert drop.is_processed(bad.sha256) is None


def test_outbox_is_idempotent(tmp_path) -> None:
    box = Outbox(tmp_path / "outbox")
    path, created = box.put("k1", {"titel": "x"})
    assert created and json.loads(path.read_text())["sleutel"] == "k1"
    assert box.put("k1", {"titel": "y"}) == (path, False)
    assert box.count("k1") == 1 and box.count("k2") == 0
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [path.name]
