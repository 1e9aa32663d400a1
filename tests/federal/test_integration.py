"""NISS integration before the first form (federal.md 5.1, 10.5.1): the plugin integrates each NISS itself
(OCMWCPASManageAccess REGISTER, quality code 2) as a recorded, idempotent side effect; over real HTTP
against the simulator, which refuses forms for a NISS not integrated (-300020).  Nothing is pre-integrated
through the simulator's admin API here."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import structlog
from piis_plugins.federal.building import FormBuilder
from piis_plugins.federal.service import FederalService

from piis_bridge.forms import ContractEvent, EventKind, FormStatus, RecoveryInfo
from piis_bridge.hooks.types import CpasContext
from piis_bridge.ledger import Ledger
from piis_bridge.model import load_file

ROOT = Path(__file__).resolve().parents[2]
[STUDIES] = load_file(ROOT / "examples" / "studies.json").contracts
GENT_KBO, GENT_INS = str(STUDIES.cpas.bce), str(STUDIES.cpas.ins_code)
NISS = str(STUDIES.beneficiary.niss)
RI_START = STUDIES.decision.ri_start_date


class _Crash(BaseException):
    """Stands for the process dying at that exact point (not an Exception: nothing may swallow it)."""


@pytest.fixture
def sim(federal_simulator):
    federal_simulator.admin.register_cpas(GENT_KBO, GENT_INS, "OCMW Gent", 7000)
    federal_simulator.admin.set_clock(datetime(2025, 9, 10, 9))
    return federal_simulator


def _service(sim, tmp_path: Path, **settings) -> FederalService:
    ctx = CpasContext(
        cpas_id="gent",
        name="OCMW Gent",
        ins_code=GENT_INS,
        bce=GENT_KBO,
        state_dir=tmp_path,
        settings={
            "endpoint": sim.endpoint,
            "operation_timeout": 2.0,
            "retries": 1,
            "mode": "online",
            **settings,
        },
    )
    return FederalService(ctx, Ledger.open(f"sqlite:///{tmp_path / 'app.sqlite3'}"))


@pytest.fixture
def service(sim, tmp_path):
    svc = _service(sim, tmp_path)
    yield svc
    svc.client.close()


def _b(c=STUDIES, **event):
    ev = (
        ContractEvent.from_contract(c)
        if not event
        else ContractEvent(kind=EventKind.GRANT, **event)
    )
    return FormBuilder().build("gent", c, ev)


def _person(i: int) -> str:
    base = f"8001{(i % 28) + 1:02d}{i + 1:03d}"
    return f"{base}{97 - int(base) % 97:02d}"


def _calls(sim) -> dict[str, int]:
    return sim.admin.stats()["calls"]


def test_never_integrated_niss_is_integrated_once_then_its_form_is_accepted(sim, service) -> None:
    assert sim.admin.stats()["integrations"] == 0
    [out] = service.submit([_b()])
    assert out.status.value == "accepted"
    assert _calls(sim).get("manage_access_register") == 1
    # recorded: done, from the day the form needs (its EntryDate), keyed on CPAS + NISS
    assert service.ledger.integrations("gent", [NISS]) == {NISS: ("done", RI_START)}


def test_without_integration_the_simulator_refuses_the_form(sim, service) -> None:
    # the control the plugin now satisfies: the same form sent directly, without ManageAccess, is refused
    from piis_plugins.federal.building import to_element

    [result] = service.client.submit_online("B", [to_element(_b().with_key())])
    assert result.evaluation == "REFUSED" and [e.code for e in result.errors] == ["-300020"]


def test_second_form_for_the_same_niss_does_not_integrate_again(sim, service) -> None:
    service.submit([_b()])
    later = service.submit([_b(effective_date=date(2025, 9, 1), decision_date=date(2025, 8, 25))])
    rec = FormBuilder().build(
        "gent",
        STUDIES,
        ContractEvent(
            kind=EventKind.RECOVERY,
            recovery=RecoveryInfo(
                month=date(2025, 9, 1),
                recovery_type="01",
                period_start=date(2025, 8, 1),
                period_end=date(2025, 8, 31),
                amount_cents=5000,
            ),
        ),
    )
    outs = later + service.submit([rec])
    assert [o.status.value for o in outs] == ["accepted", "accepted"]
    assert _calls(sim).get("manage_access_register") == 1
    assert "manage_access_list" not in _calls(sim)


def test_a_form_dated_before_the_integration_extends_it(sim, service) -> None:
    service.submit([_b()])
    earlier = date(2025, 6, 1)
    [out] = service.submit([_b(effective_date=earlier, decision_date=date(2025, 5, 20))])
    assert "-300020" not in [i.code for i in out.issues]
    assert _calls(sim).get("manage_access_register") == 2
    assert service.ledger.integrations("gent", [NISS]) == {NISS: ("done", earlier)}


def test_batch_integrates_the_new_niss_of_each_chunk_in_one_message(sim, tmp_path) -> None:
    service = _service(sim, tmp_path, mode="batch", batch_size=7)
    messages = []
    real = service.client.manage_access_many
    service.client.manage_access_many = lambda action, starts, purpose=2: (
        messages.append((action, len(starts))),
        real(action, starts, purpose),
    )[1]
    people = [_person(i) for i in range(25)]
    contracts = [
        STUDIES.model_copy(
            update={
                "contract_id": f"S{i}",
                "beneficiary": STUDIES.beneficiary.model_copy(update={"niss": n}),
            }
        )
        for i, n in enumerate(people)
    ]
    counts = service.submit_stream(
        FormBuilder().build("gent", c, ContractEvent.from_contract(c)) for c in contracts
    )
    assert counts["sent"] == counts["answered"] == 25 and counts["held"] == 0
    assert service.ledger.counts("gent") == {"accepted": 25}
    assert messages == [("REGISTER", 7), ("REGISTER", 7), ("REGISTER", 7), ("REGISTER", 4)]
    assert _calls(sim)["manage_access_register"] == 25
    # the same people again (a modification each): no ManageAccess at all
    messages.clear()
    again = (
        FormBuilder().build(
            "gent",
            c,
            ContractEvent(
                kind=EventKind.GRANT,
                effective_date=date(2025, 9, 1),
                decision_date=date(2025, 8, 25),
            ),
        )
        for c in contracts
    )
    assert service.submit_stream(again)["answered"] == 25
    assert messages == [] and service.ledger.counts("gent")["accepted"] == 50
    service.client.close()


def test_crash_between_integration_and_form_does_not_integrate_twice(
    sim, service, tmp_path, monkeypatch
) -> None:
    def crash(*args, **kwargs):
        raise _Crash()

    monkeypatch.setattr(service.ledger, "mark_sent", crash)
    with pytest.raises(_Crash):
        service.submit([_b()])
    assert service.ledger.integrations("gent", [NISS]) == {NISS: ("done", RI_START)}
    assert sim.admin.forms() == []
    restarted = _service(sim, tmp_path)  # a new process: new ledger session factory, new client
    assert restarted.send_built() == 1
    assert restarted.ledger.counts("gent") == {"accepted": 1}
    assert _calls(sim).get("manage_access_register") == 1 and "manage_access_list" not in _calls(
        sim
    )
    restarted.client.close()


def test_crash_after_register_before_it_is_recorded_is_resolved_by_list(
    sim, service, tmp_path, monkeypatch
) -> None:
    def crash(*args, **kwargs):
        raise _Crash()

    monkeypatch.setattr(service.ledger, "integration_done", crash)
    with pytest.raises(_Crash):
        service.submit([_b()])
    assert service.ledger.integrations("gent", [NISS]) == {NISS: ("pending", RI_START)}
    restarted = _service(sim, tmp_path)
    restarted.send_built()
    assert restarted.ledger.counts("gent") == {"accepted": 1}
    calls = _calls(sim)
    assert (
        calls.get("manage_access_register") == 1 and calls.get("manage_access_list") == 1
    )  # asked, not resent
    assert restarted.ledger.integrations("gent", [NISS]) == {NISS: ("done", RI_START)}
    restarted.client.close()


def test_pending_integration_that_never_reached_the_bcss_is_registered_after_asking(
    sim, service
) -> None:
    # crash after the pending row was written, before the REGISTER left
    service.ledger.integration_pending("gent", {NISS: RI_START})
    [out] = service.submit([_b()])
    assert out.status.value == "accepted"
    calls = _calls(sim)
    assert calls.get("manage_access_list") == 1 and calls.get("manage_access_register") == 1


def test_timeout_on_register_is_resolved_by_list_not_by_registering_again(sim, service) -> None:
    sim.admin.inject_fault(
        "timeout", delay=3.0
    )  # the REGISTER is processed, its reply comes too late
    with structlog.testing.capture_logs() as logs:
        [out] = service.submit([_b()])
    assert out.status.value == "accepted"
    calls = _calls(sim)
    assert calls.get("manage_access_register") == 1 and calls.get("manage_access_list") == 1
    assert any("integration outcome unknown" in e["event"] for e in logs)
    assert NISS not in repr(logs)


def test_timeout_on_the_form_after_integration_is_resolved_by_status(sim, service) -> None:
    service.ensure_integrated({NISS: RI_START})
    sim.admin.inject_fault("timeout", delay=3.0)
    [out] = service.submit([_b()])
    assert out.status.value == "accepted" and len(sim.admin.forms()) == 1
    assert _calls(sim).get("manage_access_register") == 1


def test_refused_integration_holds_the_forms_back_and_logs_no_niss(sim, tmp_path) -> None:
    # a CPAS the BCSS does not know: the whole ManageAccess message is refused (-300010)
    ctx_service = _service(sim, tmp_path)
    ctx_service.cpas = ctx_service.cpas.model_copy(update={"bce": "0207446574"})
    ctx_service._client = None
    with structlog.testing.capture_logs() as logs:
        [out] = ctx_service.submit([_b()])
    assert out.status.value == "built" and sim.admin.forms() == []
    assert ctx_service.ledger.integrations("gent", [NISS]) == {NISS: ("pending", RI_START)}
    assert any("forms wait" in e["event"] for e in logs) and NISS not in repr(logs)
    ctx_service.client.close()


def test_niss_unregistered_meanwhile_is_integrated_again_after_the_refusal(sim, service) -> None:
    service.submit([_b()])
    service.client.manage_access(NISS, "UNREGISTER", date(2025, 8, 15))
    [refused] = service.submit(
        [_b(effective_date=date(2025, 9, 1), decision_date=date(2025, 8, 25))]
    )
    assert refused.status.value == "refused" and [i.code for i in refused.issues] == ["-300020"]
    assert (
        service.ledger.integrations("gent", [NISS]) == {}
    )  # forgotten: the next form integrates again
    [ok] = service.submit([_b(effective_date=date(2025, 9, 2), decision_date=date(2025, 8, 26))])
    assert ok.status.value == "accepted"
    assert _calls(sim)["manage_access_register"] == 2


# ---------------------------------------------------------------- batch mode: a new form is written once
def _ledger_writes(service) -> tuple[list[str], object]:
    """The INSERT/UPDATE statements of the form ledger issued on *service*'s ledger engine."""
    from sqlalchemy import event

    engine = service.ledger.sessions.kw["bind"]
    seen: list[str] = []

    def listen(conn, cursor, statement, *args) -> None:
        text = " ".join(statement.split())
        if "federal_form_ledger" in text.split(" WHERE ")[0] and text.startswith(
            ("INSERT", "UPDATE")
        ):
            seen.append(text[:60])

    event.listen(engine, "before_cursor_execute", listen)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listen)


def test_batch_records_a_new_form_sent_then_its_ticket_and_reads_nothing_back(
    sim, tmp_path
) -> None:
    """Batch mode: the new forms of a chunk are integrated, then recorded *sent* in one insert, sent,
    and given their ticket: two writes per form (no *built* row moved to *sent*), and the outcome is
    the one the send returned (PENDING with the ticket), not read back from the ledger."""
    service = _service(sim, tmp_path, mode="batch")
    people = [_person(i) for i in range(3)]
    forms = [
        _b(
            STUDIES.model_copy(
                update={
                    "contract_id": f"W{i}",
                    "beneficiary": STUDIES.beneficiary.model_copy(update={"niss": n}),
                }
            )
        )
        for i, n in enumerate(people)
    ]
    writes, stop = _ledger_writes(service)
    read_back = []
    service._outcomes_of = lambda keys: read_back.append(keys) or []  # type: ignore[method-assign]
    try:
        outs = service.submit(forms)
    finally:
        stop()
    assert [o.status.value for o in outs] == ["sent"] * 3 and len({o.ticket for o in outs}) == 1
    assert [o.evaluation.value for o in outs] == ["PENDING"] * 3 and read_back == []
    assert [w.split(" ")[0] for w in writes] == ["INSERT", "UPDATE"], writes  # rows, then ticket
    for o in outs:
        entry = service.ledger.get(o.client_reference)
        assert entry.status == "sent" and entry.ticket == o.ticket and entry.sent_at is not None
    # one ManageAccess message integrating the three NISS, one batch
    assert _calls(sim) == {"ssdn_messages": 2, "manage_access_register": 3}
    assert len(service.fetch_results(wait=10)) == 3
    assert service.ledger.counts("gent") == {"accepted": 3}
    service.client.close()


def test_batch_crash_after_recording_sent_before_the_call_sends_once_later(
    sim, tmp_path, monkeypatch
) -> None:
    """The process dies after the insert (*sent*, no ticket) and before the batch left: the next
    attempt asks the status (UNKNOWN), and only once the longest possible call is over does it move
    the form back to *built* and send it: exactly once."""
    quick = {"mode": "batch", "connect_timeout": 0.2, "operation_timeout": 0.2, "retries": 0}
    service = _service(sim, tmp_path, **quick)

    def crash(*args, **kwargs):
        raise _Crash()

    monkeypatch.setattr(service.client, "submit_batch", crash)
    with pytest.raises(_Crash):
        service.submit([_b()])
    [entry] = service.ledger.with_status("gent", FormStatus.SENT)
    assert entry.ticket is None and sim.admin.forms() == []
    restarted = _service(sim, tmp_path, **quick)
    import time

    time.sleep(0.5)  # past connect + operation timeout: the crashed call cannot be in flight
    [out] = restarted.submit([_b()])
    assert out.status.value == "sent" and out.ticket
    assert len(sim.admin.forms()) == 1
    [done] = restarted.fetch_results(wait=10)
    assert done.status.value == "accepted"
    assert _calls(sim).get("manage_access_register") == 1
    restarted.client.close()
    service.client.close()


def test_batch_crash_between_send_and_ticket_is_resolved_without_a_second_send(
    sim, tmp_path, monkeypatch
) -> None:
    service = _service(sim, tmp_path, mode="batch")

    def crash(*args, **kwargs):
        raise _Crash()

    monkeypatch.setattr(service.ledger, "set_ticket", crash)
    with pytest.raises(_Crash):
        service.submit([_b()])
    assert len(sim.admin.forms()) == 1
    restarted = _service(sim, tmp_path, mode="batch")
    sim.admin.configure(batch_delay=0.0)
    [out] = restarted.submit([_b()])
    # asked, not sent again: PENDING (left to collect) or already answered
    assert out.status.value in ("sent", "accepted") and len(sim.admin.forms()) == 1
    restarted.client.close()
    service.client.close()


def test_batch_refused_integration_holds_the_form_back_without_asking_again(sim, tmp_path) -> None:
    """Batch mode: a NISS the BCSS refuses to integrate leaves its new form *built* (never sent),
    and the same call does not try the integration a second time (no second REGISTER, no LIST)."""
    service = _service(sim, tmp_path, mode="batch")
    service.cpas = service.cpas.model_copy(update={"bce": "0207446574"})  # unknown to the BCSS
    service._client = None
    [out] = service.submit([_b()])
    assert out.status.value == "built" and sim.admin.forms() == []
    # one SSDN message: the refused REGISTER (the whole message, -300010), no LIST, no second try
    assert _calls(sim) == {"ssdn_messages": 1}
    service.client.close()
