"""Step 1: our DIS XSD, the real SSDN envelope, validation before anything leaves."""

from __future__ import annotations

import filecmp
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from piis_connectors.federal import dis, envelope, schemas

from .conftest import KBO, b_fields, c_fields, d_fields, niss

USER = envelope.AuthorizedUser("00000000097", "it@cpas.be", KBO)


def _request(*forms: etree._Element, service: str = "SIM.DIS.FormB") -> etree._Element:
    return envelope.build_request(
        USER,
        [envelope.ServiceRequest(service, dis.SERVICE_VERSION, dis.build_decision_request(forms))],
        reference="ref-1",
        time_request=datetime(2025, 4, 1, 12, 0, 0),
    )


@pytest.mark.parametrize(
    "kind, fields",
    [
        ("B", b_fields("r1", niss())),
        ("C", c_fields("r2", niss(), entry=date(2025, 5, 1))),
        ("D", d_fields("r3", niss())),
    ],
)
def test_every_form_kind_is_valid_against_our_xsd_and_inside_the_real_envelope(
    kind, fields
) -> None:
    form = dis.build_form(kind, fields)
    assert schemas.validate(schemas.dis_schema(), form) == []
    assert (
        schemas.validate(schemas.envelope_schema(), _request(form, service=dis.SERVICE_FORM[kind]))
        == []
    )


def test_optional_rubrics_are_omitted_and_partner_is_nested() -> None:
    fields = b_fields(
        "r1", niss(), PiisApplicant=None, Partner={"SSIN": niss(counter=34), "PiisPartner": 11}
    )
    form = dis.build_form("B", fields)
    assert form.find(dis.q("PiisApplicant")) is None
    assert form.findtext(f"{dis.q('Partner')}/{dis.q('PiisPartner')}") == "11"
    assert schemas.validate(schemas.dis_schema(), form) == []
    kind, parsed = dis.form_fields(form)
    assert (
        kind == "B"
        and parsed["Partner"]["PiisPartner"] == "11"
        and parsed["ForeignersRegister"] == "false"
    )


@pytest.mark.parametrize(
    "field, value, type_name",
    [
        ("Category", 12, "SCHEMAV_CVC_MAXINCLUSIVE_VALID"),
        ("SSIN", "1234", "SCHEMAV_CVC_PATTERN_VALID"),
        ("EntryDate", "2002-09-30", "SCHEMAV_CVC_MININCLUSIVE_VALID"),
        ("MonthlyAmount", 100000000, "SCHEMAV_CVC_MAXINCLUSIVE_VALID"),
        ("Dossier", "D" * 21, "SCHEMAV_CVC_MAXLENGTH_VALID"),
    ],
)
def test_invalid_rubric_is_reported_with_its_field(field, value, type_name) -> None:
    form = dis.build_form("B", b_fields("r1", niss(), **{field: value}))
    issues = schemas.validate(schemas.dis_schema(), form)
    assert issues and issues[0].field == field and issues[0].type_name == type_name


def test_missing_mandatory_rubric_is_named() -> None:
    fields = b_fields("r1", niss())
    del fields["Category"]
    issues = schemas.validate(schemas.dis_schema(), dis.build_form("B", fields))
    assert issues and issues[0].field == "Category"


def test_boundaries_of_the_amount_and_dates_are_accepted() -> None:
    form = dis.build_form(
        "B", b_fields("r1", niss(), MonthlyAmount=99999999, EntryDate=date(2002, 10, 1))
    )
    assert schemas.validate(schemas.dis_schema(), form) == []


def test_unknown_field_is_rejected_by_the_builder() -> None:
    with pytest.raises(dis.FormError):
        dis.build_form("B", {**b_fields("r1", niss()), "Nonsense": 1})
    with pytest.raises(dis.FormError):
        dis.build_form("X", {})


def test_envelope_fails_the_real_ssdn_xsd_when_the_user_has_no_email() -> None:
    root = _request(dis.build_form("B", b_fields("r1", niss())))
    au = root.find(f"{{{envelope.SSDN_NS}}}RequestContext/{{{envelope.SSDN_NS}}}AuthorizedUser")
    au.remove(au.find(f"{{{envelope.SSDN_NS}}}Email"))
    issues = schemas.validate(schemas.envelope_schema(), root)
    assert issues and issues[0].field == "Email"


def test_invalid_payload_inside_a_valid_envelope_is_caught_through_the_lax_any() -> None:
    form = dis.build_form("B", b_fields("r1", niss(), Category="x"))
    issues = schemas.validate(schemas.envelope_schema(), _request(form))
    assert issues and issues[0].field == "Category" and "FormB" in issues[0].path


def test_envelope_round_trip() -> None:
    root = _request(dis.build_form("B", b_fields("r1", niss())))
    parsed = envelope.parse_request(etree.fromstring(etree.tostring(root)))
    assert (
        parsed.user == USER
        and parsed.reference == "ref-1"
        and parsed.time_request == "20250401T120000"
    )
    assert parsed.services[0].service_id == "SIM.DIS.FormB"

    result = dis.DecisionResult(
        client_reference="r1",
        ssin=niss(),
        form_type="D",
        evaluation="PARTIALLYACCEPTED",
        received_at="2025-04-01T12:00:00",
        recovery_month="2025-04",
        sequence_number=2,
        percentage=6500,
        accepted_amount=100,
        errors=[dis.ResultError("D00004", "WARNING", "Amount", "trop")],
    )
    payload = etree.Element(dis.q("DIS_DecisionReply"))
    payload.append(dis.build_decision_result(result))
    reply = envelope.build_reply(
        ok="WARNING",
        return_code=1,
        user=USER,
        reference="ref-1",
        ticket="t-1",
        time_request="20250401T120000",
        time_receive=datetime(2025, 4, 1, 12),
        time_response=datetime(2025, 4, 1, 12),
        services=[envelope.ServiceReply("WARNING", 1, "SIM.DIS.FormD", "20250101", payload)],
    )
    assert schemas.validate(schemas.envelope_schema(), reply) == []
    back = envelope.parse_reply(etree.fromstring(etree.tostring(reply)))
    assert back.ticket == "t-1" and back.ok == "WARNING"
    assert dis.parse_decision_result(back.services[0].payload[0]) == result


SHARED = (
    Path(__file__).resolve().parents[3] / "shared" / "bcss" / "XSD" / "SSDN"
)  # shared/ beside the repo


@pytest.mark.skipif(not SHARED.exists(), reason="official copies not present on this machine")
def test_vendored_bcss_xsds_are_unmodified_copies() -> None:
    ours = schemas.XSD_DIR / "bcss" / "SSDN"
    for path in ours.rglob("*.xsd"):
        assert filecmp.cmp(path, SHARED / path.relative_to(ours), shallow=False), path


@pytest.mark.parametrize(
    "result",
    [
        dis.DecisionResult(
            client_reference="r1",
            ssin=niss(),
            form_type="D",
            evaluation="PARTIALLYACCEPTED",
            received_at="2025-04-01T12:00:00",
            recovery_month="2025-04",
            sequence_number=2,
            percentage=6500,
            accepted_amount=100,
            unique_attest_id="DIS000000000001",
            reference_spp="S000000001",
            errors=[dis.ResultError("D00004", "WARNING", "Amount", "trop <récupéré> & plus")],
        ),
        dis.DecisionResult(
            client_reference="r-2",
            ssin=niss(),
            form_type="B",
            evaluation="REFUSED",
            received_at="2025-04-01T12:00:00",
            entry_date="2025-03-01",
            errors=[
                dis.ResultError("MSG00006", "ERROR", None, "NISS remplacé (nouveau: 1)"),
                dis.ResultError("GEN004", "WARNING", "ClientReference", "déjà traité"),
            ],
        ),
    ],
)
def test_rendered_decision_result_is_the_built_one(result: dis.DecisionResult) -> None:
    """The simulator writes results as bytes directly (speed); they must say exactly what the tree says."""
    rendered = etree.fromstring(dis.render_decision_result(result))
    built = dis.build_decision_result(result)
    assert etree.tostring(rendered, method="c14n") == etree.tostring(built, method="c14n")
    assert dis.parse_decision_result(rendered) == result


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from("BCD"),
    values=st.lists(
        st.one_of(st.none(), _TEXT, st.integers(-5, 10**9), st.booleans(), st.dates()),
        min_size=16,
        max_size=16,
    ),
    partner=st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {"SSIN": _TEXT, "PiisPartner": st.one_of(st.none(), st.integers(0, 20))}
        ),
    ),
)
def test_rendered_form_is_byte_for_byte_the_built_one(
    kind: str, values: list, partner: dict | None
) -> None:
    """The batch path writes forms as bytes directly (speed); the ledger hashes those bytes, so they must
    be exactly what lxml writes for the same form, and fail the same way on characters XML cannot hold."""
    fields = dict(zip(dis.FORM_FIELDS[kind], values, strict=False))
    if kind == "B":
        fields["Partner"] = partner
    try:
        built = etree.tostring(dis.build_form(kind, fields))
    except ValueError as exc:
        with pytest.raises(type(exc)):
            dis.render_form(kind, fields)
        return
    assert dis.render_form(kind, fields) == built
    parsed = dis.parse_forms([built, built])[1]
    assert etree.tostring(parsed, method="c14n") == etree.tostring(
        etree.fromstring(built), method="c14n"
    )


def test_service_reply_details_are_parsed_each_with_its_fields() -> None:
    """A ManageAccess reply carries a Detail in each ServiceReply (parsed in one pass over the
    children): every field of every Detail comes back, stripped, absent ones as None."""
    services = [
        envelope.ServiceReply(
            "NO",
            10000,
            "OCMWCPASManageAccess",
            "20050930",
            None,
            details=[
                envelope.Detail("WARNING", f"-30002{i}", f"diagnostic {i}", "BCSS"),
                envelope.Detail("INFORMATION", None, None, None),
            ],
        )
        for i in range(3)
    ]
    reply = envelope.build_reply(
        ok="NO",
        return_code=10000,
        details=[envelope.Detail("FATAL", "MSG00001", "whole message", None)],
        user=USER,
        reference="ref-2",
        ticket="",
        time_request="20250401T120000",
        time_receive=datetime(2025, 4, 1, 12),
        time_response=datetime(2025, 4, 1, 12),
        services=services,
    )
    back = envelope.parse_reply(etree.fromstring(etree.tostring(reply)))
    assert (back.ok, back.return_code, back.details) == (
        "NO",
        10000,
        [envelope.Detail("FATAL", "MSG00001", "whole message", None)],
    )
    assert [(s.ok, s.return_code, s.details) for s in back.services] == [
        (s.ok, s.return_code, s.details) for s in services
    ]
