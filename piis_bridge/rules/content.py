"""R-CNT: what a PIIS must contain, each missing element named.

Why the level depends on the signature: a draft that still lacks an element is work to do before
signing (warning); a signed contract that lacks it breaks the law (error) and fails inspection
item I-03 ("mandatory mentions", R-CNT-17).
"""

from __future__ import annotations

from collections.abc import Iterable

from piis_bridge.i18n import N_, Join, Msg
from piis_bridge.model import CostCategory, InformationTopic, PartyRole, WorkerRole
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import RuleSpec, Severity, family
from piis_bridge.rules.report import Finding, Level

__all__ = ["MANDATORY_MENTION_RULES", "content_summary", "missing"]

MANDATORY_MENTION_RULES = frozenset(
    {
        "R-CNT-02",
        "R-CNT-03",
        "R-CNT-04",
        "R-CNT-05",
        "R-CNT-06",
        "R-CNT-07",
        "R-CNT-10",
        "R-CNT-11",
        "R-CNT-13",
        "R-CS-06",
        "R-STU-02",
        "R-STU-03",
        "R-STU-04",
        "R-STU-05",
        "R-STU-06",
        "R-STU-07",
    }
)
"""R-CNT-17: inspection's 'mandatory mentions' (item I-03)."""

_REQUIRED_COSTS = (
    CostCategory.REGISTRATION,
    CostCategory.INSURANCE,
    CostCategory.WORK_CLOTHES,
    CostCategory.TRAVEL,
)
_REQUIRED_COST_NAMES = tuple((cat, cat.value) for cat in _REQUIRED_COSTS)


def missing(ctx: RuleContext, what: str | Msg, *fields: str, person: str | None = None) -> None:
    """Report a missing element: an error once the contract is signed, a to-do before."""
    if ctx.signed_date is not None:
        ctx.flag(
            N_("Contract {contract}: missing {what}."),
            *fields,
            person=person,
            contract=ctx.cid,
            what=what,
        )
    else:
        ctx.warning(
            N_("Contract {contract}: missing {what} (to complete before signature)."),
            *fields,
            person=person,
            contract=ctx.cid,
            what=what,
        )


def content_summary(findings: Iterable[Finding]) -> dict[str, object]:
    """The report's ``sections["content"]``: complete or not, and the fields of each missing mention."""
    missing_ = []
    for f in findings:
        if f.rule_id in MANDATORY_MENTION_RULES and f.level is not Level.INFO:
            missing_.append(
                {"rule_id": f.rule_id, "fields": list(f.fields), "level": f.level.value}
            )
    return {"complete": not missing_, "missing": missing_}


def _cnt_01(ctx: RuleContext) -> None:
    c = ctx.contract
    na = c.needs_assessment
    if na is None:
        missing(ctx, N_("the needs assessment ('bilan social')"), "needs_assessment")
    elif ctx.signed_date is not None and na.assessed_on > ctx.signed_date:
        ctx.flag(
            N_(
                "Contract {contract}: the needs assessment of {assessed_on} is after the signature "
                "of {signed_date}."
            ),
            "needs_assessment.assessed_on",
            contract=ctx.cid,
            assessed_on=na.assessed_on,
            signed_date=ctx.signed_date,
        )


def _cnt_02(ctx: RuleContext) -> None:
    if not ctx.contract.objectives:
        missing(ctx, N_("objectives (at least 1)"), "objectives")


def _cnt_03(ctx: RuleContext) -> None:
    if not ctx.contract.action_domains:
        missing(ctx, N_("action domains (at least 1)"), "action_domains")


def _cnt_04(ctx: RuleContext) -> None:
    c = ctx.contract
    beneficiary = cpas = False
    for x in c.commitments:
        if x.party is PartyRole.BENEFICIARY:
            beneficiary = True
        elif x.party is PartyRole.CPAS:
            cpas = True
    if not beneficiary:
        missing(ctx, N_("the beneficiary's commitments"), "commitments")
    if not cpas:
        missing(ctx, N_("the CPAS's commitments (at least 1)"), "commitments")
    for i, x in enumerate(c.commitments):
        if not x.objective_ids:
            missing(
                ctx,
                Msg(
                    "the objective that commitment {commitment_id} serves",
                    commitment_id=x.commitment_id,
                ),
                f"commitments[{i}].objective_ids",
            )


def _cnt_06(ctx: RuleContext) -> None:
    p = ctx.contract.encouragement_premium
    assert p is not None
    if p.amount_cents <= 0:
        missing(
            ctx, N_("the amount of the encouragement premium"), "encouragement_premium.amount_cents"
        )


def _cnt_07(ctx: RuleContext) -> None:
    c = ctx.contract
    if c.employment_project is None:
        tags = ctx.settings.cost_coverage_form_tags
        for tag in c.form_tags:
            if tag in tags:
                break
        else:  # neither a tag that calls for cost coverage nor an employment project
            return
    have = {x.category for x in c.cost_coverages}
    absent = [name for cat, name in _REQUIRED_COST_NAMES if cat not in have]
    if absent:
        missing(ctx, Msg("cost coverage for {costs}", costs=", ".join(absent)), "cost_coverages")
    for i, x in enumerate(c.cost_coverages):
        if x.payer is PartyRole.THIRD_PARTY and not x.third_party_id:
            missing(
                ctx,
                Msg("the third party paying the {category} costs", category=x.category.value),
                f"cost_coverages[{i}].third_party_id",
            )
        elif x.payer is PartyRole.BENEFICIARY:
            ctx.flag(
                N_(
                    "Contract {contract}: the {category} costs are put on the beneficiary; they are owed by "
                    "the CPAS unless a third party pays."
                ),
                f"cost_coverages[{i}].payer",
                contract=ctx.cid,
                category=x.category.value,
            )


def _cnt_08(ctx: RuleContext) -> None:
    c = ctx.contract
    choice = c.means_choice
    assert choice is not None
    if choice.decline_ground is None:
        missing(
            ctx,
            N_(
                "the ground for declining the person's choice of means (costs not comparable or choice not "
                "possible)"
            ),
            "means_choice.decline_ground",
        )
    elif not ((choice.justification or "").strip() or (c.means_choice_note or "").strip()):
        ctx.warning(
            N_(
                "Contract {contract}: the person's choice of means was declined "
                "({decline_ground}) without an explanation."
            ),
            "means_choice.justification",
            contract=ctx.cid,
            decline_ground=choice.decline_ground.value,
        )


def _cnt_10(ctx: RuleContext) -> None:
    c = ctx.contract
    signed_by = {
        s.third_party_id
        for s in c.signatures
        if s.party is PartyRole.THIRD_PARTY and s.for_version == 1
    }
    for i, t in enumerate(c.third_parties):
        if t.requested_by is None:
            missing(
                ctx,
                Msg("who asked for third party {party_id} to join", party_id=t.party_id),
                f"third_parties[{i}].requested_by",
            )
        if not (t.execution_role or "").strip():
            missing(
                ctx,
                Msg(
                    "the role of third party {party_id} in carrying out the contract",
                    party_id=t.party_id,
                ),
                f"third_parties[{i}].execution_role",
            )
        if not (t.evaluation_role or "").strip():
            ctx.warning(
                N_(
                    "Contract {contract}: the role of third party {party_id} in the evaluation is not stated."
                ),
                f"third_parties[{i}].evaluation_role",
                contract=ctx.cid,
                party_id=t.party_id,
            )
        if ctx.signed_date is not None and t.party_id not in signed_by:
            ctx.flag(
                N_("Contract {contract}: third party {party_id} has not signed."),
                "signatures",
                f"third_parties[{i}]",
                contract=ctx.cid,
                party_id=t.party_id,
            )


def _cnt_11(ctx: RuleContext) -> None:
    roles = {w.role for w in ctx.contract.social_workers}
    if WorkerRole.IN_CHARGE not in roles:
        missing(ctx, N_("the social worker in charge"), "social_workers")
    if WorkerRole.SUBSTITUTE not in roles:
        missing(ctx, N_("a substitute social worker"), "social_workers")


def _cnt_12(ctx: RuleContext) -> None:
    c = ctx.contract
    end, on = c.end_date, ctx.on
    limit = min(end, on)
    left = current = (
        False  # an in-charge worker left before *limit* / is still on the file at *limit*
    )
    for i, w in enumerate(c.social_workers):
        if w.role is not WorkerRole.IN_CHARGE:
            continue
        gone = w.end_date
        if gone is None:
            current = True
            continue
        if gone < end and gone < on and w.permanent_change_notified_date is None:
            ctx.flag(
                N_(
                    "Contract {contract}: the social worker in charge ({worker_id}) left the file on "
                    "{gone} and the person was not informed in writing of the replacement."
                ),
                f"social_workers[{i}].permanent_change_notified_date",
                contract=ctx.cid,
                worker_id=w.worker_id,
                gone=gone,
            )
        if gone < limit:
            left = True
        else:
            current = True
    if left and not current:
        ctx.flag(
            N_("Contract {contract}: no social worker in charge after the previous one left."),
            "social_workers",
            contract=ctx.cid,
        )


def _cnt_13(ctx: RuleContext) -> None:
    if ctx.contract.evaluation_arrangement is None:
        missing(ctx, N_("the evaluation arrangements"), "evaluation_arrangement")


_TOPICS = (InformationTopic.CONTENT, InformationTopic.SCOPE, InformationTopic.CONSEQUENCES)
# the topic's name in messages (its code in lower case), a word translated where the finding is rendered
_TOPIC_NAMES = (
    (InformationTopic.CONTENT, N_("content")),
    (InformationTopic.SCOPE, N_("scope")),
    (InformationTopic.CONSEQUENCES, N_("consequences")),
)


def _cnt_14(ctx: RuleContext) -> None:
    c = ctx.contract
    signed = ctx.signed_date
    if signed is None:
        return
    informed = False
    covered: set[InformationTopic] = set()
    for p in c.pre_signature_information:
        if p.for_version == 1 and p.given_date <= signed:
            informed = True
            covered.update(p.topics)
    if not informed:
        ctx.flag(
            N_("Contract {contract}: no record that the person was informed before signing."),
            "pre_signature_information",
            contract=ctx.cid,
        )
        return
    absent = [name for t, name in _TOPIC_NAMES if t not in covered]
    if absent:
        ctx.flag(
            N_("Contract {contract}: the information before signing does not cover: {absent}."),
            "pre_signature_information.topics",
            contract=ctx.cid,
            absent=Join(", ", absent),
        )


def _cnt_16(ctx: RuleContext) -> None:
    if ctx.signed_date is not None and ctx.contract.right_to_be_heard_informed_date is None:
        ctx.flag(
            N_(
                "Contract {contract}: no record that the person was informed in writing of the right to be heard."
            ),
            "right_to_be_heard_informed_date",
            contract=ctx.cid,
        )


# The rules of this module, one row each: metadata, the doc (docs/rules.md) and, for a rule checked
# from the data, its own check (``_cnt_NN`` above).
CONTENT_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-CNT-01",
        title="A needs assessment ('bilan social') precedes the signature",
        severity=Severity.LEGAL,
        citation="[002 L133, L189, L534]",
        doc="""The CPAS assesses the person's needs before concluding the contract.  A signed contract
        needs a needs assessment dated on or before the signature; otherwise it is invalid and
        inspection item I-01 fails.""",
        check=_cnt_01,
    ),
    RuleSpec(
        "R-CNT-02",
        title="At least one objective",
        severity=Severity.LEGAL,
        citation="[002 L189]",
        doc="""The contract states at least one objective.""",
        check=_cnt_02,
    ),
    RuleSpec(
        "R-CNT-03",
        title="At least one action domain",
        severity=Severity.LEGAL,
        citation="[002 L189]",
        doc="""The contract states at least one action domain (work, housing, health...).""",
        check=_cnt_03,
    ),
    RuleSpec(
        "R-CNT-04",
        title="Each party's commitments, distinct and linked to the objectives",
        severity=Severity.LEGAL,
        citation="[002 L187-189; 001 L13-14; 000 L61-69]",
        doc="""The contract states the commitments of each party, kept distinct (one party per commitment)
        and each linked to at least one objective.  At least one commitment of the person and one of
        the CPAS are required.""",
        check=_cnt_04,
    ),
    RuleSpec(
        "R-CNT-05",
        title="Start and end date; a studies PIIS covers the whole programme",
        severity=Severity.LEGAL,
        citation="[002 L200-202, L264, L611-614]",
        doc="""The contract states its start and end date (the canonical model requires both and
         refuses an end before the start).  No legal minimum or maximum duration.  A studies PIIS
         must cover the whole study programme: checked by R-STU-01.""",
        automated=False,
    ),
    RuleSpec(
        "R-CNT-06",
        title="Encouragement premium: amount and conditions",
        severity=Severity.LEGAL,
        citation="[002 L193]",
        doc="""When the CPAS grants an encouragement premium (complementary social aid), the contract states
        its amount and its conditions.""",
        applies=lambda c: c.encouragement_premium is not None,
        check=_cnt_06,
    ),
    RuleSpec(
        "R-CNT-07",
        title="Training / work experience: costs covered by the CPAS unless a third party pays",
        severity=Severity.LEGAL,
        citation="[002 L194; Model A 004 L5469-5471]",
        doc="""A PIIS that includes training or acquiring work experience states that registration fees,
        insurance, adapted work clothes and travel costs are covered at least by the CPAS, unless a
        named third party covers them.  Each missing category is named.""",
        parameters=("cost_coverage_form_tags",),
        check=_cnt_07,
    ),
    RuleSpec(
        "R-CNT-08",
        title="Declining the person's choice of means is justified",
        severity=Severity.LEGAL_ADVISORY,
        citation="[002 L196; 000 L91; 001 L24]",
        doc="""The person's choice of means is respected when possible and the costs are comparable.  When the
        CPAS declines it (``means_choice.declined``) it records one of the two grounds -- costs not
        comparable, or choice not possible (``decline_ground``; missing: a to-do before signature, an
        error once signed) -- and, advisory, explains it (``justification`` or ``means_choice_note``).
        Without a ``means_choice`` record nothing is known about a declined choice and nothing is checked.""",
        applies=lambda c: c.means_choice is not None and c.means_choice.declined,
        check=_cnt_08,
    ),
    RuleSpec(
        "R-CNT-09",
        title="The CPAS puts the conditions for the PIIS in place",
        severity=Severity.LEGAL_ADVISORY,
        citation="[002 L385; 000 L92]",
        doc="""The CPAS makes sure the conditions needed to carry out the PIIS are in place (information,
         payment of registration...).  A matter of execution, not of the contract's data: not automated
         (cost coverage itself is R-CNT-07).""",
        automated=False,
    ),
    RuleSpec(
        "R-CNT-10",
        title="Third parties: requested by a party, signing, role stated",
        severity=Severity.LEGAL,
        citation="[002 L125, L208-210]",
        doc="""A third party joins at the request of the person or the CPAS, signs the contract, and the
        contract states how far it takes part in carrying out the contract and, where relevant, in its
        evaluation (missing evaluation role: warning).""",
        applies=lambda c: bool(c.third_parties),
        check=_cnt_10,
    ),
    RuleSpec(
        "R-CNT-11",
        title="Social worker in charge and at least one substitute",
        severity=Severity.LEGAL,
        citation="[002 L212-214; 004 L214-216]",
        doc="""The contract names the social worker in charge and at least one substitute who replaces them
        during a temporary absence.""",
        check=_cnt_11,
    ),
    RuleSpec(
        "R-CNT-12",
        title="Permanent change of social worker notified in writing",
        severity=Severity.LEGAL,
        citation="[002 L214]",
        doc="""When the social worker in charge is permanently taken off the file (their assignment ends
        before the contract does), the person is informed in writing with the replacement's name.""",
        check=_cnt_12,
    ),
    RuleSpec(
        "R-CNT-13",
        title="Evaluation arrangements in the contract",
        severity=Severity.LEGAL,
        citation="[002 L218; 004 L220-221]",
        doc="""The evaluation arrangements (how and when) are part of the contract.""",
        check=_cnt_13,
    ),
    RuleSpec(
        "R-CNT-14",
        title="Informed of content, scope and consequences before signing",
        severity=Severity.LEGAL,
        citation="[002 L191, L387-389]",
        doc="""Before signature (and before every modification, R-AMD-02) the person is informed of the
        content, the scope and the consequences of the contract, including those of not complying.
        For a signed contract: an information record for version 1, dated on or before the signature,
        covering the three topics (each missing topic named).""",
        check=_cnt_14,
    ),
    RuleSpec(
        "R-CNT-15",
        title="Assistance by a person of one's choice",
        severity=Severity.LEGAL,
        citation="[000 L86; 004 L211-212]",
        doc="""The person may be assisted by someone of their choice during the negotiation; the file
         records who, if anyone (``assistance_person``).  An empty field cannot be told apart from 'no
         one', so nothing is checked.""",
        automated=False,
    ),
    RuleSpec(
        "R-CNT-16",
        title="Informed in writing of the right to be heard",
        severity=Severity.LEGAL,
        citation="[002 L391-395; 004 L213-214]",
        doc="""The person is informed in writing of the right to be heard.  A signed contract needs the date
        of that information.""",
        check=_cnt_16,
    ),
    RuleSpec(
        "R-CNT-17",
        title="Inspection's mandatory mentions",
        severity=Severity.LEGAL,
        citation="[002 L538]",
        doc="""Inspection's 'mandatory mentions' (item I-03) are at least R-CNT-02..07, 10, 11, 13 plus the
         community-service (R-CS-06) and studies (R-STU-02..07) specifics.  Each is its own rule; the
         report's ``sections.content`` says whether the contract is complete and lists the missing
         elements (rule id and fields).""",
        automated=False,
    ),
)
family(CONTENT_RULES)
