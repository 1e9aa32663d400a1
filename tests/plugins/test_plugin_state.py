"""Plugins keep their state in the objects the host registers, never in module globals (issue #21).

Why: a module global is shared by every host, test and CPAS of the process, outlives ``close()``, is
copied into a forked worker with the parent's sockets, and makes tests depend on their order.  The
plugin objects (``make_plugin()``, see docs/plugins.md "Plugin state") hold clients, engines and caches
instead, one per process, closed with it.

The scan reads every module of ``plugins/`` with :mod:`ast` and fails on a module-level name bound to
a mutable value: a dict, list or set (display or comprehension), a call of ``dict``/``list``/``set``
and the like, or an instance of a class (``threading.Lock()``, ``ClientPool()``); and on ``global``.
Constants are fine as immutable values: tuples, ``frozenset``, ``MappingProxyType``, compiled regexes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import piis_plugins.federal
import piis_plugins.filedrop
import piis_plugins.lino
import piis_plugins.neptunus
import piis_plugins.transfer
import pytest

from piis_bridge.config import Settings
from piis_bridge.hooks.manager import PluginHost, PluginInstances

ROOT = Path(__file__).resolve().parents[2]
MUTABLE_CALLS = {
    "dict",
    "list",
    "set",
    "bytearray",
    "defaultdict",
    "OrderedDict",
    "deque",
    "Counter",
}
# Calls of a capitalised name that give immutable (or process-wide by design) values.
IMMUTABLE_CLASSES = {"MappingProxyType", "ZoneInfo", "TypeVar", "Decimal", "Path", "PurePosixPath"}
# gettext's extraction markers: N_ returns its str, NP_ a tuple (piis_bridge.i18n)
IMMUTABLE_CLASSES |= {"N_", "NP_"}


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _mutable(value: ast.expr | None) -> bool:
    if isinstance(value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        name = _called_name(value)
        return name in MUTABLE_CALLS or (name[:1].isupper() and name not in IMMUTABLE_CLASSES)
    return False


def _module_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements run at import: the module's own, and those nested in module-level if/try/with/for."""
    found: list[ast.stmt] = []
    for node in body:
        found.append(node)
        if isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            for field in ("body", "orelse", "finalbody"):
                found.extend(_module_statements(getattr(node, field, [])))
            for handler in getattr(node, "handlers", []):
                found.extend(_module_statements(handler.body))
    return found


def mutable_globals(source: str, filename: str = "<plugin>") -> list[str]:
    """``"line: name"`` for each module-level name bound to a mutable value, and each ``global``."""
    tree = ast.parse(source, filename=filename)
    found = []
    for node in _module_statements(tree.body):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        if _mutable(value):
            names = [t.id if isinstance(t, ast.Name) else ast.unparse(t) for t in targets]
            found.extend(f"{node.lineno}: {name}" for name in names if name != "__all__")
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.extend(f"{node.lineno}: global {name}" for name in node.names)
    return found


def test_no_plugin_module_keeps_mutable_state() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "plugins").rglob("*.py"))
        for line in mutable_globals(path.read_text(encoding="utf-8"), str(path))
    ]
    assert offences == [], (
        "module-level mutable state in plugins/ (keep it in the plugin object, or make the constant "
        "immutable):\n" + "\n".join(offences)
    )


@pytest.mark.parametrize(
    "source",
    [
        "_cache = {}\n",
        "_seen: set[str] = set()\n",
        "import threading\n_lock = threading.Lock()\n",
        "POOL = ClientPool()\n",
        "def f():\n    global _n\n    _n = 1\n",
        "try:\n    _by_id = {k: 1 for k in 'ab'}\nexcept ImportError:\n    pass\n",
    ],
)
def test_the_scan_catches_module_state(source: str) -> None:
    assert mutable_globals(source) != []


def test_the_scan_lets_constants_through() -> None:
    source = (
        "import re\nfrom types import MappingProxyType\n"
        "__all__ = ['A']\nA = ('x', 'y')\nB = frozenset({'x'})\nC = MappingProxyType({'a': 1})\n"
        "D = re.compile('x')\nE = 4\n"
    )
    assert mutable_globals(source) == []


@pytest.mark.parametrize(
    ("module", "cls"),
    [
        (piis_plugins.federal, "FederalPlugin"),
        (piis_plugins.filedrop, "FiledropPlugin"),
        (piis_plugins.lino, "LinoPlugin"),
        (piis_plugins.neptunus, "NeptunusPlugin"),
        (piis_plugins.transfer, "TransferPlugin"),
    ],
)
def test_the_host_registers_one_plugin_object_per_process(
    module: object, cls: str, tmp_path: Path
) -> None:
    """Two hosts sharing a process's :class:`PluginInstances` (the Runtime's per-thread hosts) get the
    same object; a host of its own (a CLI command, another test) gets another one."""
    name = getattr(module, "PLUGIN_NAME", None) or cls.removesuffix("Plugin").lower()
    shared = PluginInstances()
    settings = Settings(state_dir=tmp_path)
    first, second, alone = (
        PluginHost(settings, plugins=[(name, module)], load_entrypoints=False, instances=i)
        for i in (shared, shared, None)
    )
    registered = first.plugin(name)
    assert type(registered).__name__ == cls and registered is not module
    assert second.plugin(name) is registered
    assert alone.plugin(name) is not registered
    assert name in {i.name for i in first.plugin_infos() if i.hooks}
    shared.close()
    with pytest.raises(KeyError, match="no active plugin named 'nope'"):
        first.plugin("nope")


def test_the_runtime_s_thread_hosts_share_the_plugin_objects_until_a_fork(tmp_path: Path) -> None:
    """The pipeline's hosts are per thread; their plugin objects (clients, engines) are per process:
    the same object in every thread, new ones after a fork, closed by ``Runtime.close``."""
    import threading

    from piis_bridge.pipeline.runtime import Runtime

    rt = Runtime(Settings(state_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.sqlite3'}"))
    here = rt.host
    there: list[PluginHost] = []
    thread = threading.Thread(target=lambda: there.append(rt.host))
    thread.start()
    thread.join()
    (other,) = there
    assert other is not here  # a host per thread (its own failures) ...
    neptunus = here.plugin("neptunus")
    assert other.plugin("neptunus") is neptunus  # ... one plugin object per process
    assert isinstance(neptunus, piis_plugins.neptunus.NeptunusPlugin)
    rt.after_fork()  # as in a prefork child: the parent's objects (and sockets) are not reused
    assert rt.host is not here and rt.host.plugin("neptunus") is not neptunus
    closed: list[str] = []
    child = rt.host.plugin("transfer")
    assert isinstance(child, piis_plugins.transfer.TransferPlugin)
    child.close = lambda: closed.append("transfer")
    rt.close()
    assert closed == ["transfer"]
