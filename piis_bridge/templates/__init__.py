"""``piis-bridge new-plugin NAME``: render a plugin package skeleton.

Why templates are Python strings (:mod:`piis_bridge.templates.plugin`) and not loose files: they
ship inside every wheel without packaging rules, and a ``.py`` template on disk would be compiled
(and fail) at install time.  Placeholders are ``{{name}}``, ``{{NAME}}``, ``{{Class}}``, ``{{package}}``,
``{{dist}}``, ``{{core_version}}``; nothing else in the templates is interpreted, so code braces are safe.
"""

from __future__ import annotations

import re
from pathlib import Path

from piis_bridge import __version__

__all__ = ["PluginTemplateError", "plugin_names", "render_plugin", "KINDS"]

KINDS = ("case-system",)
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
_RESERVED = {"federal", "neptunus", "filedrop", "transfer", "sample", "piis", "bridge", "core"}


class PluginTemplateError(ValueError):
    """The plugin name or target directory is not usable; the message says why."""


def plugin_names(name: str) -> dict[str, str]:
    """The names derived from the plugin name: entry-point name, import package, distribution."""
    if not _NAME.match(name):
        raise PluginTemplateError(
            f"plugin name {name!r}: use 2-31 lower-case letters, digits or '_', starting with a letter"
        )
    if name in _RESERVED:
        raise PluginTemplateError(f"plugin name {name!r} is taken by a built-in plugin; choose another")
    major_minor = ".".join(__version__.split(".")[:2])
    return {"name": name, "NAME": name.upper(), "Class": "".join(p.title() for p in name.split("_")),
            "package": f"piis_bridge_{name}", "dist": f"piis-bridge-{name.replace('_', '-')}",
            "core_version": major_minor}


def render_plugin(name: str, directory: Path | str = ".", *, kind: str = "case-system") -> Path:
    """Write the skeleton to ``directory/piis-bridge-NAME`` and return that path."""
    from piis_bridge.templates.plugin import FILES

    if kind not in KINDS:
        raise PluginTemplateError(f"unknown plugin kind {kind!r}; available: {', '.join(KINDS)}")
    names = plugin_names(name)
    target = Path(directory) / names["dist"]
    if target.exists() and any(target.iterdir()):
        raise PluginTemplateError(f"{target} already exists and is not empty")
    for relative, template in FILES.items():
        path = target / _fill(relative, names)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(template, names), encoding="utf-8")
    return target


def _fill(text: str, names: dict[str, str]) -> str:
    for key, value in names.items():
        text = text.replace("{{" + key + "}}", value)
    leftover = re.search(r"\{\{\w+\}\}", text)
    if leftover:  # pragma: no cover - a template bug
        raise PluginTemplateError(f"unknown placeholder {leftover.group(0)} in the plugin template")
    return text
