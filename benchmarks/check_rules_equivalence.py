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

from bench_rules import _examples, generate  # noqa: E402

import random  # noqa: E402
from datetime import timedelta  # noqa: E402

from piis_bridge.model import (  # noqa: E402
    InterviewRequest,
    PIISContract,
    ResidencePeriod,
    SubsidyEntitlement,
    Termination,
    TransferRequest,
)
from piis_bridge.rules import RuleSettings, evaluate  # noqa: E402
from piis_bridge.rules.agenda import agenda  # noqa: E402
from piis_bridge.rules.subsidies import subsidy_plan, subsidy_window  # noqa: E402

_WINDOWS = ((date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 1, 1), date(2026, 12, 31)),
            (date(2010, 1, 1), date(2035, 12, 31)))


_SETTINGS = (
    RuleSettings(q10_partial_month_counts=False, q10_ri_checked_on_signature=False),
    RuleSettings(lifetime_subsidies_max=0, subsidy_max_months=6),
    RuleSettings(local_piis_deadline_months=1, local_require_contact_hours=True, local_policy_level="error",
                 extra_closure_days=(date(2026, 11, 16),), recurring_closure_days=((7, 11), (12, 26))),
    RuleSettings(q01_clamp_to_month_end=False, q01_end_day_included=False, q03_obligation_age_reference="SIGNATURE",
                 q04_lookback_anchor="REQUEST", q17_topup_makes_optional=False, q07_remote_counts_toward_total=False),
)


def variants(contracts: list[tuple[PIISContract, date]], seed: int = 3) -> list[tuple[PIISContract, date]]:
    """Copies of *contracts* with the facts the examples never record (see the module docstring)."""
    rng = random.Random(seed)
    out = []
    for i, (c, on) in enumerate(contracts):
        days = max(1, (c.end_date - c.start_date).days)
        day = c.start_date + timedelta(days=rng.randint(1, days))
        kind = i % 6
        if kind == 0:  # a move found in the residence history
            home = c.beneficiary.residences
            moved = ResidencePeriod(ins_code="62096" if c.cpas.ins_code != "62096" else "62063", start_date=day)
            c = c.model_copy(update={"beneficiary": c.beneficiary.model_copy(update={"residences": [*home, moved]})})
        elif kind in (1, 2):  # a recorded transfer request, terminated or not
            update: dict[str, Any] = {"transfer": TransferRequest(
                transfer_id="T1", residence_change_date=day, from_cpas_ins=c.cpas.ins_code, to_cpas_ins="62096",
                requested_by=rng.choice(["PERSON", "CPAS"]), consent=rng.choice(["GIVEN", "REFUSED", "NOT_EXPRESSED"]),
                agreement_old_cpas=rng.choice([True, False, None]), agreement_new_cpas=rng.choice([True, None]))}
            if kind == 2:
                update["termination"] = Termination(ended_on=day + timedelta(days=rng.randint(-3, 3)),
                                                    reason="CPAS_NO_LONGER_COMPETENT_RESIDENCE")
            c = c.model_copy(update=update)
        elif kind == 3:  # interviews asked for by the person (working days, R-DL-05)
            asked = [InterviewRequest(requested_date=day + timedelta(days=k * 9),
                                      held_date=day + timedelta(days=k * 9 + rng.randint(0, 12)) if k % 2 else None)
                     for k in range(3)]
            c = c.model_copy(update={"interview_requests": asked})
        elif kind == 4:  # a subsidy history (R-SUB-04, 07, 09, 10)
            first = SubsidyEntitlement(type="FIRST", cpas_ins="62063", window_start=c.start_date.replace(day=1)
                                       - timedelta(days=rng.randint(0, 700)))
            extra = SubsidyEntitlement(type=rng.choice(["PROLONGATION", "SECOND_CHANCE", "STUDIES"]),
                                       cpas_ins=c.cpas.ins_code, window_start=first.window_start + timedelta(days=400),
                                       motivated_decision_ref=rng.choice([None, "D-1"]),
                                       social_inquiry_report_ref=rng.choice([None, "R-1"]))
            c = c.model_copy(update={"subsidy_history": [first, extra][: rng.randint(1, 2)]})
        out.append((c, on))
    return out


def results(n: int) -> dict[str, Any]:
    examples = [PIISContract.model_validate(c) for c in _examples()]
    generated = generate(n)
    out: dict[str, Any] = {"examples": [], "generated": [], "variants": [], "settings": [], "plans": [], "agenda": []}
    for c in examples:
        for on in (date(2016, 12, 1), date(2018, 6, 15), date(2026, 11, 22)):
            out["examples"].append(evaluate(c, on=on).model_dump())
    for c, on in generated:
        out["generated"].append(evaluate(c, on=on).model_dump())
    varied = variants(generated[:600])
    for c, on in varied:
        out["variants"].append(evaluate(c, on=on).model_dump())
    for i, (c, on) in enumerate([*generated[:300], *varied[:300]]):
        out["settings"].append(evaluate(c, on=on, settings=_SETTINGS[i % len(_SETTINGS)]).model_dump())
    for c in [*examples, *(c for c, _ in generated[:500]), *(c for c, _ in varied)]:
        out["plans"].append((subsidy_plan(c).model_dump(), subsidy_window(c).model_dump()))
    contracts = [*examples, *(c for c, _ in generated)]
    for start, end in _WINDOWS:
        for overdue in (False, True):
            out["agenda"].append([i.as_dict() for i in agenda(contracts, start, end, overdue=overdue)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="generated contracts (default 3000)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path)
    group.add_argument("--compare", type=Path)
    args = parser.parse_args(argv)
    now = results(args.n)
    if args.save:
        args.save.write_bytes(pickle.dumps(now))
        print(f"saved {sum(len(v) for v in now.values())} results to {args.save}")
        return 0
    before = pickle.loads(args.compare.read_bytes())
    bad = 0
    for key, values in before.items():
        if len(values) != len(now[key]):
            print(f"{key}: {len(values)} results before, {len(now[key])} now")
            bad += 1
            continue
        for i, (old, new) in enumerate(zip(values, now[key], strict=True)):
            if old != new:
                bad += 1
                if bad <= 5:
                    print(f"{key}[{i}] differs")
                    if isinstance(old, dict):
                        for k in old:
                            if old[k] != new.get(k):
                                print(f"  {k}: {old[k]!r}\n  -> {new.get(k)!r}")
    total = sum(len(v) for v in before.values())
    print(f"{total} results compared: {'all identical' if not bad else f'{bad} differ'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
