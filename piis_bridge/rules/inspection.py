"""Inspection readiness (R-INS, rules.md 2.13): the SPP IS inspection checklist, item by item, with the
evidence found in the file and the evidence missing.

Why a checklist on top of the rules: an inspector asks eleven questions, not a hundred rule ids.  Each
item names the engine rules behind it; an item fails when one of them reports an error, or when the
evidence the inspector asks for is absent.  When the PIIS is not compliant the CPAS reimburses the
special subsidies received (R-SUB-13): the checklist shows the amount at risk.

The R-INS rules run after every other family (the registry orders INS after SUB), so they read the
findings already recorded for the contract; :func:`inspection_checklist` is the pure function behind
them and works on any list of findings.

Items I-10 and I-11 (maintenance debtors' means investigated; recovery decision served) read the studies
block's ``maintenance_debtors_investigation`` and ``recovery_decision``; when a studies contract does not
record them they are ``not_recorded``, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from piis_bridge.i18n import N_, Evidence, Join, Msg
from piis_bridge.model import ContractRelation, EvaluationMode, PartyRole, PIISContract, WorkerRole
from piis_bridge.rules.obligation import judged_on_previous
from piis_bridge.rules.registry import RuleSpec, Severity, family
from piis_bridge.rules.report import Finding, Level, PersonObligation
from piis_bridge.rules.results import Result, Section, issue

if TYPE_CHECKING:
    from piis_bridge.rules.context import RuleContext
    from piis_bridge.rules.settings import RuleSettings

__all__ = [
    "ITEMS",
    "ChecklistItem",
    "InspectionChecklist",
    "ItemStatus",
    "inspect",
    "inspection_checklist",
]


class ItemStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARNING = "warning"  # only advisory findings
    NOT_APPLICABLE = "not_applicable"
    NOT_RECORDED = "not_recorded"  # the file does not record this evidence (I-10, I-11)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChecklistItem(_Out):
    item: str = Field(description="I-01 .. I-11")
    question: str
    engine_rules: tuple[str, ...] = Field(description="Rule ids whose findings decide the item")
    status: ItemStatus
    evidence_found: tuple[str, ...] = ()
    evidence_missing: tuple[str, ...] = ()
    findings: tuple[str, ...] = Field(
        default=(), description="'<rule id>: <message>' of the related findings"
    )


class InspectionChecklist(_Out):
    contract_id: str
    reference_date: date
    items: tuple[ChecklistItem, ...]
    ready: bool = Field(description="No item fails")
    subsidy_at_risk_cents: int = Field(
        description="R-SUB-13: subsidy of the months up to the reference date, reimbursed if the PIIS is non-compliant"
    )


def _ids(family: str, numbers: Iterable[int]) -> tuple[str, ...]:
    return tuple(f"R-{family}-{n:02d}" for n in numbers)


ITEMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("I-01", "Is there a 'bilan social' of the person's needs?", ("R-CNT-01",)),
    ("I-02", "Was the PIIS drawn up within the deadline?", ("R-DL-01", "R-DL-03", "R-DL-08")),
    (
        "I-03",
        "Are the mandatory mentions present?",
        (*_ids("CNT", (2, 3, 4, 5, 6, 7, 10, 11, 13, 17)), "R-CS-06", *_ids("STU", range(2, 8))),
    ),
    ("I-04", "Did the parties sign?", ("R-SIG-01",)),
    (
        "I-05",
        "Does the PIIS contain community service (and is it lawful)?",
        _ids("CS", range(1, 13)),
    ),
    (
        "I-06",
        "Is the absence of a PIIS sufficiently motivated by a decision?",
        ("R-OBL-07", "R-OBL-08"),
    ),
    ("I-07", "Did evaluations take place and were they formalised?", _ids("EVA", range(1, 5))),
    (
        "I-08",
        "If there was a sanction, were the legal conditions respected?",
        (*_ids("SAN", range(1, 10)), "R-SAN-16"),
    ),
    ("I-09", "Are the conditions for the special subsidy met?", _ids("SUB", range(1, 17))),
    ("I-10", "Was the means of existence of maintenance debtors investigated? (students)", ()),
    (
        "I-11",
        "Was a recovery decision taken and served on the applicant and the maintenance debtors?",
        (),
    ),
)


# rule id -> (item position, rank of the rule among the item's engine rules), for every item naming it
_PLACES: dict[str, list[tuple[int, int]]] = {}
for _pos, (_, _, _rule_ids) in enumerate(ITEMS):
    for _rank, _rid in enumerate(_rule_ids):
        _PLACES.setdefault(_rid, []).append((_pos, _rank))
# The checklist is JSON data (``sections["inspection"]``): statuses as their string values, read for
# every item of every contract (``ItemStatus.FAIL.value`` costs two enum lookups, measured ~0.4 us).
_FAIL, _PASS, _WARN = ItemStatus.FAIL.value, ItemStatus.PASS.value, ItemStatus.WARNING.value
_NA, _NOT_RECORDED = ItemStatus.NOT_APPLICABLE.value, ItemStatus.NOT_RECORDED.value
_NEEDED_PARTIES = (
    (PartyRole.BENEFICIARY, None, f"signature of the {PartyRole.BENEFICIARY.value.lower()}"),
    (PartyRole.CPAS, None, f"signature of the {PartyRole.CPAS.value.lower()}"),
)


def inspection_checklist(
    contract: PIISContract,
    findings: Iterable[Finding],
    on: date,
    *,
    obligations: Sequence[PersonObligation] = (),
    subsidy_months: Sequence[tuple[date, int]] = (),
) -> InspectionChecklist:
    """The eleven items for *contract*, judged from the engine's *findings* and the file's evidence.

    *obligations* is the engine's R-OBL summary (for the deadline of I-02 and I-06); *subsidy_months*
    the (month, subsidy cents) of the subsidy schedule (for the amount at risk).
    """
    rows, ready = _items(
        contract,
        findings,
        on,
        obligations,
        sum(cents for _, cents in subsidy_months),
        contract.signed_date,
    )
    items = tuple(
        ChecklistItem(
            item=r["item"],
            question=r["question"],
            engine_rules=tuple(r["engine_rules"]),
            status=ItemStatus(r["status"]),
            evidence_found=tuple(r["evidence_found"]),
            evidence_missing=tuple(r["evidence_missing"]),
            findings=tuple(r["findings"]),
        )
        for r in rows
    )
    return InspectionChecklist(
        contract_id=contract.contract_id,
        reference_date=on,
        items=items,
        ready=ready,
        subsidy_at_risk_cents=0 if ready else _at_risk(subsidy_months, on),
    )


def _at_risk(subsidy_months: Sequence[tuple[date, int]], on: date) -> int:
    """R-SUB-13: the subsidy of the months up to the reference date's month."""
    month = on.replace(day=1)
    return sum(cents for m, cents in subsidy_months if m <= month)


def _related(findings: Iterable[Finding]) -> dict[int, list[Finding]] | None:
    """The error and warning findings of each item (by position) that has any, in the order of its
    engine rules, then in recording order (errors first, then warnings); None when no finding concerns
    any item."""
    buckets: dict[int, list[tuple[int, int, Finding]]] | None = None
    for seq, f in enumerate(findings):
        places = _PLACES.get(f.rule_id)
        if places is None:
            continue
        level = f.level
        if level is not Level.ERROR and level is not Level.WARNING:
            continue
        if buckets is None:
            buckets = {}
        for pos, rank in places:
            bucket = buckets.get(pos)
            if bucket is None:
                buckets[pos] = [(rank, seq, f)]
            else:
                bucket.append((rank, seq, f))
    if buckets is None:
        return None
    out: dict[int, list[Finding]] = {}
    for pos, bucket in buckets.items():
        if len(bucket) == 1:
            out[pos] = [bucket[0][2]]
        else:
            bucket.sort(key=lambda x: (x[0], x[1]))
            out[pos] = [f for _, _, f in bucket if f.level is Level.ERROR] + [
                f for _, _, f in bucket if f.level is Level.WARNING
            ]
    return out


def _items(
    contract: PIISContract,
    findings: Iterable[Finding],
    on: date,
    obligations: Sequence[PersonObligation],
    subsidy_total: int,
    signed: date | None,
) -> tuple[list[dict[str, Any]], bool]:
    """The eleven items in their JSON form (``ChecklistItem.model_dump(mode="json")``) and whether the
    file is ready (no item fails); *subsidy_total*: the schedule's total, *signed*: ``contract.signed_date``.

    Why JSON and straight-line code: the engine writes these dicts into ``Report.sections["inspection"]``
    for 100,000 contracts a night; :func:`inspection_checklist` builds the models from them."""
    c = contract
    related = _related(findings)
    ob = obligations[0] if obligations else None
    rows: list[
        tuple[int, str | None, list[str], list[str]]
    ] = []  # (item position, status or None, found, missing)
    add = rows.append

    # I-01: needs assessment
    na = c.needs_assessment
    if na is None:
        add((0, None, [], ["no needs assessment ('bilan social') in the file"]))
    else:
        found = [f"needs assessment of {na.assessed_on.isoformat()} by {na.author}"]
        add(
            (
                0,
                None,
                found,
                ["the needs assessment is dated after the signature"]
                if signed is not None and na.assessed_on > signed
                else [],
            )
        )

    # I-02: drawn up within the deadline
    deadline = ob.deadline if ob else None
    if ob is not None and not ob.mandatory and deadline is None:
        add(
            (
                1,
                _NA,
                ["optional PIIS without a decision to conclude one: no deadline"],
                [],
            )
        )
    elif ob is not None and ob.exempted:
        add((1, _NA, ["motivated exemption: no deadline"], []))
    elif c.previous_contract is not None and judged_on_previous(c):
        prev = c.previous_contract
        if prev.relation is ContractRelation.REPLACES_NON_COMPLIANT:
            add(
                (
                    1,
                    _NA,
                    [
                        f"replaces contract {prev.contract_id}, found non-compliant: the new compliant contract "
                        "ends the reimbursement (R-SUB-13)"
                    ],
                    [],
                )
            )
        else:
            add(
                (
                    1,
                    _NA,
                    [
                        f"follows contract {prev.contract_id}: the decision's deadline was judged on it"
                    ],
                    [],
                )
            )
    else:
        found = []
        missing = []
        if deadline is not None:
            found.append(f"deadline {deadline.isoformat()}")
        if signed is not None:
            found.append(f"signed on {signed.isoformat()}")
            if deadline is not None and signed > deadline:
                missing.append("signed after the deadline")
        elif deadline is not None and on > deadline:
            missing.append("not signed and the deadline has passed")
        add((1, None, found, missing))

    # I-03: mandatory mentions
    found = []
    missing = []
    (found if c.objectives else missing).append("objectives")
    (found if c.action_domains else missing).append("action domains")
    (found if c.commitments else missing).append("commitments of each party")
    found.append("duration (start and end dates)")
    (found if c.evaluation_arrangement is not None else missing).append("evaluation arrangements")
    roles = {w.role for w in c.social_workers}
    (found if WorkerRole.IN_CHARGE in roles else missing).append("social worker in charge")
    (found if WorkerRole.SUBSTITUTE in roles else missing).append("substitute social worker")
    if c.encouragement_premium is not None:
        found.append("encouragement premium amount and conditions")
    if c.third_parties:
        (found if all(t.execution_role for t in c.third_parties) else missing).append(
            "third parties' roles"
        )
    add((2, None, found, missing))

    # I-04: signatures
    found = []
    missing = []
    parties = {(s.party, s.third_party_id) for s in c.signatures if s.for_version == 1}
    for party, tp, label in _NEEDED_PARTIES:
        (found if (party, tp) in parties else missing).append(label)
    for t in c.third_parties:
        (found if (PartyRole.THIRD_PARTY, t.party_id) in parties else missing).append(
            f"signature of the third party {t.party_id}"
        )
    add((3, None, found, missing))

    # I-05: community service
    cs = c.community_service
    if cs is None:
        add((4, _NA, ["no community service"], []))
    else:
        found = [f"community service: {cs.nature}"]
        missing = []
        (found if cs.insurance_verified else missing).append("insurance checked by the CPAS")
        (found if cs.agreed_by_person and cs.agreed_by_cpas else missing).append(
            "agreement of the person and of the CPAS"
        )
        add((4, None, found, missing))

    # I-06: absence of a PIIS motivated
    if signed is not None:
        add((5, _NA, ["a PIIS was concluded"], []))
    elif c.obligation.exemption is not None:
        ex = c.obligation.exemption
        add(
            (
                5,
                None,
                [
                    f"motivated {ex.ground.value.lower()} exemption of {ex.motivated_decision_date.isoformat()}"
                ],
                []
                if ex.motivated_separately_from_work_willingness
                else ["exemption not motivated separately from willingness to work"],
            )
        )
    elif ob is not None and ob.mandatory:
        if ob.deadline is not None and on > ob.deadline:
            add(
                (
                    5,
                    None,
                    [],
                    ["mandatory PIIS neither concluded nor exempted by a motivated decision"],
                )
            )
        else:
            add((5, None, ["deadline not reached yet"], []))
    else:
        add((5, _NA, ["PIIS not mandatory"], []))

    # I-07: evaluations held and formalised
    held = formal = in_person = 0
    for e in c.evaluations:
        if e.held_on <= on:
            held += 1
            if e.formalised:
                formal += 1
                if e.mode is EvaluationMode.IN_PERSON:
                    in_person += 1
    add(
        (
            6,
            _NA if signed is None else None,
            [f"{formal} formalised evaluation(s), {in_person} in person"],
            [f"{held - formal} evaluation(s) not formalised"] if formal < held else [],
        )
    )

    # I-08: sanctions
    if not c.sanctions:
        add((7, _NA, ["no sanction"], []))
    else:
        add(
            (
                7,
                None,
                [
                    f"{len(c.sanctions)} sanction(s): "
                    + ", ".join(s.sanction_id for s in c.sanctions)
                ],
                [],
            )
        )

    # I-09: special subsidy
    found = [f"subsidy schedule total {subsidy_total / 100:.2f} EUR"]
    missing = []
    for entitlement in c.subsidy_history:
        kind = entitlement.type.value
        if kind in ("PROLONGATION", "SECOND_CHANCE"):
            (found if entitlement.social_inquiry_report_ref else missing).append(
                f"{kind}: social-inquiry report in the file"
            )
            (found if entitlement.motivated_decision_ref else missing).append(
                f"{kind}: motivated decision"
            )
    add((8, _NA if signed is None else None, found, missing))

    # I-10 / I-11: maintenance debtors (students); evidence dated after the reference date did not
    # exist yet on that day
    if not c.is_studies:
        add((9, _NA, ["not a studies PIIS"], []))
        add((10, _NA, ["not a studies PIIS"], []))
    else:
        studies = c.studies
        investigation = studies.maintenance_debtors_investigation if studies is not None else None
        if investigation is not None and investigation.investigated_on > on:
            investigation = None
        recovery = studies.recovery_decision if studies is not None else None
        if recovery is not None and recovery.decided_on > on:
            recovery = None
        if investigation is not None:
            add(
                (
                    9,
                    None,
                    [
                        f"maintenance debtors' means investigated on {investigation.investigated_on.isoformat()} "
                        f"({investigation.debtors_count} debtor(s))"
                    ],
                    [],
                )
            )
        else:
            add(
                (
                    9,
                    _NOT_RECORDED,
                    [],
                    ["not recorded in the file (studies.maintenance_debtors_investigation)"],
                )
            )
        if recovery is not None:
            found = [
                f"recovery decision of {recovery.decided_on.isoformat()} "
                f"({'recover' if recovery.recover else 'no recovery'})"
            ]
            missing = []
            for whom, served in (
                ("applicant", recovery.served_on_applicant_date),
                ("maintenance debtors", recovery.served_on_debtors_date),
            ):
                if served is not None and served <= on:
                    found.append(f"served on the {whom} on {served.isoformat()}")
                elif whom == "applicant" or investigation is None or investigation.debtors_count:
                    missing.append(f"the decision was not served on the {whom}")
            add((10, None, found, missing))
        else:
            add(
                (
                    10,
                    _NOT_RECORDED,
                    [],
                    ["not recorded in the file (studies.recovery_decision)"],
                )
            )
    out: list[dict[str, Any]] = []
    ready = True
    for pos, status, found, missing in rows:
        item, question, rule_ids = ITEMS[pos]
        mine = related.get(pos, _NONE) if related is not None else _NONE
        if status is None:
            if missing or (mine and mine[0].level is Level.ERROR):
                status = _FAIL
            else:
                status = _WARN if mine else _PASS
        if status is _FAIL:
            ready = False
        out.append(
            {
                "item": item,
                "question": question,
                "engine_rules": list(rule_ids),
                "status": status,
                "evidence_found": found,
                "evidence_missing": missing,
                "findings": [f"{f.rule_id}: {f.message}" for f in mine] if mine else [],
            }
        )
    return out, ready


_NONE: list[Finding] = []


def inspect(
    contract: PIISContract, on: date | None = None, settings: RuleSettings | None = None
) -> InspectionChecklist:
    """Run every rule on *contract* and return its inspection checklist."""
    from piis_bridge.rules.engine import evaluate

    report = evaluate(contract, on=on, settings=settings)
    return InspectionChecklist.model_validate(report.sections["inspection"])


# --- registration (rules.md 2.13) ---------------------------------------------------------


def _inspection_results(ctx: RuleContext) -> Iterator[Result]:
    """The R-INS family's one computation: the checklist, judged by the first R-INS rule from the
    findings of every other family, as ``sections["inspection"]`` -- exactly
    ``inspection_checklist(...).model_dump(mode="json")``, built without the models -- and an info
    finding for each failing item (the errors themselves are the engine rules' findings)."""
    schedule = ctx.subsidy
    on = ctx.on
    # the schedule's total is the sum of its months' subsidies (subsidies._compute adds them up)
    items, ready = _items(
        ctx.contract,
        ctx.findings,
        on,
        ctx.obligations,
        schedule.total_cents if schedule is not None else 0,
        ctx.signed_date,
    )
    at_risk = 0
    if not ready:
        months = (
            [(m.month, m.subsidy_cents) for m in schedule.months] if schedule is not None else []
        )
        at_risk = _at_risk(months, on)
    section = {
        "contract_id": ctx.contract.contract_id,
        "reference_date": on.isoformat(),
        "items": items,
        "ready": ready,
        "subsidy_at_risk_cents": at_risk,
    }
    yield Section(_RULE_IDS[0], "inspection", section)
    for rule_id, item in zip(_RULE_IDS, items, strict=True):
        if item["status"] != _FAIL:
            continue
        missing = item["evidence_missing"]
        why = (
            Join("; ", [Evidence(e) for e in missing])
            if missing
            else Msg("{n} related finding(s)", n=len(item["findings"]))
        )
        yield issue(
            rule_id,
            N_("contract {contract}: inspection item {item} would fail ({why})"),
            level=Level.INFO,
            contract=ctx.cid,
            item=item["item"],
            why=why,
        )


_RULE_IDS = tuple(f"R-INS-{n:02d}" for n in range(1, len(ITEMS) + 1))
_NO_FIELD = (
    "none (evidence: studies.maintenance_debtors_investigation for I-10, studies.recovery_decision "
    "for I-11; not_recorded when a studies contract does not record it)"
)

INSPECTION_RULES = tuple(
    RuleSpec(
        rule_id,
        title=f"Inspection {item}: {question}",
        severity=Severity.LEGAL,
        citation="[002 L528-554]",
        doc=f"""
    Inspection checklist item {item}: "{question}"  Engine rules: {", ".join(rules) or _NO_FIELD}.  The item, with the evidence found and missing,
    is in ``Report.sections["inspection"]``; a failing item adds an info finding (the errors themselves are
    the engine rules' findings, not repeated).  A non-compliant PIIS means reimbursing the subsidies received
    (R-SUB-13): ``subsidy_at_risk_cents``.
    """,
    )
    for rule_id, (item, question, rules) in zip(_RULE_IDS, ITEMS, strict=True)
)
family(INSPECTION_RULES, _inspection_results)

REPORTING_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-RPT-01",
        title="Form B carries the PIIS rubric codes",
        severity=Severity.LEGAL,
        citation="[002 L556-560, L814]",
        doc="""
    Since 2016-11-01 form B (Novaprima) carries new codes for the rubric "projet d'intégration sociale :
    demandeur/partenaire".  The code values are not in the seeds (Q-18); the federal plugin builds the forms.
    """,
        automated=False,
    ),
    RuleSpec(
        "R-RPT-02",
        title="Form D has two new recovery-type codes",
        severity=Severity.LEGAL,
        citation="[002 L560]",
        doc="""
    Two new "type de récupération" codes on form D; values not in the seeds (Q-18).
    """,
        automated=False,
    ),
    RuleSpec(
        "R-RPT-03",
        title="Annual report synthesis",
        severity=Severity.LEGAL,
        citation="[002 L224, L403]",
        doc="""
    See R-EVA-07: the CPAS-level annual synthesis of contract evaluations and employment results.
    """,
        automated=False,
    ),
)
family(REPORTING_RULES)
