"""``python -m piis_bridge.i18n update | check | docs``: the catalogue workflow (docs/i18n.md)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "check"
    from piis_bridge.i18n import catalog

    if command == "update":
        for path in catalog.update():
            print(f"wrote {path}")
        return 0
    if command == "check":
        problems = catalog.check()
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s)")
        return 1 if problems else 0
    if command == "docs":
        from piis_bridge.i18n.docs import DOC_PATH, render_markdown

        DOC_PATH.write_text(render_markdown(), encoding="utf-8")
        print(f"wrote {DOC_PATH}")
        return 0
    print("usage: python -m piis_bridge.i18n update|check|docs", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
