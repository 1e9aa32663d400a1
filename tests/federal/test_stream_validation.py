"""The streamed batch path validates a whole chunk in one XSD pass; an invalid form in the chunk must still be
refused locally with its own rubric (never sent) while the valid forms of the same chunk go on."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from piis_plugins.federal.building import FormBuilder
from piis_plugins.federal.service import FederalService

from piis_bridge.forms import ContractEvent, FormStatus
from piis_bridge.hooks.types import CpasContext
from piis_bridge.ledger import Ledger
from piis_bridge.model import load_file

ROOT = Path(__file__).resolve().parents[2]
[STUDIES] = load_file(ROOT / "examples" / "studies.json").contracts
GENT_KBO, GENT_INS = str(STUDIES.cpas.bce), str(STUDIES.cpas.ins_code)


def _person(i: int) -> str:
    base = f"7502{(i % 28) + 1:02d}{i + 1:03d}"
    return f"{base}{97 - int(base) % 97:02d}"


def test_invalid_form_in_a_streamed_chunk_is_refused_alone_with_its_rubric(
    federal_simulator, tmp_path
) -> None:
    sim = federal_simulator
    sim.admin.register_cpas(GENT_KBO, GENT_INS, "OCMW Gent", 7000)
    sim.admin.set_clock(datetime(2025, 9, 10, 9))
    ctx = CpasContext(
        cpas_id="gent",
        name="OCMW Gent",
        ins_code=GENT_INS,
        bce=GENT_KBO,
        state_dir=tmp_path,
        settings={
            "endpoint": sim.endpoint,
            "operation_timeout": 5.0,
            "mode": "batch",
            "batch_size": 5,
        },
    )
    service = FederalService(ctx, Ledger.open(f"sqlite:///{tmp_path / 'app.sqlite3'}"))
    forms = []
    for i in range(5):
        c = STUDIES.model_copy(
            update={
                "contract_id": f"V{i}",
                "beneficiary": STUDIES.beneficiary.model_copy(update={"niss": _person(i)}),
            }
        )
        forms.append(FormBuilder().build("gent", c, ContractEvent.from_contract(c)))
    bad_niss = forms[2].niss
    forms[2] = forms[2].model_copy(
        update={"rubrics": {**forms[2].rubrics, "MonthlyAmount": 100_000_000}}
    )
    counts = service.submit_stream(iter(forms))
    assert counts["refused"] == 1 and counts["sent"] == counts["answered"] == 4
    assert service.ledger.counts("gent") == {"accepted": 4, "refused": 1}
    [refused] = service.ledger.with_status("gent", FormStatus.REFUSED)
    assert refused.niss == bad_niss and refused.errors[0]["code"] == "XSD"
    assert refused.errors[0]["rubric"].endswith("Maandbedrag leefloon")
    assert len(sim.admin.forms()) == 4 and bad_niss not in {f["ssin"] for f in sim.admin.forms()}
    # never sent, so never integrated either
    assert bad_niss not in service.ledger.integrations("gent", [bad_niss])
    service.client.close()


def test_a_streamed_correction_links_to_the_b_it_replaces(federal_simulator, tmp_path) -> None:
    """The stream records forms in bulk; a B with the same EntryDate as an accepted one but other data is a
    correction (statut de l'avis 1) and must stay linked to it, exactly as one form at a time: version 2,
    and the old version superseded once the correction is accepted (federal.md 5.7, 10.5.4)."""
    sim = federal_simulator
    sim.admin.register_cpas(GENT_KBO, GENT_INS, "OCMW Gent", 7000)
    sim.admin.set_clock(datetime(2025, 9, 10, 9))
    ctx = CpasContext(
        cpas_id="gent",
        name="OCMW Gent",
        ins_code=GENT_INS,
        bce=GENT_KBO,
        state_dir=tmp_path,
        settings={
            "endpoint": sim.endpoint,
            "operation_timeout": 5.0,
            "mode": "batch",
            "batch_size": 5,
        },
    )
    service = FederalService(ctx, Ledger.open(f"sqlite:///{tmp_path / 'app.sqlite3'}"))
    c = STUDIES.model_copy(
        update={
            "contract_id": "V9",
            "beneficiary": STUDIES.beneficiary.model_copy(update={"niss": _person(9)}),
        }
    )
    first = FormBuilder().build("gent", c, ContractEvent.from_contract(c))
    assert service.submit_stream(iter([first]))["answered"] == 1
    changed = first.model_copy(update={"rubrics": {**first.rubrics, "MonthlyAmount": 120_000}})
    assert service.submit_stream(iter([changed]))["answered"] == 1
    [old] = service.ledger.with_status("gent", FormStatus.SUPERSEDED)
    [new] = service.ledger.with_status("gent", FormStatus.ACCEPTED)
    assert (
        new.version == 2
        and new.supersedes_id == old.id
        and old.key == first.with_key().client_reference
    )
    assert [e.key for e in service.ledger.versions(new.key)] == [old.key, new.key]
    assert [f["state"] for f in sim.admin.forms()] == ["DONE", "DONE"]
    assert [f["superseded_by"] is not None for f in sim.admin.forms()] == [True, False]
    service.client.close()
