"""``piis-bridge sim casesystem``: run the NeptunusWeb-like simulator in the foreground.

Its line is in the language of the root ``--lang`` (or ``PIIS_LANG``), else the configuration's one
language (docs/i18n.md), as ``sim federal``'s; the simulator's own request log stays as written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from piis_bridge.i18n.cli import cli_translator

__all__ = ["register"]


def register(sim: typer.Typer) -> None:
    @sim.command("casesystem")
    def casesystem(
        port: int = typer.Option(8700, "--port", help="TCP port (0 = any free port)."),
        host: str = typer.Option(
            "127.0.0.1", "--host", help="Address to bind (keep it on loopback)."
        ),
        dossiers: int = typer.Option(
            200, "--dossiers", help="Synthetic dossiers to seed when the database is empty."
        ),
        seed: int = typer.Option(
            1, "--seed", help="Seed of the synthetic data (same seed, same records)."
        ),
        db: Path | None = typer.Option(
            None, "--db", help="SQLite file (default: a temporary file)."
        ),
        client_id: str = typer.Option("piis-bridge", "--client-id"),
        client_secret: str = typer.Option(
            "geheim", "--client-secret", envvar="NEPTUNUS_SIM_CLIENT_SECRET"
        ),
        rate_limit: float | None = typer.Option(
            None, "--rate-limit", help="Requests per second per client (429 above)."
        ),
        error_rate: float = typer.Option(
            0.0, "--error-rate", help="Share of API requests answered with a 5xx."
        ),
        admin_key: str = typer.Option("beheer", "--admin-key", envvar="NEPTUNUS_SIM_ADMIN_KEY"),
    ) -> None:
        """Run a NeptunusWeb-like case system (REST/JSON, OAuth2, paging, ETags, 429, 5xx)."""
        from piis_connectors.casesystem.simulator import CaseSystemSimulator, SimulatorConfig

        config = SimulatorConfig(
            db_path=db,
            clients={client_id: client_secret},
            rate_limit=rate_limit,
            error_rate=error_rate,
            seed=seed,
            admin_key=admin_key,
        )
        sim: Any = CaseSystemSimulator(config, host=host, port=port)
        if sim.store.count() == 0 and dossiers > 0:
            sim.seed(dossiers)
        t = cli_translator(None)
        count = sim.store.count()
        typer.echo(
            t.ngettext(
                "NeptunusWeb-like simulator on {url} ({n} contracts); Ctrl-C to stop",
                "NeptunusWeb-like simulator on {url} ({n} contracts); Ctrl-C to stop",
                count,
                url=sim.url,
            )
        )
        try:
            sim.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sim.stop()
