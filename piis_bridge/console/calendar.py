"""iCalendar (RFC 5545) export of the agenda: one all-day event per legal deadline, no NISS."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from piis_bridge.ops.queries import AgendaRow

__all__ = ["agenda_ics"]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    out, raw = [], line.encode()
    while len(raw) > 75:
        cut = 75
        while (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        out.append(raw[:cut].decode())
        raw = b" " + raw[cut:]
    out.append(raw.decode())
    return "\r\n".join(out)


def _worker(r: AgendaRow) -> str:
    """The social worker in charge, in the event's description (staff; never the beneficiary)."""
    if not r.worker_id:
        return "unassigned"
    return f"social worker {r.worker_name} ({r.worker_id})" if r.worker_name else r.worker_id


def agenda_ics(rows: Iterable[AgendaRow]) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//piis-bridge//console//EN",
        "CALSCALE:GREGORIAN",
    ]
    for r in rows:
        if r.due is None:
            continue
        uid = hashlib.sha256(
            f"{r.cpas_id}|{r.record_id}|{r.rule}|{r.title}|{r.due}".encode()
        ).hexdigest()[:32]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}@piis-bridge",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{r.due:%Y%m%d}",
            f"DTEND;VALUE=DATE:{r.due + timedelta(days=1):%Y%m%d}",
            _fold(f"SUMMARY:{_escape(f'{r.cpas_id} {r.record_id}: {r.title}')}"),
            _fold(f"DESCRIPTION:{_escape(f'rule {r.rule}, {r.status}, {_worker(r)}')}"),
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
