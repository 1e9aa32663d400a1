"""Step 2: the simulator's behaviours (federal.md 10.5), over real HTTP through the real zeep client."""

from __future__ import annotations

from datetime import date, datetime

import httpx
import pytest
from piis_connectors.federal import dis

from .conftest import INS2, KBO, KBO2, b_fields, c_fields, d_fields, make_client, niss

SSIN = niss()


def online(client, kind, fields):
    [result] = client.submit_online(kind, [dis.build_form(kind, fields)])
    return result


def codes(result) -> list[str]:
    return [e.code for e in result.errors]


@pytest.fixture
def integrated(sim, client):
    client.manage_access(SSIN, "REGISTER", date(2010, 1, 1))
    return client


def test_wsdl_is_served_with_the_local_address(sim) -> None:
    text = httpx.get(sim.wsdl_url).text
    assert "sendXML" in text and f'location="{sim.endpoint}"' in text
    assert "http://ksz-bcss.fgov.be/connectors/WebServiceConnector/sendXML" in text


def test_integration_first_then_online_answer_with_controls(sim, client) -> None:
    refused = online(client, "B", b_fields("b-1", SSIN))
    assert refused.evaluation == "REFUSED" and codes(refused) == ["-300020"]
    regs = client.manage_access(SSIN, "REGISTER", date(2024, 1, 1))
    assert regs == [{"purpose": "2", "start": "2024-01-01", "end": ""}]
    accepted = online(client, "B", b_fields("b-2", SSIN))
    assert (
        accepted.evaluation == "ACCEPTED"
        and accepted.reference_spp
        and len(accepted.unique_attest_id) == 15
    )
    assert accepted.percentage == 6500 + 1000  # tier 65 % + 10 % PIIS (code 11)


def test_unregistered_integration_refuses_later_forms(sim, integrated) -> None:
    integrated.manage_access(SSIN, "UNREGISTER", date(2025, 2, 28))
    assert codes(online(integrated, "B", b_fields("b-1", SSIN))) == ["-300020"]


def test_bcss_controls_sender_niss_structure(sim, integrated) -> None:
    assert codes(online(integrated, "B", b_fields("b-1", "85073003300"))) == ["MSG00011"]
    other = make_client(sim, kbo="0403053608")  # not a registered CPAS
    from piis_connectors.federal.client import PermanentError

    with pytest.raises(PermanentError, match="-300010"):
        other.submit_online("B", [dis.build_form("B", b_fields("b-2", SSIN))])
    assert codes(online(integrated, "B", b_fields("b-3", SSIN, ins="99999"))) == ["GEN002"]
    assert codes(online(integrated, "B", b_fields("b-4", SSIN, dossier="123456789012"))) == [
        "GEN003"
    ]
    # leading zeros, dashes and blanks are ignored: 11 significant characters is the boundary
    assert (
        online(integrated, "B", b_fields("b-5", SSIN, dossier="000-1234567890/1")).evaluation
        == "ACCEPTED"
    )


@pytest.mark.parametrize(
    "category, piis, entry, code",
    [
        (4, 11, date(2025, 3, 1), "B00001"),
        (0, 11, date(2025, 3, 1), "B00001"),
        (2, 7, date(2025, 3, 1), "B00002"),  # old codes end on 31/10/2016
        (2, 12, date(2025, 3, 1), "B00002"),  # abolished from 1/10/2018
        (2, 17, date(2025, 3, 1), "B00002"),
        (2, 7, date(2016, 10, 31), "B00005"),  # valid code, but beyond the forfeiture delay
    ],
)
def test_form_b_code_controls(sim, integrated, category, piis, entry, code) -> None:
    assert code in codes(
        online(
            integrated,
            "B",
            b_fields("b-1", SSIN, Category=category, PiisApplicant=piis, entry=entry),
        )
    )


def test_piis_code_windows_at_their_boundaries(sim, integrated) -> None:
    sim.admin.set_clock(datetime(2018, 11, 1, 9))
    assert (
        online(
            integrated, "B", b_fields("b-1", SSIN, PiisApplicant=12, entry=date(2018, 9, 1))
        ).evaluation
        == "ACCEPTED"
    )
    assert codes(
        online(
            integrated,
            "B",
            b_fields("b-2", SSIN, PiisApplicant=12, entry=date(2018, 10, 1), NoticeStatus=0),
        )
    ) == ["B00002"]


def test_amount_above_the_legal_scale_is_a_warning_only(sim, integrated) -> None:
    r = online(integrated, "B", b_fields("b-1", SSIN, Category=1, MonthlyAmount=87614))
    assert r.evaluation == "ACCEPTED" and codes(r) == ["W00001"]


def test_duplicates_are_idempotent_and_same_content_new_reference_is_refused(
    sim, integrated
) -> None:
    first = online(integrated, "B", b_fields("b-1", SSIN))
    again = online(integrated, "B", b_fields("b-1", SSIN))
    assert again.evaluation == first.evaluation and again.reference_spp == first.reference_spp
    assert codes(again) == ["GEN004"]
    assert codes(online(integrated, "B", b_fields("b-2", SSIN))) == ["B00004"]
    forms = [f for f in sim.admin.forms() if f["client_ref"] == "b-1"]
    assert len(forms) == 1


def test_correction_replaces_the_earlier_b_entirely(sim, integrated) -> None:
    online(integrated, "B", b_fields("b-1", SSIN))
    assert codes(
        online(integrated, "B", b_fields("b-x", SSIN, entry=date(2025, 3, 2), NoticeStatus=1))
    ) == ["B00003"]
    corrected = online(
        integrated,
        "B",
        b_fields("b-2", SSIN, NoticeStatus=1, MonthlyAmount=100000, PiisApplicant=8),
    )
    assert (
        corrected.evaluation == "ACCEPTED" and corrected.percentage == 6500
    )  # code 8: no PIIS subsidy
    rows = {f["client_ref"]: f for f in sim.admin.forms()}
    assert rows["b-1"]["superseded_by"] == rows["b-2"]["id"]


def test_modification_and_form_c_end_the_running_b(sim, integrated) -> None:
    online(integrated, "B", b_fields("b-1", SSIN, entry=date(2025, 1, 1)))
    online(integrated, "B", b_fields("b-2", SSIN, entry=date(2025, 3, 1), MonthlyAmount=90000))
    assert codes(online(integrated, "C", c_fields("c-0", SSIN, entry=date(2024, 12, 1)))) == [
        "C00001"
    ]
    assert (
        online(integrated, "C", c_fields("c-1", SSIN, entry=date(2025, 4, 1))).evaluation
        == "ACCEPTED"
    )
    # after the C, a D for April has no B covering it; March is covered by the modification
    assert codes(
        online(
            integrated,
            "D",
            d_fields("d-1", SSIN, PeriodStart=date(2025, 4, 1), PeriodEnd=date(2025, 4, 5)),
        )
    ) == ["D00001"]
    assert online(integrated, "D", d_fields("d-2", SSIN)).evaluation == "ACCEPTED"
    # code 9 cancels the C: the B is valid again, so April can be recovered
    assert (
        online(
            integrated, "C", c_fields("c-2", SSIN, entry=date(2025, 4, 1), Regularisation="9")
        ).evaluation
        == "ACCEPTED"
    )
    assert (
        online(
            integrated,
            "D",
            d_fields(
                "d-3",
                SSIN,
                seq=2,
                PeriodStart=date(2025, 4, 1),
                PeriodEnd=date(2025, 4, 5),
                Amount=15000,
            ),
        ).evaluation
        == "ACCEPTED"
    )


def test_c_regularisation_and_cancellation_flag(sim, integrated) -> None:
    online(integrated, "B", b_fields("b-1", SSIN, entry=date(2025, 1, 1)))
    assert codes(
        online(integrated, "C", c_fields("c-1", SSIN, entry=date(2025, 3, 1), Regularisation="1"))
    ) == ["C00002"]
    online(integrated, "C", c_fields("c-2", SSIN, entry=date(2025, 3, 1)))
    assert (
        online(
            integrated, "C", c_fields("c-3", SSIN, entry=date(2025, 3, 15), Regularisation="1")
        ).evaluation
        == "ACCEPTED"
    )
    sim.admin.configure(allow_c_cancellation=False)
    assert codes(
        online(integrated, "C", c_fields("c-4", SSIN, entry=date(2025, 3, 15), Regularisation="9"))
    ) == ["C00003"]


def test_form_d_sequence_types_and_amounts(sim, integrated) -> None:
    assert codes(online(integrated, "D", d_fields("d-0", SSIN))) == ["D00001"]  # no B yet
    online(integrated, "B", b_fields("b-1", SSIN))
    assert codes(online(integrated, "D", d_fields("d-1", SSIN, seq=2))) == ["D00002"]
    assert online(integrated, "D", d_fields("d-2", SSIN, seq=1)).evaluation == "ACCEPTED"
    assert codes(online(integrated, "D", d_fields("d-3", SSIN, seq=1))) == ["D00002"]
    assert codes(online(integrated, "D", d_fields("d-4", SSIN, seq=2, RecoveryType="04"))) == [
        "D00003"
    ]
    assert codes(online(integrated, "D", d_fields("d-5", SSIN, seq=2, RecoveryType="02"))) == [
        "D00003"
    ]
    partial = online(integrated, "D", d_fields("d-6", SSIN, seq=2, Amount=120001))
    assert partial.evaluation == "PARTIALLYACCEPTED" and partial.accepted_amount == 120000
    full = online(integrated, "D", d_fields("d-7", SSIN, seq=3, RecoveryType="05", Amount=100))
    assert full.percentage == 10000
    # a new month starts again at 1; a correction reuses its number
    assert (
        online(integrated, "D", d_fields("d-8", SSIN, seq=1, RecoveryMonth="2025-05")).evaluation
        == "ACCEPTED"
    )
    assert (
        online(integrated, "D", d_fields("d-9", SSIN, seq=1, Correction="1", Amount=500)).evaluation
        == "ACCEPTED"
    )


def test_batch_ticket_then_results_later_and_sequential_per_dossier(sim, integrated) -> None:
    sim.admin.configure(batch_delay=0.6)
    ticket = integrated.submit_batch(
        [dis.build_form("B", b_fields("b-1", SSIN)), dis.build_form("D", d_fields("d-1", SSIN))]
    )
    assert ticket
    assert integrated.batch_result(ticket)[0] == "PENDING"
    assert integrated.status(["b-1"])["b-1"][0] == "PENDING"
    # an online form for the same dossier while the batch is pending: refused, resend later
    blocked = online(integrated, "D", d_fields("d-2", SSIN, seq=2))
    assert codes(blocked) == ["B00008"]
    results = {r.client_reference: r for r in integrated.wait_batch(ticket, timeout=10)}
    assert results["b-1"].evaluation == "ACCEPTED"
    assert results["d-1"].evaluation == "ACCEPTED"  # processed after its B, in arrival order
    assert integrated.batch_result("nope")[0] == "UNKNOWN"


def test_double_claim_between_two_cpas_is_blocked_and_both_are_told(sim, integrated) -> None:
    online(integrated, "B", b_fields("b-1", SSIN))
    other = make_client(sim, kbo=KBO2)
    other.manage_access(SSIN, "REGISTER", date(2024, 1, 1))
    second = online(other, "B", b_fields("x-1", SSIN, kbo=KBO2, ins=INS2, entry=date(2025, 3, 15)))
    assert second.evaluation == "BLOCKED" and codes(second) == ["B00007"]
    notices = sim.admin.notices()
    assert {n["kbo"] for n in notices if n["code"] == "B00007"} == {KBO, KBO2}
    other.close()


def test_national_register_mutations(sim, integrated) -> None:
    online(integrated, "B", b_fields("b-1", SSIN, entry=date(2025, 1, 1)))
    assert sim.admin.mutate(SSIN, "death", date(2025, 3, 10)) == 1
    assert codes(online(integrated, "B", b_fields("b-2", SSIN, entry=date(2025, 4, 1)))) == [
        "B00006"
    ]
    assert codes(online(integrated, "D", d_fields("d-1", SSIN, PeriodStart=date(2025, 3, 20)))) == [
        "D00001"
    ]
    replaced = niss(counter=35)
    sim.admin.mutate(replaced, "replaced", date(2025, 3, 1), new_ssin=SSIN)
    assert codes(online(integrated, "B", b_fields("b-3", replaced, dossier="Z9"))) == ["MSG00006"]


def test_monthly_statement_on_the_first_sunday_with_percentages(sim, integrated) -> None:
    online(integrated, "B", b_fields("b-1", SSIN, entry=date(2025, 3, 1)))  # received 10/04
    online(integrated, "D", d_fields("d-1", SSIN))
    sim.admin.set_clock(datetime(2025, 5, 3, 23, 59))  # Saturday
    assert integrated.statement("2025-04").available is False
    assert sim.admin.ebox_reception(KBO, "2025-04") is None
    sim.admin.set_clock(datetime(2025, 5, 4, 0, 0))  # first Sunday of May
    st = integrated.statement("2025-04")
    assert st.available
    by_type = {(line.amount_type, line.first_day): line for line in st.lines}
    assert by_type[(2, "2025-03-01")].amount == 120000  # arrears for March
    assert (
        by_type[(1, "2025-04-01")].amount == 120000
        and by_type[(1, "2025-04-01")].budget_article == "132"
    )
    assert by_type[(3, "2025-03-01")].sign == "-" and by_type[(3, "2025-03-01")].amount == 20000
    assert all(line.percentage == 7500 for line in st.lines)
    # frozen once generated
    assert integrated.statement("2025-04").lines == st.lines
    reception = sim.admin.ebox_reception(KBO, "2025-04").splitlines()
    assert reception[0].startswith("client_reference;") and len(reception) == 3
    assert reception[1].startswith("b-1;S") and reception[1].endswith(
        ";ACCEPTED;2025-04-10T09:00:00"
    )
    txt = sim.admin.ebox_statement(KBO, "2025-04")
    first = txt.splitlines()[0]
    assert (
        first.startswith("162063202504")
        and len(first) == 1 + 5 + 6 + 11 + 2 + 11 + 12 + 1 + 8 + 8 + 6 + 1 + 8 + 1 + 30
    )


def test_corrections_and_mutations_become_regularisations_in_the_next_statement(
    sim, integrated
) -> None:
    online(integrated, "B", b_fields("b-1", SSIN, entry=date(2025, 3, 1)))
    sim.admin.set_clock(datetime(2025, 5, 4))
    integrated.statement("2025-04")
    sim.admin.set_clock(datetime(2025, 5, 10))
    online(integrated, "B", b_fields("b-2", SSIN, NoticeStatus=1, MonthlyAmount=100000))
    sim.admin.mutate(SSIN, "death", date(2025, 5, 15))
    sim.admin.set_clock(datetime(2025, 6, 1))
    st = integrated.statement("2025-05")
    regs = [(line.amount_type, line.first_day, line.sign, line.amount) for line in st.lines]
    assert (4, "2025-03-01", "-", 20000) in regs and (4, "2025-04-01", "-", 20000) in regs
    assert (1, "2025-05-01", "+", round(100000 * 15 / 31)) in regs
    assert {n[0] for n in st.notices} == {"B00006"}


def test_state_survives_a_restart(sim, integrated) -> None:
    first = online(integrated, "B", b_fields("b-1", SSIN))
    sim.restart()
    client = make_client(sim)
    again = online(client, "B", b_fields("b-1", SSIN))
    assert again.reference_spp == first.reference_spp and codes(again) == ["GEN004"]
    assert sim.admin.clock() == "2025-04-10T09:00:00"
    client.close()


def test_tier_rates_are_dated(sim, integrated) -> None:
    sim.admin.register_cpas(
        KBO, "62063", "Liège", 5500, rates=[{"since": "2025-03-01", "rate": 7000}]
    )
    assert (
        online(integrated, "B", b_fields("b-1", SSIN, entry=date(2025, 2, 1))).percentage
        == 5500 + 1000
    )
    assert (
        online(integrated, "B", b_fields("b-2", SSIN, entry=date(2025, 3, 1))).percentage
        == 7000 + 1000
    )
    assert (
        online(
            integrated, "B", b_fields("b-3", SSIN, entry=date(2025, 4, 1), ForeignersRegister=True)
        ).percentage
        == 10000
    )
