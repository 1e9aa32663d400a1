"""The states of the pipeline's units as enums, with explicit transition tables (issue #12).

Why: a state written as a bare string can become any other string; here a forbidden move is an error
(:class:`InvalidStateTransition`), like the form ledger's ``sent -> sent``.  ORM assignments are
checked by the models (``WorkItem.state``, ``Effect.state`` validators); bulk UPDATEs guard their
transition in their WHERE clause (``... WHERE state = 'pending'``), which is the same table.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "EFFECT_TRANSITIONS",
    "ITEM_TRANSITIONS",
    "EffectState",
    "InvalidStateTransition",
    "ItemState",
    "check_state",
]


class ItemState(StrEnum):
    """One fetched record (``sync_item``)."""

    PENDING = "pending"
    LEASED = "leased"
    DONE = "done"
    SKIPPED = "skipped"
    QUARANTINED = "quarantined"


class EffectState(StrEnum):
    """One side effect (``sync_effect``): a form (-> submitted -> answered) or a push (-> done)."""

    PENDING = "pending"
    SENDING = "sending"
    SUBMITTED = "submitted"
    ANSWERED = "answered"
    DONE = "done"
    QUARANTINED = "quarantined"


IS, ES = ItemState, EffectState
ITEM_TRANSITIONS: dict[ItemState, frozenset[ItemState]] = {
    IS.PENDING: frozenset({IS.LEASED, IS.QUARANTINED}),
    # leased -> pending: a transient failure gives it back; -> quarantined: a poison record given up
    IS.LEASED: frozenset({IS.PENDING, IS.DONE, IS.SKIPPED, IS.QUARANTINED}),
    IS.DONE: frozenset(),
    IS.SKIPPED: frozenset(),
    IS.QUARANTINED: frozenset(),  # a replay makes a new item
}
EFFECT_TRANSITIONS: dict[EffectState, frozenset[EffectState]] = {
    ES.PENDING: frozenset({ES.SENDING, ES.QUARANTINED}),
    # sending -> pending: released for a retry, or its worker died (resent under the same key)
    ES.SENDING: frozenset({ES.PENDING, ES.SUBMITTED, ES.ANSWERED, ES.DONE, ES.QUARANTINED}),
    # submitted -> pending: accepted without a ticket, sent again under the same key
    ES.SUBMITTED: frozenset({ES.ANSWERED, ES.PENDING, ES.QUARANTINED}),
    ES.ANSWERED: frozenset(),
    ES.DONE: frozenset(),
    ES.QUARANTINED: frozenset({ES.PENDING}),  # quarantine replay
}
del IS, ES


class InvalidStateTransition(ValueError):
    """A state change the table forbids: a bug or a race, never passed over."""


def check_state(table: dict, current: str | None, new: str, what: str) -> str:
    """Return *new* when *current* may become it (any state may be the first one)."""
    kind = type(next(iter(table)))
    target = kind(new)
    if current is None:
        return target.value
    source = kind(current)
    if target not in table[source]:
        raise InvalidStateTransition(f"a {source.value} {what} cannot become {target.value}")
    return target.value
