"""R-SIG: who signs, and when the contract becomes active."""

from __future__ import annotations

from piis_bridge.i18n import N_, Join, Msg
from piis_bridge.model import ContractStatus, PartyRole
from piis_bridge.rules.context import RuleContext
from piis_bridge.rules.registry import RuleSpec, Severity, family

__all__: list[str] = []

_IN_FORCE = (
    ContractStatus.SIGNED,
    ContractStatus.ACTIVE,
    ContractStatus.SUSPENDED_PROJECT,
    ContractStatus.ENDED,
)


def _sig_01(ctx: RuleContext) -> None:
    c = ctx.contract
    if c.status not in _IN_FORCE:
        return
    beneficiary = cpas = False
    third = set()
    for s in c.signatures:
        if s.for_version == 1:
            party = s.party
            if party is PartyRole.BENEFICIARY:
                beneficiary = True
            elif party is PartyRole.CPAS:
                cpas = True
            elif party is PartyRole.THIRD_PARTY:
                third.add(s.third_party_id)
    absent: list[str | Msg] = []
    if not beneficiary:
        absent.append(N_("the beneficiary"))
    if not cpas:
        absent.append(N_("the CPAS"))
    for t in c.third_parties:
        if t.party_id not in third:
            absent.append(Msg("third party {party}", party=t.party_id))
    if absent:
        ctx.flag(
            N_("Contract {contract}: recorded as {status} but not signed by {absent}."),
            "signatures",
            "status",
            contract=ctx.cid,
            status=c.status.value,
            absent=Join(", ", absent),
        )


def _sig_02(ctx: RuleContext) -> None:
    required = ctx.settings.q20_cpas_signer_functions
    c = ctx.contract
    if not required or ctx.signed_date is None:
        return
    have = {
        (s.signer_function or "").strip().casefold()
        for s in c.signatures
        if s.party is PartyRole.CPAS and s.for_version == 1
    }
    absent = [f for f in required if f.strip().casefold() not in have]
    if absent:
        ctx.flag(
            N_("Contract {contract}: this CPAS requires a signature by {absent} for the CPAS."),
            "signatures",
            contract=ctx.cid,
            absent=", ".join(absent),
        )


def _sig_03(ctx: RuleContext) -> None:
    receipt = ctx.contract.copy_receipt
    assert receipt is not None
    signed = ctx.signed_date
    if signed is None or receipt.received_on < signed:
        when = (
            Msg("before the signature of {date}", date=signed)
            if signed
            else N_("but the contract is not signed")
        )
        ctx.flag(
            N_("Contract {contract}: a signed copy was received on {received_on} {when}."),
            "copy_receipt.received_on",
            contract=ctx.cid,
            received_on=receipt.received_on,
            when=when,
        )
    if not receipt.leaflet_received:
        ctx.flag(
            N_(
                "Contract {contract}: the person did not receive the explanatory leaflet with the copy."
            ),
            "copy_receipt.leaflet_received",
            contract=ctx.cid,
        )


# The rules of this module, one row each: metadata, the doc (docs/rules.md) and, for a rule checked
# from the data, its own check (``_sig_NN`` above).
SIGNATURE_RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "R-SIG-01",
        title="Active only when the person, the CPAS and every third party have signed",
        severity=Severity.LEGAL,
        citation="[002 L208, L540; 000 L69-71; 004 L214-216]",
        doc="""The contract becomes ACTIVE only when the person, the CPAS and every third party that is a
        party have signed (inspection item I-04).  A contract recorded as signed, active, suspended or
        ended with a missing signature is flagged, naming each missing signer; a draft or offered
        contract is simply not active yet.""",
        check=_sig_01,
    ),
    RuleSpec(
        "R-SIG-02",
        title="Who signs for the CPAS (local choice)",
        severity=Severity.LOCAL,
        citation="[004 L742-744, L4229-4233, L5323-5325]",
        doc="""Who signs for the CPAS is an organisational choice (Q-20): the president and the secretary /
        director-general in 88% of CPAS, or a social worker by delegation.  When the CPAS sets
        ``q20_cpas_signer_functions``, each listed function must appear among the CPAS signatures of
        the original version (case-insensitive); otherwise nothing is checked.""",
        parameters=("q20_cpas_signer_functions",),
        check=_sig_02,
    ),
    RuleSpec(
        "R-SIG-03",
        title="The person receives a signed copy and the leaflet",
        severity=Severity.ADVISORY,
        citation="[Model A 004 L5320-5321]",
        doc="""The person receives a signed copy of the contract and the explanatory leaflet, and declares the
        receipt (``copy_receipt``).  Advisory, judged on a recorded receipt only (none recorded: nothing
        checked, as before the field existed): a receipt dated before the contract was signed, or one
        without the leaflet, gets a warning.""",
        applies=lambda c: c.copy_receipt is not None,
        check=_sig_03,
    ),
)
family(SIGNATURE_RULES)
