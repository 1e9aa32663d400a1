"""Local-policy rules (severity X) for the Appendix B parameters that apply to every contract.

Why they exist at all: Appendix B says these are "configurable, never defaults"; each rule does
nothing until the CPAS sets its parameter (``RuleSettings.local_*``, or a plugin's
``piis_rule_parameters``).  Their findings are warnings unless ``local_policy_level`` says error.
"""

from __future__ import annotations

from piis_bridge.model import WorkerRole
from piis_bridge.rules.calendar import age_on
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import Era, Severity, rule
from piis_bridge.rules.report import DateStatus

__all__: list[str] = []


@rule("R-LOC-01", title="Local PIIS deadline stricter than the law", severity=Severity.LOCAL,
      citation="[004 L1416-1418] (Appendix B)", era=Era.REFORM, parameters=("local_piis_deadline_months",))
def _loc_01(ctx: RuleContext) -> None:
    """Some CPAS conclude the PIIS within 1 month of the DIS decision, stricter than the legal 3
    months.  With ``local_piis_deadline_months`` set, a mandatory, non-exempted PIIS signed later
    (or unsigned past that date) is flagged at the local-policy level."""
    months = ctx.settings.local_piis_deadline_months
    ob = ctx.obligations[0]
    if months is None or not ob.mandatory or ob.exempted:
        return
    due = ctx.settings.month_deadline(ctx.contract.decision.decision_date, months)
    status = ctx.deadline("local PIIS signature deadline", due, ctx.signed_date, "signatures")
    if status in (DateStatus.LATE, DateStatus.OVERDUE):
        ctx.flag(f"Contract {ctx.cid}: not signed within the local deadline of {months} month(s) ({due.isoformat()}).",
                 "signatures")


@rule("R-LOC-02", title="Social worker's reachable hours stated", severity=Severity.LOCAL,
      citation="[Model A 004 L5222-5223] (Appendix B)", parameters=("local_require_contact_hours",))
def _loc_02(ctx: RuleContext) -> None:
    """Model A states when the social worker in charge can be reached.  With
    ``local_require_contact_hours`` the contract must give those hours."""
    if not ctx.settings.local_require_contact_hours:
        return
    for i, w in enumerate(ctx.contract.social_workers):
        if w.role is WorkerRole.IN_CHARGE and not (w.contact_hours or "").strip():
            ctx.flag(f"Contract {ctx.cid}: the reachable hours of the social worker in charge are not stated.",
                     f"social_workers[{i}].contact_hours")


@rule("R-LOC-03", title="Generalised PIIS for an age range", severity=Severity.LOCAL,
      citation="[004 L1108-1113] (Appendix B)", parameters=("local_generalised_piis_ages",))
def _loc_03(ctx: RuleContext) -> None:
    """One CPAS gives a PIIS to every RI beneficiary aged 18-50.  With
    ``local_generalised_piis_ages = (low, high)`` a beneficiary in that range on the decision date
    whose PIIS is legally optional is noted (info): local policy makes it expected, not the law."""
    ages = ctx.settings.local_generalised_piis_ages
    if ages is None:
        return
    ob = ctx.obligations[0]
    age = age_on(ctx.contract.beneficiary.birth_date, ctx.contract.decision.decision_date)
    if ages[0] <= age <= ages[1] and not ob.mandatory:
        ctx.info(f"Contract {ctx.cid}: legally optional, but local policy expects a PIIS for ages {ages[0]}-{ages[1]}.",
                 "obligation.basis")
