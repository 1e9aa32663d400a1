"""A NISS passed into a log call, an exception message, a warning or a library's stdlib log never
reaches the output in clear; numbers that are not NISS stay readable."""

from __future__ import annotations

import io
import json
import logging
import warnings
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piis_bridge.logging import configure_logging, correlation, get_logger, redact
from tests.core.test_identifiers import make_niss

NISS = make_niss(date(1985, 7, 30), 33)
NISS_2000 = make_niss(date(2003, 4, 12), 101)
DOTTED = f"{NISS[:2]}.{NISS[2:4]}.{NISS[4:6]}-{NISS[6:9]}.{NISS[9:]}"


@pytest.fixture(params=["json", "console"])
def output(request: pytest.FixtureRequest):
    stream = io.StringIO()
    configure_logging(request.param, stream=stream)
    yield stream
    configure_logging("json")


def _assert_clean(text: str) -> None:
    for secret in (NISS, NISS_2000, DOTTED):
        assert secret not in text
    assert "[NISS]" in text


def test_structlog_event_kwargs_and_positional(output: io.StringIO) -> None:
    log = get_logger("piis.test")
    log.info(f"processing {NISS}", person=NISS_2000, detail={"inner": [DOTTED]}, niss=NISS)
    _assert_clean(output.getvalue())


def test_exception_message_and_traceback(output: io.StringIO) -> None:
    log = get_logger("piis.test")

    def fail(niss: str) -> None:  # a local variable holding the NISS must not be rendered
        raise ValueError(f"no dossier for {niss}")

    try:
        fail(NISS)
    except ValueError:
        log.exception("lookup failed")
    text = output.getvalue()
    _assert_clean(text)
    assert "lookup failed" in text


def test_warning_is_redacted(output: io.StringIO) -> None:
    # pytest records warnings itself; re-route them the way configure_logging does in production.
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        logging.captureWarnings(False)
        logging.captureWarnings(True)
        warnings.warn(f"suspicious record {DOTTED}", UserWarning, stacklevel=1)
    _assert_clean(output.getvalue())


def test_library_stdlib_logger_is_redacted(output: io.StringIO) -> None:
    logging.getLogger("zeep.transports").info("HTTP Post: <Niss>%s</Niss>", NISS)
    logging.getLogger("celery.app.trace").warning("Task args=(%r,)", NISS_2000)
    _assert_clean(output.getvalue())


def test_non_niss_numbers_stay(output: io.StringIO) -> None:
    get_logger("piis.test").info("invoice 12345678901 phone 0470123456", count=12345678901)
    text = output.getvalue()
    assert "12345678901" in text and "0470123456" in text


def test_json_lines_carry_correlation_id() -> None:
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    with correlation(run_id="r1") as cid:
        get_logger("piis.test").info("hello")
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["correlation_id"] == cid and line["run_id"] == "r1"


@settings(max_examples=200)
@given(
    st.dates(min_value=date(1930, 1, 1), max_value=date(2026, 1, 1)),
    st.integers(1, 998),
    st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=20),
    st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=20),
)
def test_redact_masks_any_valid_niss_in_text(
    birth: date, counter: int, before: str, after: str
) -> None:
    niss = make_niss(birth, counter)
    assert niss not in redact(f"{before}{niss}{after}")
