"""No operator command prints a text the catalogue cannot see.

Two source checks over the translated commands (``runs``, ``quarantine``, ``run``, ``forms``,
``transfer``, the ``rules`` agenda/subsidy/share, and since round 2 ``db``, ``worker``, ``beat``,
``plugins``, ``new-plugin``, ``schema``, ``validate``, ``health``, ``monitor``, ``alerts``, ``sim``): a literal with words passed to an output call
(``typer.echo``, ``console.print``, a table's title or column, a progress task) must be inside a
``gettext`` call; and every message id written in a ``gettext``/``ngettext``/``pgettext``/``N_``
call of the extracted files must be in the catalogue template (Babel's extractor skips, with a
warning only, a call it cannot read: one inside an f-string, for instance).  With
``tests/i18n/test_catalogues.py`` (every message id translated in the four languages), a new
English text in these commands fails CI until it is wrapped and translated.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from piis_bridge.i18n.catalog import SOURCES, template

ROOT = Path(__file__).resolve().parents[2]
CHECKED: dict[str, frozenset[str] | None] = {
    # file -> functions NOT checked (none since round 2: every command speaks the CPAS's language)
    "piis_bridge/cli/pipeline_commands.py": frozenset(),
    "piis_bridge/cli/ops_commands.py": frozenset(),
    "piis_bridge/cli/rules_more_commands.py": frozenset(),
    "piis_bridge/cli/plugins_commands.py": frozenset(),
    "piis_bridge/cli/model_commands.py": frozenset(),
    "piis_bridge/cli/observability_commands.py": frozenset(),
    "plugins/transfer/cli.py": frozenset(),
    "plugins/federal/cli.py": frozenset(),
    "plugins/neptunus/cli.py": frozenset(),
    # the last resort's paragraph and the loading of plugin commands
    "piis_bridge/cli/__init__.py": frozenset(),
    "piis_bridge/cli/_registry.py": frozenset(),
}
# Texts made far from where they are read, as piis_bridge.i18n.text.Text (file -> the calls that
# take one, and which positional arguments): a health check's summary, an alert's title and text, a
# configuration error, a plugin host's problem, an operator error's what, cause and fix.
BUILT: dict[str, dict[str, tuple[int, ...]]] = {
    "piis_bridge/observability/health.py": {"Check": (2,)},
    "piis_bridge/observability/alerts.py": {"Alert": (4, 5), "AlertError": (0,)},
    "piis_bridge/config.py": {"ConfigError": (0,), "ValueError": (0,)},
    "piis_bridge/hooks/manager.py": {
        "self.problems.append": (0,),
        "self.tenancy_problems.append": (0,),
        "PluginStartupError": (0,),
    },
    "piis_bridge/ops/errors.py": {"OperatorError": (0, 1, 2)},
    "piis_bridge/ops/preflight.py": {"OperatorError": (0, 1, 2)},
}
_TRANSLATING = {"gettext", "ngettext", "pgettext", "N_", "NP_", "code_text", "_label", "Text"}
_OUTPUT_METHODS = {"echo", "print", "add_column", "add_task"}
# the program's name as a prefix ("piis-bridge db purge: ", health's Nagios line "piis-bridge OK")
# and rich markup are not texts to translate
_PREFIX = re.compile(r"piis-bridge(?: [a-z-]+)*(?:: | ?$)|\[/?(?:red|bold|dim|yellow)\]")


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _literals(node: ast.AST) -> list[tuple[int, str]]:
    """String literals under *node* that are not inside a translating call."""
    found: list[tuple[int, str]] = []

    def walk(n: ast.AST) -> None:
        if isinstance(n, ast.Call) and _name(n.func) in _TRANSLATING | {"get", "dumps"}:
            return  # translated, a key looked up (.get), or JSON (language-neutral)
        if isinstance(n, ast.Subscript):  # row["state"]: a key, not a text
            walk(n.value)
            return
        if isinstance(n, ast.Dict):  # a JSON body's keys
            for value in n.values:
                walk(value)
            return
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            found.append((n.lineno, n.value))
            return
        if isinstance(n, ast.FormattedValue):  # the value of an f-string: an expression
            walk(n.value)
            return
        for child in ast.iter_child_nodes(n):
            walk(child)

    walk(node)
    return found


def _untranslated(path: str, skipped: frozenset[str]) -> list[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))  # an absolute path stays as it is
    problems: list[str] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if function in skipped:
            return
        if isinstance(node, ast.Call):
            name = _name(node.func)
            args: list[ast.AST] = []
            if name in _OUTPUT_METHODS:
                args = [*node.args[:1]]
            if name == "Table" or name in _OUTPUT_METHODS:
                args += [k.value for k in node.keywords if k.arg == "title"]
            for arg in args:
                for line, text in _literals(arg):
                    if re.search(r"[A-Za-z]{3,}", _PREFIX.sub("", text)):
                        problems.append(f"{path}:{line} in {function}(): {text!r}")
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "")
    return problems


@pytest.mark.parametrize("path", sorted(CHECKED))
def test_every_text_printed_by_the_command_goes_through_the_catalogue(path: str) -> None:
    assert _untranslated(path, CHECKED[path] or frozenset()) == []


def _dotted(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return f"{_dotted(func.value)}.{func.attr}"
    return getattr(func, "id", "")


def _unwrapped(path: str, calls: dict[str, tuple[int, ...]]) -> list[str]:
    """Literals with words given to *calls* outside a ``Text``/``N_`` (an f-string, a plain str)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _dotted(node.func) in calls:
            for index in calls[_dotted(node.func)]:
                if index < len(node.args):
                    for line, text in _literals(node.args[index]):
                        if re.search(r"[A-Za-z]{3,}", text):
                            problems.append(f"{path}:{line}: {text!r}")
    return problems


@pytest.mark.parametrize("path", sorted(BUILT))
def test_every_text_built_for_a_reader_is_a_text_with_a_message_id(path: str) -> None:
    assert _unwrapped(path, BUILT[path]) == []
    assert path in SOURCES  # extracted, so the catalogue test sees every message id


def test_the_built_check_finds_an_english_f_string(tmp_path: Path) -> None:
    source = tmp_path / "health.py"
    source.write_text(
        "def f(n, where):\n"
        "    Check('disk', Status.OK, f'{n} MB free', {})\n"
        "    Check('disk', Status.OK, Text('{n} MB free', n=n), {})\n"
        "    self.problems.append(f'{where}: unknown key')\n"
        "    other.append(f'{where}: unknown key')\n",
        encoding="utf-8",
    )
    calls = {"Check": (2,), "self.problems.append": (0,)}
    found = _unwrapped(str(source), calls)
    assert [p.split(": ", 1)[1] for p in found] == ["' MB free'", "': unknown key'"]


def test_the_check_finds_a_printed_text_left_in_english(tmp_path: Path) -> None:
    source = tmp_path / "cmd.py"
    source.write_text(
        "def f(t, n):\n"
        "    typer.echo('nothing to send')\n"
        "    typer.echo(t.gettext('nothing to send'))\n"
        "    Table(title=f'Run {n} done')\n"
        "    table.add_column(t.gettext('state'))\n"
        "    typer.echo(f'piis-bridge run: {n}')\n",
        encoding="utf-8",
    )
    found = _untranslated(str(source), frozenset())
    assert [p.split(": ", 1)[1] for p in found] == ["'nothing to send'", "'Run '", "' done'"]


def _message_ids(path: Path) -> list[tuple[int, str | None, str]]:
    ids: list[tuple[int, str | None, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        strings = [a.value for a in node.args if isinstance(a, ast.Constant)]
        if name in ("gettext", "N_", "ngettext", "NP_") and node.args and strings:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                ids.append((node.lineno, None, first.value))
        elif name == "pgettext" and len(node.args) >= 2:
            ctx, msg = node.args[0], node.args[1]
            if (
                isinstance(ctx, ast.Constant)
                and isinstance(msg, ast.Constant)
                and isinstance(msg.value, str)
            ):
                ids.append((node.lineno, str(ctx.value), msg.value))
    return ids


def test_every_message_id_in_the_extracted_files_is_in_the_template() -> None:
    tmpl = template()
    known = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in tmpl if m.id}
    missing = []
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            for line, context, message in _message_ids(path):
                if (context, message) not in known:
                    missing.append(f"{path.relative_to(ROOT)}:{line}: {message!r}")
    assert missing == []
