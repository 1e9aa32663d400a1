"""The demo: what a CPAS's IT staff sees on the first night, in a few minutes, with nothing installed.

1. the canonical example contracts are validated;
2. the PIIS rules judge them as of today (errors, warnings, the next legal dates);
3. two local simulators start: a NeptunusWeb-like case system seeded with synthetic dossiers for
   several OCMW, and NovaPrima (SPP IS) behind the BCSS SOAP envelope;
4. the nightly run pulls every dossier, applies the rules, builds, validates and submits forms,
   collects the answers and pushes them back (embedded celery worker, SQLite, filesystem broker);
5. some dossiers change in the case system and the run starts again: only the changes are pulled
   and nothing reaches the federal service twice (checked against the simulator's own state).
"""

from __future__ import annotations

import shutil
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from piis_bridge.hooks import hookimpl

DEMO_OCMWS = 2  # the first OCMW of the simulator's seed list served by this bridge


@hookimpl
def piis_register_commands(cli: Any) -> None:
    cli.root.command("demo")(demo)


def demo(
    dossiers: int = typer.Option(400, "--dossiers", min=10, help="Synthetic dossiers in the case system."),
    changes: int = typer.Option(25, "--changes", min=0, help="Dossiers modified before the second run."),
    workdir: Path = typer.Option(Path("var/demo"), "--workdir", help="Where the demo keeps its databases (emptied first)."),
    examples: Path = typer.Option(Path("examples"), "--examples", help="Canonical example contracts."),
    timeout: float = typer.Option(600.0, "--timeout", help="Give up a run after this many seconds."),
) -> None:
    """Run the main job end to end on embedded defaults, against the local simulators."""
    console = Console() if sys.stdout.isatty() else Console(width=140)
    console.rule("[bold]piis-bridge demo")
    ok = _step_examples(console, examples)
    ok = _step_rules(console, examples) and ok
    ok = _step_nightly(console, workdir, dossiers, changes, timeout) and ok
    console.rule("[bold green]demo finished" if ok else "[bold red]demo finished with problems")
    raise typer.Exit(0 if ok else 1)


def _step_examples(console: Console, examples: Path) -> bool:
    from piis_bridge.model import load_file

    console.print("\n[bold]1. Canonical contracts[/bold] (piis-bridge validate)")
    files = sorted(examples.glob("*.json"))
    if not files:
        console.print(f"[red]no example files in {examples}[/red]")
        return False
    problems = 0
    for path in files:
        result = load_file(path)
        problems += len(result.problems)
        console.print(f"  {path.name:<36} {len(result.contracts)} valid, {len(result.problems)} problem(s)")
    return problems == 0


def _step_rules(console: Console, examples: Path) -> bool:
    from piis_bridge.model import load_file
    from piis_bridge.rules import evaluate
    from piis_bridge.rules.agenda import agenda

    today = date.today()
    console.print(f"\n[bold]2. PIIS rules as of {today.isoformat()}[/bold] (piis-bridge rules check / agenda)")
    contracts = [c for path in sorted(examples.glob("*.json")) for c in load_file(path).contracts]
    table = Table()
    for col in ("contract", "CPAS", "errors", "warnings", "first error or warning"):
        table.add_column(col)
    for contract in contracts:
        report = evaluate(contract, on=today)
        errors = [f for f in report.findings if f.level == "error"]
        warnings = [f for f in report.findings if f.level == "warning"]
        first = (errors or warnings or [None])[0]
        table.add_row(contract.contract_id, contract.cpas.name, str(len(errors)), str(len(warnings)),
                      f"{first.rule_id}: {first.message}" if first else "-")
    console.print(table)
    upcoming = agenda(contracts, today, date(today.year + 1, today.month, 1))
    console.print(f"  agenda: {len(upcoming)} legal date(s) in the coming months, e.g.:")
    for item in upcoming[:5]:
        console.print(f"    {item.date.isoformat()}  {item.contract_id:<16} {item.rule_id:<10} {item.label}")
    return True


def _step_nightly(console: Console, workdir: Path, dossiers: int, changes: int, timeout: float) -> bool:
    from piis_connectors.casesystem.seed import OCMWS
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
    from piis_connectors.federal.admin import SimulatorAdmin
    from piis_connectors.federal.simulator.server import start_simulator

    from piis_bridge.config import Settings
    from piis_bridge.pipeline import PipelineOptions

    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    console.print("\n[bold]3. Local simulators[/bold]")
    case = CaseSystemSimulator(SimulatorConfig(db_path=workdir / "neptunus-sim.sqlite3"), host="127.0.0.1", port=0)
    case.seed(dossiers)
    case.start()
    federal = start_simulator(workdir / "novaprima-sim.sqlite3")
    admin = SimulatorAdmin(federal.base_url)
    try:
        served = OCMWS[:DEMO_OCMWS]
        cpas_config: dict[str, Any] = {}
        for kbo, ins, name in served:
            # The CPAS is known to the BCSS; each person's NISS is integrated by the federal plugin
            # itself (ManageAccess) before that person's first form.
            admin.register_cpas(kbo, ins, name=name)
            key = name.split()[-1].lower()
            cpas_config[key] = {
                "name": name, "ins_code": ins, "bce": kbo, "case_system": "neptunus", "federal": "federal",
                "transfer": None,
                "plugins": {"neptunus": {"base_url": case.url, "client_id": "piis-bridge",
                                         "client_secret": "geheim", "ocmw_kbo": kbo},
                            "federal": {"endpoint": federal.endpoint, "mode": "batch"}},
            }
        console.print(f"  case system (NeptunusWeb-like REST): {case.url}  {dossiers} dossiers, "
                      f"{len(served)} OCMW served by this bridge: {', '.join(n for _, _, n in served)}")
        console.print(f"  NovaPrima / BCSS (SOAP):             {federal.wsdl_url}")
        settings = Settings.model_validate({
            "database_url": f"sqlite:///{workdir}/piis-bridge.sqlite3",
            "result_backend": f"db+sqlite:///{workdir}/results.sqlite3",
            "state_dir": str(workdir / "state"),
            "plugins": {"enabled": ["neptunus", "federal"]},
            "cpas": cpas_config,
        })
        options = PipelineOptions(broker_dir=workdir / "broker")
        first = _run(console, "4. Nightly run (full)", settings, options, timeout)
        if changes:
            ids = case.store.ids()
            step = max(1, len(ids) // changes)
            modified = case.store.touch(ids[::step][:changes])
            console.print(f"\n  {modified} contract(s) saved again in the case system (a social worker editing them)")
        second = _run(console, "5. Nightly run (incremental)", settings, options, timeout)
        forms = admin.forms()
        refs = Counter(f["client_ref"] for f in forms)
        duplicates = sum(1 for n in refs.values() if n > 1)
        console.print("\n  Refused and blocked answers come from NovaPrima's own controls (e.g. B00005: a decision older "
                      "than the forfeiture delay; B00007: a double claim with another CPAS); each went back to the "
                      "case system as a task for the social worker.")
        console.print(f"  NovaPrima holds {len(forms)} form(s) from this bridge; "
                      f"sent twice: {duplicates} (checked in the simulator's own state)")
        return first.status == "finished" and second.status == "finished" and duplicates == 0
    finally:
        admin.close()
        federal.stop()
        case.stop()


def _run(console: Console, title: str, settings: Any, options: Any, timeout: float) -> Any:
    from piis_bridge.cli.pipeline_commands import _Display, _summary_table
    from piis_bridge.pipeline import run_nightly

    console.print(f"\n[bold]{title}[/bold] (piis-bridge run: embedded celery worker, SQLite, filesystem broker)")
    display = _Display(console)
    display.progress.start()
    try:
        summary = run_nightly(settings, options=options, timeout=timeout, progress=display)
    finally:
        display.progress.stop()
    console.print(_summary_table(summary))
    return summary
