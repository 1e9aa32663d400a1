"""The console's operator actions: replay and dismiss quarantine entries, reveal a NISS.

Replay goes through the pipeline's own :func:`piis_bridge.pipeline.stages.replay_quarantine` (the
same function as ``piis-bridge quarantine replay``): the entries are put back in a new run, in their
original order (by entry id), and the configured workers do the work.  Every action writes its audit
row; the scope check (the user's CPAS) happens here again, whatever the page showed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from piis_bridge.console.accounts import Principal
from piis_bridge.console.audit import record
from piis_bridge.identifiers import mask_niss
from piis_bridge.ops import queries

__all__ = [
    "CONSENT_STATES",
    "MIN_REASON",
    "ActionError",
    "dismiss",
    "record_consent",
    "replay",
    "reveal_niss",
    "search_by_niss",
]

MIN_REASON = 5


class ActionError(ValueError):
    """An action refused for a reason the operator can fix (no reason given, nothing to replay)."""


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ActionError("reason_required")
    return reason


def replay(
    sessions: Any, rt: Any, enq: Any, who: Principal, entry_ids: Sequence[int], reason: str
) -> tuple[str, list[int]]:
    """Replay the open entries among *entry_ids* in the user's scope; returns (run id, entry ids replayed)."""
    reason = _reason(reason)
    with sessions() as s:
        rows = queries.replay_preview(s, who.cpas_ids, entry_ids)
    if not rows:
        raise ActionError("nothing_to_replay")
    from piis_bridge.pipeline.stages import replay_quarantine

    ids = [r.entry_id for r in rows]
    run_id = replay_quarantine(rt, ids, enq)
    with sessions() as s:
        for cpas in sorted({r.cpas_id for r in rows}):
            record(
                s,
                actor=who.username,
                action="replay",
                cpas_id=cpas,
                target=f"run {run_id}",
                reason=reason,
                detail={
                    "entries": [r.entry_id for r in rows if r.cpas_id == cpas],
                    "run_id": run_id,
                },
            )
        s.commit()
    if run_id is None:
        raise ActionError("nothing_to_replay")
    return run_id, ids


def dismiss(
    sessions: Any, rt: Any, who: Principal, entry_ids: Sequence[int], reason: str
) -> list[int]:
    """Dismiss open entries in the user's scope; they stay listed, with who and why in the audit log.

    Each entry goes through :func:`piis_bridge.pipeline.quarantine.dismiss`, the very function behind
    ``piis-bridge quarantine dismiss``: one state machine (only an open entry becomes dismissed, with
    ``closed_at`` and the masked reason; an entry closed meanwhile is reported, not overwritten).  The
    console adds only what the CLI has no notion of: the scope check and the audit row."""
    from piis_bridge.pipeline.quarantine import QuarantineError
    from piis_bridge.pipeline.quarantine import dismiss as close_entry

    reason = _reason(reason)
    with sessions() as s:
        rows = queries.replay_preview(s, who.cpas_ids, entry_ids)
    done = []
    for r in rows:
        try:
            close_entry(rt, r.entry_id, reason)
        except QuarantineError:  # closed by someone else (or resolved by a run) since the preview
            continue
        done.append(r.entry_id)
        with sessions() as s:
            record(
                s,
                actor=who.username,
                action="dismiss",
                cpas_id=r.cpas_id,
                target=f"quarantine {r.entry_id}",
                reason=reason,
                detail={"record_id": r.record_id, "stage": r.stage},
            )
            s.commit()
    if not done:
        raise ActionError("nothing_to_dismiss")
    return done


def reveal_niss(
    s: Session, who: Principal, cpas_id: str, record_id: str, reason: str
) -> str | None:
    """The full NISS of a dossier; the reveal is audited (who, which dossier, why) before it is returned."""
    reason = _reason(reason)
    niss = queries.dossier_niss(s, who.cpas_ids, cpas_id, record_id)
    if niss is None:
        return None
    record(
        s,
        actor=who.username,
        action="reveal",
        cpas_id=cpas_id,
        target=f"dossier {record_id}",
        reason=reason,
    )
    s.commit()
    return niss


def search_by_niss(
    s: Session, person_key: Any, who: Principal, niss: str, reason: str
) -> list[tuple[str, str]]:
    """The dossiers of one person, found through the pipeline's person key; audited like a reveal
    (the audit row holds the NISS masked, the reason and how many dossiers were found)."""
    reason = _reason(reason)
    found = queries.dossiers_of_person(s, who.cpas_ids, person_key(niss))
    record(
        s,
        actor=who.username,
        action="reveal",
        target=f"search by NISS {mask_niss(niss)}",
        reason=reason,
        detail={"dossiers": len(found)},
    )
    s.commit()
    return found


CONSENT_STATES = ("awaiting_consent", "consent_given", "package_built")


def record_consent(
    sessions: Any,
    settings: Any,
    who: Principal,
    case_id: str,
    consent: str,
    channel: str,
    note: str,
) -> str | None:
    """Record the person's answer on a transfer case through the transfer service (append-only, R-TRF-05).

    Only GIVEN and REFUSED are offered here: what NOT_EXPRESSED means depends on the CPAS's legal
    review switch (Q-09), which the transfer plugin applies; the console does not guess it.
    Returns the case's new state, or None when the case is not in the user's scope."""
    from piis_bridge.model.enums import Consent
    from piis_bridge.transfer.envelope import TrustList
    from piis_bridge.transfer.package import PackageParty
    from piis_bridge.transfer.service import TransferService
    from piis_bridge.transfer.tables import TransferCase

    note = _reason(note)
    if consent not in ("GIVEN", "REFUSED") or not channel.strip():
        raise ActionError("consent_invalid")
    with sessions() as s:
        case = s.get(TransferCase, case_id)
        if case is None or case.cpas_id not in who.cpas_ids:
            return None
        cpas_id = case.cpas_id
    cfg = settings.cpas[cpas_id]
    service = TransferService(
        sessions,
        cpas_id=cpas_id,
        signing_key=None,
        trust=TrustList(),
        party=PackageParty(name=cfg.name, ins_code=cfg.ins_code, bce=cfg.bce),
    )
    try:
        case = service.record_consent(
            case_id, Consent(consent), by=who.username, channel=channel.strip(), note=note
        )
    except (
        ValueError,
        RuntimeError,
    ) as exc:  # InvalidTransition / TransferError: the state does not allow it
        raise ActionError("consent_refused_by_state") from exc
    with sessions() as s:
        record(
            s,
            actor=who.username,
            action="consent",
            cpas_id=cpas_id,
            target=f"transfer {case_id}",
            reason=note,
            detail={"consent": consent, "channel": channel.strip(), "state": case.state},
        )
        s.commit()
    return case.state
