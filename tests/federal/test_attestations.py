"""Multifunctional attestations (federal.md 5.6, 10.5.14): an accepted form B reaches the network after a
configurable delay in working days, never more than 7 days; queried through SIM.DIS.Attestations by a CPAS
that integrated the person, and through the admin API.  With the simulated clock, over real HTTP."""

from __future__ import annotations

from datetime import date, datetime

import httpx
import pytest
from piis_connectors.federal import dis
from piis_connectors.federal.client import PermanentError

from .conftest import KBO2, b_fields, c_fields, make_client, niss

SSIN = niss()


@pytest.fixture
def integrated(sim, client):
    client.manage_access(SSIN, "REGISTER", date(2020, 1, 1))
    return client


def _b(client, ref: str, **over):
    [result] = client.submit_online("B", [dis.build_form("B", b_fields(ref, SSIN, **over))])
    assert result.evaluation == "ACCEPTED", result.errors
    return result


def test_an_accepted_b_reaches_the_network_after_two_working_days(sim, integrated) -> None:
    b = _b(integrated, "b-1")  # Thursday 10 April 2025
    assert integrated.attestations(SSIN) == []
    [pending] = sim.admin.attestations(SSIN, include_pending=True)
    assert pending["available_on"] == "2025-04-14"  # Friday 11 = 1, Monday 14 = 2
    sim.admin.set_clock(datetime(2025, 4, 13, 23, 59))
    assert integrated.attestations(SSIN) == [] and sim.admin.attestations(SSIN) == []
    sim.admin.set_clock(datetime(2025, 4, 14, 0, 0))
    [att] = integrated.attestations(SSIN)
    assert att.attestation_id == b.unique_attest_id and len(att.attestation_id) == 15
    assert (att.status, att.valid_from, att.valid_to, att.category) == (
        "ACTIVE",
        "2025-03-01",
        None,
        "2",
    )
    assert (
        att.created_at == "2025-04-10T09:00:00"
        and att.available_from == "2025-04-14"
        and att.update_of is None
    )


def test_the_delay_counts_working_days_and_never_exceeds_seven_days(sim, integrated) -> None:
    sim.admin.configure(attestation_delay_days=3)
    sim.admin.set_clock(datetime(2025, 12, 22, 9))  # Monday; 25 December is a legal holiday
    _b(integrated, "b-1", entry=date(2025, 12, 1))
    assert sim.admin.attestations(SSIN, include_pending=True)[0]["available_on"] == "2025-12-26"
    sim.admin.configure(attestation_delay_days=5)  # 23, 24, 26, 29, 30 -> capped at 22 + 7 days
    _b(integrated, "b-2", entry=date(2025, 12, 15), dossier="D-0002")
    assert sim.admin.attestations(SSIN, include_pending=True)[1]["available_on"] == "2025-12-29"
    for bad in (8, -1):
        response = httpx.post(f"{sim.base_url}/admin/config", json={"attestation_delay_days": bad})
        assert response.status_code == 400


def test_a_correction_cancels_the_attestation_and_a_c_ends_its_validity(sim, integrated) -> None:
    sim.admin.configure(attestation_delay_days=0)
    first = _b(integrated, "b-1")
    second = _b(
        integrated, "b-2", NoticeStatus=1, MonthlyAmount=110000
    )  # correction, same EntryDate
    [c] = integrated.submit_online(
        "C", [dis.build_form("C", c_fields("c-1", SSIN, entry=date(2025, 6, 1)))]
    )
    assert c.evaluation == "ACCEPTED"
    old, new = integrated.attestations(SSIN)
    assert (old.attestation_id, old.status) == (first.unique_attest_id, "CANCELLED")
    assert (new.attestation_id, new.status, new.update_of) == (
        second.unique_attest_id,
        "ACTIVE",
        first.unique_attest_id,
    )
    assert new.valid_to == "2025-05-31"


def test_only_a_cpas_that_integrated_the_person_may_ask(sim, integrated) -> None:
    sim.admin.configure(attestation_delay_days=0)
    _b(integrated, "b-1")
    other = make_client(sim, kbo=KBO2)
    with pytest.raises(PermanentError, match="MSG00012"):
        other.attestations(SSIN)
    other.manage_access(SSIN, "REGISTER", date(2025, 1, 1))
    [att] = other.attestations(SSIN)  # the network sees the attestation another CPAS made available
    assert att.status == "ACTIVE" and att.kbo != KBO2
    other.close()
