"""``piis-bridge new-plugin NAME``: render a plugin package skeleton.

Why templates are Python strings (:mod:`piis_bridge.templates.plugin`) and not loose files: they
ship inside every wheel without packaging rules, and a ``.py`` template on disk would be compiled
(and fail) at install time.  Placeholders are ``{{name}}``, ``{{NAME}}``, ``{{Class}}``, ``{{package}}``,
``{{dist}}``, ``{{core_version}}``, ``{{kind}}``; nothing else in the templates is interpreted, so code braces are safe.
"""

from __future__ import annotations

import re
from pathlib import Path

from piis_bridge import __version__

__all__ = ["KINDS", "PluginTemplateError", "plugin_names", "render_plugin"]

KINDS = ("case-system", "federal", "transfer")
# What vendors type: "acme-cases", "acme_cases", "acme"; the prefix "piis-bridge-" is optional.
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
_RESERVED = {
    "federal",
    "neptunus",
    "filedrop",
    "transfer",
    "demo",
    "sample",
    "piis",
    "bridge",
    "core",
}


class PluginTemplateError(ValueError):
    """The plugin name or target directory is not usable; the message says why."""


def plugin_names(name: str) -> dict[str, str]:
    """The names derived from what the vendor typed (docs/plugins.md "Plugin names").

    ``acme-cases`` (or ``acme_cases``, or ``piis-bridge-acme-cases``) gives:

    * plugin name ``acme_cases``: the entry-point name, what ``piis-bridge.toml`` routes to
      (``case_system = "acme_cases"``, ``[cpas.<id>.plugins.acme_cases]``) and the ``PIIS_..._ACME_CASES__``
      environment variables: ``-`` becomes ``_`` because those must be identifiers;
    * import package ``piis_bridge_acme_cases`` (in ``src/``);
    * distribution ``piis-bridge-acme-cases`` (what ``pip install`` names, also the directory created).

    Rule: 2 to 31 characters, lower-case letters and digits, words separated by single ``-`` or ``_``,
    starting with a letter; not a built-in plugin's name."""
    raw = name.strip()
    for prefix in ("piis-bridge-", "piis_bridge_"):
        if raw.startswith(prefix):
            raw = raw[len(prefix) :]
    if not (2 <= len(raw) <= 31 and _NAME.match(raw)):
        raise PluginTemplateError(
            f"plugin name {name!r}: use 2-31 lower-case letters or digits, words separated by '-' or '_', "
            "starting with a letter (e.g. acme-cases)"
        )
    plugin = raw.replace("-", "_")
    if plugin in _RESERVED:
        raise PluginTemplateError(
            f"plugin name {name!r} is taken by a built-in plugin; choose another"
        )
    major_minor = ".".join(__version__.split(".")[:2])
    return {
        "name": plugin,
        "NAME": plugin.upper(),
        "Class": "".join(p.title() for p in plugin.split("_")),
        "package": f"piis_bridge_{plugin}",
        "dist": f"piis-bridge-{plugin.replace('_', '-')}",
        "core_version": major_minor,
    }


def render_plugin(name: str, directory: Path | str = ".", *, kind: str = "case-system") -> Path:
    """Write the skeleton of a ``kind`` plugin to ``directory/piis-bridge-NAME`` and return that path."""
    from piis_bridge.templates import federal, plugin, transfer

    files = {"case-system": plugin.FILES, "federal": federal.FILES, "transfer": transfer.FILES}.get(
        kind
    )
    if files is None:
        raise PluginTemplateError(f"unknown plugin kind {kind!r}; available: {', '.join(KINDS)}")
    names = plugin_names(name)
    target = Path(directory) / names["dist"]
    if target.exists() and any(target.iterdir()):
        raise PluginTemplateError(f"{target} already exists and is not empty")
    names = {**names, "kind": kind}
    for relative, template in files.items():
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
