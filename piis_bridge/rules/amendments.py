"""R-AMD: a change to the contract needs everyone's agreement and prior information."""

from __future__ import annotations

from piis_bridge.i18n import N_, Join, Msg
from piis_bridge.model import PartyRole
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import RuleSpec, Severity, family

__all__: list[str] = []


def _amended(c) -> bool:  # the R-AMD precondition (asked once per contract)
    return len(c.versions) > 1


def _changes(c):  # versions after the original
    return [(i, v) for i, v in enumerate(c.versions) if v.version_no > 1]


def _amd_01(ctx: RuleContext) -> None:
    c = ctx.contract
    for i, v in _changes(c):
        agreed = {
            (a.party, a.third_party_id if a.party is PartyRole.THIRD_PARTY else None)
            for a in v.agreements
            if a.agreed_date <= v.effective_date
        }
        absent: list[str | Msg] = []
        if (PartyRole.BENEFICIARY, None) not in agreed:
            absent.append(N_("the beneficiary"))
        if (PartyRole.CPAS, None) not in agreed:
            absent.append(N_("the CPAS"))
        absent += [
            Msg("third party {party}", party=t.party_id)
            for t in c.third_parties
            if (PartyRole.THIRD_PARTY, t.party_id) not in agreed
        ]
        if absent:
            ctx.flag(
                N_(
                    "Contract {contract}: version {version_no} ({lower}) of "
                    "{effective_date} lacks the agreement of {absent} (on or before its "
                    "effective date)."
                ),
                f"versions[{i}].agreements",
                contract=ctx.cid,
                version_no=v.version_no,
                lower=v.kind.value.lower(),
                effective_date=v.effective_date,
                absent=Join(", ", absent),
            )


def _amd_02(ctx: RuleContext) -> None:
    c = ctx.contract
    for i, v in _changes(c):
        dates = [p.given_date for p in c.pre_signature_information if p.for_version == v.version_no]
        if v.pre_signature_information_date is not None:
            dates.append(v.pre_signature_information_date)
        if not any(day <= v.effective_date for day in dates):
            ctx.flag(
                N_(
                    "Contract {contract}: no record that the person was informed before version {version_no} "
                    "took effect on {effective_date}."
                ),
                f"versions[{i}].pre_signature_information_date",
                contract=ctx.cid,
                version_no=v.version_no,
                effective_date=v.effective_date,
            )


# The rules of this module, one row each: metadata, the doc (docs/rules.md) and, for a rule checked
# from the data, its own check (``_amd_NN`` above).
AMENDMENT_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-AMD-01",
        title="A change takes effect only with the agreement of every party",
        severity=Severity.LEGAL,
        citation="[002 L163; 000 L89; 001 L28; Model A 004 L5388]",
        doc="""Any party may ask for a change; it takes effect only with the agreement of the person, the
        CPAS and each third party actively involved (every third party of the contract), given on or
        before the change's effective date.  Each missing agreement is named.""",
        applies=_amended,
        check=_amd_01,
    ),
    RuleSpec(
        "R-AMD-02",
        title="Information before every modification",
        severity=Severity.LEGAL,
        citation="[002 L191, L389]",
        doc="""Before a modification the person is informed of its content, scope and consequences
        (R-CNT-14 applies to each change): a ``pre_signature_information`` record for that version, or
        the version's ``pre_signature_information_date``, on or before its effective date.""",
        applies=_amended,
        check=_amd_02,
    ),
    RuleSpec(
        "R-AMD-03",
        title="Adjustments recorded as annexes, not a new PIIS",
        severity=Severity.ADVISORY,
        citation="[004 L828-832, L3840-3849; Model A 004 L5268-5271, L5452-5453]",
        doc="""Adjustments are recorded as annexes to the original contract (roadmap update, evaluation
         sheet, annex at RI renewal); a new PIIS is not required.  The model enforces it: versions are
         appended to one contract, never replaced.""",
        automated=False,
    ),
    RuleSpec(
        "R-AMD-04",
        title="The CPAS may adapt the PIIS instead of sanctioning",
        severity=Severity.LEGAL,
        citation="[002 L409]",
        doc="""When obligations are not met, the CPAS may adapt the PIIS instead of sanctioning.  A power,
         not a duty: nothing to check; the sanctions rules (R-SAN) and the agenda mention the option.""",
        automated=False,
    ),
)
family(AMENDMENT_RULES)
