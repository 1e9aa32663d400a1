"""``piis-bridge plugins``, ``plugins check`` and ``new-plugin NAME``.

Why: an IT team deploying connectors must see at a glance what is installed, what is enabled and
whether the configuration fits the plugins, before the nightly run finds out at 02:30; a vendor
must get a working, tested plugin package in one command.

The human output is in the configured language (the root ``--lang``, else the CPAS's ``language`` of
the configuration read; docs/i18n.md); ``--json``, setting names, plugin names and hook names stay
as they are; the problems found by the plugin host, a configuration error and a setting's source
are :class:`~piis_bridge.i18n.text.Text` said in that language.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from piis_bridge.cli._registry import CommandRegistry
from piis_bridge.i18n import N_, Translator, translator
from piis_bridge.i18n.cli import cli_translator, settings_translator
from piis_bridge.i18n.text import error_text, say

__all__ = ["register"]

_CONFIG_HELP = N_(
    "Configuration file (default: $PIIS_CONFIG, else ./piis-bridge.toml, else embedded defaults)."
)


def register(cli: CommandRegistry) -> None:
    plugins_app = typer.Typer(
        help="List the installed plugins, or check them against the configuration.",
        add_completion=False,
        invoke_without_command=True,
    )

    @plugins_app.callback(invoke_without_command=True)
    def plugins(
        ctx: typer.Context,
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
        as_json: bool = typer.Option(False, "--json", help="One JSON document instead of a table."),
    ) -> None:
        """Every plugin with its distribution, version, hooks and whether it is enabled."""
        if ctx.invoked_subcommand is not None:
            return
        host, config_error = _host(config)
        infos = host.plugin_infos()
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "plugins": [
                            {
                                "name": i.name,
                                "distribution": i.distribution,
                                "version": i.version,
                                "module": i.module,
                                "enabled": i.enabled,
                                "hooks": list(i.hooks),
                                "error": i.error,
                            }
                            for i in infos
                        ],
                        "problems": host.problems,
                        "config_error": config_error,
                    },
                    indent=2,
                )
            )
            return
        from rich.console import Console
        from rich.table import Table

        t = settings_translator(host.settings)
        table = Table(title=t.gettext("piis-bridge plugins"), show_lines=False)
        for column in (
            t.gettext("name"),
            t.gettext("distribution"),
            t.gettext("version"),
            t.gettext("enabled"),
            t.gettext("hooks"),
        ):
            table.add_column(column, overflow="fold")
        for info in infos:
            enabled = (
                "[red]" + t.gettext("error") + "[/red]"
                if info.error
                else (
                    t.gettext("yes") if info.enabled else "[dim]" + t.gettext("disabled") + "[/dim]"
                )
            )
            hooks = "\n".join(info.hooks) or (
                "[red]" + say(info.error, t) + "[/red]"
                if info.error
                else "[dim]" + t.gettext("none") + "[/dim]"
            )
            table.add_row(info.name, info.distribution or "-", info.version or "-", enabled, hooks)
        console = Console(soft_wrap=False)
        console.print(table)
        if config_error:
            console.print(
                "[red]"
                + t.gettext("configuration error")
                + "[/red] "
                + t.gettext("(plugins listed with defaults):")
                + f"\n{say(config_error, t)}"
            )
        if host.problems:
            console.print(
                "[yellow]"
                + t.ngettext("{n} problem(s)", "{n} problem(s)", len(host.problems))
                + "[/yellow]"
                + t.gettext("; run 'piis-bridge plugins check'.")
            )

    @plugins_app.command("check")
    def check(
        config: Path | None = typer.Option(None, "--config", "-c", help=_CONFIG_HELP),
    ) -> None:
        """Validate hook implementations, plugin settings and CPAS routing; exit 1 on any problem."""
        from piis_bridge.config import loopback_problems

        host, config_error = _host(config)
        t = settings_translator(host.settings)
        problems = [*host.problems, *host.tenancy_problems]
        if config_error:
            problems.insert(0, config_error)
        else:
            problems.extend(loopback_problems(host.settings))
        scratch = CommandRegistry(typer.Typer(add_completion=False))
        for failure in host.register_commands(scratch):
            problems.append(
                t.gettext(
                    "plugin {plugin}: piis_register_commands raised {error_type}: {message}",
                    plugin=repr(failure.plugin),
                    error_type=failure.error_type,
                    message=failure.message,
                )
            )
        warnings = _role_warnings(host, t)
        for line in warnings:
            typer.echo(t.gettext("warning: {problem}", problem=line))
        if problems:
            for line in problems:
                typer.echo(t.gettext("error: {problem}", problem=say(line, t)), err=True)
            typer.echo(
                t.ngettext("{n} problem(s) found", "{n} problem(s) found", len(problems)), err=True
            )
            if not config_error:
                for line in effective_settings(host, t):
                    typer.echo(line)
            raise typer.Exit(1)
        active = [i.name for i in host.plugin_infos() if i.enabled and not i.error]
        typer.echo(
            t.gettext(
                "OK: {n} plugin(s) enabled ({names}), {cpas} CPAS configured",
                n=len(active),
                names=", ".join(active) or t.gettext("none"),
                cpas=len(host.settings.cpas),
            )
        )
        for line in effective_settings(host, t):
            typer.echo(line)

    cli.root.add_typer(plugins_app, name="plugins")

    @cli.root.command("new-plugin")
    def new_plugin(
        name: str = typer.Argument(
            ...,
            help="Plugin name, e.g. 'acme-cases': lower-case letters and digits, words "
            "separated by '-' or '_' (plugin acme_cases, package "
            "piis_bridge_acme_cases, distribution piis-bridge-acme-cases).",
        ),
        directory: Path = typer.Option(
            Path("."), "--dir", "-d", help="Where to create piis-bridge-NAME/."
        ),
        kind: str = typer.Option(
            "case-system",
            "--kind",
            help="case-system (reads a vendor case system), federal (forms B/C/D to a federal "
            "service) or transfer (hand-over between CPAS); each comes with its kit.",
        ),
    ) -> None:
        """Create a working plugin package skeleton (pyproject, hook stubs, conformance test)."""
        from piis_bridge.templates import PluginTemplateError, render_plugin

        t = cli_translator(None)
        try:
            target = render_plugin(name, directory, kind=kind)
        except PluginTemplateError as exc:
            typer.echo(t.gettext("error: {problem}", problem=exc), err=True)
            raise typer.Exit(2) from None
        typer.echo(t.gettext("created {target} ({kind} plugin)", target=target, kind=kind))
        typer.echo(
            t.gettext(
                "next: cd {target} && pip install -e '.[test]' && pytest",
                target=target,
            )
        )
        typer.echo(
            "      "
            + t.gettext(
                "(in a virtualenv where piis-bridge is installed: it is not on PyPI, "
                "see the README there)"
            )
        )


def _host(config: Path | None):  # -> tuple[PluginHost, str | None]
    from piis_bridge.config import ConfigError, default_settings, load_settings
    from piis_bridge.hooks.manager import PluginHost

    try:
        settings, error = load_settings(config, check_endpoints=False), None
    except ConfigError as exc:
        settings, error = default_settings(), error_text(exc)
    return PluginHost(settings, strict=False), error


def effective_settings(host, t: Translator | None = None) -> list[str]:  # host: PluginHost
    """One line per effective setting that decides where data goes, with where it came from.

    Why: "which endpoint does gent send to, and who set it?" must be answerable without reading the
    file, the unit's env file and the plugin's defaults side by side.  Secrets are shown as ``***``.
    The setting names and values stay as they are; the words around them are in *t*'s language
    (English by default).
    """
    from piis_bridge.config import is_secret_key

    t = t or translator("en")
    s = host.settings
    lines = [t.gettext("effective settings (value, and where it came from):")]
    for key in ("environment", "deployment", "database_url", "broker_url", "state_dir"):
        value = getattr(s, key)
        shown = _mask_url(str(value)) if key.endswith("_url") else value
        lines.append(f"  {key} = {shown} ({say(s.source_of(key), t)})")
    for cpas_id, cpas in s.cpas.items():
        for role in ("case_system", "federal", "transfer"):
            plugin = getattr(cpas, role)
            if plugin is None:
                what = {
                    "federal": t.gettext("forms are neither built nor sent"),
                    "case_system": t.gettext("nothing is read"),
                    "transfer": t.gettext("no hand-over"),
                }[role]
                lines.append(
                    f"  cpas.{cpas_id}.{role} = "
                    + t.gettext(
                        "none ({source}): {what}",
                        source=say(s.source_of("cpas", cpas_id, role), t),
                        what=what,
                    )
                )
                continue
            source = say(s.source_of("cpas", cpas_id, role), t)
            lines.append(f"  cpas.{cpas_id}.{role} = {plugin} ({source})")
            model = host.settings_models.get(plugin)
            given = cpas.plugins.get(plugin, {})
            fields = dict.fromkeys([*(model.model_fields if model is not None else ()), *given])
            for name in fields:
                path = ("cpas", cpas_id, "plugins", plugin, name)
                if name in given:
                    value, source = given[name], say(s.source_of(*path), t)
                elif f"{name}_file" in given:
                    named_by = name + "_file"
                    value, source = (
                        "***",
                        t.gettext(
                            "file named by {setting} ({source})",
                            setting=named_by,
                            source=say(s.source_of(*path[:-1], named_by), t),
                        ),
                    )
                elif model is not None and name in model.model_fields:
                    field = model.model_fields[name]
                    if field.is_required():
                        value, source = t.gettext("(missing)"), t.gettext("required")
                    else:
                        value = field.get_default(call_default_factory=True)
                        source = t.gettext("default")
                else:
                    continue
                if is_secret_key(name) and value not in (None, "", t.gettext("(missing)")):
                    value = "***"
                elif isinstance(value, str) and "://" in value:
                    value = _mask_url(value)
                lines.append(f"  {'.'.join(path)} = {value} ({source})")
    return lines


def _mask_url(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        pass
    return url


def _role_warnings(host, t: Translator | None = None) -> list[str]:
    """Routed plugins that implement none of their role's hooks yet (not fatal: calls fail later)."""
    t = t or translator("en")
    prefixes = {
        "federal": "piis_federal_",
        "transfer": "piis_transfer_",
    }  # case_system: checked at startup
    infos = {i.name: i for i in host.plugin_infos()}
    lines = []
    for cpas_id, cpas in host.settings.cpas.items():
        for role, plugin in cpas.routed_plugins().items():
            info = infos.get(plugin)
            if role not in prefixes:
                continue
            if (
                info
                and not info.error
                and not any(h.startswith(prefixes[role]) for h in info.hooks)
            ):
                lines.append(
                    f"cpas.{cpas_id}.{role}: "
                    + t.gettext(
                        "plugin {plugin} implements no {prefix}* hook",
                        plugin=repr(plugin),
                        prefix=prefixes[role],
                    )
                )
    return lines
