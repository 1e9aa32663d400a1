"""Computed-date labels in the CPAS's language.

The rules engine writes each computed date's label in English, sometimes with a value in it
("interview requested on 2026-03-02", "sanction S-1: sursis period ends").  The rule modules are
not changed for translation: each label shape is one message id below, with named placeholders
where the engine puts a value, and :func:`translate_label` recognises the label by its shape,
translates it and writes the values back (ISO dates in the language's Belgian format).  A label
of an unknown shape stays English (``tests/i18n`` checks every label the examples produce).
"""

from __future__ import annotations

from piis_bridge.i18n import N_, Translator
from piis_bridge.i18n.shapes import ShapeTable

__all__ = ["DATE_LABELS", "label_message", "translate_label"]

DATE_LABELS: tuple[str, ...] = (
    # R-DL, R-OBL: signature and offer deadlines
    N_("PIIS signature deadline"),
    N_("PIIS signature deadline (exempted)"),
    N_("PIIS signature deadline (historical: from the request)"),
    N_("partner's PIIS signature deadline"),
    N_("optional PIIS signature deadline"),
    N_("local PIIS signature deadline"),
    N_("transitional PIIS deadline"),
    N_("job or PIIS offer deadline (under 25)"),
    N_("earliest signature date (reflection period)"),
    N_("interview requested on {date}"),
    N_("exam results {year} to the CPAS"),
    N_("appeal deadline"),
    N_("appeal deadline (labour court)"),
    N_("beneficiary turns {age}: the under-{age} basis no longer applies"),
    # R-EVA
    N_("next evaluation due"),
    N_("next evaluation due (in person)"),
    N_("planned evaluation"),
    N_("next evaluation agreed at the last one"),
    N_(
        "evaluation year {period} ends: {held} of {required} evaluations held, {in_person} of {required_in_person} "
        "in person"
    ),
    N_("council informed of the end"),
    N_("global evaluation of {year}"),
    N_("contract ends: final evaluation, inform the council"),
    # R-LOC evidence
    N_("job-application proofs of {month} due"),
    N_("attendance list of {month} due"),
    # R-SAN
    N_("sanction {sanction}: latest allowed start"),
    N_("sanction {sanction}: notify the decision (the day before the start at the latest)"),
    N_("sanction {sanction}: start (historical rule)"),
    N_("sanction {sanction}: latest allowed end ({months} month)"),
    N_("sanction {sanction}: latest allowed end ({months} months)"),
    N_("sanction {sanction}: a new sanction decided until this day is a repeat offence"),
    N_("sanction {sanction}: sursis period ends"),
    N_("sanction {sanction}: latest date to apply the suspended sanction"),
    N_("sanction {sanction}: execution starts"),
    N_("sanction {sanction}: execution ends"),
    N_("sanction {sanction}: labour-court appeal deadline"),
    # R-TRF, R-SUB
    N_("contract ends by law (change of residence)"),
    N_("sanction {sanction} may continue at the new CPAS until"),
    N_("{kind} subsidy window ends"),
    N_("{kind} subsidy window ends: a PROLONGATION needs a motivated decision before then"),
)

_TABLE = ShapeTable(DATE_LABELS)


def label_message(label: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The message id of *label* and the values found in it, or None for an unknown shape."""
    return _TABLE.match(label)


def translate_label(label: str, t: Translator) -> str:
    """*label* in the translator's language; an unknown label is returned as is (English)."""
    return _TABLE.translate(label, t)
