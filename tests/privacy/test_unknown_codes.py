"""Unknown vendor codes: shown as their shape plus a keyed fingerprint, never as the value.

The decision (docs/privacy.md 4): the column of a code is where a shifted name or NISS lands, so the
value is never shown; the fingerprint still tells an operator which quarantined records share one
unknown code (one mapping fix), and it is stable across records, runs and data-key rotations.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from piis_connectors.casesystem.seed import generate

from piis_bridge import crypto
from piis_bridge.crypto import code_fingerprint, new_key, reset_key_ring
from piis_bridge.mapping import load_mapping
from piis_bridge.model import PIISContract
from tests.privacy.niss_scan import find_niss

SHIPPED = Path(__file__).resolve().parents[2] / "mappings" / "neptunus" / "contract.yaml"
K1, K2, H1 = new_key(), new_key(), new_key()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for env in (crypto.KEYS_FILE_ENV, crypto.HASH_KEY_FILE_ENV):
        monkeypatch.delenv(env, raising=False)
    monkeypatch.setenv(crypto.KEYS_ENV, f"k1:{K1}")
    monkeypatch.setenv(crypto.HASH_KEY_ENV, f"h1:{H1}")
    reset_key_ring()
    yield
    reset_key_ring()


def _problems(codes: list[str]) -> list[str]:
    mapping = load_mapping(SHIPPED, PIISContract)
    out = []
    for n, (record, code) in enumerate(zip(generate(40, seed=3), codes, strict=False)):
        raw = copy.deepcopy(record.data)
        raw["domeinen"].append(code)
        result = mapping.apply(raw, record_id=f"R{n}")
        out += [f"{p.field}: {p.reason}" for p in result.problems if "domein" in p.reason]
    return out


def test_same_unknown_code_same_fingerprint_value_never_shown(
    keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    niss = next(generate(1, seed=5)).data["client"]["rijksregisternummer"]
    codes = ["ASTROLOGIE", "ASTROLOGIE", " ASTROLOGIE", "Peeters", niss, f"{niss[:6]}-{niss[6:]}"]
    problems = _problems(codes)
    assert len(problems) == len(codes), problems
    prints = [re.findall(r"#[0-9a-f]{8}", p) for p in problems]
    assert prints[0] == prints[1] == prints[2] and len(prints[0]) == 1  # one code, one fingerprint
    assert prints[3] and prints[3] != prints[0]  # another code, another fingerprint
    assert prints[4] == prints[5] == []  # digit runs (a NISS, a date) never get one
    text = "\n".join(problems)
    assert "ASTROLOGIE" not in text and "Peeters" not in text and find_niss(text) == []
    assert "unknown code 'AAAAAAAAAA' in code list 'domein'" in problems[0]
    # the data key rotates: the fingerprint an operator noted stays valid
    monkeypatch.setenv(crypto.KEYS_ENV, f"k2:{K2},k1:{K1}")
    reset_key_ring()
    assert code_fingerprint("ASTROLOGIE") == prints[0][0]


def test_no_fingerprint_without_hash_key_rather_than_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(crypto.HASH_KEY_ENV, raising=False)
    monkeypatch.delenv(crypto.HASH_KEY_FILE_ENV, raising=False)
    monkeypatch.setenv(crypto.KEYS_ENV, f"k1:{K1}")
    reset_key_ring()
    try:
        assert code_fingerprint("ASTROLOGIE") == ""  # the ledger reports the missing key
    finally:
        reset_key_ring()
