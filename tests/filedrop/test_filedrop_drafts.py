"""What a file drop does with a received draft (issue #8): an ``outgoing/`` file the package imports, written
atomically once per key, when the CPAS says the package imports it; otherwise ``failed``, and the
transfer plugin's review task goes to ``outbox/`` as before.  ``piis_case_fetch_record``: not served."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import piis_plugins.filedrop as filedrop
import piis_plugins.transfer as transfer
import pytest
from piis_connectors.filedrop.outbox import Outbox
from piis_plugins.filedrop.outgoing import draft_path, write_draft_once
from piis_plugins.transfer.plugin import draft_sink

from piis_bridge.config import Settings
from piis_bridge.hooks.manager import PluginCallError, PluginHost
from piis_bridge.model import ContractStatus, PIISContract, load_contracts
from piis_bridge.transfer import draft_contract_item
from tests.transfer._support import GENT, received_draft


def draft_item(name: str = "sanction-history"):
    package, draft = received_draft(name, GENT)
    return draft_contract_item(draft, package), draft


def _host(tmp_path: Path, **filedrop_settings) -> PluginHost:
    cpas = {
        "gent": {
            "name": GENT.name,
            "ins_code": GENT.ins_code,
            "bce": GENT.bce,
            "case_system": "filedrop",
            "federal": None,
            "transfer": "transfer",
            "plugins": {
                "filedrop": {"directory": str(tmp_path / "drop"), **filedrop_settings},
                "transfer": {"draft_record_id": "INBOX-OVERDRACHT"},
            },
        }
    }
    host = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path / "state"),
        plugins=[("filedrop", filedrop), ("transfer", transfer)],
        load_entrypoints=False,
        strict=True,
    )
    assert host.startup() == []
    return host


def test_without_outgoing_drafts_the_item_fails_with_the_reason(tmp_path) -> None:
    host = _host(tmp_path)
    item, _ = draft_item()
    (result,) = host.case_push("gent", [item])
    assert result.status == "failed" and "outgoing_drafts = false" in result.detail
    assert (
        not (tmp_path / "drop" / "outgoing").exists()
        or list((tmp_path / "drop" / "outgoing").iterdir()) == []
    )


def test_an_outgoing_draft_is_written_once_and_is_a_canonical_draft(tmp_path) -> None:
    host = _host(tmp_path, outgoing_drafts=True)
    item, draft = draft_item()
    (first,) = host.case_push("gent", [item])
    (second,) = host.case_push("gent", [item])
    assert (first.status, second.status) == (
        "created",
        "duplicate",
    ) and first.remote_id == second.remote_id
    outgoing = tmp_path / "drop" / "outgoing"
    (path,) = list(outgoing.iterdir())  # no temporary file left behind
    assert path.name == first.remote_id == draft_path(outgoing, item.key).name
    doc = orjson.loads(path.read_bytes())
    assert (doc["format"], doc["sleutel"], doc["contractnr"]) == (
        "piis-bridge/draft-contract",
        item.key,
        draft.contract_id,
    )
    contract = PIISContract.model_validate(doc["contract"])
    assert contract == draft and contract.status is ContractStatus.DRAFT
    assert (
        load_contracts(orjson.dumps(doc["contract"]), source=path.name).problems == []
    )  # as `piis-bridge validate`
    assert doc["overdracht"]["continuing_sanctions"][0]["remaining_days"] == 19
    assert [c["name"] for c in doc["overdracht"]["contacts"]] == ["D. Renard", "N. Simon"]


def test_an_item_that_is_not_a_draft_is_refused(tmp_path) -> None:
    host = _host(tmp_path, outgoing_drafts=True)
    item, draft = draft_item()
    bad = {
        **item.data,
        "draft_contract": draft.model_copy(update={"status": ContractStatus.SIGNED}).model_dump(
            mode="json"
        ),
    }
    (result,) = host.case_push("gent", [item.model_copy(update={"data": bad})])
    assert result.status == "failed" and "not a draft hand-over" in result.detail


def test_concurrent_writers_create_one_file(tmp_path) -> None:
    outcomes: list[bool] = []
    barrier = threading.Barrier(8)

    def write() -> None:
        barrier.wait()
        outcomes.append(write_draft_once(tmp_path, "transfer-draft:P", {"contract": {"n": 1}})[1])

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [False] * 7 + [True]
    assert [p.name for p in tmp_path.iterdir()] == [draft_path(tmp_path, "transfer-draft:P").name]


@pytest.mark.parametrize("outgoing", [False, True])
def test_the_transfer_plugin_hands_the_draft_to_a_file_drop(tmp_path, outgoing: bool) -> None:
    """Through the transfer plugin's draft sink: outgoing/ when enabled, else the review task in outbox/."""
    host = _host(tmp_path, outgoing_drafts=outgoing)
    package, draft = received_draft("sanction-history", GENT)
    item = draft_contract_item(draft, package)
    ref = draft_sink(host, "gent")(draft, package)
    outbox = Outbox(tmp_path / "drop" / "outbox")
    if outgoing:
        assert ref == f"draft_contract:{draft_path(tmp_path / 'drop' / 'outgoing', item.key).name}"
        assert outbox.count(f"transfer-received:{package.package_id}") == 0
    else:
        task_key = f"transfer-received:{package.package_id}"
        assert ref == f"task:{outbox.path_for(task_key).name}"
        task = orjson.loads(outbox.path_for(task_key).read_bytes())
        assert (
            task["contractnr"] == "INBOX-OVERDRACHT"
            and "outgoing_drafts = false" in task["omschrijving"]
        )
        assert PIISContract.model_validate(task["gegevens"]["draft_contract"]) == draft


def test_a_file_drop_cannot_serve_one_record_and_says_so(tmp_path) -> None:
    host = _host(tmp_path)
    with pytest.raises(PluginCallError, match="does not implement piis_case_fetch_record"):
        host.case_fetch_record("gent", "GPMI-0000001")
