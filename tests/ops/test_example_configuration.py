"""``piis-bridge.example.toml`` as shipped runs against the simulators' seed OCMWs (issue #14 item 3).

Only the two ports are changed (free ports instead of 8700/8765: the machine is shared); everything
else is the shipped file, loaded through ``load_settings`` like the CLI does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from piis_bridge.config import load_settings
from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.conftest import ROOT


def test_the_shipped_example_runs_against_the_simulators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
    from piis_connectors.federal.testing import start_running_simulator

    case = CaseSystemSimulator(
        SimulatorConfig(db_path=tmp_path / "neptunus.sqlite"), host="127.0.0.1", port=0
    )
    case.seed(200)  # what `piis-bridge sim casesystem` seeds by default
    case.start()
    federal = start_running_simulator(tmp_path / "novaprima.sqlite3")
    federal.admin.register_cpas(
        "0212345173", "44021", name="OCMW Gent"
    )  # sim federal --cpas "0212345173:44021:OCMW Gent"
    try:
        text = (Path(ROOT) / "piis-bridge.example.toml").read_text(encoding="utf-8")
        fed_port = federal.endpoint.split(":")[2].split("/")[0]
        text = text.replace("http://127.0.0.1:8700", case.url).replace(
            "127.0.0.1:8765", f"127.0.0.1:{fed_port}"
        )
        (tmp_path / "piis-bridge.toml").write_text(text, encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        for name in [n for n in __import__("os").environ if n.startswith("PIIS_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("PIIS_CPAS__GENT__PLUGINS__NEPTUNUS__CLIENT_SECRET", "geheim")
        settings = load_settings()
        summary = run_nightly(settings, options=PipelineOptions(collect_delay=0.5), timeout=240)
        gent = [
            cid for cid in case.store.ids() if case.store.get(cid)[3]["ocmw"]["kbo"] == "0212345173"
        ]
        c = summary.counts
        assert summary.status == "finished", summary
        assert (
            c["fetched"] == len(gent) > 0
        )  # Gent's dossiers only (ocmw_kbo); bruxelles' drop is empty
        assert c["forms"] > 0 and c.get("items_quarantined", 0) < len(gent)
        sent = {f["dossier"] for f in federal.admin.forms()}
        assert sent and sent <= {cid.replace("-", "") for cid in gent}
    finally:
        federal.stop()
        case.stop()
