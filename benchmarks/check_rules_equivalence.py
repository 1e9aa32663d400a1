"""Check that a change to the rules changes no result: save the reports of a fixed caseload, then compare.

    .venv/bin/python benchmarks/check_rules_equivalence.py --save /tmp/before.pickle   # before the change
    .venv/bin/python benchmarks/check_rules_equivalence.py --compare /tmp/before.pickle  # after it

The caseload is the five examples (each judged on three reference dates) plus ``-n`` contracts from the
benchmark generator (``bench_rules.generate``, fixed seed), each with ``Report.model_dump()``; the
agenda of the generated contracts over three windows (with and without overdue items) is saved too.
``variants`` adds what the five examples never record: moves (residence history and transfer requests,
with and without termination), interviews asked for by the person (working days), subsidy histories,
and settings other than the defaults (Q-10, lifetime limit, local policies, CPAS closure days).
Why a script and not a test: it is a before/after tool for performance work, and the full caseload
takes longer than a test should.  ``tests/rules/test_perf_equivalence.py`` keeps a small fixed sample.

Intended changes (``--compare`` applies :data:`FORMAT_CHANGES` to the saved results first, so only outcome
changes remain, then counts what differs per rule id; each must be one of :data:`INTENDED`):
"""

from __future__ import annotations

import argparse
import pickle
import sys
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import random  # noqa: E402
from datetime import timedelta  # noqa: E402

from bench_rules import examples as example_contracts
from bench_rules import generate  # noqa: E402

from piis_bridge.model import (  # noqa: E402
    Consent,
    InterviewRequest,
    PIISContract,
    RequestedBy,
    ResidencePeriod,
    SubsidyEntitlement,
    SubsidyType,
    Termination,
    TerminationReason,
    TransferRequest,
)
from piis_bridge.rules import RuleSettings, evaluate  # noqa: E402
from piis_bridge.rules.agenda import agenda  # noqa: E402
from piis_bridge.rules.settings import AgeReference, LookbackAnchor  # noqa: E402
from piis_bridge.rules.subsidies import subsidy_plan, subsidy_window  # noqa: E402

# Issue 18: changes of form, applied to a snapshot taken before them (same meaning, new convention).
FORMAT_CHANGES = (
    "obligations[].age added (the same value as age_on_reference)",
    "subsidy window_end: the last day of the window's last month (was its first day), in the report, the plan "
    "and the agenda",
)
# Issue 18: outcome changes, by rule id, that are intended (what the compare may report).
INTENDED = {
    "R-SUB-01: months,notes,total_cents": "schedule: months of a subsidy a finding declares not due pay nothing",
    "R-SUB-01: months,total_cents": "schedule: months of a subsidy a finding declares not due pay nothing",
    "R-SUB-17": "a note on the rate of 2028 and later (the law of 2026-2028, share not recorded: flat rate shown)",
    "R-SUB-04": "lifetime limit / C-08 over the history remove months (findings unchanged)",
    "R-SUB-07": "window end date is the last day (format)",
    "R-SUB-10": "SECOND_CHANCE with DIS in the 12 months pays nothing; PROLONGATION/SECOND_CHANCE without FIRST too",
    "R-INS-09": "amount at risk follows the corrected schedule",
    "other: rules_evaluated": "rules newly automated (R-SUB-17 from 2028, R-STU-09, R-OBL-13) are counted",
    "R-TRF-04": "hand-over eligibility from the engine's obligation, not the recorded basis",
    "R-SAN-08": "a sanction applied after a broken sursis is judged by R-SAN-09",
    "R-SAN-09": "the start of an applied suspended sanction is judged by its latest application date",
    "R-STU-09": "given when a studies PIIS is ended or reoriented after the year's evaluation",
    "agenda": "window end item on the last day (was already); signature deadlines of successors dropped",
}

_WINDOWS = (
    (date(2026, 11, 1), date(2026, 11, 30)),
    (date(2026, 1, 1), date(2026, 12, 31)),
    (date(2010, 1, 1), date(2035, 12, 31)),
)


_SETTINGS = (
    RuleSettings(q10_partial_month_counts=False, q10_ri_checked_on_signature=False),
    RuleSettings(lifetime_subsidies_max=0, subsidy_max_months=6),
    RuleSettings(
        local_piis_deadline_months=1,
        local_require_contact_hours=True,
        local_policy_level="error",
        extra_closure_days=(date(2026, 11, 16),),
        recurring_closure_days=((7, 11), (12, 26)),
    ),
    RuleSettings(
        q01_clamp_to_month_end=False,
        q01_end_day_included=False,
        q03_obligation_age_reference=AgeReference.SIGNATURE,
        q04_lookback_anchor=LookbackAnchor.REQUEST,
        q17_topup_makes_optional=False,
        q07_remote_counts_toward_total=False,
    ),
)


def variants(
    contracts: list[tuple[PIISContract, date]], seed: int = 3
) -> list[tuple[PIISContract, date]]:
    """Copies of *contracts* with the facts the examples never record (see the module docstring)."""
    rng = random.Random(seed)
    out = []
    for i, (c, on) in enumerate(contracts):
        days = max(1, (c.end_date - c.start_date).days)
        day = c.start_date + timedelta(days=rng.randint(1, days))
        kind = i % 6
        if kind == 0:  # a move found in the residence history
            home = c.beneficiary.residences
            moved = ResidencePeriod(
                ins_code="62096" if c.cpas.ins_code != "62096" else "62063", start_date=day
            )
            c = c.model_copy(
                update={
                    "beneficiary": c.beneficiary.model_copy(update={"residences": [*home, moved]})
                }
            )
        elif kind in (1, 2):  # a recorded transfer request, terminated or not
            update: dict[str, Any] = {
                "transfer": TransferRequest(
                    transfer_id="T1",
                    residence_change_date=day,
                    from_cpas_ins=c.cpas.ins_code,
                    to_cpas_ins="62096",
                    requested_by=rng.choice([RequestedBy.PERSON, RequestedBy.CPAS]),
                    consent=rng.choice([Consent.GIVEN, Consent.REFUSED, Consent.NOT_EXPRESSED]),
                    agreement_old_cpas=rng.choice([True, False, None]),
                    agreement_new_cpas=rng.choice([True, None]),
                )
            }
            if kind == 2:
                update["termination"] = Termination(
                    ended_on=day + timedelta(days=rng.randint(-3, 3)),
                    reason=TerminationReason.CPAS_NO_LONGER_COMPETENT_RESIDENCE,
                )
            c = c.model_copy(update=update)
        elif kind == 3:  # interviews asked for by the person (working days, R-DL-05)
            asked = [
                InterviewRequest(
                    requested_date=day + timedelta(days=k * 9),
                    held_date=day + timedelta(days=k * 9 + rng.randint(0, 12)) if k % 2 else None,
                )
                for k in range(3)
            ]
            c = c.model_copy(update={"interview_requests": asked})
        elif kind == 4:  # a subsidy history (R-SUB-04, 07, 09, 10)
            first = SubsidyEntitlement(
                type=SubsidyType.FIRST,
                cpas_ins="62063",
                window_start=c.start_date.replace(day=1) - timedelta(days=rng.randint(0, 700)),
            )
            extra = SubsidyEntitlement(
                type=rng.choice(
                    [SubsidyType.PROLONGATION, SubsidyType.SECOND_CHANCE, SubsidyType.STUDIES]
                ),
                cpas_ins=c.cpas.ins_code,
                window_start=first.window_start + timedelta(days=400),
                motivated_decision_ref=rng.choice([None, "D-1"]),
                social_inquiry_report_ref=rng.choice([None, "R-1"]),
            )
            c = c.model_copy(update={"subsidy_history": [first, extra][: rng.randint(1, 2)]})
        out.append((c, on))
    return out


def results(n: int) -> dict[str, Any]:
    examples = [PIISContract.model_validate(c) for c in example_contracts()]
    generated = generate(n)
    out: dict[str, Any] = {
        "examples": [],
        "generated": [],
        "variants": [],
        "settings": [],
        "plans": [],
        "agenda": [],
    }
    for c in examples:
        for on in (date(2016, 12, 1), date(2018, 6, 15), date(2026, 11, 22)):
            out["examples"].append(evaluate(c, on=on).model_dump())
    for c, on in generated:
        out["generated"].append(evaluate(c, on=on).model_dump())
    varied = variants(generated[:600])
    for c, on in varied:
        out["variants"].append(evaluate(c, on=on).model_dump())
    for i, (c, on) in enumerate([*generated[:300], *varied[:300]]):
        out["settings"].append(
            evaluate(c, on=on, settings=_SETTINGS[i % len(_SETTINGS)]).model_dump()
        )
    for c in [*examples, *(c for c, _ in generated[:500]), *(c for c, _ in varied)]:
        out["plans"].append((subsidy_plan(c).model_dump(), subsidy_window(c).model_dump()))
    contracts = [*examples, *(c for c, _ in generated)]
    for start, end in _WINDOWS:
        for overdue in (False, True):
            out["agenda"].append(
                [i.as_dict() for i in agenda(contracts, start, end, overdue=overdue)]
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="generated contracts (default 3000)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--compare", type=Path)
    parser.add_argument(
        "--intended",
        action="store_true",
        help="with --compare: exit 0 when every difference is of a rule listed in INTENDED",
    )
    args = parser.parse_args(argv)
    now = results(args.n)
    if args.save:
        args.save.write_bytes(pickle.dumps(now))
        print(f"saved {sum(len(v) for v in now.values())} results to {args.save}")
        return 0
    before = _normalise(pickle.loads(args.compare.read_bytes()))
    bad = 0
    by_rule: dict[str, int] = {}
    for key, values in before.items():
        if len(values) != len(now[key]):
            print(f"{key}: {len(values)} results before, {len(now[key])} now")
            bad += 1
            continue
        for i, (old, new) in enumerate(zip(values, now[key], strict=True)):
            if old != new:
                for rid in _rules_differing(old, new):
                    by_rule[rid] = by_rule.get(rid, 0) + 1
                bad += 1
                if bad <= 5:
                    print(f"{key}[{i}] differs")
                    if isinstance(old, dict):
                        for k in old:
                            if old[k] != new.get(k):
                                print(f"  {k}: {old[k]!r}\n  -> {new.get(k)!r}")
    total = sum(len(v) for v in before.values())
    print(f"{total} results compared: {'all identical' if not bad else f'{bad} differ'}")
    unexpected = 0
    for rid, n in sorted(by_rule.items()):
        known = INTENDED.get(rid)
        unexpected += known is None
        print(f"  {rid}: {n} result(s) differ -- {known or 'NOT LISTED AS INTENDED'}")
    if args.intended:
        return 1 if unexpected else 0
    return 1 if bad else 0


def _rules_differing(old: Any, new: Any) -> set[str]:
    """The rule ids (or area) a difference concerns: findings and dates by rule id, else the top-level key."""
    if isinstance(old, tuple):  # (plan, window) of a subsidy plan
        changed: set[str] = set()
        for a, b in zip(old, new, strict=True):
            if a != b:
                changed |= _plan_change(a, b)
        return changed
    if not isinstance(old, dict) or not isinstance(new, dict):
        return {"agenda"}
    out: set[str] = set()
    for key in ("findings", "dates"):
        a = {repr(x) for x in old.get(key, ())}
        b = {repr(x) for x in new.get(key, ())}
        for x in (*old.get(key, ()), *new.get(key, ())):
            if repr(x) in a ^ b:
                out.add(x["rule_id"])
    if old.get("subsidy") != new.get("subsidy"):
        out |= _plan_change(old.get("subsidy") or {}, new.get("subsidy") or {})
    if old.get("sections", {}).get("subsidy_plan") != new.get("sections", {}).get("subsidy_plan"):
        out |= _plan_change(
            old["sections"].get("subsidy_plan") or {}, new["sections"].get("subsidy_plan") or {}
        )
    if old.get("sections", {}).get("inspection") != new.get("sections", {}).get("inspection"):
        out.add("R-INS-09")
    if old.get("obligations") != new.get("obligations"):
        out.add("R-OBL")
    if not out and "contract_id" in old:
        out.add("other: " + ",".join(sorted(k for k in old if old[k] != new.get(k))))
    return out


def _plan_change(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    """R-SUB-17 when only notes about the 2028 rate were added; R-SUB-01 when the months or totals changed."""
    changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
    if changed == {"notes"}:
        added = [n for n in new.get("notes", ()) if n not in old.get("notes", ())]
        if added and all("R-SUB-17" in n for n in added):
            return {"R-SUB-17"}
    return {"R-SUB-01: " + ",".join(sorted(changed))}


def _last_day(day: Any) -> Any:
    from piis_bridge.rules._deadline_math import month_index, month_span

    if isinstance(day, str):
        return month_span(month_index(date.fromisoformat(day)))[1].isoformat()
    if isinstance(day, date):
        return month_span(month_index(day))[1]
    return day


def _normalise(saved: dict[str, Any]) -> dict[str, Any]:
    """Apply :data:`FORMAT_CHANGES` to results saved before them."""

    def report(r: dict[str, Any]) -> dict[str, Any]:
        for ob in r.get("obligations", ()):
            if "age" not in ob:
                ob["age"] = ob["age_on_reference"]
        sub = r.get("subsidy")
        if sub and sub.get("window_end"):
            sub["window_end"] = _last_day(sub["window_end"])
        plan = r.get("sections", {}).get("subsidy_plan")
        if plan and plan.get("window_end"):
            plan["window_end"] = _last_day(plan["window_end"])
        return r

    for key in ("examples", "generated", "variants", "settings"):
        saved[key] = [report(r) for r in saved[key]]
    plans = []
    for plan, window in saved["plans"]:
        for p in (plan, window):
            if p.get("window_end"):
                p["window_end"] = _last_day(p["window_end"])
        plans.append((plan, window))
    saved["plans"] = plans
    return saved


if __name__ == "__main__":
    sys.exit(main())
