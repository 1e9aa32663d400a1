"""The mapping engine maps exactly as before it was compiled (issue #20).

Why: the engine compiles a mapping file into closures on its first record instead of interpreting the
rules field by field; every record must still give the same dict, the same canonical contract and the
same problems (field, rule, shape of the value: never the value).  ``data/mapping_golden.json`` holds a
digest of all three for ~1,500 NeptunusWeb seed records, most of them damaged on purpose (missing or
empty fields, impossible dates, unknown codes, wrong types, a NISS in a name column, lists where a value
stands and the reverse), mapped with and without the canonical model, made with the interpreter as it was.
Regenerate only for a deliberate change of behaviour: ``python tests/casesystem/test_mapping_golden.py
--write`` (it maps with the engine installed at that moment).
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import sys
from collections.abc import Callable, Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

from piis_connectors.casesystem.seed import generate

from piis_bridge.mapping import load_mapping
from piis_bridge.model import PIISContract

GOLDEN = Path(__file__).parent / "data" / "mapping_golden.json"
_DAMAGE: tuple[Any, ...] = (
    None,
    "",
    "   ",
    [],
    {},
    "garbage",
    "31-02-2024",
    "2024-01-01",
    12,
    True,
    "1.234,56",
    "€ 12",
    "85073003328",  # a NISS where it does not belong: problems must not show it
    ["ALG", "STU"],
    "ONBEKEND",
    "J",
)


def _paths(doc: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield (*here, key)
            yield from _paths(value, (*here, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield (*here, i)
            yield from _paths(value, (*here, i))


def _damaged(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    paths = list(_paths(out))
    for _ in range(rng.choice((1, 1, 2, 4))):
        path = rng.choice(paths)
        parent: Any = out
        try:
            for step in path[:-1]:
                parent = parent[step]
            if rng.random() < 0.25 and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = copy.deepcopy(rng.choice(_DAMAGE))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier damage removed the way there
    return out


def records() -> Iterator[dict[str, Any]]:
    rng = random.Random(20)
    for i, seed in enumerate(generate(700, 7)):
        if i >= 750:
            return
        yield seed.data
        yield _damaged(seed.data, rng)


def digests(load: Callable[..., Any] = load_mapping) -> Iterator[str]:
    source = files("piis_mappings.neptunus") / "contract.yaml"
    typed, untyped = load(source, PIISContract), load(source)
    for record in records():
        for mapping in (typed, untyped):
            result = mapping.apply(record)
            seen = json.dumps(
                [
                    result.record_id,
                    result.data,
                    [[p.record_id, p.field, p.reason] for p in result.problems],
                    None if result.value is None else result.value.model_dump(mode="json"),
                ],
                default=repr,
            )
            yield hashlib.sha256(seen.encode()).hexdigest()[:16]


def test_records_map_as_before_the_mapping_was_compiled() -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))["digests"]
    got = list(digests())
    assert len(got) == len(expected)
    for i, (digest, want) in enumerate(zip(got, expected, strict=True)):
        assert digest == want, (
            f"record {i // 2} ({'typed' if i % 2 == 0 else 'untyped'}) maps otherwise"
        )


def test_the_golden_records_are_not_all_fine() -> None:
    """The set exercises the problem paths: many damaged records fail, with their field and rule."""
    mapping = load_mapping(files("piis_mappings.neptunus") / "contract.yaml", PIISContract)
    results = [mapping.apply(r) for r in records()]
    failed = [r for r in results if not r.ok]
    assert 200 < len(failed) < len(results) - 500
    reasons = {p.reason.split(" ")[0] for r in failed for p in r.problems}
    assert {"missing", "unknown", "not"} <= reasons
    assert not any("85073003328" in str(p) for r in failed for p in r.problems)


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps({"digests": list(digests())}, indent=0) + "\n", encoding="utf-8")
