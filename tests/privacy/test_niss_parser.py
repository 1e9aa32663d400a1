"""One NISS parser: every accepted writing normalises to 11 ASCII digits, and the redactor masks
every writing the parser accepts (property tests over scripts, separators and surroundings)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piis_bridge.identifiers import IdentifierError, mask_niss, parse_niss, validate_niss
from piis_bridge.logging import mask_text, redact
from tests.core.test_identifiers import make_niss
from tests.privacy.niss_scan import find_niss

NISS = "85073003328"

# Digit scripts: ASCII, full-width, Arabic-Indic, Devanagari, mathematical bold, superscript.
SCRIPTS = [0x30, 0xFF10, 0x660, 0x966, 0x1D7CE]
SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹"
SEPARATORS = [
    " ",
    "  ",
    "   ",
    "\u00a0",
    "\u202f",
    "\u2007",
    "\t",
    "\u3000",
    ".",
    "-",
    "/",
    " / ",
    "\u2013",
    "\u2011",
    "\uff0e",
    "\uff0d",
    "\uff0f",
    ". ",
    " - ",
    "\u00a0\u00a0",
]


def nisses() -> st.SearchStrategy[str]:
    return st.builds(
        make_niss,
        st.dates(min_value=date(1920, 1, 1), max_value=date(2026, 11, 1)),
        st.integers(1, 998),
        st.sampled_from([0, 0, 20, 40]),
    ).filter(lambda n: n[2:4] != "00")


@st.composite
def writings(draw: st.DrawFn, niss: str) -> str:
    """Any writing: digits split in groups, each digit in some script, any separators between."""
    cuts = sorted(draw(st.sets(st.integers(1, 10), max_size=10)))
    parts, last = [], 0
    for cut in [*cuts, 11]:
        parts.append(niss[last:cut])
        last = cut
    out = []
    for i, part in enumerate(parts):
        if i:
            out.append(draw(st.sampled_from(SEPARATORS)))
        for d in part:
            kind = draw(st.integers(0, len(SCRIPTS)))
            out.append(SUPERSCRIPT[int(d)] if kind == len(SCRIPTS) else chr(SCRIPTS[kind] + int(d)))
    return "".join(out)


def _no_digit_char(ch: str) -> bool:
    return not any(
        unicodedata.decimal(c, None) is not None for c in unicodedata.normalize("NFKC", ch)
    )


surroundings = st.text(
    alphabet=st.characters(blacklist_categories=["Nd", "No", "Nl", "Cs"]).filter(_no_digit_char),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_parser_accepts_every_writing_and_redactor_masks_it(data: st.DataObject) -> None:
    niss = data.draw(nisses())
    writing = data.draw(writings(niss))
    assert parse_niss(writing) == niss
    before, after = data.draw(surroundings), data.draw(surroundings)
    masked = mask_text(f"{before}{writing}{after}")
    assert find_niss(masked) == [], (writing, masked)
    assert "[NISS]" in masked
    assert redact({"note": f"{before}{writing}{after}"})["note"] == masked


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_two_numbers_in_one_line_are_both_masked(data: st.DataObject) -> None:
    a, b = data.draw(nisses()), data.draw(nisses())
    text = (
        f"{data.draw(writings(a))} {data.draw(st.sampled_from(SEPARATORS))}{data.draw(writings(b))}"
    )
    assert find_niss(mask_text(text)) == []


@pytest.mark.parametrize(
    "writing",
    [
        "85.07.30-033.28",
        "85 07 30 033 28",
        "850730/033/28",
        "85  07  30  033  28",
        "85\u00a007\u00a030\u00a003328",
        "８５０７３００３３２８",
        "85-07-30 / 033-28",
        " 85073003328 ",
        "85\t07\t30\t033\t28",
        "GPMI-85073003328",
    ],
)
def test_known_writings(writing: str) -> None:
    if writing.startswith("GPMI"):
        assert mask_text(writing) == "GPMI-[NISS]"
        return
    assert parse_niss(writing) == NISS
    assert (
        mask_text(f"id={writing};") == "id=[NISS];"
        or mask_text(f"id={writing};").strip() == "id= [NISS] ;"
    )


@pytest.mark.parametrize(
    "bad",
    [
        "85073003328x",
        "8507300332",
        "850730033280",
        "85_07_30_033_28",
        "85,07,30,033,28",
        "85073003329",
        "",
        "   ",
    ],
)
def test_parser_refuses_other_writings_without_echoing(bad: str) -> None:
    with pytest.raises(IdentifierError) as info:
        parse_niss(bad)
    if len(bad) > 4:
        assert bad not in str(info.value)
        assert "0730033" not in str(info.value)


def test_mask_hint_keeps_two_digits_only() -> None:
    assert mask_niss("８５.07.30-033.28") == "*********28"
    assert mask_niss("abc 85/07/30/033/28 z") == "*********28"


def test_numbers_glued_to_more_digits_are_left_alone() -> None:
    # A 13-digit invoice number that happens to contain a valid NISS window is another number.
    assert mask_text("invoice 1285073003328") == "invoice 1285073003328"
    with pytest.raises(IdentifierError):
        validate_niss("1285073003328")


def test_url_paths_are_dropped_from_text() -> None:
    line = 'HTTP Request: PUT http://127.0.0.1:8000/api/v1/records/GPMI-85%2007%2030%2003328/status "200"'
    assert mask_text(line) == line
    assert mask_text(line, urls=True) == 'HTTP Request: PUT http://127.0.0.1:8000/[path] "200"'


def test_third_party_loggers_never_log_urls_even_at_debug() -> None:
    import io
    import logging

    from piis_bridge.logging import configure_logging

    stream = io.StringIO()
    configure_logging("json", level=logging.DEBUG, stream=stream)
    logging.getLogger("httpx").info(
        "HTTP Request: PUT %s", "http://h:1/api/v1/records/GPMI-85.07.30-033.28/x"
    )
    logging.getLogger("zeep.transports").debug(
        "HTTP Post to %s: <ssin>85073003328</ssin>", "http://h/"
    )
    logging.getLogger("httpx").warning(
        "HTTP problem at %s", "http://h:1/api/v1/records/GPMI-85 07 30 033 28/x"
    )
    logging.getLogger("piis.own").debug("own %s", "http://h:1/a/b?q=1")
    out = stream.getvalue()
    assert "HTTP Request" not in out and "HTTP Post" not in out
    assert "http://h:1/[path]" in out and "/api/v1" not in out and "/a/b" not in out
    assert "own" in out  # our own DEBUG lines do come through
    assert find_niss(out) == []
