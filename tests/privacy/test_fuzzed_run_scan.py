"""Proof: a fuzzed nightly run leaks no NISS.

An embedded nightly run (real worker subprocess at DEBUG, real simulators) reads two CPAS: one
from the vendor REST simulator, one from a file drop.  Hostile records carry NISS numbers in odd
writings (slashes, several spaces, non-breaking spaces, full-width digits), in wrong columns and
inside record ids (``GPMI-<NISS>``).  Then every log line (parent and worker, captured at the file
descriptor level), the CLI output of ``quarantine list``/``quarantine show``/``runs show``/``runs
list`` and the quarantine and run-report text in the database are scanned with python-stdnum
(tests/privacy/niss_scan.py).  The count must be 0.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from piis_bridge.config import Settings
from piis_bridge.pipeline import PipelineOptions, run_nightly
from tests.pipeline.realworld import real_cpas
from tests.privacy.niss_scan import find_niss

pytestmark = pytest.mark.slow

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def writings(niss: str) -> list[str]:
    a, b, c, d, e = niss[:2], niss[2:4], niss[4:6], niss[6:9], niss[9:]
    return [
        niss,
        f"{a}.{b}.{c}-{d}.{e}",
        f"{a}/{b}/{c}/{d}/{e}",
        f"{a}  {b}  {c}  {d}  {e}",
        f"{a}\u00a0{b}\u00a0{c}\u00a0{d}\u00a0{e}",
        niss.translate(FULLWIDTH),
        f"{a}{b}{c} {d} / {e}",
        f"{a}-{b}-{c} {d}\u202f{e}",
    ]


def hostile(docs: list[dict], rng: random.Random) -> list[tuple[str, dict]]:
    """(contract id, document) pairs: each a way a NISS can sneak into operator-facing text."""
    out = []
    for i, doc in enumerate(docs):
        doc = copy.deepcopy(doc)
        niss = doc["client"]["rijksregisternummer"]
        w = rng.choice(writings(niss))
        kind = i % 8
        cid = doc["contractnummer"]
        if kind == 0:
            cid = f"GPMI-{niss}"
        elif kind == 1:
            cid = f"GPMI-{w}"
        elif kind == 2:
            doc["client"]["rijksregisternummer"] = w  # accepted writing, normalised
        elif kind == 3:
            doc["startdatum"] = w  # NISS shifted into a date column
        elif kind == 4:
            doc["domeinen"] = [*doc["domeinen"], w]  # into a code list
        elif kind == 5:
            doc["leefloon"]["bedrag_maand"] = w  # into an amount
        elif kind == 6:
            doc["client"]["rijksregisternummer"] = niss[:-1] + str(
                (int(niss[-1]) + 1) % 10
            )  # bad check
            cid = f"GPMI-{w}"
        else:
            doc["client"]["naam"] = f"Peeters {w}"
            doc["einddatum"] = w
        doc["contractnummer"] = cid
        out.append((cid, doc))
    return out


@pytest.fixture
def world(tmp_path: Path):
    from piis_connectors.casesystem.seed import OCMWS, generate
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
    from piis_connectors.federal.testing import start_running_simulator

    case = CaseSystemSimulator(
        SimulatorConfig(db_path=tmp_path / "neptunus.sqlite"), host="127.0.0.1", port=0
    )
    case.seed(40)
    kbo, ins, name = OCMWS[0]
    rng = random.Random(13)
    contracts = [c for c in generate(120, 7) if c.ocmw == kbo][:48]
    for cid, doc in hostile([c.data for c in contracts], rng):
        case.store.put(cid, doc, dossier=doc["dossiernummer"], ocmw=kbo)
    case.start()
    federal = start_running_simulator(tmp_path / "novaprima.sqlite3")
    federal.admin.register_cpas(kbo, ins, name=name)
    nisses = sorted(
        {c.data["client"]["rijksregisternummer"] for c in generate(120, 7) if c.ocmw == kbo}
    )
    federal.admin.integrate_many(kbo, nisses)
    try:
        yield case, federal, (kbo, ins, name), contracts
    finally:
        federal.stop()
        case.stop()


def _drop_files(drop: Path, contracts: list, rng: random.Random) -> None:
    from piis_connectors.filedrop.samples import CSV_COLUMNS, csv_row, write_csv

    rows = []
    for _cid, doc in hostile([c.data for c in contracts], rng):
        extra = [
            d
            for d in doc["domeinen"]
            if d
            not in {
                "WERK",
                "OPLEID",
                "WONEN",
                "GEZOND",
                "FIN",
                "ADMIN",
                "SOCNET",
                "MOBIL",
                "VRIJE",
                "KIND",
                "JUR",
                "INKOM",
            }
        ]
        doc["domeinen"] = [d for d in doc["domeinen"] if d not in extra]
        row = csv_row(doc)
        if extra:
            row["domeinen"] += "," + extra[0]
        rows.append(row)
    # One row shifted by a column (a ';' in a name): the NISS lands in the 'naam' column.
    shifted = dict(rows[3])
    for a, b in zip(CSV_COLUMNS[3:], CSV_COLUMNS[2:], strict=False):
        shifted[a] = rows[3][b]
    rows.append(shifted)
    (drop / "incoming").mkdir(parents=True, exist_ok=True)
    write_csv(drop / "incoming" / "nacht.csv", rows, encoding="utf-8")
    # A row with too many fields (its raw text holds a NISS) and an XML export with NISS ids.
    raw = (drop / "incoming" / "nacht.csv").read_text(encoding="utf-8")
    niss = contracts[0].data["client"]["rijksregisternummer"]
    (drop / "incoming" / "extra.csv").write_text(
        raw.splitlines()[0]
        + "\r\n"
        + f"GPMI-{niss};x;{niss[:2]} {niss[2:]};;;;;;;;;;;;;;;;;;;;;;;;;;;extra\r\n",
        encoding="utf-8",
    )


def test_fuzzed_nightly_run_shows_no_niss_anywhere(
    tmp_path: Path, world, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging
    import sys

    from piis_bridge.logging import configure_logging

    case, federal, (kbo, ins, name), contracts = world
    drop = tmp_path / "drop"
    _drop_files(drop, contracts, random.Random(14))
    settings = Settings.model_validate(
        {
            "database_url": f"sqlite:///{tmp_path}/app.sqlite3",
            "result_backend": f"db+sqlite:///{tmp_path}/results.sqlite3",
            "state_dir": str(tmp_path / "state"),
            "log_level": "DEBUG",
            "log_format": "json",
            "plugins": {"enabled": ["neptunus", "federal", "filedrop"]},
            "cpas": {
                "gent": real_cpas(case.url, federal.endpoint, kbo, ins, name),
                "drop": {
                    "name": name,
                    "ins_code": ins,
                    "bce": kbo,
                    "case_system": "filedrop",
                    "federal": "federal",
                    "transfer": None,
                    "plugins": {
                        "filedrop": {"directory": str(drop), "settle_seconds": 0},
                        "federal": {"endpoint": federal.endpoint, "mode": "batch"},
                    },
                },
            },
        }
    )
    # Observability (issue 16) sees the same hostile run: spans go to a loopback OTLP receiver.
    from tests.observability.test_tracing import OtlpReceiver

    receiver = OtlpReceiver()
    settings = settings.model_copy(
        update={
            "monitoring": settings.monitoring.model_copy(update={"tracing_endpoint": receiver.url})
        }
    )
    configure_logging("json", level=logging.DEBUG, stream=sys.stderr)
    try:
        summary = run_nightly(
            settings,
            options=PipelineOptions(broker_dir=tmp_path / "broker", collect_delay=0.5),
            timeout=180,
        )
    finally:
        receiver.close()
    assert summary.status == "finished", summary
    c = summary.counts
    assert c["fetched"] >= 60 and c["items_quarantined"] >= 20, (
        c
    )  # the hostile records did reach quarantine

    # The operator's commands, exactly as shipped (stdout/stderr at the descriptor level).
    from piis_bridge.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PIIS_DATABASE_URL", settings.database_url)
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        entry_ids = [r[0] for r in conn.execute(text("SELECT id FROM sync_quarantine"))]
        # The operator-facing text columns.  record_id itself is the vendor's key, kept as given so
        # that replays and look-ups work (docs/privacy.md says so); it is masked wherever shown.
        db_texts = [
            f"{r} {p}"
            for r, p in conn.execute(text("SELECT reason, problems FROM sync_quarantine"))
        ]
        db_texts += [
            f"{c} {r}" for c, r in conn.execute(text("SELECT counts, report FROM sync_run"))
        ]
    engine.dispose()
    commands = [
        ["quarantine", "list", "--all"],
        ["runs", "list"],
        ["runs", "show", summary.run_id],
        ["runs", "show", summary.run_id, "--json"],
    ] + [["quarantine", "show", str(i)] for i in entry_ids]
    for argv in commands:
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code in (0, None), argv
    out, err = capfd.readouterr()
    logs_and_cli = out + err
    assert "quarantined" in logs_and_cli and "GPMI-" in logs_and_cli  # the texts were there to scan
    assert '"level": "debug"' in err
    assert "neptunus page fetched" in err  # a DEBUG line of the embedded worker (pulls run there)
    found_logs = find_niss(logs_and_cli)
    found_db = [n for t in db_texts for n in find_niss(t)]
    reports = [p.read_text(encoding="utf-8") for p in drop.rglob("*.report.json")]
    assert reports  # the file with a bad row has its report for the operator
    found_reports = [n for t in reports for n in find_niss(t)]
    assert (len(found_logs), len(found_db), len(found_reports)) == (0, 0, 0)

    # Metrics exposition, alert bodies (every rule and the digest, sent to a loopback webhook) and the
    # run's trace: the same scan finds nothing.
    from piis_bridge.observability.alerts import check_and_send
    from piis_bridge.observability.metrics import exposition
    from tests.observability.conftest import WebhookSink

    metrics = exposition(settings).decode()
    assert 'piis_quarantine_open{cpas="gent"' in metrics
    with WebhookSink() as hook:
        alerting = settings.model_copy(
            update={
                "alerts": settings.alerts.model_validate(
                    {
                        "webhook": {"url": hook.url},
                        "digest_time": "00:00",
                        "rules": {
                            "quarantine_over": 1,
                            "refused_percent": 1,
                            "refused_min_forms": 1,
                        },
                    }
                )
            }
        )
        deliveries = check_and_send(alerting)
        bodies = json.dumps(hook.bodies)
    assert {d.alert.rule for d in deliveries} >= {"quarantine_over", "digest"}, deliveries
    spans = " ".join(str(span) for span in receiver.spans)
    assert "piis.pipeline.process" in spans
    assert (find_niss(metrics), find_niss(bodies), find_niss(spans)) == ([], [], [])
