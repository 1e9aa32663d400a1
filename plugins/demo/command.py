"""The demo: what a CPAS's IT staff sees on the first night, in a few minutes, with nothing installed.

1. the canonical example contracts are validated;
2. the PIIS rules judge them as of the demo's night (errors, warnings, the next legal dates);
3. two local simulators start: a NeptunusWeb-like case system seeded with synthetic dossiers for
   several OCMW, and NovaPrima (SPP IS) behind the BCSS SOAP envelope;
4. the nightly run pulls every dossier, applies the rules, builds, validates and submits forms,
   collects the answers and pushes them back (embedded celery worker, SQLite, filesystem broker);
5. some dossiers change in the case system and the run starts again: only the changes are pulled
   and nothing reaches the federal service twice (checked against the simulator's own state).

Why a fixed night: the seeded case system describes the situation of ``SEED_TODAY`` (2026-11-01); judged
and answered as of the real calendar, its decisions drift past NovaPrima's forfeiture delay month after month
and most forms came back refused.  The demo sets NovaPrima's simulated clock and the rules' date to
``DEMO_NIGHT``, the night after the seed's day, and seeds dossiers whose decisions fall in the months before
it, so the first night looks like a normal night (every run prints the same split; the refusals shown are
the instructive ones) whatever the date.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from piis_bridge.hooks import hookimpl

DEMO_OCMWS = 2  # the first OCMW of the simulator's seed list served by this bridge
DEMO_NIGHT = datetime(
    2026, 11, 3, 2, 30
)  # the nightly run after the seed's day (SEED_TODAY, a Sunday + holiday)
# the first contracts of the seeded dossiers start in this window before DEMO_NIGHT (see the module docstring)
DEMO_FIRST_START = date(2025, 12, 1)
DEMO_SPREAD_DAYS = 330


@hookimpl
def piis_register_commands(cli: Any) -> None:
    cli.root.command("demo")(demo)


def demo(
    dossiers: int = typer.Option(
        400, "--dossiers", min=10, help="Synthetic dossiers in the case system."
    ),
    changes: int = typer.Option(
        25, "--changes", min=0, help="Dossiers modified before the second run."
    ),
    workdir: Path = typer.Option(
        Path("var/demo"), "--workdir", help="Where the demo keeps its databases (emptied first)."
    ),
    examples: Path = typer.Option(
        Path("examples"), "--examples", help="Canonical example contracts."
    ),
    timeout: float = typer.Option(
        600.0, "--timeout", help="Give up a run after this many seconds."
    ),
) -> None:
    """Run the main job end to end on embedded defaults, against the local simulators."""
    console = Console() if sys.stdout.isatty() else Console(width=140)
    console.rule("[bold]piis-bridge demo")
    _quiet_root_worker(console)
    ok = _step_examples(console, examples)
    ok = _step_rules(console, examples) and ok
    ok = _step_nightly(console, workdir, dossiers, changes, timeout) and ok
    console.rule("[bold green]demo finished" if ok else "[bold red]demo finished with problems")
    _next_steps(console, workdir)
    raise typer.Exit(0 if ok else 1)


def _quiet_root_worker(console: Console) -> None:
    """Run as root (a container, a CI machine), celery's worker prints a multi-line SecurityWarning.

    Why not C_FORCE_ROOT: that variable only lets celery run as root with the pickle serializer, which this
    project never enables (JSON only), so it would change nothing here and would hide the day pickle gets
    switched on.  The warning itself is right for a deployment, which runs the worker as its own user
    (deploy/README.md); for this throwaway demo the fact is said once, in one line, and the embedded
    worker's copy of that one warning is filtered (by its message)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        console.print(
            "[dim]note: running as root (uid 0): acceptable for this local demo; a deployment runs the "
            "celery worker as its own user (deploy/README.md)[/dim]"
        )
        filters = [f for f in os.environ.get("PYTHONWARNINGS", "").split(",") if f]
        # by message (the category's module cannot be imported when the interpreter reads PYTHONWARNINGS)
        os.environ["PYTHONWARNINGS"] = ",".join(
            [*filters, "ignore:You're running the worker with superuser"]
        )


def _next_steps(console: Console, workdir: Path) -> None:
    config = workdir / "piis-bridge.toml"
    exe = ".venv/bin/piis-bridge"
    console.print(
        f"\n[bold]Where the demo left its state[/bold]: {workdir}/ (emptied by the next demo)"
    )
    console.print(
        f"  bridge database   {workdir}/piis-bridge.sqlite3   (runs, quarantine, form ledger)"
    )
    console.print(
        f"  configuration     {config}   (the two OCMW of the demo; the simulators are stopped)"
    )
    console.print(
        f"  simulators' state {workdir}/neptunus-sim.sqlite3, {workdir}/novaprima-sim.sqlite3"
    )
    console.print(
        "\n[bold]What to run next[/bold] (the same database, through that configuration):"
    )
    for cmd, what in (
        (f"PIIS_CONFIG={config} {exe} runs list", "the two runs, with their counts"),
        (f"PIIS_CONFIG={config} {exe} runs show RUN_ID", "one run's stage figures"),
        (f"PIIS_CONFIG={config} {exe} quarantine list", "records that failed permanently (if any)"),
        (f"{exe} forms status --cpas gent --config {config}", "the form ledger of OCMW Gent"),
        (
            f"{exe} rules check examples/*.json --on {DEMO_NIGHT.date().isoformat()}",
            "the rules on the example contracts",
        ),
    ):
        console.print(f"  {cmd}\n      {what}")
    console.print(
        "  Then: README.md 'Next steps after the demo', and deploy/README.md to run it for real."
    )


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
        console.print(
            f"  {path.name:<36} {len(result.contracts)} valid, {len(result.problems)} problem(s)"
        )
    return problems == 0


def _step_rules(console: Console, examples: Path) -> bool:
    from piis_bridge.model import load_file
    from piis_bridge.rules import evaluate
    from piis_bridge.rules.agenda import agenda

    today = (
        DEMO_NIGHT.date()
    )  # fixed, so that the demo says the same thing every day (module docstring)
    console.print(
        f"\n[bold]2. PIIS rules as of {today.isoformat()}[/bold] (piis-bridge rules check / agenda)"
    )
    contracts = [c for path in sorted(examples.glob("*.json")) for c in load_file(path).contracts]
    table = Table()
    for col in ("contract", "CPAS", "errors", "warnings", "first error or warning"):
        table.add_column(col)
    for contract in contracts:
        report = evaluate(contract, on=today)
        errors = [f for f in report.findings if f.level == "error"]
        warnings = [f for f in report.findings if f.level == "warning"]
        first = next(iter(errors or warnings), None)
        table.add_row(
            contract.contract_id,
            contract.cpas.name,
            str(len(errors)),
            str(len(warnings)),
            f"{first.rule_id}: {first.message}" if first else "-",
        )
    console.print(table)
    upcoming = agenda(contracts, today, date(today.year + 1, today.month, 1))
    console.print(f"  agenda: {len(upcoming)} legal date(s) in the coming months, e.g.:")
    for item in upcoming[:5]:
        console.print(
            f"    {item.date.isoformat()}  {item.contract_id:<16} {item.rule_id:<10} {item.label}"
        )
    return True


def _step_nightly(
    console: Console, workdir: Path, dossiers: int, changes: int, timeout: float
) -> bool:
    from piis_connectors.casesystem.seed import OCMWS, generate
    from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig
    from piis_connectors.federal.admin import SimulatorAdmin
    from piis_connectors.federal.simulator.server import start_simulator

    from piis_bridge.config import load_settings
    from piis_bridge.pipeline import PipelineOptions

    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    console.print("\n[bold]3. Local simulators[/bold]")
    case = CaseSystemSimulator(
        SimulatorConfig(db_path=workdir / "neptunus-sim.sqlite3"), host="127.0.0.1", port=0
    )
    case.store.seed(
        generate(
            dossiers, case.config.seed, first_start=DEMO_FIRST_START, spread_days=DEMO_SPREAD_DAYS
        )
    )
    case.start()
    federal = start_simulator(workdir / "novaprima-sim.sqlite3")
    admin = SimulatorAdmin(federal.base_url)
    try:
        admin.set_clock(DEMO_NIGHT)
        served = OCMWS[:DEMO_OCMWS]
        secret = workdir / "neptunus-client-secret"
        secret.write_text(
            "geheim"
        )  # the case-system simulator's demo client (secrets never in the file)
        cpas_config: dict[str, Any] = {}
        for kbo, ins, name in served:
            # The CPAS is known to the BCSS; each person's NISS is integrated by the federal plugin
            # itself (ManageAccess) before that person's first form.
            admin.register_cpas(kbo, ins, name=name)
            key = name.split()[-1].lower()
            cpas_config[key] = {
                "name": name,
                "ins_code": ins,
                "bce": kbo,
                "case_system": "neptunus",
                "federal": "federal",
                "transfer": None,
                "plugins": {
                    "neptunus": {
                        "base_url": case.url,
                        "client_id": "piis-bridge",
                        "client_secret_file": str(secret),
                        "ocmw_kbo": kbo,
                    },
                    "federal": {"endpoint": federal.endpoint, "mode": "batch"},
                },
            }
        console.print(
            f"  case system (NeptunusWeb-like REST): {case.url}  {dossiers} dossiers, "
            f"{len(served)} OCMW served by this bridge: {', '.join(n for _, _, n in served)}"
        )
        console.print(f"  NovaPrima / BCSS (SOAP):             {federal.wsdl_url}")
        console.print(
            f"  simulated clock:                     {DEMO_NIGHT.isoformat(sep=' ')} (the night after the "
            "seeded day: the same answers every day)"
        )
        config = _write_config(
            workdir,
            {
                "environment": "simulator",  # it talks to the local simulators on loopback, by design
                "database_url": f"sqlite:///{workdir}/piis-bridge.sqlite3",
                "result_backend": f"db+sqlite:///{workdir}/results.sqlite3",
                "state_dir": str(workdir / "state"),
                "plugins": {"enabled": ["neptunus", "federal"]},
                "cpas": cpas_config,
            },
        )
        settings = load_settings(config)  # the file the commands printed at the end read
        options = PipelineOptions(broker_dir=workdir / "broker", rules_date=DEMO_NIGHT.date())
        first = _run(console, "4. Nightly run (full)", settings, options, timeout)
        if changes:
            ids = case.store.ids()
            step = max(1, len(ids) // changes)
            modified = case.store.touch(ids[::step][:changes])
            console.print(
                f"\n  {modified} contract(s) saved again in the case system (a social worker editing them, "
                f"spread over all {len(OCMWS)} OCMW of the case system)"
            )
        second = _run(console, "5. Nightly run (incremental)", settings, options, timeout)
        console.print(
            "  Only the contracts saved again are fetched, and only those of the OCMW this bridge serves "
            f"({len(served)} of {len(OCMWS)}): the others belong to OCMW served by another installation. "
            "Saved again without a change to what a federal form carries, a contract builds no new form "
            "(the form ledger already holds the same content), so this night sends nothing twice."
        )
        forms = admin.forms()
        refs = Counter(f["client_ref"] for f in forms)
        duplicates = sum(1 for n in refs.values() if n > 1)
        split = Counter(f["evaluation"] or "PENDING" for f in forms)
        console.print(
            "\n  NovaPrima's answers: " + ", ".join(f"{k} {v}" for k, v in sorted(split.items()))
        )
        console.print(
            "  Refused and blocked answers come from NovaPrima's own controls (e.g. B00005: a decision older "
            "than the forfeiture delay; B00007: a double claim with another CPAS); each went back to the "
            "case system as a task for the social worker."
        )
        console.print(
            f"  NovaPrima holds {len(forms)} form(s) from this bridge; "
            f"sent twice: {duplicates} (checked in the simulator's own state)"
        )
        return first.status == "finished" and second.status == "finished" and duplicates == 0
    finally:
        admin.close()
        federal.stop()
        case.stop()


def _write_config(workdir: Path, values: dict[str, Any]) -> Path:
    """The demo's configuration as a TOML file (strings and lists only; JSON strings are valid TOML strings)."""
    lines: list[str] = []

    def table(prefix: str, data: dict[str, Any]) -> None:
        scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
        if prefix:
            lines.append(f"\n[{prefix}]")
        for key, value in scalars.items():  # TOML has no null: an empty role name means "no plugin"
            lines.append(f"{key} = {json.dumps('' if value is None else value)}")
        for key, value in data.items():
            if isinstance(value, dict):
                table(f"{prefix}.{key}" if prefix else key, value)

    table("", values)
    path = workdir / "piis-bridge.toml"
    path.write_text("# written by `piis-bridge demo`\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(console: Console, title: str, settings: Any, options: Any, timeout: float) -> Any:
    from piis_bridge.cli.pipeline_commands import RunProgress, summary_table
    from piis_bridge.pipeline import run_nightly

    console.print(
        f"\n[bold]{title}[/bold] (piis-bridge run: embedded celery worker, SQLite, filesystem broker)"
    )
    display = RunProgress(console)
    display.progress.start()
    try:
        summary = run_nightly(settings, options=options, timeout=timeout, progress=display)
    finally:
        display.progress.stop()
    console.print(summary_table(summary))
    return summary
