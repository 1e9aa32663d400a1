"""R-GEN: the PIIS goes with DIS, is a written contract on the council's framework convention,
has an orientation, and is concluded by the competent CPAS."""

from __future__ import annotations

from piis_bridge.i18n import N_
from piis_bridge.model import Orientation
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import RuleSpec, Severity, family

__all__: list[str] = []


def _gen_01(ctx: RuleContext) -> None:
    c = ctx.contract
    d = c.decision
    concluded = ctx.signed_date or c.start_date
    if d.ri_end_date is not None and concluded > d.ri_end_date:
        ctx.flag(
            N_(
                "Contract {contract}: concluded on {concluded} but the RI of decision "
                "{decision_id} ended on {ri_end_date}."
            ),
            "decision.ri_end_date",
            "signatures",
            contract=ctx.cid,
            concluded=concluded,
            decision_id=d.decision_id,
            ri_end_date=d.ri_end_date,
        )
    if ctx.signed_date is not None and ctx.signed_date < d.decision_date:
        ctx.flag(
            N_(
                "Contract {contract}: signed on {signed_date}, before the DIS decision of "
                "{decision_date}."
            ),
            "decision.decision_date",
            "signatures",
            contract=ctx.cid,
            signed_date=ctx.signed_date,
            decision_date=d.decision_date,
        )


def _gen_02(ctx: RuleContext) -> None:
    if not (ctx.contract.framework_convention_ref or "").strip():
        ctx.flag(
            N_("Contract {contract}: no reference to the council's framework convention."),
            "framework_convention_ref",
            contract=ctx.cid,
        )


def _gen_03(ctx: RuleContext) -> None:
    c = ctx.contract
    if c.orientation is Orientation.SOCIAL and not (c.orientation_reason or "").strip():
        ctx.warning(
            N_(
                "Contract {contract}: social-insertion orientation: record why professional insertion is not "
                "(yet) possible."
            ),
            "orientation",
            contract=ctx.cid,
        )


def _gen_05(ctx: RuleContext) -> None:
    if ctx.rule_set == "historical":
        ctx.info(
            N_(
                "Contract {contract}: DIS decision of {decision_date} is before "
                "the reform of {reform_date}: historical rules apply."
            ),
            "decision.decision_date",
            contract=ctx.cid,
            decision_date=ctx.contract.decision.decision_date,
            reform_date=ctx.settings.reform_date,
        )


def _gen_07(ctx: RuleContext) -> None:
    c = ctx.contract
    on = c.decision.decision_date
    home = c.cpas.ins_code
    here = []
    for r in c.beneficiary.residences:
        if r.start_date <= on and (r.end_date is None or r.end_date >= on):
            if r.ins_code == home:
                return
            here.append(r)
    if not here:
        return
    where = ", ".join(sorted({r.ins_code for r in here}))
    if c.is_studies and c.beneficiary.studies_uninterrupted_since is not None:
        ctx.warning(
            N_(
                "Contract {contract}: on the decision date the beneficiary lived in municipality {where}, not "
                "in the municipality of the CPAS ({ins_code}); apply the rules on territorial incompetence. "
                "(studies exception R-STU-10 may apply)"
            ),
            "beneficiary.residences",
            "cpas.ins_code",
            contract=ctx.cid,
            where=where,
            ins_code=c.cpas.ins_code,
        )
    else:
        ctx.flag(
            N_(
                "Contract {contract}: on the decision date the beneficiary lived in municipality {where}, not in "
                "the municipality of the CPAS ({ins_code}); apply the rules on territorial incompetence."
            ),
            "beneficiary.residences",
            "cpas.ins_code",
            contract=ctx.cid,
            where=where,
            ins_code=c.cpas.ins_code,
        )


# The rules of this module, one row each: metadata, the doc (docs/rules.md) and, for a rule checked
# from the data, its own check (``_gen_NN`` above).
GENERAL_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-GEN-01",
        title="A PIIS always goes with an active RI/DIS decision",
        severity=Severity.LEGAL,
        citation="[002 L113-115, L432]",
        doc="""A PIIS is not an independent right: it goes with the DIS (the RI).  A contract concluded
        when the DIS decision's RI had already ended, or before the decision itself, has no DIS to go
        with (and no subsidy can be claimed for it).""",
        check=_gen_01,
    ),
    RuleSpec(
        "R-GEN-02",
        title="A written contract on the council's framework convention",
        severity=Severity.LEGAL,
        citation="[002 L123-125, L175-177, L383; 001 L26]",
        doc="""Every PIIS is a written contract between the person and the CPAS, prepared by the social
        worker with the framework convention adopted by the council.  No framework reference -> the
        contract is invalid.""",
        check=_gen_02,
    ),
    RuleSpec(
        "R-GEN-03",
        title="Orientation recorded; social insertion explained",
        severity=Severity.LEGAL_ADVISORY,
        citation="[002 L103, L141; 001 L18-20]",
        doc="""Professional insertion is preferred, social insertion otherwise.  The orientation is
        required by the model.  For a SOCIAL orientation the file should say why professional insertion
        is not (yet) possible (advisory): without ``orientation_reason`` the engine reminds the social
        worker (warning); a recorded reason satisfies the rule.""",
        check=_gen_03,
    ),
    RuleSpec(
        "R-GEN-04",
        title="Demands proportionate, objectives realistic",
        severity=Severity.LEGAL_ADVISORY,
        citation="[002 L137, L385; 000 L90; 001 L22]",
        doc="""The demands on the person must be proportionate to the aid granted and the objectives
         realistic and achievable.  This cannot be judged by software: the social worker attests it.
         The model has no attestation field yet, so the engine does not check it.""",
        automated=False,
    ),
    RuleSpec(
        "R-GEN-05",
        title="Facts before 2016-11-01 are judged by the historical rules",
        severity=Severity.LEGAL,
        citation="[002 L91, L127]",
        doc="""Rules are versioned by the date of the facts: facts dated before the reform (2016-11-01)
        are judged with the historical (H) rules, facts from that date with the 2016 rules.  The
        default fact date is the DIS decision date; a rule can choose another (e.g. the contract start
        for evaluations).  The report states which rule set applied.""",
        parameters=("reform_date",),
        check=_gen_05,
    ),
    RuleSpec(
        "R-GEN-06",
        title="A mandatory PIIS is a condition for DIS",
        severity=Severity.LEGAL,
        citation="[002 L111, L594]",
        doc="""When the PIIS is mandatory for the person, concluding it is a condition for obtaining
         DIS.  The engine enforces it through R-OBL-08 (no PIIS by the deadline and no exemption) and
         R-OBL-11 (review before any refusal).""",
        automated=False,
    ),
    RuleSpec(
        "R-GEN-07",
        title="The competent CPAS for the PIIS is the CPAS competent for DIS",
        severity=Severity.LEGAL,
        citation="[002 L343-351]",
        doc="""The CPAS that concludes the PIIS is the one competent for the DIS, i.e. (in general) the
        CPAS of the municipality where the person lives on the decision date.  A recorded residence
        in another municipality on that date is flagged; for an under-25 studies PIIS the original
        CPAS stays competent after a move (R-STU-10), so only an advisory is given.""",
        check=_gen_07,
    ),
)
family(GENERAL_RULES)
