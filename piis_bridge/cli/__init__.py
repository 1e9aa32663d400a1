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
    from piis_bridge.logging import masked_stdio

    app = build_app()
    with masked_stdio():  # no NISS in any CLI output, whichever command or plugin prints it
        app(args=argv if argv is not None else sys.argv[1:], prog_name="piis-bridge")


if __name__ == "__main__":  # pragma: no cover
    main()
