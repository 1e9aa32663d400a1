"""docs/plugins.md documents every hook (datasette's test_plugin_hooks_are_documented)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from piis_bridge.hooks import specs
from piis_bridge.hooks.manager import hook_names

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def _sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    parts = re.split(r"^#### `(piis_\w+)\((.*?)\)`\s*$", text, flags=re.M)
    sections: dict[str, str] = {}
    for i in range(1, len(parts) - 1, 3):
        sections[parts[i]] = parts[i + 1] + "\n" + parts[i + 2].split("\n#")[0]
    return sections


def _signature(name: str) -> str:
    return ", ".join(inspect.signature(getattr(specs, name)).parameters)


def _is_firstresult(name: str) -> bool:
    return bool(getattr(getattr(specs, name), "piis_bridge_spec", {}).get("firstresult"))


SECTIONS = _sections()


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_is_documented_with_its_exact_signature(name: str) -> None:
    assert name in SECTIONS, f"{name} has no '#### `{name}(...)`' section in docs/plugins.md"
    args = SECTIONS[name].split("\n", 1)[0]
    assert args == _signature(name), (
        f"docs/plugins.md shows {name}({args}), the spec is {name}({_signature(name)})"
    )


@pytest.mark.parametrize("name", hook_names())
def test_every_argument_return_and_example_is_documented(name: str) -> None:
    body = SECTIONS[name].split("\n", 1)[1]
    for arg in inspect.signature(getattr(specs, name)).parameters:
        assert f"- `{arg}`" in body, f"{name}: argument {arg} is not described"
    assert "**When:**" in body and "**Return:**" in body, (
        f"{name}: say when it is called and what to return"
    )
    assert "```python" in body and "@hookimpl" in body, f"{name}: no example implementation"
    assert f"def {name}(" in body, f"{name}: the example does not implement {name}"
    if _is_firstresult(name):
        assert "*firstresult*" in body, (
            f"{name} stops at the first non-None result: say *firstresult*"
        )


def test_no_documented_hook_is_missing_from_the_specs() -> None:
    assert set(SECTIONS) - set(hook_names()) == set()


def test_every_spec_has_a_docstring_explaining_when_it_is_called() -> None:
    for name in hook_names():
        doc = inspect.getdoc(getattr(specs, name)) or ""
        assert len(doc) > 80, f"{name}: the hookspec docstring is missing or too short"
