"""The ``piis-bridge`` command line.

Core commands live in this package; plugins add theirs (``sim federal``, ``forms ...``) through the
``piis_register_commands`` hook, so the core never imports a plugin or a connector.
"""

from __future__ import annotations

import sys

import typer

from piis_bridge.cli._registry import CommandRegistry, build_app

__all__ = ["CommandRegistry", "build_app", "main"]


def main(argv: list[str] | None = None) -> None:
    """The ``piis-bridge`` console script.

    A failure of a dependency (database, broker, file system) or of the configuration ends with one
    paragraph on stderr and exit code 2 (configuration) or 3 (dependency unavailable); anything else
    unexpected with one line and exit 1.  ``--debug`` (anywhere on the line) shows the traceback.
    """
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    if debug:
        args.remove("--debug")
    from piis_bridge.logging import masked_stdio

    app = build_app()
    with masked_stdio():  # no NISS in any CLI output, whichever command or plugin prints it
        try:
            app(args=args, prog_name="piis-bridge")
        except (SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the operator gets a paragraph, not a traceback
            if debug:
                raise
            sys.exit(_report(exc))


def _report(exc: Exception) -> int:
    """The last resort: one paragraph in the reader's language (the root ``--lang``, else the
    configured CPAS's ``language``; the configuration's setting names, values and paths as they are)."""
    from piis_bridge.config import ConfigError, default_settings, load_settings
    from piis_bridge.i18n.cli import settings_translator
    from piis_bridge.logging import redact
    from piis_bridge.ops.errors import explain

    try:
        settings = load_settings(check_endpoints=False)
    except ConfigError:
        settings = default_settings()
    except Exception:  # noqa: BLE001 - explaining must not fail
        settings = None
    found = explain(exc, settings)
    t = settings_translator(settings)
    if found is None:
        typer.echo(
            "piis-bridge: "
            + t.gettext(
                "unexpected error: {error}\n"
                "Rerun with --debug for the traceback, and report it with that output.",
                error=type(exc).__name__ + ": " + redact(str(exc))[:500],
            ),
            err=True,
        )
        return 1
    typer.echo(found.paragraph(t), err=True)
    return found.exit_code


if __name__ == "__main__":  # pragma: no cover
    main()
