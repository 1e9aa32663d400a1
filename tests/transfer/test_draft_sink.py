"""The transfer plugin's draft sink goes through ``piis_case_push`` only (it imports no case-system plugin):
a ``draft_contract`` item first, the review task when the case system answers it ``failed``, an error
when neither is taken (the service then keeps the draft and hands it over again later)."""

from __future__ import annotations

import ast
from pathlib import Path

import piis_plugins.transfer as transfer
import pytest
from piis_plugins.transfer.plugin import draft_sink

from piis_bridge.config import Settings
from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.hooks.types import ChangePage, MappingOutcome, PushItem, PushResult
from piis_bridge.model import ContractStatus, PIISContract
from piis_bridge.transfer import DraftHandover, TransferError
from tests.transfer._support import GENT, received_draft


class CaseSystem:
    """A case system that creates drafts, or not, and tasks, or not."""

    def __init__(self, drafts: bool, tasks: bool = True) -> None:
        self.drafts, self.tasks = drafts, tasks
        self.pushed: list[PushItem] = []

    @hookimpl
    def piis_case_fetch_changes(self, cpas, cursor, page_size):
        return ChangePage(records=[], cursor=None)

    @hookimpl
    def piis_case_map_record(self, cpas, record):
        return MappingOutcome(record_id=record.record_id, skip_reason="not used here")

    @hookimpl
    def piis_case_push(self, cpas, items):
        self.pushed += items
        results = []
        for item in items:
            ok = self.drafts if item.kind == "draft_contract" else self.tasks
            results.append(
                PushResult(key=item.key, status="created", remote_id=f"R{len(self.pushed)}")
                if ok
                else PushResult(key=item.key, status="failed", detail=f"no {item.kind} here")
            )
        return results


def _sink(tmp_path: Path, case_system: CaseSystem, inbox: str | None = "INBOX-1"):
    cpas = {
        "gent": {
            "name": GENT.name,
            "ins_code": GENT.ins_code,
            "bce": GENT.bce,
            "case_system": "vendor",
            "federal": None,
            "transfer": "transfer",
            "plugins": {"transfer": {"draft_record_id": inbox} if inbox else {}},
        }
    }
    host = PluginHost(
        Settings(cpas=cpas, state_dir=tmp_path / "state"),
        plugins=[("vendor", case_system), ("transfer", transfer)],
        load_entrypoints=False,
    )
    host.startup()
    return draft_sink(host, "gent")


def test_a_case_system_that_creates_drafts_gets_the_draft_contract(tmp_path) -> None:
    vendor = CaseSystem(drafts=True)
    package, draft = received_draft()
    assert _sink(tmp_path, vendor)(draft, package) == "draft_contract:R1"
    (item,) = vendor.pushed
    assert (item.kind, item.key, item.record_id) == (
        "draft_contract",
        f"transfer-draft:{package.package_id}",
        draft.contract_id,
    )
    handover = DraftHandover.model_validate(item.data)
    assert (
        handover.draft_contract == draft and handover.draft_contract.status is ContractStatus.DRAFT
    )
    assert (handover.sender, handover.package_id, handover.legal_end_date) == (
        package.sender,
        package.package_id,
        package.legal_end_date,
    )
    assert [s.remaining_days for s in handover.continuing_sanctions] == [19]  # R-SAN-10
    assert "R-TRF-06" in item.body


def test_a_case_system_without_drafts_gets_the_review_task_on_the_inbox(tmp_path) -> None:
    vendor = CaseSystem(drafts=False)
    package, draft = received_draft()
    assert _sink(tmp_path, vendor)(draft, package) == "task:R2"
    _, task = vendor.pushed
    assert (task.kind, task.record_id, task.key) == (
        "transfer_notice",
        "INBOX-1",
        f"transfer-received:{package.package_id}",
    )
    assert "no draft_contract here" in task.body
    assert PIISContract.model_validate(task.data["draft_contract"]) == draft


def test_without_an_inbox_the_task_goes_to_the_draft_id(tmp_path) -> None:
    vendor = CaseSystem(drafts=False)
    package, draft = received_draft()
    _sink(tmp_path, vendor, inbox=None)(draft, package)
    assert vendor.pushed[1].record_id == draft.contract_id


def test_neither_taken_raises_naming_both_reasons(tmp_path) -> None:
    vendor = CaseSystem(drafts=False, tasks=False)
    package, draft = received_draft()
    with pytest.raises(TransferError, match=r"no draft_contract here.*no transfer_notice here"):
        _sink(tmp_path, vendor)(draft, package)


def test_a_handover_is_never_an_active_contract() -> None:
    package, draft = received_draft()
    with pytest.raises(ValueError, match="never imported as an active contract"):
        DraftHandover(
            draft_contract=draft.model_copy(update={"status": ContractStatus.ACTIVE}),
            package_id=package.package_id,
            sender=package.sender,
            previous_contract_id="X",
            residence_change_date=package.residence_change_date,
            legal_end_date=package.legal_end_date,
        )


def test_the_transfer_plugin_imports_no_case_system_plugin() -> None:
    source = Path(transfer.__file__).parent
    imported = {
        node.module
        for path in source.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not {
        m
        for m in imported
        if m.startswith(
            (
                "piis_plugins.neptunus",
                "piis_plugins.filedrop",
                "piis_connectors.casesystem",
                "piis_connectors.filedrop",
            )
        )
    }
