"""Step 5: forms from the canonical model through mappings/federal, the plugin service against the running
simulator (ledger in the loop), reconciliation, hooks and CLI."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from piis_plugins.federal.building import (
    FormBuilder,
    piis_code,
    rubric_label,
    validate_form,
)
from piis_plugins.federal.service import FederalService

from piis_bridge.forms import (
    ContractEvent,
    DifferenceKind,
    EventKind,
    FormKind,
    FormStatus,
    RecoveryInfo,
)
from piis_bridge.hooks.types import CpasContext
from piis_bridge.ledger import Ledger
from piis_bridge.ledger.reconcile import reconcile
from piis_bridge.model import load_file

ROOT = Path(__file__).resolve().parents[2]


def contract(name: str = "studies.json"):
    [c] = load_file(ROOT / "examples" / name).contracts
    return c


STUDIES = contract()
GENT_KBO, GENT_INS = str(STUDIES.cpas.bce), str(STUDIES.cpas.ins_code)


def test_form_b_from_the_canonical_contract() -> None:
    form = FormBuilder().build("gent", STUDIES, ContractEvent.from_contract(STUDIES))
    assert form.kind is FormKind.B and form.entry_date == STUDIES.decision.ri_start_date
    assert form.rubrics["Category"] == "2" and form.rubrics["MonthlyAmount"] == 131420
    assert form.rubrics["PiisApplicant"] == 9  # full-time studies
    assert form.dossier == "GNT-2025-0877" and form.niss == str(STUDIES.beneficiary.niss)
    assert validate_form(form.with_key()) == []


@pytest.mark.parametrize(
    "tags, status, on, expected",
    [
        (["GENERAL"], "ACTIVE", date(2025, 1, 1), 11),
        (["GENERAL"], "ACTIVE", date(2016, 10, 31), 7),
        (["COMMUNITY_SERVICE"], "ACTIVE", date(2018, 9, 30), 12),
        (["COMMUNITY_SERVICE"], "ACTIVE", date(2018, 10, 1), 11),
        (["STUDIES_FULLTIME"], "ACTIVE", date(2025, 1, 1), 9),
        (["GENERAL"], "DRAFT", date(2025, 1, 1), None),
    ],
)
def test_piis_code_rules_and_validity_windows(tags, status, on, expected) -> None:
    c = STUDIES.model_copy(update={"form_tags": tags, "status": status})
    assert piis_code(c, "applicant", on) == expected
    assert piis_code(c, "partner", on) is None  # no partner


def test_form_c_and_d_from_events() -> None:
    end = ContractEvent(
        kind=EventKind.END, effective_date=date(2025, 12, 1), decision_date=date(2025, 11, 20)
    )
    c = FormBuilder().build("gent", STUDIES, end)
    assert (
        c.kind is FormKind.C
        and c.rubrics["DecisionNature"] == "2"
        and c.entry_date == date(2025, 12, 1)
    )
    ended = STUDIES.model_copy(
        update={"decision": STUDIES.decision.model_copy(update={"ri_end_date": date(2025, 11, 30)})}
    )
    assert ContractEvent.from_contract(ended).kind is EventKind.END
    rec = ContractEvent(
        kind=EventKind.RECOVERY,
        recovery=RecoveryInfo(
            month=date(2025, 9, 1),
            recovery_type="01",
            period_start=date(2025, 8, 1),
            period_end=date(2025, 8, 31),
            amount_cents=5000,
        ),
    )
    d = FormBuilder().build("gent", STUDIES, rec)
    assert (
        d.kind is FormKind.D
        and d.recovery_month == date(2025, 9, 1)
        and d.rubrics["Amount"] == 5000
    )
    assert validate_form(d.model_copy(update={"sequence_number": 1}).with_key()) == []


def test_invalid_form_is_reported_with_its_rubric() -> None:
    form = FormBuilder().build("gent", STUDIES, ContractEvent.from_contract(STUDIES))
    bad = form.model_copy(update={"rubrics": {**form.rubrics, "Category": "12"}}).with_key()
    [issue] = validate_form(bad)
    assert issue.field == "Category" and issue.rubric == rubric_label("B", "Category")
    assert issue.rubric.startswith("11 Catégorie du bénéficiaire")


# ---------------------------------------------------------------------------------------- with the simulator


@pytest.fixture
def gent(federal_simulator, tmp_path):
    sim = federal_simulator
    sim.admin.register_cpas(GENT_KBO, GENT_INS, "OCMW Gent", 7000)
    sim.admin.set_clock(datetime(2025, 9, 10, 9))
    sim.admin.integrate(GENT_KBO, str(STUDIES.beneficiary.niss), start="2025-01-01")
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
            "mode": "batch",
        },
    )
    service = FederalService(ctx, Ledger.open(f"sqlite:///{tmp_path / 'app.sqlite3'}"))
    yield sim, service
    service.client.close()


def _b(c=STUDIES, **event):
    ev = (
        ContractEvent.from_contract(c)
        if not event
        else ContractEvent(kind=EventKind.GRANT, **event)
    )
    return FormBuilder().build("gent", c, ev)


def test_batch_submission_through_the_ledger(gent) -> None:
    sim, service = gent
    [pending] = service.submit([_b()])
    assert pending.status.value == "sent" and pending.evaluation.value == "PENDING"
    assert service.ledger.get(pending.client_reference).ticket
    [done] = service.fetch_results(wait=10)
    assert done.evaluation.value == "ACCEPTED" and done.percentage == 7000 + 1000
    entry = service.ledger.get(pending.client_reference)
    assert (
        entry.status == "accepted"
        and entry.reference
        and entry.received_at == datetime(2025, 9, 10, 9)
    )
    # nothing is sent twice: the same contract again is the same form
    again = service.submit([_b()])
    assert (
        again[0].client_reference == pending.client_reference
        and again[0].status.value == "accepted"
    )
    assert len(sim.admin.forms()) == 1


def test_changed_data_same_entry_date_becomes_a_correction(gent) -> None:
    sim, service = gent
    [first] = service.submit([_b()], mode="online")
    assert first.status.value == "accepted"
    changed = STUDIES.model_copy(
        update={"decision": STUDIES.decision.model_copy(update={"ri_amount_monthly_cents": 100000})}
    )
    [corr] = service.submit([_b(changed)], mode="online")
    assert corr.status.value == "accepted"
    versions = service.ledger.versions(corr.client_reference)
    assert [v.status for v in versions] == ["superseded", "accepted"] and versions[1].version == 2
    assert FormKind.B and '"correction":true' in versions[1].payload
    rows = {f["client_ref"]: f for f in sim.admin.forms()}
    assert rows[first.client_reference]["superseded_by"] == rows[corr.client_reference]["id"]


def test_refused_form_is_corrected_as_a_new_linked_version(gent) -> None:
    sim, service = gent
    sim.admin.integrate(
        GENT_KBO, str(STUDIES.beneficiary.niss), start="2025-09-01"
    )  # later than the RI start
    wrong = STUDIES.model_copy(
        update={"decision": STUDIES.decision.model_copy(update={"ri_start_date": date(2025, 7, 1)})}
    )
    # integration from 2025-01-01 is still there; a category the federal side refuses:
    wrong = wrong.model_copy(
        update={"decision": wrong.decision.model_copy(update={"ri_amount_monthly_cents": 1000})}
    )
    form = _b(wrong)
    form = form.model_copy(
        update={"rubrics": {**form.rubrics, "PiisApplicant": 12}}
    )  # abolished code: B00002
    [refused] = service.submit([form], mode="online")
    assert refused.status.value == "refused" and refused.issues[0].code == "B00002"
    assert refused.issues[0].rubric.startswith("? PIIS : demandeur")
    fixed = form.model_copy(
        update={
            "rubrics": {**form.rubrics, "PiisApplicant": 9},
            "supersedes": refused.client_reference,
        }
    )
    [ok] = service.submit([fixed], mode="online")
    assert ok.status.value == "accepted"
    assert [v.status for v in service.ledger.versions(ok.client_reference)] == [
        "superseded",
        "accepted",
    ]


def test_locally_invalid_form_never_leaves(gent) -> None:
    sim, service = gent
    form = _b()
    bad = form.model_copy(update={"rubrics": {**form.rubrics, "MonthlyAmount": 100_000_000}})
    [out] = service.submit([bad])
    assert out.status.value == "refused" and out.issues[0].code == "XSD"
    assert out.issues[0].rubric.endswith("Maandbedrag leefloon")
    assert sim.admin.forms() == []


def test_timeout_after_sending_is_resolved_by_status_without_a_duplicate(gent) -> None:
    sim, service = gent
    sim.admin.inject_fault("timeout", delay=3.0)
    [out] = service.submit([_b()], mode="online")
    # the reply never came in time; the status call told us the form had been processed
    assert out.status.value == "accepted" and out.reference
    assert len(sim.admin.forms()) == 1
    assert service.send_built() == 0  # nothing left to (re)send


def _september_recovery(amount: int):
    """A form D recovering *amount* cents of August 2025 from the STUDIES contract, in September."""
    return FormBuilder().build(
        "gent",
        STUDIES,
        ContractEvent(
            kind=EventKind.RECOVERY,
            recovery=RecoveryInfo(
                month=date(2025, 9, 1),
                recovery_type="01",
                period_start=date(2025, 8, 1),
                period_end=date(2025, 8, 31),
                amount_cents=amount,
            ),
        ),
    )


def test_d_sequence_numbers_come_from_the_ledger(gent) -> None:
    _sim, service = gent
    service.submit([_b()], mode="online")

    outs = service.submit([_september_recovery(5000), _september_recovery(6000)], mode="online")
    assert [o.status.value for o in outs] == ["accepted", "accepted"]
    assert sorted(service.ledger.get(o.client_reference).period_key for o in outs) == [
        "2025-09/1",
        "2025-09/2",
    ]


def test_statement_is_reconciled_and_every_difference_reported(gent) -> None:
    sim, service = gent
    [b] = service.submit([_b()], mode="online")
    # a form the ledger never saw (sent by another tool): must show up as a difference
    from piis_connectors.federal import dis

    other = "05093020265"
    stranger = service.client.submit_online(
        "D",
        [
            dis.build_form(
                "D",
                dict(
                    ClientReference="foreign-1",
                    CpasName="Gent",
                    InsCode=GENT_INS,
                    KBOBCE=GENT_KBO,
                    SSIN=other,
                    Dossier="GNT-2025-0877",
                    RecoveryMonth="2025-09",
                    SequenceNumber=1,
                    RecoveryType="01",
                    PeriodStart=date(2025, 8, 1),
                    PeriodEnd=date(2025, 8, 31),
                    Amount=1000,
                    Correction="0",
                ),
            )
        ],
    )
    assert stranger[0].evaluation in ("ACCEPTED", "REFUSED")
    sim.admin.mutate(
        str(STUDIES.beneficiary.niss),
        "move",
        date(2025, 9, 15),
        new_ins="21004",
        new_municipality="Anderlecht",
    )
    assert service.statement(date(2025, 9, 1)) is None
    sim.admin.set_clock(datetime(2025, 10, 5, 0, 0))  # first Sunday of October
    st = service.statement(date(2025, 9, 1))
    assert st is not None and st.lines
    diffs = reconcile(st, service.ledger, "gent")
    kinds = {d.kind for d in diffs}
    assert DifferenceKind.NOTICE in kinds
    assert not [
        d
        for d in diffs
        if d.client_reference == b.client_reference and d.kind is not DifferenceKind.NOTICE
    ]
    # tamper with the ledger: expected monthly amount differs -> AMOUNT_MISMATCH; a missing line -> MISSING
    with service.ledger.sessions() as s:
        from piis_bridge.ledger import FormEntry

        entry = s.query(FormEntry).filter_by(key=b.client_reference).one()
        entry.amount = 1
        s.commit()
    diffs = reconcile(st, service.ledger, "gent")
    assert DifferenceKind.AMOUNT_MISMATCH in {d.kind for d in diffs}
    lonely = st.model_copy(update={"lines": []})
    assert DifferenceKind.MISSING_IN_STATEMENT in {
        d.kind for d in reconcile(lonely, service.ledger, "gent")
    }
    unknown_line = st.lines[0].model_copy(update={"client_reference": "never-sent"})
    assert DifferenceKind.UNKNOWN_IN_LEDGER in {
        d.kind
        for d in reconcile(st.model_copy(update={"lines": [unknown_line]}), service.ledger, "gent")
    }


def test_plugin_hooks_are_the_plugin_object_s_methods(gent) -> None:
    import piis_plugins.federal

    plugin = piis_plugins.federal.make_plugin()
    _sim, service = gent
    forms = plugin.piis_federal_build_forms(
        service.cpas, STUDIES, ContractEvent.from_contract(STUDIES)
    )
    assert [f.kind for f in forms] == [FormKind.B]
    assert plugin.piis_plugin_settings()(endpoint="http://127.0.0.1:1/x").mode == "batch"
    assert {p.name for p in plugin.piis_mapping_files()} >= {"form_b.yaml", "rubrics.yaml"}


def test_ledger_goes_to_the_application_database_learnt_at_startup(tmp_path) -> None:
    import piis_plugins.federal

    plugin = piis_plugins.federal.make_plugin()

    class _Config:
        database_url = f"sqlite:///{tmp_path / 'app.sqlite3'}"

    ctx = CpasContext(
        cpas_id="gent",
        name="OCMW Gent",
        ins_code=GENT_INS,
        bce=GENT_KBO,
        state_dir=tmp_path,
        settings={},
    )
    plugin.piis_startup(_Config())
    assert plugin.database_url(ctx) == _Config.database_url
    assert (
        plugin.database_url(ctx.model_copy(update={"settings": {"database_url": "sqlite:///x"}}))
        == "sqlite:///x"
    )
    assert piis_plugins.federal.make_plugin().database_url(ctx) != _Config.database_url


def test_submit_stream_overlaps_chunks_and_answers_everything(gent) -> None:
    sim, service = gent
    service.settings.batch_size = 7
    template = STUDIES
    people = []
    for i in range(25):
        base = f"8001{(i % 28) + 1:02d}{i + 1:03d}"
        people.append(f"{base}{97 - int(base) % 97:02d}")
    for n in people:
        sim.admin.integrate(GENT_KBO, n, start="2025-01-01")
    contracts = (
        template.model_copy(
            update={
                "contract_id": f"S{i}",
                "beneficiary": template.beneficiary.model_copy(update={"niss": n}),
            }
        )
        for i, n in enumerate(people)
    )
    counts = service.submit_stream(
        FormBuilder().build("gent", c, ContractEvent.from_contract(c)) for c in contracts
    )
    assert counts["recorded"] == counts["sent"] == counts["answered"] == 25
    assert service.ledger.counts("gent") == {"accepted": 25}
    assert len({f["ticket"] for f in sim.admin.forms()}) == 4  # 7 + 7 + 7 + 4


def test_several_recoveries_of_one_month_in_one_stream_get_consecutive_numbers(gent) -> None:
    _sim, service = gent
    service.submit([_b()], mode="online")

    counts = service.submit_stream(
        [_september_recovery(100), _september_recovery(200), _september_recovery(300)]
    )
    assert counts["answered"] == 3
    entries = [
        e
        for chunk in service.ledger.iter_with_status("gent", FormStatus.ACCEPTED)
        for e in chunk
        if e.kind == "D"
    ]
    assert sorted(e.period_key for e in entries) == ["2025-09/1", "2025-09/2", "2025-09/3"]


def test_modification_is_a_new_b_at_a_later_date_with_all_data(gent) -> None:
    _sim, service = gent
    [first] = service.submit([_b()], mode="online")
    later = STUDIES.model_copy(
        update={"decision": STUDIES.decision.model_copy(update={"ri_amount_monthly_cents": 90000})}
    )
    change = ContractEvent(kind=EventKind.CHANGE, effective_date=date(2025, 9, 1))
    form = FormBuilder().build("gent", later, change)
    assert (
        form.entry_date == date(2025, 9, 1) and form.rubrics["Category"] == "2"
    )  # all data repeated
    [mod] = service.submit([form], mode="online")
    assert mod.status.value == "accepted" and mod.client_reference != first.client_reference
    assert (
        service.ledger.get(first.client_reference).status == "accepted"
    )  # not a correction: both live
    assert '"correction":false' in service.ledger.get(mod.client_reference).payload


def test_results_of_several_tickets_reach_the_ledger_in_one_write(gent, monkeypatch) -> None:
    """A collect asks for several tickets at once: their answers are stored together (one ledger write,
    not one per ticket), each on its own form with its own ticket."""
    sim, service = gent
    people = []
    for i in range(3):
        base = f"8102{i + 1:02d}{i + 1:03d}"
        people.append(f"{base}{97 - int(base) % 97:02d}")
    for n in people:
        sim.admin.integrate(GENT_KBO, n, start="2025-01-01")
    tickets = []
    for i, n in enumerate(people):
        c = STUDIES.model_copy(
            update={
                "contract_id": f"T{i}",
                "beneficiary": STUDIES.beneficiary.model_copy(update={"niss": n}),
            }
        )
        [sent] = service.submit([FormBuilder().build("gent", c, ContractEvent.from_contract(c))])
        tickets.append(sent.ticket)
    for ticket in tickets:
        service.client.wait_batch(ticket, timeout=10)
    writes: list[int] = []
    apply = service.ledger.apply
    monkeypatch.setattr(service.ledger, "apply", lambda o: writes.append(len(o)) or apply(o))
    outcomes = service.fetch_results(tickets)
    assert writes == [3] and len({o.ticket for o in outcomes}) == 3
    assert service.ledger.counts("gent") == {"accepted": 3}
    for o in outcomes:
        assert service.ledger.get(o.client_reference).ticket == o.ticket
