"""The DIS decision assembled from Lino's grantings and income confirmations (no Lino needed)."""

from __future__ import annotations

import pytest
from piis_plugins.lino.assemble import DecisionProblem, decision, html_text

AIDS = {"1": "RI", "2": "NOT_DIS", "10": "OTHER"}


def _payload(*grantings: dict, confirmations: tuple[dict, ...] = ()) -> dict:
    return {
        "contract": {"applies_from": "01.06.2014"},
        "grantings": list(grantings),
        "confirmations": list(confirmations),
    }


def _g(
    pk: int, aid: int, start: str, end: str | None = None, decided: str | None = "20.05.2014"
) -> dict:
    return {
        "id": pk,
        "aid_typeHidden": aid,
        "aid_type": f"type {aid}",
        "start_date": start,
        "end_date": end,
        "decision_date": decided,
        "categoryHidden": None,
    }


def _c(granting: int, amount: float, category: int, start: str = "01.01.2014") -> dict:
    return {
        "id": granting * 10,
        "grantingHidden": granting,
        "amount": amount,
        "categoryHidden": category,
        "start_date": start,
        "end_date": None,
    }


def test_the_latest_covering_ri_granting_and_its_confirmation_make_the_decision() -> None:
    got = decision(
        _payload(
            _g(1, 1, "01.01.2013"),
            _g(2, 1, "01.05.2014"),
            _g(3, 10, "31.05.2014"),
            _g(4, 1, "02.06.2014"),  # starts after the contract: does not cover it
            confirmations=(_c(1, 100.0, 1), _c(2, 1234.56, 3)),
        ),
        AIDS,
        "quarantine",
    )
    assert got == {
        "granting_id": "lino-granting-2",
        "decision_date": "20.05.2014",
        "request_date": None,
        "category": "3",
        "amount": "1234,56",
        "start_date": "01.05.2014",
        "end_date": None,
    }


@pytest.mark.parametrize(
    "grantings, confirmations, field, reason",
    [
        ([], [], "grantings", "no income granting"),
        (
            [_g(1, 10, "01.01.2014")],
            [],
            "grantings",
            "no income granting",
        ),  # OTHER aids are ignored
        (
            [_g(1, 1, "01.01.2013"), _g(2, 2, "01.01.2014")],
            [],
            "grantings.aid_type",
            "not an integration income",
        ),
        ([_g(1, 99, "01.01.2014")], [], "grantings.aid_type", "unknown code '99'"),  # never guessed
        ([_g(1, 1, "01.01.2014")], [], "confirmations", "no income confirmation"),
        (
            [_g(1, 1, "01.01.2014", decided=None)],
            [_c(1, 1.0, 1)],
            "grantings.decision_date",
            "no decision date",
        ),
    ],
)
def test_what_lino_cannot_provide_is_reported(grantings, confirmations, field, reason) -> None:
    with pytest.raises(DecisionProblem) as exc:
        decision(_payload(*grantings, confirmations=tuple(confirmations)), AIDS, "quarantine")
    assert exc.value.field == field and reason in exc.value.reason


def test_granting_start_as_decision_date_only_when_configured() -> None:
    got = decision(
        _payload(_g(1, 1, "01.01.2014", decided=None), confirmations=(_c(1, 1.0, 1),)),
        AIDS,
        "granting_start",
    )
    assert got["decision_date"] == "01.01.2014"


def test_lino_rich_text_becomes_plain_text() -> None:
    assert (
        html_text("<p>Find a job &amp; keep it</p><ul><li>CV</li><li>Apply</li></ul>")
        == "Find a job & keep it\nCV\nApply"
    )
    assert html_text("") is None and html_text("<p> </p>") is None
