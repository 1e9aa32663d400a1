"""PIISContract's cross-reference checks skip what cannot fail (issue #20): the same problems, in the
same order, as the checks that built every id list and set for every contract (kept here as the oracle)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from types import SimpleNamespace as Ns

from hypothesis import given, settings
from hypothesis import strategies as st

from piis_bridge.model.contract import integrity_problems
from piis_bridge.model.enums import PartyRole


def _duplicates(values: list[str]) -> list[str]:
    return [value for value, count in Counter(values).items() if count > 1]


def _before(c):  # the checks as they were before issue #20's change, unchanged
    if c.end_date < c.start_date:
        yield "end_date", "is before start_date"
    for name, ids in (
        ("objectives", [o.objective_id for o in c.objectives]),
        ("commitments", [x.commitment_id for x in c.commitments]),
        ("third_parties", [t.party_id for t in c.third_parties]),
        ("evaluations", [e.evaluation_id for e in c.evaluations]),
        ("warnings", [w.warning_id for w in c.warnings]),
        ("sw_opinions", [o.opinion_id for o in c.sw_opinions]),
        ("hearings", [h.hearing_id for h in c.hearings]),
        ("sanctions", [s.sanction_id for s in c.sanctions]),
        ("versions", [str(v.version_no) for v in c.versions]),
    ):
        for dup in _duplicates(ids):
            yield name, f"id {dup!r} appears more than once"
    numbers = sorted(v.version_no for v in c.versions)
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        yield (
            "versions",
            "version numbers must run 1, 2, 3... without gaps (versions are appended, never replaced)",
        )
    objective_ids = {o.objective_id for o in c.objectives}
    party_ids = {t.party_id for t in c.third_parties}
    for i, commitment in enumerate(c.commitments):
        for oid in commitment.objective_ids:
            if oid not in objective_ids:
                yield f"commitments[{i}].objective_ids", f"unknown objective {oid!r}"
        if commitment.third_party_id and commitment.third_party_id not in party_ids:
            yield (
                f"commitments[{i}].third_party_id",
                f"unknown third party {commitment.third_party_id!r}",
            )
    for i, signature in enumerate(c.signatures):
        if signature.party is PartyRole.THIRD_PARTY and signature.third_party_id not in party_ids:
            yield (
                f"signatures[{i}].third_party_id",
                f"unknown third party {signature.third_party_id!r}",
            )
    for i, coverage in enumerate(c.cost_coverages):
        if coverage.third_party_id and coverage.third_party_id not in party_ids:
            yield (
                f"cost_coverages[{i}].third_party_id",
                f"unknown third party {coverage.third_party_id!r}",
            )
    warning_ids = {w.warning_id for w in c.warnings}
    opinion_ids = {o.opinion_id for o in c.sw_opinions}
    hearing_ids = {h.hearing_id for h in c.hearings}
    sanction_ids = {s.sanction_id for s in c.sanctions}
    commitment_ids = {x.commitment_id for x in c.commitments}
    for i, warning in enumerate(c.warnings):
        for cid in warning.breached_commitment_ids:
            if cid not in commitment_ids:
                yield f"warnings[{i}].breached_commitment_ids", f"unknown commitment {cid!r}"
    for i, sanction in enumerate(c.sanctions):
        for field, ref, known in (
            ("warning_id", sanction.warning_id, warning_ids),
            ("opinion_id", sanction.opinion_id, opinion_ids),
            ("hearing_id", sanction.hearing_id, hearing_ids),
            ("previous_sanction_id", sanction.previous_sanction_id, sanction_ids),
        ):
            if ref is not None and ref not in known:
                yield f"sanctions[{i}].{field}", f"unknown reference {ref!r}"
    months = [m.month.isoformat() for m in c.ri_months]
    for dup in _duplicates(months):
        yield "ri_months", f"month {dup} appears more than once"


ids = st.sampled_from(["A", "B", "C"])
maybe = st.none() | ids
few = st.integers(min_value=0, max_value=3)


def _many(make):
    return st.lists(make, max_size=3)


contracts = st.builds(
    lambda start, end, **parts: Ns(start_date=start, end_date=end, **parts),
    start=st.sampled_from([date(2025, 1, 1), date(2025, 6, 1)]),
    end=st.sampled_from([date(2025, 3, 1), date(2025, 12, 1)]),
    objectives=_many(st.builds(lambda i: Ns(objective_id=i), ids)),
    commitments=_many(
        st.builds(
            lambda i, o, t: Ns(commitment_id=i, objective_ids=o, third_party_id=t),
            ids,
            st.lists(ids, max_size=2),
            maybe,
        )
    ),
    third_parties=_many(st.builds(lambda i: Ns(party_id=i), ids)),
    evaluations=_many(st.builds(lambda i: Ns(evaluation_id=i), ids)),
    warnings=_many(
        st.builds(
            lambda i, b: Ns(warning_id=i, breached_commitment_ids=b), ids, st.lists(ids, max_size=2)
        )
    ),
    sw_opinions=_many(st.builds(lambda i: Ns(opinion_id=i), ids)),
    hearings=_many(st.builds(lambda i: Ns(hearing_id=i), ids)),
    sanctions=_many(
        st.builds(
            lambda i, w, o, h, p: Ns(
                sanction_id=i, warning_id=w, opinion_id=o, hearing_id=h, previous_sanction_id=p
            ),
            ids,
            maybe,
            maybe,
            maybe,
            maybe,
        )
    ),
    versions=_many(st.builds(lambda n: Ns(version_no=n), st.integers(min_value=1, max_value=3))),
    signatures=_many(
        st.builds(
            lambda p, t: Ns(party=p, third_party_id=t),
            st.sampled_from([PartyRole.BENEFICIARY, PartyRole.CPAS, PartyRole.THIRD_PARTY]),
            maybe,
        )
    ),
    cost_coverages=_many(st.builds(lambda t: Ns(third_party_id=t), maybe)),
    ri_months=_many(
        st.builds(lambda m: Ns(month=date(2025, m, 1)), st.integers(min_value=1, max_value=2))
    ),
)


@settings(max_examples=600)
@given(contracts)
def test_integrity_problems_are_the_same_as_before(c) -> None:
    assert list(integrity_problems(c)) == list(_before(c))
