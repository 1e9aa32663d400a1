"""Monthly statement ("état mensuel") of the simulated SPP IS (federal.md 5.4, 10.5.12, 10.7).

Built once per (CPAS, month) when the simulated clock reaches 00:00 on the first Sunday of the next month,
then frozen.  For every beneficiary the amounts due per calendar month (current truth: corrections,
modifications, C forms, National Register mutations, blocks) are compared with what earlier statements
already said; the difference becomes a line: 1 grant (the month itself), 2 arrears (earlier month stated
for the first time), 4 regularisation of a grant, 3 recovery (form D), 6 regularisation of a recovery.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any

from piis_connectors.federal.simulator import tables
from piis_connectors.federal.simulator.novaprima import NovaPrima, month_share

__all__ = ["first_sunday", "generate", "render_txt", "statement_available"]


def first_sunday(year: int, month: int) -> date:
    day = date(year, month, 1)
    return day + timedelta(days=(6 - day.weekday()) % 7)


def _next_month(month: str) -> tuple[int, int]:
    year, mon = int(month[:4]), int(month[5:7])
    return (year + 1, 1) if mon == 12 else (year, mon + 1)


def statement_available(engine: NovaPrima, month: str) -> bool:
    year, mon = _next_month(month)
    return engine.now() >= datetime.combine(first_sunday(year, mon), datetime.min.time())


def _months(start: date, end: date) -> list[date]:
    out = []
    cursor = date(start.year, start.month, 1)
    while cursor <= end:
        out.append(cursor)
        cursor = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
    return out


def generate(engine: NovaPrima, kbo: str, month: str) -> list[dict[str, Any]] | None:
    """The lines of the statement (generating and freezing it on first request); None if not yet due."""
    db = engine.db
    if (
        db.execute("SELECT 1 FROM statements WHERE kbo=? AND month=?", (kbo, month)).fetchone()
        is None
    ):
        if not statement_available(engine, month):
            return None
        own = not db.in_transaction
        if own:
            db.execute("BEGIN")
        try:
            _build(engine, kbo, month)
            db.execute(
                "INSERT INTO statements(kbo, month, generated_at) VALUES(?,?,?)",
                (kbo, month, engine.now().isoformat()),
            )
            if own:
                db.execute("COMMIT")
        except BaseException:
            if own:
                db.execute("ROLLBACK")
            raise
    rows = db.execute(
        "SELECT l.*, f.ssin, f.dossier, f.reference, f.client_ref, f.category, c.ins FROM statement_lines l"
        " JOIN forms f ON f.id=l.form_id JOIN cpas c ON c.kbo=l.kbo WHERE l.kbo=? AND l.month=? ORDER BY l.line",
        (kbo, month),
    ).fetchall()
    return [dict(r) for r in rows]


def _build(engine: NovaPrima, kbo: str, month: str) -> None:
    db = engine.db
    year, mon = int(month[:4]), int(month[5:7])
    month_first = date(year, mon, 1)
    month_last = date(year, mon, calendar.monthrange(year, mon)[1])
    lines: list[tuple[Any, ...]] = []

    def pct_of(form: Any, reference: date) -> int:
        """The rate of the reference month (10.5.13): the tier of that month, + PIIS, or 100 %."""
        if form["kind"] == "B":
            return engine.percentage(kbo, reference, piis=form["piis"], regime=form["regime"])
        if tables.RECOVERY_TYPES.get(form["regime"] or "", (None, False))[1]:
            return tables.FULL_RATE
        if (
            form["piis"] is None
        ):  # a D answered before the simulator kept the PIIS code of the recovered B
            return int(form["pct"] or tables.DEFAULT_RATE)
        return engine.percentage(kbo, reference, piis=form["piis"], regime=None)

    def emit(
        form: Any, amount_type: int, first: date, last: date, delta: int, recovery: bool
    ) -> None:
        pct = pct_of(form, first)
        piis = (form["piis"] or 0) in tables.PIIS_SUBSIDY_CODES and form["kind"] == "B"
        regime = form["regime"] if form["kind"] == "B" else ""
        sign = "+" if (delta > 0) != recovery else "-"
        lines.append(
            (
                kbo,
                month,
                len(lines) + 1,
                form["id"],
                amount_type,
                first.isoformat(),
                last.isoformat(),
                tables.budget_article(pct, regime or "", piis),
                sign,
                abs(delta),
                pct,
            )
        )

    ssins = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT ssin FROM forms WHERE kbo=? AND kind='B' AND state='DONE' AND received_at<=?",
            (kbo, month_last.isoformat() + "T23:59:59"),
        ).fetchall()
    ]
    for ssin in ssins:
        due: dict[str, tuple[int, Any, date, date]] = {}
        for p in engine.b_periods(kbo, ssin):
            if p.form["evaluation"] == "BLOCKED" or p.start > month_last:
                continue
            end = month_last if p.end is None else min(p.end, month_last)
            for first in _months(p.start, end):
                amount = month_share(int(p.form["amount"] or 0), p.start, end, first)
                last = date(
                    first.year, first.month, calendar.monthrange(first.year, first.month)[1]
                )
                due[first.isoformat()[:7]] = (amount, p.form, max(p.start, first), min(end, last))
        stated: dict[str, tuple[int, int]] = {}
        for r in db.execute(
            "SELECT period, SUM(amount), MAX(form_id) FROM stated WHERE kbo=? AND ssin=?"
            " AND period NOT LIKE 'D:%' GROUP BY period",
            (kbo, ssin),
        ).fetchall():
            stated[r[0]] = (int(r[1]), int(r[2]))
        for period in sorted(set(due) | set(stated)):
            before, last_form_id = stated.get(period, (0, None))
            if period in due:
                amount, form, first, last = due[period]
            else:  # stated before, no longer due: the whole month is recovered
                amount = 0
            delta = amount - before
            if delta == 0:
                continue
            if period not in due:
                form = db.execute("SELECT * FROM forms WHERE id=?", (last_form_id,)).fetchone()
                first = date.fromisoformat(period + "-01")
                last = date(
                    first.year, first.month, calendar.monthrange(first.year, first.month)[1]
                )
            amount_type = 4 if period in stated else (1 if period == month else 2)
            emit(form, amount_type, first, last, delta, recovery=False)
            db.execute(
                "INSERT INTO stated(kbo, ssin, period, form_id, amount) VALUES(?,?,?,?,?)",
                (kbo, ssin, period, form["id"], delta),
            )
    for d in db.execute(
        "SELECT * FROM forms WHERE kbo=? AND kind='D' AND state='DONE' AND superseded_by IS NULL"
        " AND evaluation IN ('ACCEPTED','PARTIALLYACCEPTED') AND received_at<=?",
        (kbo, month_last.isoformat() + "T23:59:59"),
    ).fetchall():
        key = f"D:{d['dossier']}:{d['recovery_month']}:{d['seq']}"
        row = db.execute(
            "SELECT SUM(amount) FROM stated WHERE kbo=? AND ssin=? AND period=?",
            (kbo, d["ssin"], key),
        ).fetchone()
        before = int(row[0] or 0)
        delta = int(d["accepted_amount"] or 0) - before
        if delta == 0:
            continue
        emit(
            d,
            6 if row[0] is not None else 3,
            date.fromisoformat(d["period_start"]),
            date.fromisoformat(d["period_end"]),
            delta,
            recovery=True,
        )
        db.execute(
            "INSERT INTO stated(kbo, ssin, period, form_id, amount) VALUES(?,?,?,?,?)",
            (kbo, d["ssin"], key, d["id"], delta),
        )
    db.executemany(
        "INSERT INTO statement_lines(kbo, month, line, form_id, amount_type, first_day, last_day, article,"
        " sign, amount, pct) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
        lines,
    )
    _ = month_first


def render_txt(lines: list[dict[str, Any]], month: str) -> str:
    """The fixed-width TXT layout of federal.md 5.4 (name left blank: form B does not carry it)."""
    out = []
    for line in lines:
        out.append(
            "".join(
                [
                    "1",
                    f"{line['ins']:>5}"[:5],
                    month.replace("-", ""),
                    f"{line['dossier']:<11}"[:11],
                    "  ",
                    line["ssin"],
                    f"{line['reference'] or '':<12}"[:12],
                    str(line["amount_type"]),
                    line["first_day"].replace("-", ""),
                    line["last_day"].replace("-", ""),
                    f"{line['article']:<6}",
                    line["sign"],
                    f"{line['amount']:08d}",
                    str(line["category"] or " ")[:1],
                    " " * 30,
                ]
            )
        )
    return "\n".join(out) + ("\n" if out else "")
