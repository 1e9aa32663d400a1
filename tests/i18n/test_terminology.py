"""The terms of docs/i18n.md's vocabulary table hold in every translation (a new text included).

Dutch: the federal subsidy of the PIIS is a *toelage* (the law's and the POD MI's word,
``staatstoelage``, ``bijzondere toelage``), never a *subsidie*; the mise en demeure is an
*aanmaning*.  German: the integration income's short form is *EiEi* (Lino Welfare's, the software of
the German-speaking ÖSHZ), not *EE*.
"""

from __future__ import annotations

import re

import pytest

from piis_bridge.i18n.catalog import po_path, read_catalog

REJECTED = {
    "nl": {
        "subsidie (use toelage)": re.compile(r"(?i)\b(?:ge)?subsidi(?:e|ë|eer)"),
        "ingebrekestelling (use aanmaning)": re.compile(r"(?i)ingebrekestelling"),
    },
    "de": {"EE (use EiEi)": re.compile(r"\bEE\b")},
}


def _texts(language: str) -> list[tuple[str, str]]:
    found = []
    for msg in read_catalog(po_path(language), language):
        if not msg.id:
            continue
        forms = msg.string if isinstance(msg.string, (list, tuple)) else [msg.string]
        msgid = msg.id if isinstance(msg.id, str) else msg.id[0]
        found.extend((msgid, form) for form in forms if form)
    return found


@pytest.mark.parametrize("language", sorted(REJECTED))
def test_no_rejected_term_in_the_catalogue(language: str) -> None:
    texts = _texts(language)
    assert texts
    problems = [
        f"{name}: {msgid!r} -> {text!r}"
        for msgid, text in texts
        for name, pattern in REJECTED[language].items()
        if pattern.search(text)
    ]
    assert problems == []


def test_the_patterns_find_what_they_reject() -> None:
    nl, de = REJECTED["nl"], REJECTED["de"]
    assert nl["subsidie (use toelage)"].search("al gesubsidieerd op contract")
    assert nl["subsidie (use toelage)"].search("het subsidiepercentage")
    assert not nl["subsidie (use toelage)"].search("Subsidiaire bescherming")  # another notion
    assert not nl["subsidie (use toelage)"].search("de bijzondere toelage")
    assert de["EE (use EiEi)"].search("EE (EUR)")
    assert not de["EE (use EiEi)"].search("EiEi (EUR) ÖSHZ IPSE")
