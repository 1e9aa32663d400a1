"""What a federal answer code means, for the forms ledger (docs/federal.md, spec federal.md 5.3).

The federal answer carries its own message, which the ledger stores and the page shows first; this
table adds the documented meaning of the codes the BCSS and the simulator use, for the codes whose
message is terse."""

from __future__ import annotations

__all__ = ["CODES", "meaning"]

CODES: dict[str, str] = {
    "GEN004": "the same ClientReference was already processed: the original result is returned",
    "-300020": "the NISS is not integrated in the CPAS's BCSS repertoire with the quality code",
    "-300030": "the NISS is integrated with that quality code but the phase is too low",
    "-300010": "the sender is not authorised to send this form to this recipient",
    "-300000": "this variant does not exist for this form and treatment type",
    "-000050": "message structure not conform (problem in the submission)",
    "MSG00003": "unexpected internal error at the BCSS (retried)",
    "MSG00005": "the NISS does not exist",
    "MSG00006": "the NISS was replaced (a new NISS is given)",
    "MSG00011": "the NISS structure is invalid",
    "MSG00012": "the NISS is not sufficiently integrated for this organisation",
}


def meaning(code: str | None) -> str:
    return CODES.get(str(code or ""), "")
