"""The inspection checklist's evidence (found / missing) in the CPAS's language.

``piis_bridge.rules.inspection`` writes each item's evidence as short English texts, some with values
("signed on 2026-02-11", "2 sanction(s): S1, S2").  Each shape below is one message id; see
:mod:`piis_bridge.i18n.shapes`.  Subsidy kinds (``PROLONGATION``...) and field paths stay as they are.
"""

from __future__ import annotations

from decimal import Decimal

from piis_bridge.i18n import N_, Translator
from piis_bridge.i18n.shapes import ShapeTable

__all__ = ["EVIDENCE", "evidence_message", "translate_evidence"]

EVIDENCE: tuple[str, ...] = (
    # I-01
    N_("no needs assessment ('bilan social') in the file"),
    N_("needs assessment of {date} by {author}"),
    N_("the needs assessment is dated after the signature"),
    # I-02
    N_("optional PIIS without a decision to conclude one: no deadline"),
    N_("motivated exemption: no deadline"),
    N_("deadline {date}"),
    N_("signed on {date}"),
    N_("signed after the deadline"),
    N_("not signed and the deadline has passed"),
    # I-03
    N_("objectives"),
    N_("action domains"),
    N_("commitments of each party"),
    N_("duration (start and end dates)"),
    N_("evaluation arrangements"),
    N_("social worker in charge"),
    N_("substitute social worker"),
    N_("encouragement premium amount and conditions"),
    N_("third parties' roles"),
    # I-04
    N_("signature of the beneficiary"),
    N_("signature of the cpas"),
    N_("signature of the third party {party}"),
    # I-05
    N_("no community service"),
    N_("community service: {nature}"),
    N_("insurance checked by the CPAS"),
    N_("agreement of the person and of the CPAS"),
    # I-06
    N_("a PIIS was concluded"),
    N_("motivated health exemption of {date}"),
    N_("motivated equity exemption of {date}"),
    N_("exemption not motivated separately from willingness to work"),
    N_("mandatory PIIS neither concluded nor exempted by a motivated decision"),
    N_("deadline not reached yet"),
    N_("PIIS not mandatory"),
    # I-07
    N_("{formal} formalised evaluation(s), {in_person} in person"),
    N_("{count} evaluation(s) not formalised"),
    # I-08
    N_("no sanction"),
    N_("{count} sanction(s): {sanctions}"),
    # I-09
    N_("subsidy schedule total {amount} EUR"),
    N_("{kind}: social-inquiry report in the file"),
    N_("{kind}: motivated decision"),
    # I-10, I-11
    N_("not a studies PIIS"),
    N_("maintenance debtors' means investigated on {date} ({count} debtor(s))"),
    N_("not recorded in the file (studies.maintenance_debtors_investigation)"),
    N_("recovery decision of {date} (recover)"),
    N_("recovery decision of {date} (no recovery)"),
    N_("served on the applicant on {date}"),
    N_("served on the maintenance debtors on {date}"),
    N_("the decision was not served on the applicant"),
    N_("the decision was not served on the maintenance debtors"),
    N_("not recorded in the file (studies.recovery_decision)"),
)


def _amount(value: str, t: Translator) -> str:
    """The engine writes euros as ``1234.56``; show them in the language's format."""
    try:
        cents = int((Decimal(value) * 100).to_integral_value())
    except ArithmeticError:
        return value
    return t.format_amount(cents, symbol=False)


_TABLE = ShapeTable(EVIDENCE, converters={"amount": _amount})


def evidence_message(text: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    return _TABLE.match(text)


def translate_evidence(text: str, t: Translator) -> str:
    return _TABLE.translate(text, t)
