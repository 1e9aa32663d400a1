"""Issue 18, class 13: the per-CPAS PIIS share projection (`rules share`) and the signing wave of the agenda
(`rules agenda --by-month`)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.rules.agenda import signing_wave
from piis_bridge.rules.share import ShareCounts, counts_from_contracts, project_share
from tests.rules._core import EXAMPLES, make, raw

runner = CliRunner()


@pytest.mark.parametrize(
    "with_piis, rate, more",
    [
        (599, 10.0, 1),
        (600, 12.5, 200),
        (799, 12.5, 1),
        (800, 15.0, None),
        (0, 5.0, 200),
        (199, 5.0, 1),
    ],
)
def test_tier_and_piis_to_the_next_tier(with_piis, rate, more):
    p = project_share(ShareCounts("62063", 2028, 1000, with_piis, 10_000_000))
    assert p.rate_percent == rate and p.more_piis_needed == more and p.regime == "announced"


def test_subsidy_difference_of_the_next_tier():
    p = project_share(ShareCounts("62063", 2028, 1000, 600, 10_000_000))
    assert p.subsidy_cents == 1_250_000  # 12.5% of EUR 100,000
    assert p.subsidy_next_tier_cents == 2_000_000  # 800 PIIS at the same average base, at 15%
    assert p.difference_cents == 750_000


def test_years_before_the_table_keep_the_flat_rate():
    p = project_share(ShareCounts("62063", 2027, 1000, 900, 10_000_000))
    assert p.regime == "flat" and p.rate_percent == 10.0 and p.more_piis_needed is None
    assert p.subsidy_cents == 1_000_000


def test_counts_are_checked():
    with pytest.raises(ValueError):
        ShareCounts("62063", 2028, 10, 11)


def test_counts_from_contract_files_never_show_a_niss():
    contracts = [make(n) for n in ("u25-employment-project", "studies")]
    counts = counts_from_contracts(contracts, "62063", 2026, on=date(2026, 11, 22))
    assert (counts.ri_beneficiaries, counts.with_piis) == (1, 1)
    assert counts.piis_ri_base_cents == 5 * 87613  # the subsidised months of 2026 so far
    assert raw("u25-employment-project")["beneficiary"]["niss"] not in repr(
        project_share(counts).as_dict()
    )


def test_cli_share_with_counts_and_json():
    result = runner.invoke(
        build_app(),
        [
            "rules",
            "share",
            "--cpas",
            "62063",
            "--beneficiaries",
            "1000",
            "--with-piis",
            "631",
            "--ri-base-cents",
            "10000000",
            "--on",
            "2027-06-01",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["format"] == "piis-bridge/piis-share"
    assert [y["year"] for y in body["years"]] == [2027, 2028]  # the current year and the next
    assert body["years"][1]["more_piis_needed"] == 169 and body["years"][1]["rate_percent"] == 12.5


def test_cli_share_from_files_and_errors():
    files = [str(p) for p in sorted(EXAMPLES.glob("*.json"))]
    result = runner.invoke(
        build_app(),
        ["rules", "share", "--cpas", "62063", *files, "--year", "2026", "--on", "2026-11-22"],
    )
    assert result.exit_code == 0, result.output and "62063" in result.stdout
    for f in files:
        assert (
            json.loads(Path(f).read_text())["contracts"][0]["beneficiary"]["niss"]
            not in result.stdout
        )
    assert runner.invoke(build_app(), ["rules", "share", "--cpas", "62063"]).exit_code == 2
    assert (
        runner.invoke(
            build_app(), ["rules", "share", "--cpas", "62063", "--beneficiaries", "5"]
        ).exit_code
        == 2
    )
    bad = runner.invoke(
        build_app(),
        ["rules", "share", "--cpas", "62063", "--beneficiaries", "5", "--with-piis", "6"],
    )
    assert bad.exit_code == 2


# --- the signing wave ------------------------------------------------------------------------------------------


def _unsigned(decision: str, handed: str | None = None, cid: str = "W-1"):
    def change(data):
        data["contract_id"] = cid
        data["decision"].update(
            decision_date=decision, request_date=decision, ri_start_date=decision
        )
        data["beneficiary"]["dis_history"] = [{"kind": "RI", "start_date": decision}]
        data["signatures"] = []
        data["status"] = "OFFERED"
        data["reflection"] = {"draft_handed_date": handed} if handed else None
        data["pre_signature_information"] = []

    return make("u25-employment-project", change)


def test_signing_wave_per_month():
    contracts = [
        _unsigned("2026-01-05", cid="A"),
        _unsigned("2026-01-20", "2026-04-10", cid="B"),
        _unsigned("2026-02-10", cid="C"),
        make("u25-employment-project"),
    ]  # the last one is signed
    months = signing_wave(contracts, date(2026, 4, 1), date(2026, 5, 31), on=date(2026, 4, 1))
    assert [(m.month.isoformat()[:7], m.must_sign, m.at_risk) for m in months] == [
        ("2026-04", 2, 1),
        ("2026-05", 1, 0),
    ]


@pytest.mark.parametrize("on, at_risk", [("2026-03-31", 0), ("2026-04-01", 1), ("2026-04-06", 1)])
def test_at_risk_when_the_reflection_period_no_longer_fits(on, at_risk):
    # deadline 2026-04-05 (decision 2026-01-05): a draft handed on D can be signed from D+5
    months = signing_wave(
        [_unsigned("2026-01-05")], date(2026, 4, 1), date(2026, 4, 30), on=date.fromisoformat(on)
    )
    assert months[0].at_risk == at_risk


def test_cli_agenda_by_month(tmp_path):
    path = tmp_path / "w.json"
    path.write_text(
        json.dumps(
            {
                "format": "piis-bridge/contracts",
                "schema_version": 1,
                "contracts": [_unsigned("2026-01-05").model_dump(mode="json")],
            }
        )
    )
    result = runner.invoke(
        build_app(),
        [
            "rules",
            "agenda",
            str(path),
            "--from",
            "2026-04-01",
            "--to",
            "2026-04-30",
            "--by-month",
            "--on",
            "2026-04-02",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["months"] == [
        {"month": "2026-04", "must_sign": 1, "at_risk": 1}
    ]
