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

from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from piis_bridge.model import EvaluationMode, PartyRole, PIISContract, WorkerRole
from piis_bridge.rules._issues import doc_of as _doc
from piis_bridge.rules.registry import Severity, document, rule
from piis_bridge.rules.report import Finding, Level, PersonObligation

if TYPE_CHECKING:
    from piis_bridge.rules.context import RuleContext
    from piis_bridge.rules.settings import RuleSettings

__all__ = ["ItemStatus", "ChecklistItem", "InspectionChecklist", "ITEMS", "inspection_checklist", "inspect"]


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
    findings: tuple[str, ...] = Field(default=(), description="'<rule id>: <message>' of the related findings")


class InspectionChecklist(_Out):
    contract_id: str
    reference_date: date
    items: tuple[ChecklistItem, ...]
    ready: bool = Field(description="No item fails")
    subsidy_at_risk_cents: int = Field(
        description="R-SUB-13: subsidy of the months up to the reference date, reimbursed if the PIIS is non-compliant")


def _ids(family: str, numbers: Iterable[int]) -> tuple[str, ...]:
    return tuple(f"R-{family}-{n:02d}" for n in numbers)


ITEMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("I-01", "Is there a 'bilan social' of the person's needs?", ("R-CNT-01",)),
    ("I-02", "Was the PIIS drawn up within the deadline?", ("R-DL-01", "R-DL-03", "R-DL-08")),
    ("I-03", "Are the mandatory mentions present?",
     (*_ids("CNT", (2, 3, 4, 5, 6, 7, 10, 11, 13, 17)), "R-CS-06", *_ids("STU", range(2, 8)))),
    ("I-04", "Did the parties sign?", ("R-SIG-01",)),
    ("I-05", "Does the PIIS contain community service (and is it lawful)?", _ids("CS", range(1, 13))),
    ("I-06", "Is the absence of a PIIS sufficiently motivated by a decision?", ("R-OBL-07", "R-OBL-08")),
    ("I-07", "Did evaluations take place and were they formalised?", _ids("EVA", range(1, 5))),
    ("I-08", "If there was a sanction, were the legal conditions respected?", (*_ids("SAN", range(1, 10)), "R-SAN-16")),
    ("I-09", "Are the conditions for the special subsidy met?", _ids("SUB", range(1, 17))),
    ("I-10", "Was the means of existence of maintenance debtors investigated? (students)", ()),
    ("I-11", "Was a recovery decision taken and served on the applicant and the maintenance debtors?", ()),
)


def _status(errors: list[Finding], warnings: list[Finding], missing: list[str]) -> ItemStatus:
    if errors or missing:
        return ItemStatus.FAIL
    return ItemStatus.WARNING if warnings else ItemStatus.PASS


# rule id -> (item position, rank of the rule among the item's engine rules), for every item naming it
_PLACES: dict[str, list[tuple[int, int]]] = {}
for _pos, (_, _, _rule_ids) in enumerate(ITEMS):
    for _rank, _rid in enumerate(_rule_ids):
        _PLACES.setdefault(_rid, []).append((_pos, _rank))
_NO_FINDINGS: list[tuple[int, int, Finding]] = []
_JSON_STATUS = {s: s.value for s in ItemStatus}  # what model_dump(mode="json") writes

# One item as plain data: (item, question, engine rules, status, evidence found, evidence missing,
# related findings).  The engine turns the rows straight into the report's JSON section (100,000
# contracts per run); :func:`inspection_checklist` builds the models from them.
_Row = tuple[str, str, tuple[str, ...], ItemStatus, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


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
    rows, ready = _rows(contract, findings, on, obligations, sum(cents for _, cents in subsidy_months),
                        contract.signed_date)
    items = tuple(ChecklistItem(item=item, question=question, engine_rules=rule_ids, status=status,
                                evidence_found=found, evidence_missing=missing, findings=related)
                  for item, question, rule_ids, status, found, missing, related in rows)
    return InspectionChecklist(contract_id=contract.contract_id, reference_date=on, items=items, ready=ready,
                               subsidy_at_risk_cents=0 if ready else _at_risk(subsidy_months, on))


def _at_risk(subsidy_months: Sequence[tuple[date, int]], on: date) -> int:
    """R-SUB-13: the subsidy of the months up to the reference date's month."""
    month = on.replace(day=1)
    return sum(cents for m, cents in subsidy_months if m <= month)


def _rows(
    contract: PIISContract,
    findings: Iterable[Finding],
    on: date,
    obligations: Sequence[PersonObligation],
    subsidy_total: int,
    signed: date | None,
) -> tuple[list[_Row], bool]:
    """The items and whether the file is ready (no item fails); *subsidy_total*: the schedule's total,
    *signed*: ``contract.signed_date``."""
    c = contract
    # The findings of each item, in the order of its engine rules (then in recording order).
    buckets: list[list[tuple[int, int, Finding]]] = [_NO_FINDINGS] * len(ITEMS)
    for seq, f in enumerate(findings):
        places = _PLACES.get(f.rule_id)
        if places is None:
            continue
        for pos, rank in places:
            if buckets[pos] is _NO_FINDINGS:
                buckets[pos] = []
            buckets[pos].append((rank, seq, f))
    ob = obligations[0] if obligations else None
    items: list[_Row] = []
    for (item, question, rule_ids), bucket in zip(ITEMS, buckets):
        if bucket:
            bucket.sort(key=lambda x: (x[0], x[1]))
            errors = [f for _, _, f in bucket if f.level is Level.ERROR]
            warnings = [f for _, _, f in bucket if f.level is Level.WARNING]
        else:
            errors = warnings = []
        found: list[str] = []
        missing: list[str] = []
        status: ItemStatus | None = None
        if item == "I-01":
            if c.needs_assessment is None:
                missing.append("no needs assessment ('bilan social') in the file")
            else:
                found.append(f"needs assessment of {c.needs_assessment.assessed_on.isoformat()} by "
                             f"{c.needs_assessment.author}")
                if signed is not None and c.needs_assessment.assessed_on > signed:
                    missing.append("the needs assessment is dated after the signature")
        elif item == "I-02":
            deadline = ob.deadline if ob else None
            if ob is not None and not ob.mandatory and deadline is None:
                status = ItemStatus.NOT_APPLICABLE
                found.append("optional PIIS without a decision to conclude one: no deadline")
            elif ob is not None and ob.exempted:
                status = ItemStatus.NOT_APPLICABLE
                found.append("motivated exemption: no deadline")
            else:
                if deadline is not None:
                    found.append(f"deadline {deadline.isoformat()}")
                if signed is not None:
                    found.append(f"signed on {signed.isoformat()}")
                    if deadline is not None and signed > deadline:
                        missing.append("signed after the deadline")
                elif deadline is not None and on > deadline:
                    missing.append("not signed and the deadline has passed")
        elif item == "I-03":
            present = {
                "objectives": bool(c.objectives), "action domains": bool(c.action_domains),
                "commitments of each party": bool(c.commitments), "duration (start and end dates)": True,
                "evaluation arrangements": c.evaluation_arrangement is not None,
                "social worker in charge": any(w.role is WorkerRole.IN_CHARGE for w in c.social_workers),
                "substitute social worker": any(w.role is WorkerRole.SUBSTITUTE for w in c.social_workers),
            }
            if c.encouragement_premium is not None:
                present["encouragement premium amount and conditions"] = True
            if c.third_parties:
                present["third parties' roles"] = all(t.execution_role for t in c.third_parties)
            for name, ok in present.items():
                (found if ok else missing).append(name)
        elif item == "I-04":
            parties = {(s.party, s.third_party_id) for s in c.signatures if s.for_version == 1}
            needed = [(PartyRole.BENEFICIARY, None), (PartyRole.CPAS, None),
                      *((PartyRole.THIRD_PARTY, t.party_id) for t in c.third_parties)]
            for party, tp in needed:
                label = party.value.lower() if tp is None else f"third party {tp}"
                (found if (party, tp) in parties else missing).append(f"signature of the {label}")
        elif item == "I-05":
            cs = c.community_service
            if cs is None:
                status = ItemStatus.NOT_APPLICABLE
                found.append("no community service")
            else:
                found.append(f"community service: {cs.nature}")
                (found if cs.insurance_verified else missing).append("insurance checked by the CPAS")
                (found if cs.agreed_by_person and cs.agreed_by_cpas else missing).append(
                    "agreement of the person and of the CPAS")
        elif item == "I-06":
            if signed is not None:
                status = ItemStatus.NOT_APPLICABLE
                found.append("a PIIS was concluded")
            elif c.obligation.exemption is not None:
                ex = c.obligation.exemption
                found.append(f"motivated {ex.ground.value.lower()} exemption of {ex.motivated_decision_date.isoformat()}")
                if not ex.motivated_separately_from_work_willingness:
                    missing.append("exemption not motivated separately from willingness to work")
            elif ob is not None and ob.mandatory:
                if ob.deadline is not None and on > ob.deadline:
                    missing.append("mandatory PIIS neither concluded nor exempted by a motivated decision")
                else:
                    found.append("deadline not reached yet")
            else:
                status = ItemStatus.NOT_APPLICABLE
                found.append("PIIS not mandatory")
        elif item == "I-07":
            held = [e for e in c.evaluations if e.held_on <= on]
            formal = [e for e in held if e.formalised]
            found.append(f"{len(formal)} formalised evaluation(s), "
                         f"{sum(e.mode is EvaluationMode.IN_PERSON for e in formal)} in person")
            if len(formal) < len(held):
                missing.append(f"{len(held) - len(formal)} evaluation(s) not formalised")
            if signed is None:
                status = ItemStatus.NOT_APPLICABLE
        elif item == "I-08":
            if not c.sanctions:
                status = ItemStatus.NOT_APPLICABLE
                found.append("no sanction")
            else:
                found.append(f"{len(c.sanctions)} sanction(s): " + ", ".join(s.sanction_id for s in c.sanctions))
        elif item == "I-09":
            total = subsidy_total
            if signed is None:
                status = ItemStatus.NOT_APPLICABLE
            found.append(f"subsidy schedule total {total / 100:.2f} EUR")
            history = c.subsidy_history
            for e in history:
                if e.type.value in ("PROLONGATION", "SECOND_CHANCE"):
                    (found if e.social_inquiry_report_ref else missing).append(
                        f"{e.type.value}: social-inquiry report in the file")
                    (found if e.motivated_decision_ref else missing).append(f"{e.type.value}: motivated decision")
        elif item in ("I-10", "I-11"):
            # evidence dated after the reference date did not exist yet on that day
            studies = c.studies
            investigation = studies.maintenance_debtors_investigation if studies is not None else None
            if investigation is not None and investigation.investigated_on > on:
                investigation = None
            recovery = studies.recovery_decision if studies is not None else None
            if recovery is not None and recovery.decided_on > on:
                recovery = None
            if not c.is_studies:
                status = ItemStatus.NOT_APPLICABLE
                found.append("not a studies PIIS")
            elif item == "I-10" and investigation is not None:
                found.append(f"maintenance debtors' means investigated on {investigation.investigated_on.isoformat()} "
                             f"({investigation.debtors_count} debtor(s))")
            elif item == "I-11" and recovery is not None:
                found.append(f"recovery decision of {recovery.decided_on.isoformat()} "
                             f"({'recover' if recovery.recover else 'no recovery'})")
                for whom, served in (("applicant", recovery.served_on_applicant_date),
                                     ("maintenance debtors", recovery.served_on_debtors_date)):
                    if served is not None and served <= on:
                        found.append(f"served on the {whom} on {served.isoformat()}")
                    elif whom == "applicant" or investigation is None or investigation.debtors_count:
                        missing.append(f"the decision was not served on the {whom}")
            else:
                status = ItemStatus.NOT_RECORDED
                missing.append("not recorded in the file (" + ("studies.maintenance_debtors_investigation" if item == "I-10"
                                                              else "studies.recovery_decision") + ")")
        items.append((item, question, rule_ids, status or _status(errors, warnings, missing), tuple(found),
                      tuple(missing), tuple(f"{f.rule_id}: {f.message}" for f in (*errors, *warnings))
                      if errors or warnings else ()))
    ready = all(row[3] is not ItemStatus.FAIL for row in items)
    return items, ready


def inspect(contract: PIISContract, on: date | None = None, settings: RuleSettings | None = None) -> InspectionChecklist:
    """Run every rule on *contract* and return its inspection checklist."""
    from piis_bridge.rules.engine import evaluate

    report = evaluate(contract, on=on, settings=settings)
    return InspectionChecklist.model_validate(report.sections["inspection"])


# --- registration (rules.md 2.13) ---------------------------------------------------------

def _checklist(ctx: RuleContext) -> dict[str, _Row]:
    """The items by rule id, judged once per evaluation (by the first R-INS rule, from the findings of
    every other family) and shared by the R-INS rules; also writes ``sections["inspection"]`` -- exactly
    ``inspection_checklist(...).model_dump(mode="json")``, built without the models."""
    by_rule = ctx.cache.get("inspection.checklist")
    if by_rule is None:
        months = ctx.subsidy.months if ctx.subsidy is not None else ()
        rows, ready = _rows(ctx.contract, ctx.findings, ctx.on, ctx.obligations,
                               sum(m.subsidy_cents for m in months), ctx.signed_date)
        on = ctx.on
        ctx.sections["inspection"] = {
            "contract_id": ctx.contract.contract_id, "reference_date": on.isoformat(),
            "items": [{"item": item, "question": question, "engine_rules": list(rule_ids), "status": _JSON_STATUS[status],
                       "evidence_found": list(found), "evidence_missing": list(missing), "findings": list(related)}
                      for item, question, rule_ids, status, found, missing, related in rows],
            "ready": ready,
            "subsidy_at_risk_cents": 0 if ready else _at_risk([(m.month, m.subsidy_cents) for m in months], on),
        }
        by_rule = ctx.cache["inspection.checklist"] = dict(zip(_RULE_IDS, rows, strict=True))
    return by_rule


def _check(ctx: RuleContext) -> None:
    item, _, _, status, _, missing, related = _checklist(ctx)[ctx.rule.id]
    if status is ItemStatus.FAIL:
        why = "; ".join(missing) or f"{len(related)} related finding(s)"
        ctx.info(f"contract {ctx.cid}: inspection item {item} would fail ({why})")


_RULE_IDS = tuple(f"R-INS-{n:02d}" for n in range(1, len(ITEMS) + 1))
_NO_FIELD = ("none (evidence: studies.maintenance_debtors_investigation for I-10, studies.recovery_decision "
             "for I-11; not_recorded when a studies contract does not record it)")

for _number, (_item, _question, _rules) in enumerate(ITEMS, start=1):
    rule(f"R-INS-{_number:02d}", title=f"Inspection {_item}: {_question}", severity=Severity.LEGAL,
         citation="[002 L528-554]")(_doc(_check, f"""
    Inspection checklist item {_item}: "{_question}"  Engine rules: {', '.join(_rules) or _NO_FIELD}.  The item, with the evidence found and missing,
    is in ``Report.sections["inspection"]``; a failing item adds an info finding (the errors themselves are
    the engine rules' findings, not repeated).  A non-compliant PIIS means reimbursing the subsidies received
    (R-SUB-13): ``subsidy_at_risk_cents``.
    """))

document("R-RPT-01", title="Form B carries the PIIS rubric codes", severity=Severity.LEGAL,
         citation="[002 L556-560, L814]", doc="""
    Since 2016-11-01 form B (Novaprima) carries new codes for the rubric "projet d'intégration sociale :
    demandeur/partenaire".  The code values are not in the seeds (Q-18); the federal plugin builds the forms.
    """)
document("R-RPT-02", title="Form D has two new recovery-type codes", severity=Severity.LEGAL,
         citation="[002 L560]", doc="""
    Two new "type de récupération" codes on form D; values not in the seeds (Q-18).
    """)
document("R-RPT-03", title="Annual report synthesis", severity=Severity.LEGAL, citation="[002 L224, L403]", doc="""
    See R-EVA-07: the CPAS-level annual synthesis of contract evaluations and employment results.
    """)
