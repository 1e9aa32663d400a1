"""Identifier validators with their real check digits (NISS incl. 2000+ births and BIS, BCE, INS)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from piis_bridge.identifiers import (
    IdentifierError,
    is_valid_niss,
    mask_niss,
    niss_birth_date,
    validate_bce,
    validate_ins,
    validate_niss,
)


def make_niss(birth: date, counter: int, bis_offset: int = 0) -> str:
    month = birth.month + bis_offset
    body = int(f"{birth.year % 100:02d}{month:02d}{birth.day:02d}{counter:03d}")
    base = body + (2_000_000_000 if birth.year >= 2000 else 0)
    return f"{body:09d}{97 - base % 97:02d}"


def make_bce(first8: int) -> str:
    return f"{first8:08d}{97 - first8 % 97:02d}"


births = st.dates(min_value=date(1920, 1, 1), max_value=date(2026, 11, 22))
counters = st.integers(min_value=1, max_value=998)


@given(births, counters)
def test_generated_niss_is_accepted(birth: date, counter: int) -> None:
    niss = make_niss(birth, counter)
    assert validate_niss(niss) == niss
    assert niss_birth_date(niss) == birth


@given(births, counters, st.sampled_from([20, 40]))
def test_generated_bis_number_is_accepted(birth: date, counter: int, offset: int) -> None:
    assert validate_niss(make_niss(birth, counter, offset)) == make_niss(birth, counter, offset)


@given(
    births, counters, st.integers(min_value=0, max_value=10), st.integers(min_value=1, max_value=9)
)
def test_one_changed_digit_is_rejected(
    birth: date, counter: int, position: int, delta: int
) -> None:
    niss = make_niss(birth, counter)
    digits = list(niss)
    digits[position] = str((int(digits[position]) + delta) % 10)
    mutated = "".join(digits)
    # A mutation can (rarely) yield another valid number, e.g. the same body read under the
    # other century rule; only mutations that do not are expected to fail.
    assume(not _valid_either_century(mutated))
    with pytest.raises(IdentifierError) as info:
        validate_niss(mutated)
    assert mutated not in str(info.value)


def _valid_either_century(niss: str) -> bool:
    body, check = int(niss[:9]), int(niss[9:])
    if check not in (97 - body % 97, 97 - (2_000_000_000 + body) % 97):
        return False
    return is_valid_niss(niss)


def test_birth_in_2000_uses_the_2_prefix_rule() -> None:
    niss = make_niss(date(2000, 1, 1), 1)
    body = int(niss[:9])
    assert int(niss[9:]) == 97 - (2_000_000_000 + body) % 97
    assert int(niss[9:]) != 97 - body % 97  # the pre-2000 rule would reject it
    assert niss_birth_date(niss) == date(2000, 1, 1)


def test_leap_day_births() -> None:
    assert validate_niss(make_niss(date(2004, 2, 29), 12))
    with pytest.raises(IdentifierError, match="birth-date part"):
        # 29 February 2003 does not exist: body 030229..., either check variant.
        body = 30229012
        validate_niss(f"{body:09d}{97 - (2_000_000_000 + body) % 97:02d}")


@pytest.mark.parametrize(
    "value, reason",
    [
        ("8507300332", "must have 11 digits, has 10"),
        ("850730033289", "must have 11 digits, has 12"),
        ("85O73003328", "only digits"),
        ("", "is empty"),
    ],
)
def test_malformed_niss_reason(value: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        validate_niss(value)


def test_formatted_niss_is_compacted() -> None:
    niss = make_niss(date(1985, 7, 30), 33)
    formatted = f"{niss[:2]}.{niss[2:4]}.{niss[4:6]}-{niss[6:9]}.{niss[9:]}"
    assert validate_niss(formatted) == niss


def test_error_text_masks_the_number() -> None:
    niss = make_niss(date(1985, 7, 30), 33)
    wrong = niss[:-1] + str((int(niss[-1]) + 1) % 10)
    with pytest.raises(IdentifierError) as info:
        validate_niss(wrong)
    assert wrong not in str(info.value)
    assert wrong[:9] not in str(info.value)
    assert str(info.value).endswith("check digits do not match (mod 97)")
    assert mask_niss(wrong) == "*" * 9 + wrong[-2:]


@given(st.integers(min_value=2_000_000, max_value=19_999_999))
def test_generated_bce_is_accepted(first8: int) -> None:
    assert validate_bce(make_bce(first8)) == make_bce(first8)


@given(st.integers(min_value=2_000_000, max_value=19_999_999), st.integers(0, 9), st.integers(1, 9))
def test_bce_one_changed_digit_is_rejected(first8: int, position: int, delta: int) -> None:
    digits = list(make_bce(first8))
    digits[position] = str((int(digits[position]) + delta) % 10)
    mutated = "".join(digits)
    assume(mutated[0] in "01")
    with pytest.raises(IdentifierError):
        validate_bce(mutated)


def test_bce_spellings() -> None:
    bce = make_bce(2120455)
    assert validate_bce(f"BE{bce}") == bce
    assert validate_bce(f"{bce[:4]}.{bce[4:7]}.{bce[7:]}") == bce
    assert validate_bce(bce[1:]) == bce  # 9-digit legacy spelling
    with pytest.raises(IdentifierError, match="start with 0 or 1"):
        validate_bce("2" + bce[1:])


@pytest.mark.parametrize("code", ["21004", "62063", "44021", "11002", "92094"])
def test_ins_codes_accepted(code: str) -> None:
    assert validate_ins(code) == code


@pytest.mark.parametrize(
    "code, reason",
    [("2100", "5 digits"), ("210045", "5 digits"), ("01004", "province"), ("2a004", "5 digits")],
)
def test_ins_codes_rejected(code: str, reason: str) -> None:
    with pytest.raises(IdentifierError, match=reason):
        validate_ins(code)


def test_day_after_every_valid_date_is_not_confused() -> None:
    # Neighbouring birth dates give different numbers: a cheap guard against off-by-one in masks.
    a = make_niss(date(1999, 12, 31), 1)
    b = make_niss(date(1999, 12, 31) + timedelta(days=1), 1)
    assert a != b and is_valid_niss(a) and is_valid_niss(b)


def _validates(value: object) -> bool:
    try:
        validate_niss(value)
    except IdentifierError:
        return False
    return True


@given(
    st.one_of(
        st.text(alphabet="0123456789 .-/GPMIx", max_size=20),
        st.text(max_size=16),
        st.builds(make_niss, births, counters).map(lambda n: f"{n[:2]}.{n[2:4]}.{n[4:6]}-{n[6:]}"),
        st.builds(make_niss, births, counters),
    )
)
def test_is_valid_niss_answers_as_validate_niss(value: str) -> None:
    # is_valid_niss refuses most record ids before validate_niss (no masked error built): same answer
    assert is_valid_niss(value) == _validates(value)


# -- the last valid NISS kept (issue #20): one record's NISS is checked three times in a row ------------

unknown_parts = st.tuples(
    st.integers(min_value=0, max_value=99),  # year
    st.sampled_from([0, 20, 40]),  # an unknown month, national or BIS
    st.integers(min_value=0, max_value=31),
)


@given(births, counters, st.sampled_from([0, 20, 40]))
def test_birth_date_of_the_kept_niss_is_stdnums(birth: date, counter: int, offset: int) -> None:
    """The birth date kept with a valid NISS is what stdnum reads from it (the path before)."""
    from stdnum.be import bis, nn

    import piis_bridge.identifiers as ids

    niss = make_niss(birth, counter, offset)
    assert validate_niss(niss) == niss
    module = bis if offset else nn
    assert ids._LAST_VALID == (niss, module.get_birth_date(niss)) == (niss, birth)
    assert niss_birth_date(niss) == birth


@given(unknown_parts, counters)
def test_partly_unknown_birth_date_of_the_kept_niss_is_none_as_stdnum(
    parts: tuple[int, int, int], counter: int
) -> None:
    from stdnum.be import bis, nn

    import piis_bridge.identifiers as ids

    year, month, day = parts
    body = year * 10_000_000 + month * 100_000 + day * 1000 + counter
    for base in (body, body + 2_000_000_000):
        niss = f"{body:09d}{97 - base % 97:02d}"
        try:
            validate_niss(niss)
        except IdentifierError:
            continue  # a 2000s year not reached yet, or a day 00 refused otherwise
        module = bis if month else nn
        assert ids._LAST_VALID[0] == niss
        assert ids._LAST_VALID[1] == module.get_birth_date(niss) is None


def test_a_second_check_of_the_same_niss_does_not_run_stdnum_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import piis_bridge.identifiers as ids

    niss, other = make_niss(date(1985, 7, 30), 33), make_niss(date(1990, 1, 2), 44)
    assert validate_niss(niss) == niss

    def fail(number: str) -> str:
        raise AssertionError("checked again")

    monkeypatch.setattr(ids.nn, "validate", fail)
    monkeypatch.setattr(ids.nn, "get_birth_date", fail)
    assert validate_niss(niss) == niss
    assert niss_birth_date(niss) == date(1985, 7, 30)
    with pytest.raises(AssertionError, match="checked again"):
        validate_niss(other)  # another number is checked in full
    monkeypatch.undo()
    assert validate_niss(other) == other
    with pytest.raises(AssertionError, match="checked again"):
        monkeypatch.setattr(ids.nn, "validate", fail)
        validate_niss(niss)  # only the last one is kept


@given(births, counters)
def test_bad_input_after_a_valid_niss_is_refused_with_the_same_reason(
    birth: date, counter: int
) -> None:
    niss = make_niss(birth, counter)
    validate_niss(niss)
    for bad, reason in (
        (niss[:-1], "must have 11 digits, has 10"),
        (niss[:-2] + f"{(int(niss[-2:]) + 1) % 100:02d}", None),
        (niss + " ", None),  # a separator: compacted, the same number
        ("", "is empty"),
    ):
        if bad.strip() == niss:
            assert validate_niss(bad) == niss
            continue
        with pytest.raises(IdentifierError) as err:
            validate_niss(bad)
        if reason:
            assert err.value.reason == reason
    assert niss_birth_date(niss) == birth


def test_a_known_bce_writing_answers_as_the_check_and_bad_ones_are_still_refused() -> None:
    """validate_bce keeps the writings it accepted (issue #20): the same answer the second time,
    and nothing refused is kept."""
    import piis_bridge.identifiers as ids

    good = make_bce(2_123_456)
    for writing in (good, f"BE{good}", f"{good[:4]}.{good[4:7]}.{good[7:]}", good[1:]):
        assert validate_bce(writing) == good
        assert ids._VALID_BCE[writing] == good
        assert validate_bce(writing) == good
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    for _ in range(2):
        with pytest.raises(IdentifierError, match="check digits"):
            validate_bce(bad)
    assert bad not in ids._VALID_BCE
    assert validate_bce(int(good)) == good  # not a str: checked, not kept
    assert int(good) not in ids._VALID_BCE


def test_the_kept_bce_writings_are_bounded() -> None:
    import piis_bridge.identifiers as ids

    for first8 in range(1, 1100):
        validate_bce(make_bce(first8))
    assert len(ids._VALID_BCE) <= 1024
