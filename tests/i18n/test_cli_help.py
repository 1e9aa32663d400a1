"""``--help`` speaks the chosen language; English stays what typer printed before.

Every command of the real application (the core's and the plugins': ``sim casesystem``, ``forms``,
``transfer``, ``demo``) is walked: each help text must be a message id of the catalogues, extracted
by Babel (``piis_bridge.i18n.cli_help.extract_help``) and translated in French, Dutch and German;
each command's ``--help`` and the root's in those languages must contain none of the English help
texts (:mod:`tests.i18n._leaks`).  The language comes from the root ``--lang``, ``PIIS_LANG`` or the
configuration.  The English help of every command is compared with typer's own rendering.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from piis_bridge.cli import build_app
from piis_bridge.i18n import LANGUAGES, translator
from piis_bridge.i18n.catalog import po_path, read_catalog, template
from piis_bridge.i18n.cli import LANG_HELP, ROOT_LANG_HELP
from piis_bridge.i18n.cli_help import extract_help
from piis_bridge.i18n.ops import CODES
from tests.i18n._leaks import english_parts

FOREIGN = ("fr", "nl", "de")


@pytest.fixture(autouse=True)
def _no_piis_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PIIS_* variable of the machine, and no piis-bridge.toml in the working directory."""
    for name in list(os.environ):
        if name.startswith("PIIS_") and name not in ("PIIS_DATA_KEYS", "PIIS_HASH_KEY"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def app() -> Any:
    return build_app()


def _commands(app: Any) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and group of the application with its path (the root's is ``()``)."""

    def walk(path: tuple[str, ...], cmd: Any) -> Iterator[tuple[tuple[str, ...], Any]]:
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk((*path, name), sub)

    yield from walk((), get_command(app))


def _help_texts(cmd: Any) -> list[str]:
    texts = [cmd.help, cmd.short_help, *(getattr(p, "help", None) for p in cmd.params)]
    return [text for text in texts if text]


def _help(app: Any, *args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_help_text_is_extracted_and_translated(app: Any) -> None:
    ids = {m.id for m in template() if m.id}
    catalogs = {lang: read_catalog(po_path(lang), lang) for lang in FOREIGN}
    paths = set()
    problems = []
    for path, cmd in _commands(app):
        paths.add(" ".join(path))
        for text in _help_texts(cmd):
            if text not in ids:
                problems.append(f"{' '.join(path)}: not extracted: {text!r}")
                continue
            for lang, cat in catalogs.items():
                msg = cat.get(text)
                if msg is None or msg.fuzzy or not msg.string:
                    problems.append(f"{' '.join(path)}: no {lang} translation of {text!r}")
    assert problems == []
    # the plugins' commands are part of the walk (a walk of the core alone would prove little)
    assert {"sim casesystem", "sim federal", "forms build", "transfer send", "demo"} <= paths
    assert len(paths) > 60


def test_the_catalogue_check_fails_on_a_help_text_without_translation(tmp_path: Path) -> None:
    """``python -m piis_bridge.i18n check`` (CI) names a help text left untranslated."""
    from babel.messages.pofile import write_po

    from piis_bridge.i18n.catalog import check

    text = "Print the version and exit."
    cat = read_catalog(po_path("nl"), "nl")
    cat[text].string = ""
    path = po_path("nl", tmp_path)
    path.parent.mkdir(parents=True)
    with path.open("wb") as fh:
        write_po(fh, cat)
    assert check(["nl"], locale_dir=tmp_path) == [f"nl: {text!r}: no translation"]


@pytest.mark.parametrize("language", FOREIGN)
def test_every_command_help_is_in_the_language(app: Any, language: str) -> None:
    t = translator(language)
    commands = list(_commands(app))
    english = {text for _, cmd in commands for text in _help_texts(cmd)}
    english.add("Show this message and exit.")
    fragments = set().union(*(english_parts(text, t.gettext(text)) for text in english))
    assert fragments, "every help text is translated word for word?"
    for path, cmd in commands:
        output = _help(app, "--lang", language, *path)
        text = " ".join(output.replace("│", " ").split())
        assert [f for f in fragments if f in text] == [], (path, output)
        if cmd.help:  # the command's own help, in the language
            first = " ".join(t.gettext(cmd.help).split("\n\n")[0].split())[:30]
            assert first in text, (path, first, output)
    panels = _help(app, "--lang", language)
    for title in ("Options", "Commands"):
        assert f"─ {t.pgettext('help panel', title)} ─" in panels, panels


def test_english_help_is_what_typer_printed(app: Any) -> None:
    """The English path touches nothing: every command's help is typer's own rendering."""
    paths = [path for path, _ in _commands(app)]
    localized = {path: _help(app, *path) for path in paths}
    plain = build_app()

    def unlocalize(typer_app: Any) -> None:
        typer_app.info.cls = TyperGroup
        for info in typer_app.registered_commands:
            info.cls = TyperCommand
        for group in typer_app.registered_groups:
            group.cls = TyperGroup
            unlocalize(group.typer_instance)

    unlocalize(plain)
    assert type(get_command(plain)) is TyperGroup
    for path in paths:
        assert _help(plain, *path) == localized[path], path


def test_the_language_of_the_help_comes_from_lang_environment_or_configuration(
    app: Any, tmp_path: Path
) -> None:
    run_nl = translator("nl").gettext(
        "Run the nightly synchronisation now, with a progress display and a summary at the end."
    )
    root_de = translator("de").gettext(
        "Language of the human output of every command (JSON and machine-read lines stay the "
        "same): fr, nl, de, en (default: the configured CPAS's language setting, else en)."
    )

    def folded(output: str) -> str:
        return " ".join(output.replace("│", " ").split())

    assert folded(run_nl)[:40] in folded(_help(app, "--lang", "nl", "run"))
    assert folded(run_nl)[:40] in folded(_help(app, "run", env={"PIIS_LANG": "nl"}))
    assert folded(root_de)[:40] in folded(_help(app, env={"PIIS_LANG": "de"}))
    assert folded(root_de)[:40] in folded(_help(app, "--lang", "de"))
    # the root option wins over the environment
    assert folded(root_de)[:40] in folded(_help(app, "--lang", "de", env={"PIIS_LANG": "nl"}))
    # the configuration's one language
    config = tmp_path / "gent.toml"  # not ./piis-bridge.toml, read without PIIS_CONFIG
    config.write_text(
        '[cpas.gent]\nname = "OCMW Gent"\nins_code = "44021"\nbce = "0207567726"\n'
        'language = "nl"\n',
        encoding="utf-8",
    )
    assert folded(run_nl)[:40] in folded(_help(app, "run", env={"PIIS_CONFIG": str(config)}))
    # no choice: English, as before; an unknown PIIS_LANG is not a language for the root's help
    english = "Run the nightly synchronisation now"
    assert english in folded(_help(app, "run"))
    assert "Language of the human output" in folded(_help(app, env={"PIIS_LANG": "xx"}))


def test_a_commands_own_lang_sets_its_help(app: Any) -> None:
    """``rules check --lang nl --help`` (and ``--help --lang=nl``) answers in Dutch: the command's
    own ``--lang`` is read from its arguments before the eager ``--help`` answers."""

    def folded(output: str) -> str:
        return " ".join(output.replace("│", " ").split())

    english = "Judge every contract of FILE"
    dutch = "Elk contract van FILE"
    assert english in folded(_help(app, "rules", "check"))
    before = CliRunner().invoke(app, ["rules", "check", "--lang", "nl", "--help"])
    after = CliRunner().invoke(app, ["rules", "check", "--help", "--lang=nl"])
    assert before.exit_code == after.exit_code == 0, before.output
    assert dutch in folded(before.output) and dutch in folded(after.output)
    assert english not in folded(before.output)
    # it wins over the root's, and the next command line starts without it
    root = CliRunner().invoke(app, ["--lang", "de", "rules", "check", "--lang", "nl", "--help"])
    assert dutch in folded(root.output)
    assert english in folded(_help(app, "rules", "check"))
    # not a language: the help stays in the next source's (the command reports the value itself)
    assert english in folded(_help(app, "rules", "check", "--lang", "xx"))


def test_piis_lang_chooses_the_language_of_the_output_too(app: Any) -> None:
    english = CliRunner().invoke(app, ["rules", "list"])
    dutch = CliRunner().invoke(app, ["rules", "list"], env={"PIIS_LANG": "nl"})
    root_option = CliRunner().invoke(app, ["--lang", "nl", "rules", "list"])
    assert english.exit_code == dutch.exit_code == root_option.exit_code == 0, dutch.output
    assert dutch.output == root_option.output != english.output
    # a wrong value is the usage error of a wrong --lang, whichever command
    wrong = CliRunner().invoke(app, ["rules", "list"], env={"PIIS_LANG": "xx"})
    assert wrong.exit_code == 2 and "xx" in wrong.output


def test_the_extractor_finds_help_texts_and_command_docstrings() -> None:
    source = b'''
import typer
HELP = "not a literal given as help="

@app.command("one")
def one(x: int = typer.Option(1, "--x", help="The x option.")) -> None:
    """The first command.

    More about it."""

def by_call(path: str = typer.Argument(..., help="A path.")) -> None:
    """Registered by a call, not a decorator."""

def helper() -> None:
    """Not a command: no help text."""

group = cli.group("g", help="A group of commands.")
other = typer.Option(None, help=HELP)
'''
    found = [m for _, _, m, _ in extract_help(io.BytesIO(source), (), (), {})]
    assert sorted(found) == [
        "A group of commands.",
        "A path.",
        "Registered by a call, not a decorator.",
        "The first command.\n\nMore about it.",
        "The x option.",
    ]


def test_written_out_code_lists_are_the_codes() -> None:
    """The help texts written as one literal (for the extractor) list the codes they stand for."""
    assert f": {', '.join(LANGUAGES)} (" in LANG_HELP
    assert f": {', '.join(LANGUAGES)} (" in ROOT_LANG_HELP
    statuses = [code for code in CODES["form status"] if code != "unknown"]
    help_text = next(
        text
        for _, cmd in _commands(build_app())
        for text in _help_texts(cmd)
        if text.startswith("Only this status:")
    )
    assert all(code in help_text for code in statuses), (statuses, help_text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_sim_casesystem_speaks_the_language(
    app: Any, language: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The simulator really starts and seeds; only its serving loop ends at once (Ctrl-C)."""
    from piis_connectors.casesystem.simulator import CaseSystemSimulator

    def interrupted(self: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(CaseSystemSimulator, "serve_forever", interrupted)
    result = CliRunner().invoke(
        app,
        [
            *("--lang", language, "sim", "casesystem", "--port", "0", "--dossiers", "3"),
            *("--db", str(tmp_path / "sim.sqlite3")),
        ],
    )
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert "http://127.0.0.1:" in line
    words = {
        "en": "NeptunusWeb-like simulator on",
        "fr": "Simulateur de type NeptunusWeb sur",
        "nl": "Simulator zoals NeptunusWeb op",
        "de": "Simulator nach Art von NeptunusWeb auf",
    }
    assert line.startswith(words[language]), line
    if language != "en":
        assert "Ctrl-C to stop" not in line and "contracts)" not in line, line
