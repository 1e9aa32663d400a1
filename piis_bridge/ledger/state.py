"""The ledger's state machine: which status may follow which (issue #5).

built -> sent -> accepted | refused | partially_accepted | blocked; a sent form whose outcome is unknown
stays sent until the federal status is known (and goes back to built only if the service says it never
received it).  An answered form may later be superseded (a correction
accepted, or a new version of a refused form); an accepted one may become blocked a posteriori.
"""

from __future__ import annotations

from piis_bridge.forms import FormStatus

__all__ = ["ALLOWED", "InvalidTransition", "check_transition"]

S = FormStatus
ALLOWED: dict[FormStatus, frozenset[FormStatus]] = {
    S.BUILT: frozenset(
        {S.SENT, S.SUPERSEDED, S.ACCEPTED, S.REFUSED, S.PARTIALLY_ACCEPTED, S.BLOCKED}
    ),
    # sent -> built only when the service certainly never received it (connect failure, status UNKNOWN)
    S.SENT: frozenset({S.ACCEPTED, S.REFUSED, S.PARTIALLY_ACCEPTED, S.BLOCKED, S.BUILT}),
    S.ACCEPTED: frozenset({S.SUPERSEDED, S.BLOCKED}),
    S.PARTIALLY_ACCEPTED: frozenset({S.SUPERSEDED, S.BLOCKED}),
    S.BLOCKED: frozenset({S.SUPERSEDED, S.ACCEPTED}),
    S.REFUSED: frozenset({S.SUPERSEDED}),
    S.SUPERSEDED: frozenset(),
}


class InvalidTransition(ValueError):
    """A status change the table forbids (e.g. ``sent -> sent``): a bug or a race, never ignored."""


def check_transition(current: FormStatus | str, new: FormStatus | str) -> None:
    """Raise :class:`InvalidTransition` unless *current* may become *new*.

    A status never "becomes" itself: ``sent -> sent`` is how a form used to be sent twice by two
    processes (issue #12), so it is an error like any other move the table does not list.  Callers that
    may legitimately see the same answer twice (a repeated collect) compare before calling."""
    current, new = FormStatus(current), FormStatus(new)
    if new not in ALLOWED[current]:
        raise InvalidTransition(f"a {current.value} form cannot become {new.value}")
