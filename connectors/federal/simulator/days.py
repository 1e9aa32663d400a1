"""Day counts of the simulated NovaPrima in Belgian working days (federal.md 8, 10.5.15).

Why a module of its own: every day-count rule of the simulator (the reception date of a form, the end of
the forfeiture delay, the delay before an attestation reaches the network) must use the same calendar:
Monday to Friday minus the ten Belgian legal holidays (``piis_bridge.rules.calendar``, the core's dated
list), plus the closure days the simulator is configured with (federal.md 8 [PROP]: "keep the list
configurable, e.g. to add replacement days").

Rules [PROP, documented in docs/federal.md]:
* a form received on a Saturday, Sunday or legal holiday is deemed received at 00:00 on the next working
  day (by analogy with the law of 11 April 2024 for electronic requests, federal.md 5.6); its reception
  date decides its statement month and the forfeiture check;
* a deadline whose last day is not a working day ends on the next working day (Code judiciaire art. 53);
* the attestation of an accepted form B reaches the network after N working days, never later than the
  documented maximum of 7 calendar days (federal.md 5.6, 10.5.14).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from piis_bridge.rules.calendar import WorkingCalendar

__all__ = ["ATTESTATION_MAX_DAYS", "SimCalendar"]

ATTESTATION_MAX_DAYS = (
    7  # "right visible in the network after the CPAS decision: <= 7 days" (federal.md 5.6)
)
_ONE_DAY = timedelta(days=1)


class SimCalendar:
    """The working-day calendar of the simulator: legal holidays + configured closure days."""

    def __init__(self, closure_days: Iterable[date] = ()) -> None:
        self.closure_days = frozenset(closure_days)
        self._calendar = WorkingCalendar(extra_closure_days=self.closure_days)

    def is_working_day(self, day: date) -> bool:
        return self._calendar.is_working_day(day)

    def next_working_day(self, day: date) -> date:
        """*day* itself when it is a working day, else the first working day after it."""
        while not self._calendar.is_working_day(day):
            day += _ONE_DAY
        return day

    def deemed_received(self, moment: datetime) -> datetime:
        """When a form arriving at *moment* counts as received: at once on a working day, else at 00:00 on
        the next working day."""
        day = moment.date()
        if self._calendar.is_working_day(day):
            return moment
        return datetime.combine(self.next_working_day(day), datetime.min.time())

    def deadline(self, last_day: date) -> date:
        """The real end of a deadline whose nominal last day is *last_day* (moved to the next working day)."""
        return self.next_working_day(last_day)

    def attestation_day(self, accepted: date, working_days: int) -> date:
        """The day an attestation reaches the network: *working_days* working days after *accepted*, capped at
        :data:`ATTESTATION_MAX_DAYS` calendar days."""
        if working_days < 0:
            raise ValueError("the attestation delay cannot be negative")
        return min(
            self._calendar.add_working_days(accepted, working_days),
            accepted + timedelta(days=ATTESTATION_MAX_DAYS),
        )
