"""Which language the command line speaks: ``--lang``, else the configured CPAS's ``language``.

Order: the command's own ``--lang`` (``piis-bridge rules check --lang nl``), then the global one
(``piis-bridge --lang nl rules check``, or the environment variable ``PIIS_LANG``, which the root
option reads when it is not given), then the configuration: when every configured CPAS uses the
same ``language`` (one installation per CPAS, or several CPAS of one language), that language;
otherwise (no configuration, or CPAS of different languages) :data:`DEFAULT_LANGUAGE`.  The
``--help`` texts follow the same order (:mod:`piis_bridge.i18n.cli_help`).
"""

from __future__ import annotations

import os
from contextvars import ContextVar

from piis_bridge.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    N_,
    LanguageError,
    Translator,
    check_language,
    translator,
)

__all__ = [
    "LANG_ENV",
    "LANG_HELP",
    "ROOT_LANG_HELP",
    "cli_language",
    "cli_translator",
    "configured_language",
    "cpas_translator",
    "help_translator",
    "set_global_language",
    "set_help_language",
    "settings_translator",
]

LANG_ENV = "PIIS_LANG"
"""The environment variable the root ``--lang`` reads when it is not on the command line."""
# The codes are written out (not joined from LANGUAGES) so that the extractor sees one literal;
# tests/i18n/test_cli_help.py checks that they are LANGUAGES.
LANG_HELP = N_(
    "Language of the output: fr, nl, de, en (default: the configured CPAS's language setting, else en)."
)
ROOT_LANG_HELP = N_(
    "Language of the human output of every command (JSON and machine-read lines stay the same): "
    "fr, nl, de, en (default: the configured CPAS's language setting, else en)."
)
_GLOBAL: ContextVar[str | None] = ContextVar("piis_cli_language", default=None)
_HELP: ContextVar[str | None] = ContextVar("piis_cli_help_language", default=None)


def set_global_language(value: str | None) -> None:
    """Remember the root command's ``--lang`` (checked here, so a typo fails before any work)."""
    _GLOBAL.set(_checked(value, "--lang") if value else None)


def set_help_language(value: str | None) -> None:
    """Remember a command's own ``--lang`` for its ``--help`` (read from its arguments before the
    eager ``--help`` answers); a value that is no language is ignored here, the command says so."""
    chosen = (value or "").strip().lower()
    _HELP.set(chosen if chosen in LANGUAGES else None)


def _checked(value: str, option: str) -> str:
    import typer

    try:
        return check_language(value.strip().lower())
    except LanguageError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def help_translator() -> Translator:
    """The language of the ``--help`` texts: the command's own ``--lang`` (when given before or after
    ``--help``), the root ``--lang`` (or ``PIIS_LANG``), the
    configuration's one language, else English.  ``PIIS_LANG`` is read here too because the root's
    own ``--help`` is answered before an option that came from the environment is processed; a
    wrong value there is reported by the command itself, the help falls back to the next source."""
    chosen = _HELP.get() or _GLOBAL.get()
    if not chosen:
        env = os.environ.get(LANG_ENV, "").strip().lower()
        chosen = env if env in LANGUAGES else None
    return translator(chosen or configured_language() or DEFAULT_LANGUAGE)


def configured_language() -> str | None:
    """The one language of the configured CPAS, or None (no CPAS, several languages, broken file)."""
    from piis_bridge.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        import typer

        typer.echo(
            f"piis-bridge: configuration not read for the output language ({exc}); using "
            f"{DEFAULT_LANGUAGE!r}",
            err=True,
        )
        return None
    languages = {c.language for c in settings.cpas.values()}
    return languages.pop() if len(languages) == 1 else None


def cli_language(option: str | None) -> str:
    """The language of one command: *option* (its ``--lang``), the global ``--lang``, the configuration."""
    if option:
        return _checked(option, "--lang")
    return _GLOBAL.get() or configured_language() or DEFAULT_LANGUAGE


def cli_translator(option: str | None) -> Translator:
    return translator(cli_language(option))


def cpas_translator(option: str | None, cpas_language: str | None) -> Translator:
    """The language of a command about one CPAS (``transfer --cpas``, ``forms list --cpas``): its
    ``--lang``, the global ``--lang``, then *that* CPAS's ``language`` setting (not the installation's
    common one: a bridge serving Eupen and Liège answers each in its own language)."""
    if option:
        return translator(_checked(option, "--lang"))
    return translator(_GLOBAL.get() or cpas_language or DEFAULT_LANGUAGE)


def settings_translator(settings: object | None) -> Translator:
    """The language of a command that has already read its configuration (``db``, ``health``,
    ``plugins --config``): the global ``--lang``, then the one language of *settings*' CPAS, else
    :data:`DEFAULT_LANGUAGE`.  Why not :func:`cli_translator`: it would read the configuration a
    second time (``plugins --config`` reads another file) and report a broken file twice."""
    if _GLOBAL.get():
        return translator(_GLOBAL.get() or DEFAULT_LANGUAGE)
    cpas = getattr(settings, "cpas", None) or {}
    languages = {getattr(c, "language", DEFAULT_LANGUAGE) for c in cpas.values()}
    return translator(languages.pop() if len(languages) == 1 else DEFAULT_LANGUAGE)
