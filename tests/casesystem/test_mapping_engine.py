"""The declarative mapping engine: load-time validation, conversions, and problems per vendor field."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from piis_connectors.casesystem.seed import generate

from piis_bridge.mapping import (
    CONVERTERS,
    ConversionError,
    MappingFileError,
    load_mapping,
    parse_mapping,
)
from piis_bridge.model import ActionDomain, PIISContract

SHIPPED = Path(__file__).resolve().parents[2] / "mappings" / "neptunus" / "contract.yaml"


@pytest.fixture(scope="module")
def mapping():
    return load_mapping(SHIPPED, PIISContract)


@pytest.fixture(scope="module")
def records():
    return [c.data for c in generate(120, seed=3)]


def _bad_check(niss: str) -> str:
    return niss[:-2] + f"{(int(niss[-2:]) + 1) % 100:02d}"


def _doc() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def test_every_seeded_record_maps_to_a_valid_contract(mapping, records) -> None:
    results = [mapping.apply(r) for r in records]
    assert [r.problems for r in results if not r.ok] == []
    kinds = {tag for r in results for tag in r.value.form_tags}
    assert {"GENERAL", "STUDIES_FULLTIME", "COMMUNITY_SERVICE"} <= kinds
    studies = next(r.value for r in results if r.value.studies is not None)
    assert studies.studies.full_time is True
    moved = [r.value for r in results if r.value.transfer is not None]
    assert moved and all(
        c.termination.reason == "CPAS_NO_LONGER_COMPETENT_RESIDENCE" for c in moved
    )
    premium = next(r.value for r in results if r.value.encouragement_premium is not None)
    assert premium.encouragement_premium.amount_cents % 50 == 0


def test_field_values_are_converted(mapping, records) -> None:
    raw = copy.deepcopy(records[0])
    raw["startdatum"], raw["leefloon"]["bedrag_maand"] = "01-02-2025", "1.234,56"
    result = mapping.apply(raw)
    assert result.ok, result.problems
    c = result.value
    assert c.start_date == date(2025, 2, 1)
    assert c.decision.ri_amount_monthly_cents == 123456
    assert c.contract_id == raw["contractnummer"]
    assert c.beneficiary.niss == raw["client"]["rijksregisternummer"]
    assert [w.role for w in c.social_workers] == ["IN_CHARGE", "SUBSTITUTE"]
    assert c.commitments[0].objective_ids == [raw["stappen"][0]["doel_id"]]


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        (
            lambda r: r["domeinen"].append("ASTROLOGIE"),
            "domeinen[{n}]",
            "unknown code 'AAAAAAAAAA' in code list 'domein'",
        ),
        (
            lambda r: r.update(startdatum="31-02-2025"),
            "startdatum",
            "not a valid date in format dd-mm-yyyy",
        ),
        (
            lambda r: r.update(startdatum="2025-02-01"),
            "startdatum",
            "not a valid date in format dd-mm-yyyy",
        ),
        (
            lambda r: r["client"].update(
                rijksregisternummer=_bad_check(r["client"]["rijksregisternummer"])
            ),
            "client.rijksregisternummer",
            "invalid NISS",
        ),
        (lambda r: r.pop("einddatum"), "einddatum", "missing mandatory field"),
        (
            lambda r: r["leefloon"].update(bedrag_maand="12.50"),
            "leefloon.bedrag_maand",
            "not an amount with a decimal comma",
        ),
        (
            lambda r: r["stappen"][1].update(partij="BUURMAN"),
            "stappen[1].partij",
            "unknown code 'AAAAAAA'",
        ),
        (
            lambda r: r["gesprekken"].append(
                {"gesprek_id": "X", "datum": "01-01-2025", "type": "FAX"}
            ),
            "gesprekken[{g}].type",
            "unknown code 'AAA' in code list 'gesprek_type'",
        ),
    ],
)
def test_bad_input_is_reported_with_record_id_and_vendor_field(
    mapping, records, mutate, field, reason
) -> None:
    raw = copy.deepcopy(records[0])
    mutate(raw)
    result = mapping.apply(raw)
    assert result.value is None
    expected = field.format(n=len(raw["domeinen"]) - 1, g=len(raw["gesprekken"]) - 1)
    assert [(p.record_id, p.field) for p in result.problems] == [(raw["contractnummer"], expected)]
    assert reason in result.problems[0].reason


def test_problem_never_holds_the_full_niss(mapping, records) -> None:
    raw = copy.deepcopy(records[0])
    raw["client"]["rijksregisternummer"] = _bad_check(raw["client"]["rijksregisternummer"])
    result = mapping.apply(raw)
    assert raw["client"]["rijksregisternummer"] not in str(result.problems)


def test_model_error_is_reported_at_the_vendor_field(mapping, records) -> None:
    raw = copy.deepcopy(records[0])
    raw["einddatum"] = "01-01-2000"
    result = mapping.apply(raw)
    assert [(p.field, p.reason) for p in result.problems] == [("einddatum", "is before start_date")]


def test_all_problems_of_a_record_are_reported_at_once(mapping, records) -> None:
    raw = copy.deepcopy(records[0])
    raw["startdatum"] = "99-99-2025"
    raw["status"] = "ZOMAAR"
    raw.pop("ocmw")
    fields = sorted(p.field for p in mapping.apply(raw).problems)
    assert fields == ["ocmw.kbo", "ocmw.naam", "ocmw.nis", "startdatum", "status"]


def test_a_mapping_change_needs_no_code(tmp_path, records) -> None:
    raw = copy.deepcopy(records[0])
    raw["domeinen"].append("CULT")
    doc = _doc()
    before = parse_mapping(doc, "v1", PIISContract).apply(raw)
    assert not before.ok
    doc["mapping_version"] = 2
    doc["code_lists"]["domein"]["CULT"] = "LEISURE"
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    after = load_mapping(path, PIISContract).apply(raw)
    assert after.ok and ActionDomain.LEISURE in after.value.action_domains


def test_null_code_means_known_without_equivalent(records) -> None:
    doc = _doc()
    doc["code_lists"]["domein"]["CULT"] = None
    raw = copy.deepcopy(records[0])
    raw["domeinen"].append("CULT")
    result = parse_mapping(doc, "v", PIISContract).apply(raw)
    assert result.ok and len(result.value.action_domains) == len(raw["domeinen"]) - 1


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["fields"].update({"bestaat_niet": {"from": "x"}}),
            "unknown target field 'bestaat_niet'",
        ),
        (
            lambda d: d["fields"]["objectives"]["fields"].update({"kleur": {"from": "x"}}),
            "unknown target field 'kleur' in Objective",
        ),
        (lambda d: d["fields"]["start_date"].update(convert="datum"), "unknown converter 'datum'"),
        (lambda d: d["fields"]["start_date"].update(format="dd-yyyy"), "unknown date format"),
        (lambda d: d["fields"]["status"].update(codes="nope"), "unknown code list 'nope'"),
        (
            lambda d: d["code_lists"]["domein"].update(WERK="JOBS"),
            "'JOBS' is not a valid ActionDomain",
        ),
        (lambda d: d["code_lists"].update(ongebruikt={"A": "B"}), "code list is never used"),
        (lambda d: d.pop("mapping_version"), "mapping_version: required"),
        (lambda d: d.update(target="Person"), "loaded for 'PIISContract'"),
        (lambda d: d["fields"]["start_date"].update(kleur=1), "unknown rule keys ['kleur']"),
        (lambda d: d["fields"]["start_date"].update(const=1), "exactly one of 'from' or 'const'"),
    ],
)
def test_invalid_mapping_files_fail_at_load_time(edit, message) -> None:
    doc = _doc()
    edit(doc)
    with pytest.raises(MappingFileError) as err:
        parse_mapping(doc, "test.yaml", PIISContract)
    assert message in str(err.value)


def test_duplicate_codes_fail_at_load_time(tmp_path) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "    WERK: WORK\n", "    WERK: WORK\n    WERK: INCOME\n"
    )
    path = tmp_path / "dup.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingFileError, match="duplicate key 'WERK'"):
        load_mapping(path, PIISContract)


def test_yes_no_codes_stay_strings(tmp_path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "mapping_version: 1\nvendor_schema: x/1\nrecord_id: id\ncode_lists:\n  jn: {J: yes, N: no}\n"
        "fields:\n  answer: {from: a, codes: jn, required: true}\n",
        encoding="utf-8",
    )
    m = load_mapping(path)
    assert m.apply({"id": "1", "a": "N"}).data == {"answer": "no"}
    assert [p.field for p in m.apply({"id": "1"}).problems] == ["a"]


@pytest.mark.parametrize(
    ("conv", "fmt", "raw", "expected"),
    [
        ("money_cents", None, "1.234,56", 123456),
        ("money_cents", None, "1 234,5", 123450),
        ("money_cents", None, "€ 12", 1200),
        ("money_cents", None, "0,07", 7),
        ("money_cents", None, "876,13", 87613),
        ("date", "dd/mm/yyyy", "29/02/2024", date(2024, 2, 29)),
        ("date", "yyyy-mm-dd", "2024-02-29", date(2024, 2, 29)),
        ("date", "dd-mm-yyyy", "1-2-2024", date(2024, 2, 1)),
        ("bool", None, "ja", True),
        ("bool", None, "N", False),
        ("int", None, " 3 ", 3),
    ],
)
def test_converters(conv, fmt, raw, expected) -> None:
    assert CONVERTERS[conv](raw, fmt) == expected


@pytest.mark.parametrize(
    ("conv", "fmt", "raw"),
    [
        ("money_cents", None, "12.5"),
        ("money_cents", None, "1,234.56"),
        ("money_cents", None, "12,345"),
        ("money_cents", None, "abc"),
        ("date", "dd/mm/yyyy", "29/02/2023"),
        ("date", "dd/mm/yyyy", "2023-01-01"),
        ("bool", None, "misschien"),
        ("int", None, "3,5"),
        ("niss", None, "12345678901"),
    ],
)
def test_converters_refuse_malformed_values(conv, fmt, raw) -> None:
    with pytest.raises(ConversionError):
        CONVERTERS[conv](raw, fmt)


_JUNK = [
    None,
    "",
    " ",
    0,
    -1,
    3.5,
    True,
    "J",
    "31-02-2025",
    "x" * 30,
    [],
    ["WERK"],
    {},
    {"a": 1},
    "12,5",
    "ASTROLOGIE",
]


def _paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def test_malformed_records_never_crash_the_mapping(mapping, records) -> None:
    """Property: whatever junk a vendor sends in any field, apply() returns a result, never raises."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    base = records[5]
    paths = list(_paths(base))

    @settings(
        max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        st.lists(st.tuples(st.sampled_from(paths), st.sampled_from(_JUNK)), min_size=1, max_size=6)
    )
    def check(edits) -> None:
        raw = copy.deepcopy(base)
        for path, junk in edits:
            target = raw
            try:
                for part in path[:-1]:
                    target = target[part]
                target[path[-1]] = copy.deepcopy(junk)
            except (KeyError, IndexError, TypeError):
                continue
        result = mapping.apply(raw)
        assert result.ok or result.problems
        assert all(p.record_id and p.field and p.reason for p in result.problems)

    check()


def test_problems_of_compiled_conversions_name_the_vendor_path_in_a_block(tmp_path) -> None:
    """The compiled plain-key rules format a problem's vendor path only when there is a problem
    (issue #20): a code list, a converter and a converter with a template, in a list block and at
    the root, each name ``block[i].field`` (or ``field``) as before."""
    path = tmp_path / "m.yaml"
    path.write_text(
        "mapping_version: 1\nvendor_schema: x/1\nrecord_id: id\ncode_lists:\n  jn: {J: yes, N: no}\n"
        "fields:\n"
        "  answer: {from: a, codes: jn}\n"
        "  day: {from: d, convert: date, format: dd-mm-yyyy}\n"
        "  hours: {from: h, convert: int, template: '{} uur'}\n"
        "  rows:\n"
        "    source: rijen\n"
        "    many: true\n"
        "    fields:\n"
        "      answer: {from: a, codes: jn}\n"
        "      day: {from: x.d, convert: date, format: dd-mm-yyyy}\n"
        "      hours: {from: h, convert: int, template: '{} uur'}\n",
        encoding="utf-8",
    )
    m = load_mapping(path)
    good = {"a": "J", "x": {"d": "01-02-2025"}, "h": "3"}
    assert m.apply({"id": "1", "a": "N", "d": "02-03-2024", "h": 4, "rijen": [good]}).data == {
        "answer": "no",
        "day": date(2024, 3, 2),
        "hours": "4 uur",
        "rows": [{"answer": "yes", "day": date(2025, 2, 1), "hours": "3 uur"}],
    }
    bad = {"a": "Q", "x": {"d": "31-02-2025"}, "h": "drie"}
    result = m.apply({"id": "1", "a": "Q", "d": "99-99-2024", "h": "x", "rijen": [good, bad]})
    assert [p.field for p in result.problems] == [
        "a",
        "d",
        "h",
        "rijen[1].a",
        "rijen[1].x.d",
        "rijen[1].h",
    ]
    assert "unknown code" in result.problems[3].reason
    assert "not a valid date" in result.problems[4].reason
    assert "not a whole number" in result.problems[5].reason


def _decimal_cents(text: str) -> int:
    """The money converter before issue #20's integer arithmetic (Decimal), as the oracle."""
    from decimal import Decimal

    from piis_bridge.mapping.engine import MONEY_TEXT

    body = text.strip().removeprefix("€").removeprefix("EUR").strip()
    match = MONEY_TEXT.match(body.lstrip("-"))
    assert match is not None
    amount = Decimal(
        match.group("int").replace(".", "").replace(" ", "") + "." + (match.group("dec") or "0")
    )
    cents = int((amount * 100).to_integral_value())
    return -cents if body.startswith("-") else cents


@given(
    st.integers(min_value=0, max_value=10**12),
    st.sampled_from(["", ",", ",5", ",50", ",05", ",99"]),
    st.sampled_from(["", ".", " "]),
    st.booleans(),
    st.sampled_from(["", "€ ", "EUR", " "]),
    st.sampled_from(["0123456789", "٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９"]),
)
def test_money_in_integers_is_what_decimal_gave(
    whole: int, dec: str, sep: str, negative: bool, prefix: str, digits: str
) -> None:
    text = f"{whole:,}".replace(",", sep) if sep else str(whole)
    text = prefix + ("-" if negative else "") + text + (dec if dec != "," else "")
    text = text.translate(str.maketrans("0123456789", digits))
    try:
        expected = _decimal_cents(text)
    except AssertionError:  # not an amount: both refuse it
        with pytest.raises(ConversionError):
            CONVERTERS["money_cents"](text, None)
        return
    assert CONVERTERS["money_cents"](text, None) == expected
