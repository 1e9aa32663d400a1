"""The simulated BCSS + NovaPrima business layer: one form in, one DecisionResult out (federal.md 10).

Two layers like reality (10.1.1): the BCSS checks (sender, NISS structure, National Register replacement,
integration of the NISS with quality code 2) run before NovaPrima's form controls.  Every error code is
the one of the catalogue in federal.md 10.4.  All reads/writes go through :class:`Store`; callers hold
``store.lock`` and wrap a unit of work in a transaction.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from lxml import etree
from piis_connectors.federal.dis import (
    DecisionResult,
    ResultError,
    parse_decision_result,
    render_decision_result,
)
from piis_connectors.federal.simulator import tables, tiers
from piis_connectors.federal.simulator.days import SimCalendar
from piis_connectors.federal.simulator.store import Store
from stdnum.be import bis as _bis
from stdnum.be import nn as _nn

__all__ = ["MUTATION_KINDS", "NovaPrima", "Period", "normalise_dossier", "ssin_valid"]

MUTATION_KINDS = frozenset({"death", "emigration", "replaced", "move"})

_DOSSIER_STRIP = re.compile(r"[\s/\-]")


def normalise_dossier(raw: str) -> str:
    """Loi 65 rules applied to RI [INF federal.md 2.2]: blanks/dashes/slashes and leading zeros ignored, upper case."""
    return _DOSSIER_STRIP.sub("", raw).lstrip("0").upper()


def _d(value: str | None) -> date | None:
    return None if not value else date.fromisoformat(value)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _quarter_end(day: date) -> date:
    month = ((day.month - 1) // 3 + 1) * 3
    return _month_end(date(day.year, month, 1))


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


@dataclass(slots=True)
class Period:
    form: Any  # sqlite3.Row of the B
    start: date
    end: date | None  # inclusive; None = open


def ssin_valid(ssin: str) -> bool:
    """``stdnum.be.nn.is_valid(ssin) or stdnum.be.bis.is_valid(ssin)``, computed directly for the usual
    11-digit form (stdnum costs ~25 µs per call, once per form).  Same verdicts: a positive number whose
    check digits match (1900 or, when that year is not in the future, 2000 births) and whose month part is
    a national-register (0-12) or BIS (20-32, 40-52) one; the day part is never checked by stdnum.
    Anything else (separators, other lengths) goes to stdnum itself."""
    if len(ssin) == 11 and ssin.isascii() and ssin.isdigit():
        if int(ssin) <= 0:
            return False
        month = int(ssin[2:4])
        if not (month <= 12 or 20 <= month <= 32 or 40 <= month <= 52):
            return False
        body, check = int(ssin[:9]), int(ssin[9:])
        if 97 - body % 97 == check:
            return True
        return (
            int(ssin[:2]) + 2000 <= date.today().year and 97 - (2_000_000_000 + body) % 97 == check
        )
    return _nn.is_valid(ssin) or _bis.is_valid(ssin)


class NovaPrima:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db
        # Read on every form and written only through this engine or the admin API (which calls
        # forget_cached()): kept in memory so that a batch form costs a handful of SQL statements, not 15.
        self._clock: tuple[str, datetime] | None = None
        self._calendar: tuple[str, SimCalendar] | None = None
        self._cpas_rows: dict[str, Any] = {}
        self._rates: dict[str, list[tuple[str, int]]] = {}
        self._mutated: set[str] | None = None  # NISS with at least one National Register mutation

    def forget_cached(self) -> None:
        """The admin API changed CPAS, rates or mutations behind the engine's back: read them again."""
        self._cpas_rows.clear()
        self._rates.clear()
        self._mutated = None

    # ------------------------------------------------------------------ clock & settings
    def now(self) -> datetime:
        value = self.store.setting("clock")
        if not value:
            return datetime.now().replace(microsecond=0)
        if self._clock is None or self._clock[0] != value:
            self._clock = (value, datetime.fromisoformat(value))
        return self._clock[1]

    def calendar(self) -> SimCalendar:
        """Working days (federal.md 8): legal holidays + the configured ``closure_days``."""
        raw = self.store.setting("cfg:closure_days") or "[]"
        if self._calendar is None or self._calendar[0] != raw:
            self._calendar = (raw, SimCalendar(date.fromisoformat(d) for d in orjson.loads(raw)))
        return self._calendar[1]

    def received_now(self) -> datetime:
        """The reception time of a form arriving now: the next working day at 00:00 when today is not one
        (config ``reception_next_working_day``, default on)."""
        now = self.now()
        return (
            self.calendar().deemed_received(now)
            if self.config("reception_next_working_day", True)
            else now
        )

    def config(self, key: str, default: Any) -> Any:
        value = self.store.setting("cfg:" + key)
        return default if value is None else orjson.loads(value)

    # ------------------------------------------------------------------ helpers
    def _cpas(self, kbo: str) -> Any:
        if kbo not in self._cpas_rows:
            self._cpas_rows[kbo] = self.db.execute(
                "SELECT * FROM cpas WHERE kbo=?", (kbo,)
            ).fetchone()
        return self._cpas_rows[kbo]

    def rate(self, kbo: str, on: date) -> int:
        rates = self._rates.get(kbo)
        if rates is None:
            rates = self._rates[kbo] = [
                (r[0], int(r[1]))
                for r in self.db.execute(
                    "SELECT since, rate FROM cpas_rates WHERE kbo=? ORDER BY since DESC", (kbo,)
                ).fetchall()
            ]
        day = on.isoformat()
        for since, rate in rates:
            if since <= day:
                return rate
        cpas = self._cpas(kbo)
        return int(cpas["rate"]) if cpas is not None else tables.DEFAULT_RATE

    def set_beneficiaries(self, kbo: str, averages: dict[int, float]) -> dict[int, int]:
        """Record the CPAS's average number of beneficiaries per month for some years and derive its tier
        rates from them (federal.md 5.5, 10.5.13; :mod:`tiers`): one row per year in the dated rate table,
        from 1 January.  Rates derived earlier are recomputed; rates set by hand for other years stay."""
        if self._cpas(kbo) is None:
            raise KeyError(f"unknown CPAS {kbo}")
        self.db.executemany(
            "INSERT OR REPLACE INTO cpas_beneficiaries(kbo, year, average) VALUES(?,?,?)",
            [(kbo, int(y), float(a)) for y, a in averages.items()],
        )
        known = {
            int(r[0]): float(r[1])
            for r in self.db.execute(
                "SELECT year, average FROM cpas_beneficiaries WHERE kbo=?", (kbo,)
            ).fetchall()
        }
        self.db.execute("DELETE FROM cpas_rates WHERE kbo=? AND source='tier'", (kbo,))
        self.forget_cached()
        start = self.rate(kbo, date(min(known) + 1, 1, 1))
        rates = tiers.yearly_rates(known, start)
        self.db.executemany(
            "INSERT OR REPLACE INTO cpas_rates(kbo, since, rate, source) VALUES(?,?,?,'tier')",
            [(kbo, f"{year}-01-01", rate) for year, rate in rates.items()],
        )
        self.forget_cached()
        return rates

    def percentage(self, kbo: str, on: date, *, piis: int | None, regime: str | None) -> int:
        """The State's share of a reference month: 100 % for the foreigners-register / homeless regimes,
        else the CPAS's tier rate of that month + 10 % when a PIIS code gives the PIIS subsidy (10.5.13)."""
        if regime:
            return tables.FULL_RATE
        bonus = tables.PIIS_BONUS if (piis or 0) in tables.PIIS_SUBSIDY_CODES else 0
        return min(tables.FULL_RATE, self.rate(kbo, on) + bonus)

    def _mutation(self, ssin: str, kind: str) -> Any:
        if self._mutated is None:
            self._mutated = {
                r[0] for r in self.db.execute("SELECT DISTINCT ssin FROM mutations").fetchall()
            }
        if ssin not in self._mutated:
            return None
        return self.db.execute(
            "SELECT * FROM mutations WHERE ssin=? AND kind=? ORDER BY id DESC LIMIT 1", (ssin, kind)
        ).fetchone()

    def _integrated(self, kbo: str, ssin: str, on: date) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM integrations WHERE kbo=? AND ssin=? AND purpose=2 AND start<=? AND (end IS NULL OR end>=?)"
            " LIMIT 1",
            (kbo, ssin, on.isoformat(), on.isoformat()),
        ).fetchone()
        return row is not None

    def b_periods(self, kbo: str, ssin: str, *, exclude_id: int | None = None) -> list[Period]:
        """The running timeline of B forms of one beneficiary at one CPAS (modifications end the previous B
        the day before, a C ends the running B, a National Register mutation ends it a posteriori)."""
        bs = self.db.execute(
            "SELECT * FROM forms WHERE kbo=? AND ssin=? AND kind='B' AND state='DONE' AND superseded_by IS NULL"
            " AND evaluation IN ('ACCEPTED','PARTIALLYACCEPTED','BLOCKED') ORDER BY entry_date",
            (kbo, ssin),
        ).fetchall()
        cs = self.db.execute(
            "SELECT * FROM forms WHERE kbo=? AND ssin=? AND kind='C' AND state='DONE' AND superseded_by IS NULL"
            " AND cancelled=0 AND evaluation='ACCEPTED' AND id IS NOT ? ORDER BY entry_date",
            (kbo, ssin, exclude_id),
        ).fetchall()
        periods = []
        for i, b in enumerate(bs):
            start = date.fromisoformat(b["entry_date"])
            nxt = date.fromisoformat(bs[i + 1]["entry_date"]) if i + 1 < len(bs) else None
            end = nxt - timedelta(days=1) if nxt else None
            for c in cs:
                c_entry = date.fromisoformat(c["entry_date"])
                if c_entry >= start and (nxt is None or c_entry < nxt):
                    c_end = _d(c["end_date"]) or c_entry - timedelta(days=1)
                    end = c_end if end is None else min(end, c_end)
                    break
            if b["nr_end"]:
                nr = date.fromisoformat(b["nr_end"])
                end = nr if end is None else min(end, nr)
            if end is None or end >= start:
                periods.append(Period(b, start, end))
        return periods

    def _covering(self, kbo: str, ssin: str, on: date) -> Period | None:
        for p in self.b_periods(kbo, ssin):
            if p.start <= on and (p.end is None or on <= p.end):
                return p
        return None

    def notice(self, kbo: str, code: str, client_ref: str | None, text: str) -> None:
        self.db.execute(
            "INSERT INTO notices(kbo, code, client_ref, text, created_at) VALUES(?,?,?,?,?)",
            (kbo, code, client_ref, text, self.now().isoformat()),
        )

    # ------------------------------------------------------------------ entry points
    def existing(self, kbo: str, client_ref: str) -> Any:
        return self.db.execute(
            "SELECT * FROM forms WHERE kbo=? AND client_ref=?", (kbo, client_ref)
        ).fetchone()

    def echo(self, row: Any) -> DecisionResult:
        """GEN004: same ClientReference already processed -> the original result, no new effect."""
        result = parse_decision_result(etree.fromstring(row["result"]))
        result.errors.append(
            ResultError(
                "GEN004",
                "WARNING",
                "ClientReference",
                "Formulaire déjà traité: résultat original renvoyé",
            )
        )
        return result

    def has_pending(self, kbo: str, dossier: str) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM forms WHERE kbo=? AND dossier=? AND state='PENDING' LIMIT 1",
                (kbo, dossier),
            ).fetchone()
            is not None
        )

    def known_references(self, kbo: str, refs: list[str]) -> set[str]:
        """The ClientReferences among ``refs`` this CPAS already sent (pending or done)."""
        known: set[str] = set()
        for i in range(0, len(refs), 900):
            part = refs[i : i + 900]
            known.update(
                r[0]
                for r in self.db.execute(
                    f"SELECT client_ref FROM forms WHERE kbo=? AND client_ref IN ({','.join('?' * len(part))})",  # noqa: S608 - only "?" placeholders are formatted in; values are bound
                    (kbo, *part),
                ).fetchall()
            )
        return known

    def enqueue_many(self, kbo: str, forms: list[tuple[str, dict[str, Any]]], ticket: str) -> None:
        """Batch: store the forms as PENDING in one statement; the worker evaluates them in arrival order."""
        received = self.received_now().isoformat()
        self.db.executemany(
            "INSERT INTO forms(kbo, client_ref, kind, ssin, dossier, state, received_at, ticket, payload)"
            " VALUES(?,?,?,?,?,'PENDING',?,?,?)",
            [
                (
                    kbo,
                    f["ClientReference"],
                    kind,
                    f.get("SSIN", ""),
                    normalise_dossier(f.get("Dossier", "")),
                    received,
                    ticket,
                    orjson.dumps(f),
                )
                for kind, f in forms
            ],
        )

    def enqueue(self, kbo: str, kind: str, fields: dict[str, Any], ticket: str) -> None:
        """Batch: store the form as PENDING; the worker evaluates it later, in arrival order."""
        self.db.execute(
            "INSERT INTO forms(kbo, client_ref, kind, ssin, dossier, state, received_at, ticket, payload)"
            " VALUES(?,?,?,?,?,'PENDING',?,?,?)",
            (
                kbo,
                fields["ClientReference"],
                kind,
                fields.get("SSIN", ""),
                normalise_dossier(fields.get("Dossier", "")),
                self.received_now().isoformat(),
                ticket,
                orjson.dumps(fields),
            ),
        )

    def process(
        self,
        sender_kbo: str,
        kind: str,
        fields: dict[str, Any],
        *,
        row_id: int | None = None,
        online: bool = True,
        received: str | None = None,
    ) -> DecisionResult:
        """Evaluate one form.  ``row_id`` is the PENDING row of a batch form (``received`` its reception
        time, read with it); online forms get a new row."""
        client_ref = fields["ClientReference"]
        if row_id is None:
            received = self.received_now().isoformat()
            cur = self.db.execute(
                "INSERT INTO forms(kbo, client_ref, kind, ssin, dossier, state, received_at) VALUES(?,?,?,?,?,'DONE',?)",
                (
                    sender_kbo,
                    client_ref,
                    kind,
                    fields["SSIN"],
                    normalise_dossier(fields["Dossier"]),
                    received,
                ),
            )
            assert cur.lastrowid is not None  # sqlite3 sets it after an INSERT
            row_id = cur.lastrowid
        elif received is None:
            received = self.db.execute(
                "SELECT received_at FROM forms WHERE id=?", (row_id,)
            ).fetchone()[0]
        result = DecisionResult(
            client_reference=client_ref,
            ssin=fields["SSIN"],
            form_type=kind,
            evaluation="REFUSED",
            received_at=received,
        )
        if kind == "D":
            result.recovery_month = fields["RecoveryMonth"]
            result.sequence_number = int(fields["SequenceNumber"])
        else:
            result.entry_date = fields["EntryDate"]
        updates: dict[str, Any] = {}
        try:
            self._evaluate(
                sender_kbo,
                kind,
                fields,
                row_id,
                result,
                updates,
                online=online,
                received=datetime.fromisoformat(received).date(),
            )
        finally:
            if result.evaluation != "REFUSED":
                result.unique_attest_id = attestation_id(row_id)
                result.reference_spp = f"S{row_id:09d}"
            updates.update(
                state="DONE",
                evaluation=result.evaluation,
                pct=result.percentage,
                accepted_amount=result.accepted_amount,
                reference=result.reference_spp,
                result=render_decision_result(result),
                payload=None,
            )
            if kind == "B" and result.evaluation == "ACCEPTED":
                updates["available_on"] = self._attestation_day(received)
            cols = ", ".join(f"{k}=?" for k in updates)
            self.db.execute(f"UPDATE forms SET {cols} WHERE id=?", (*updates.values(), row_id))  # noqa: S608 - column names from this code; values are bound
        return result

    # ------------------------------------------------------------------ attestations (10.5.14)
    def _attestation_day(self, received: str) -> str:
        """An accepted B makes a multifunctional attestation (its UniqueAttestID) available to the network
        after ``attestation_delay_days`` working days (default 2), never later than 7 days (federal.md 5.6);
        the day is fixed when the form is accepted and kept with it."""
        day = datetime.fromisoformat(received).date()
        return (
            self.calendar()
            .attestation_day(day, int(self.config("attestation_delay_days", 2)))
            .isoformat()
        )

    def attestations(self, ssin: str, *, include_pending: bool = False) -> list[dict[str, Any]]:
        """The attestations of a person visible to the network today (every CPAS), oldest first.

        Status: ACTIVE; CANCELLED once a correction replaced the form (the correction's attestation names it
        in ``update_of``); BLOCKED when the payment was blocked a posteriori.  The validity period is the
        form's period in the current timeline (a C, a modification or a death ends it)."""
        today = self.now().date().isoformat()
        rows = self.db.execute(
            "SELECT f.id AS form_id, f.kbo, f.ssin, f.entry_date, f.category, f.superseded_by, f.evaluation,"  # noqa: S608 - a constant clause is appended; values are bound
            " f.received_at AS created_at, f.available_on, (SELECT p.id FROM forms p WHERE p.ssin=f.ssin"
            " AND p.kind='B' AND p.superseded_by=f.id AND p.available_on IS NOT NULL LIMIT 1) AS update_of"
            " FROM forms f WHERE f.ssin=? AND f.kind='B'"
            " AND f.available_on IS NOT NULL"
            + ("" if include_pending else " AND f.available_on<=?")
            + " ORDER BY f.id",
            (ssin,) if include_pending else (ssin, today),
        ).fetchall()
        periods: dict[str, dict[int, Period]] = {}
        out = []
        for r in rows:
            if r["kbo"] not in periods:
                periods[r["kbo"]] = {p.form["id"]: p for p in self.b_periods(r["kbo"], ssin)}
            period = periods[r["kbo"]].get(r["form_id"])
            status = (
                "CANCELLED"
                if r["superseded_by"] is not None
                else "BLOCKED"
                if r["evaluation"] == "BLOCKED"
                else "ACTIVE"
            )
            end = period.end if period is not None else None
            if (
                status == "ACTIVE" and period is None
            ):  # ended before it began (e.g. a C on its first day)
                status = "CANCELLED"
            out.append(
                {
                    "attestation_id": attestation_id(r["form_id"]),
                    "status": status,
                    "kbo": r["kbo"],
                    "ssin": r["ssin"],
                    "category": r["category"],
                    "valid_from": r["entry_date"],
                    "valid_to": end.isoformat() if end else None,
                    "created_at": r["created_at"],
                    "available_on": r["available_on"],
                    "update_of": None if r["update_of"] is None else attestation_id(r["update_of"]),
                }
            )
        return out

    def apply_mutation(
        self,
        ssin: str,
        kind: str,
        on: date,
        new_ssin: str | None = None,
        *,
        new_ins: str | None = None,
        new_municipality: str | None = None,
    ) -> int:
        """A-posteriori National Register mutation (10.5.11): re-evaluate the accepted B forms of the person.

        Death / emigration end every running B at that date (negative regularisations in the next statement);
        a replaced NISS blocks payment on the old number; a change of commune (``move``, with the new
        municipality's INS code and name) produces a notice.  Every CPAS that has integrated the person
        (an integration not ended before that date) gets a National Register notice in its feed
        (``SIM.NR.Notices``).  Returns the number of forms affected."""
        if kind not in MUTATION_KINDS:
            raise ValueError(
                f"unknown mutation kind {kind!r}; expected one of {', '.join(sorted(MUTATION_KINDS))}"
            )
        if kind == "move" and not (
            new_ins and re.fullmatch(r"[0-9]{5}", new_ins) and new_municipality
        ):
            raise ValueError(
                "a move names the new municipality: new_ins (5-digit INS code) and new_municipality"
            )
        if kind == "replaced" and not (new_ssin and ssin_valid(new_ssin)):
            raise ValueError("a replaced NISS names the new one (new_ssin)")
        cur = self.db.execute(
            "INSERT INTO mutations(ssin, kind, date, new_ssin, recorded_at, new_ins, new_municipality)"
            " VALUES(?,?,?,?,?,?,?)",
            (
                ssin,
                kind,
                on.isoformat(),
                new_ssin,
                self.now().isoformat(),
                new_ins if kind == "move" else None,
                new_municipality if kind == "move" else None,
            ),
        )
        self.db.execute(
            "INSERT INTO nr_notices(kbo, mutation_id) SELECT DISTINCT kbo, ? FROM integrations"
            " WHERE ssin=? AND (end IS NULL OR end>=?) ORDER BY kbo",
            (cur.lastrowid, ssin, on.isoformat()),
        )
        if self._mutated is not None:
            self._mutated.add(ssin)
        affected = 0
        kbos = [
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT kbo FROM forms WHERE ssin=? AND kind='B' AND state='DONE'", (ssin,)
            ).fetchall()
        ]
        for kbo in kbos:
            for p in self.b_periods(kbo, ssin):
                ref = p.form["client_ref"]
                if kind in ("death", "emigration"):
                    if p.end is not None and p.end <= on:
                        continue
                    nr_end = on if p.start <= on else p.start - timedelta(days=1)
                    self.db.execute(
                        "UPDATE forms SET nr_end=? WHERE id=?", (nr_end.isoformat(), p.form["id"])
                    )
                    self.notice(
                        kbo,
                        "B00006",
                        ref,
                        f"Contrôle a posteriori: {kind} au {on.isoformat()}, droit clôturé",
                    )
                elif kind == "replaced":
                    self.db.execute(
                        "UPDATE forms SET evaluation='BLOCKED' WHERE id=?", (p.form["id"],)
                    )
                    self.notice(
                        kbo,
                        "MSG00006",
                        ref,
                        "Contrôle a posteriori: NISS remplacé, paiement bloqué",
                    )
                else:
                    self.notice(
                        kbo,
                        "W00002",
                        ref,
                        f"Contrôle a posteriori: mutation {kind} au {on.isoformat()}",
                    )
                affected += 1
        return affected

    def register_notices(self, kbo: str, after: int | None, limit: int) -> tuple[list[Any], bool]:
        """One page of the CPAS's National Register notices after the notice id ``after``, oldest first, and
        whether more follow.  The feed only grows at its end (a notice is filed when the mutation is
        recorded), so resuming after the last id read never skips or repeats one."""
        rows = self.db.execute(
            "SELECT n.id AS notice_id, m.ssin, m.kind, m.date, m.new_ssin, m.new_ins, m.new_municipality,"
            " m.recorded_at FROM nr_notices n JOIN mutations m ON m.id=n.mutation_id WHERE n.kbo=? AND n.id>?"
            " ORDER BY n.id LIMIT ?",
            (kbo, after or 0, limit + 1),
        ).fetchall()
        return rows[:limit], len(rows) > limit

    # ------------------------------------------------------------------ rules
    def _refuse(self, result: DecisionResult, code: str, field: str | None, text: str) -> None:
        result.evaluation = "REFUSED"
        result.errors.append(ResultError(code, "ERROR", field, text))

    def _evaluate(
        self,
        sender: str,
        kind: str,
        f: dict[str, Any],
        row_id: int,
        result: DecisionResult,
        upd: dict[str, Any],
        *,
        online: bool,
        received: date,
    ) -> None:
        ssin = f["SSIN"]
        dossier = normalise_dossier(f["Dossier"])
        # ---- BCSS layer (federal.md 10.4, 10.5.1)
        cpas = self._cpas(sender)
        if cpas is None or f["KBOBCE"] != sender:
            return self._refuse(
                result, "-300010", "KBOBCE", "Expéditeur non autorisé pour ce service"
            )
        if not ssin_valid(ssin):
            return self._refuse(result, "MSG00011", "SSIN", "Structure du NISS invalide")
        partner_ssin = (f.get("Partner") or {}).get("SSIN")
        if partner_ssin and not ssin_valid(
            partner_ssin
        ):  # the partner's NISS is an identifier like the other
            return self._refuse(
                result, "MSG00011", "Partner/SSIN", "Structure du NISS du partenaire invalide"
            )
        replaced = self._mutation(ssin, "replaced")
        if replaced is not None:
            return self._refuse(
                result, "MSG00006", "SSIN", f"NISS remplacé (nouveau NISS: {replaced['new_ssin']})"
            )
        key_date = date.fromisoformat(f["PeriodStart"] if kind == "D" else f["EntryDate"])
        if not self._integrated(sender, ssin, key_date):
            return self._refuse(
                result,
                "-300020",
                "SSIN",
                "NISS non intégré par ce CPAS avec le code qualité 2 (revenu d'intégration)",
            )
        # ---- NovaPrima: common controls
        if f["InsCode"] != cpas["ins"]:
            return self._refuse(
                result, "GEN002", "InsCode", "Code INS inconnu ou n'appartenant pas au numéro BCE"
            )
        if not dossier or len(dossier) > 11:
            return self._refuse(
                result, "GEN003", "Dossier", "Numéro de dossier invalide (max 11 positions)"
            )
        other = self.db.execute(
            "SELECT 1 FROM forms WHERE kbo=? AND dossier=? AND ssin<>? AND state='DONE' AND evaluation<>'REFUSED' LIMIT 1",
            (sender, dossier, ssin),
        ).fetchone()
        if other is not None:
            return self._refuse(
                result,
                "GEN003",
                "Dossier",
                "Numéro de dossier déjà utilisé pour un autre bénéficiaire",
            )
        if online and self.has_pending(sender, dossier):
            return self._refuse(
                result, "B00008", "Dossier", "Un formulaire précédent de ce dossier est en cours"
            )
        # forfeiture (B00005): N months after the end of the quarter concerned, the last day moved to the next
        # working day (10.5.15), compared with the day the form counts as received
        forfeiture = int(self.config("forfeiture_months", 12))
        if received > self.calendar().deadline(_add_months(_quarter_end(key_date), forfeiture)):
            return self._refuse(
                result,
                "B00005",
                "EntryDate" if kind != "D" else "PeriodStart",
                "Délai de forclusion dépassé",
            )
        upd["dossier"] = (
            dossier  # the SSIN was written with the row and never changes: its index is left alone
        )
        if kind == "B":
            return self._form_b(sender, f, row_id, result, upd)
        if kind == "C":
            return self._form_c(sender, f, row_id, result, upd)
        return self._form_d(sender, f, row_id, result, upd)

    def _nr_block(self, ssin: str, on: date) -> str | None:
        for kind in ("death", "emigration"):
            m = self._mutation(ssin, kind)
            if m is not None and date.fromisoformat(m["date"]) < on:
                return kind
        return None

    def _form_b(
        self, kbo: str, f: dict[str, Any], row_id: int, result: DecisionResult, upd: dict[str, Any]
    ) -> None:
        entry = date.fromisoformat(f["EntryDate"])
        category = int(f["Category"])
        status = int(f["NoticeStatus"])
        amount = int(f["MonthlyAmount"])
        piis = int(f["PiisApplicant"]) if f.get("PiisApplicant") not in (None, "") else 0
        partner = f.get("Partner") or {}
        regime = (
            "foreigners"
            if f["ForeignersRegister"] == "true"
            else ("homeless" if f["HomelessFirstHome"] == "true" else "")
        )
        upd.update(
            entry_date=f["EntryDate"],
            category=category,
            amount=amount,
            piis=piis,
            status_code=status,
            regime=regime,
        )
        if category not in tables.CATEGORIES:
            return self._refuse(result, "B00001", "Category", "Catégorie hors de {1, 2, 3}")
        if not tables.piis_code_valid(piis, entry):
            return self._refuse(
                result,
                "B00002",
                "PiisApplicant",
                f"Code PIIS {piis} inconnu ou non valide à cette date",
            )
        if partner.get("PiisPartner") not in (None, "") and not tables.piis_code_valid(
            int(partner["PiisPartner"]), entry
        ):
            return self._refuse(
                result,
                "B00002",
                "Partner/PiisPartner",
                "Code PIIS du partenaire non valide à cette date",
            )
        same = self.db.execute(
            "SELECT id FROM forms WHERE kbo=? AND ssin=? AND kind='B' AND entry_date=? AND state='DONE' AND id<>?"
            " AND superseded_by IS NULL AND evaluation<>'REFUSED'",
            (kbo, f["SSIN"], f["EntryDate"], row_id),
        ).fetchone()
        if status == 1 and same is None:
            return self._refuse(
                result,
                "B00003",
                "NoticeStatus",
                "Correction sans formulaire B antérieur à cette date",
            )
        if status == 0 and same is not None:
            return self._refuse(
                result,
                "B00004",
                "NoticeStatus",
                "Un formulaire B existe déjà à cette date: utiliser le statut 1 (correction)",
            )
        nr = self._nr_block(f["SSIN"], entry)
        if nr is not None:
            return self._refuse(
                result,
                "B00006",
                "EntryDate",
                f"Registre national: {nr} avant la date d'entrée en vigueur",
            )
        # ---- accepted from here on; percentage (federal.md 10.5.13)
        result.percentage = self.percentage(kbo, entry, piis=piis, regime=regime)
        result.evaluation = "ACCEPTED"
        result.accepted_amount = amount
        if same is not None:  # correction replaces the earlier B entirely (10.5.4)
            self.db.execute("UPDATE forms SET superseded_by=? WHERE id=?", (row_id, same[0]))
        legal = tables.legal_amount(category, entry)
        if legal is not None and amount > legal:
            result.errors.append(
                ResultError(
                    "W00001",
                    "WARNING",
                    "MonthlyAmount",
                    "Montant supérieur au barème légal de la catégorie",
                )
            )
        # double claim between two CPAS (10.5.10)
        others = {
            r[0]
            for r in self.db.execute(  # (no DISTINCT: it costs a temporary index for usually no row)
                "SELECT kbo FROM forms WHERE ssin=? AND kind='B' AND kbo<>? AND state='DONE'"
                " AND evaluation IN ('ACCEPTED','PARTIALLYACCEPTED')",
                (f["SSIN"], kbo),
            ).fetchall()
        }
        for other in sorted(others):
            for p in self.b_periods(other, f["SSIN"]):
                if p.form["evaluation"] != "BLOCKED" and (p.end is None or p.end >= entry):
                    result.evaluation = "BLOCKED"
                    result.errors.append(
                        ResultError(
                            "B00007",
                            "ERROR",
                            "SSIN",
                            "Double demande: un autre CPAS a un formulaire B accepté pour cette période",
                        )
                    )
                    self.notice(
                        kbo,
                        "B00007",
                        f["ClientReference"],
                        "Paiement bloqué: double demande avec un autre CPAS",
                    )
                    self.notice(
                        other,
                        "B00007",
                        p.form["client_ref"],
                        "Double demande: un autre CPAS a introduit un formulaire B pour ce bénéficiaire",
                    )
                    return None
        return None

    def _form_c(
        self, kbo: str, f: dict[str, Any], row_id: int, result: DecisionResult, upd: dict[str, Any]
    ) -> None:
        entry = date.fromisoformat(f["EntryDate"])
        reg = int(f["Regularisation"])
        upd.update(
            entry_date=f["EntryDate"],
            nature=f["DecisionNature"],
            end_date=f.get("EffectiveEndDate") or None,
            status_code=reg,
        )
        earlier = self.db.execute(
            "SELECT id FROM forms WHERE kbo=? AND ssin=? AND kind='C' AND state='DONE' AND evaluation='ACCEPTED'"
            " AND superseded_by IS NULL AND cancelled=0 AND id<>? ORDER BY entry_date DESC LIMIT 1",
            (kbo, f["SSIN"], row_id),
        ).fetchone()
        if reg == 9:
            if not self.config("allow_c_cancellation", True):
                return self._refuse(
                    result, "C00003", "Regularisation", "Annulation (code 9) non admise pour le RI"
                )
            same = self.db.execute(
                "SELECT id FROM forms WHERE kbo=? AND ssin=? AND kind='C' AND entry_date=? AND state='DONE'"
                " AND evaluation='ACCEPTED' AND cancelled=0 AND id<>?",
                (kbo, f["SSIN"], f["EntryDate"], row_id),
            ).fetchone()
            if same is None:
                return self._refuse(
                    result, "C00002", "Regularisation", "Aucun formulaire C à annuler à cette date"
                )
            self.db.execute("UPDATE forms SET cancelled=1 WHERE id=?", (same[0],))
            upd.update(cancelled=1)  # the cancelling C itself has no effect on the timeline
            result.evaluation = "ACCEPTED"
            return None
        if reg == 1:
            if earlier is None:
                return self._refuse(
                    result, "C00002", "Regularisation", "Aucun formulaire C antérieur à régulariser"
                )
            self.db.execute("UPDATE forms SET superseded_by=? WHERE id=?", (row_id, earlier[0]))
        if self._covering_ignoring_c(kbo, f["SSIN"], entry) is None:
            if reg == 1:
                self.db.execute("UPDATE forms SET superseded_by=NULL WHERE id=?", (earlier[0],))
            return self._refuse(
                result,
                "C00001",
                "EntryDate",
                "Aucun formulaire B actif à la date d'entrée en vigueur",
            )
        result.evaluation = "ACCEPTED"
        return None

    def _covering_ignoring_c(self, kbo: str, ssin: str, on: date) -> Period | None:
        # The C under evaluation is not yet ACCEPTED, so b_periods() already ignores it; a B whose period was
        # ended the day before `on` by an earlier C is not active.
        for p in self.b_periods(kbo, ssin):
            if p.start <= on and (p.end is None or on <= p.end + timedelta(days=1)):
                return p
        return None

    def _form_d(
        self, kbo: str, f: dict[str, Any], row_id: int, result: DecisionResult, upd: dict[str, Any]
    ) -> None:
        start = date.fromisoformat(f["PeriodStart"])
        end = date.fromisoformat(f["PeriodEnd"])
        seq = int(f["SequenceNumber"])
        amount = int(f["Amount"])
        correction = int(f["Correction"])
        rtype = f["RecoveryType"]
        upd.update(
            recovery_month=f["RecoveryMonth"],
            seq=seq,
            period_start=f["PeriodStart"],
            period_end=f["PeriodEnd"],
            amount=amount,
            status_code=correction,
            regime=rtype,
        )
        if end < start:
            return self._refuse(result, "GEN001", "PeriodEnd", "Fin de période avant le début")
        if not tables.recovery_type_allowed(rtype, start):
            return self._refuse(
                result,
                "D00003",
                "RecoveryType",
                f"Type de récupération {rtype} non admis pour cette période",
            )
        rows = self.db.execute(
            "SELECT id, seq FROM forms WHERE kbo=? AND dossier=? AND kind='D' AND recovery_month=? AND state='DONE'"
            " AND evaluation IN ('ACCEPTED','PARTIALLYACCEPTED') AND superseded_by IS NULL AND id<>?",
            (kbo, upd["dossier"], f["RecoveryMonth"], row_id),
        ).fetchall()
        used = {r["seq"]: r["id"] for r in rows}
        if correction == 1:
            if seq not in used:
                return self._refuse(
                    result, "D00002", "SequenceNumber", "Correction d'un formulaire D inexistant"
                )
        elif seq != (max(used) + 1 if used else 1):
            return self._refuse(
                result,
                "D00002",
                "SequenceNumber",
                f"Numéro d'ordre attendu: {max(used) + 1 if used else 1}",
            )
        covering = self._covering(kbo, f["SSIN"], start)
        if covering is None or covering.form["evaluation"] not in ("ACCEPTED", "PARTIALLYACCEPTED"):
            return self._refuse(
                result,
                "D00001",
                "PeriodStart",
                "Aucun formulaire B accepté ne couvre la période récupérée",
            )
        granted = _granted(covering, start, end)
        full = tables.RECOVERY_TYPES[rtype][1]
        # the rate of the reference month (the recovered period), with the PIIS subsidy of the B it recovers
        upd.update(piis=covering.form["piis"])
        result.percentage = (
            tables.FULL_RATE
            if full
            else self.percentage(
                kbo, start, piis=covering.form["piis"], regime=covering.form["regime"]
            )
        )
        if correction == 1:
            self.db.execute("UPDATE forms SET superseded_by=? WHERE id=?", (row_id, used[seq]))
        if amount > granted:
            result.evaluation = "PARTIALLYACCEPTED"
            result.accepted_amount = granted
            result.errors.append(
                ResultError(
                    "D00004",
                    "WARNING",
                    "Amount",
                    "Montant récupéré supérieur aux montants accordés pour la période",
                )
            )
        else:
            result.evaluation = "ACCEPTED"
            result.accepted_amount = amount
        return None


def attestation_id(form_id: int) -> str:
    """UniqueAttestID (15 characters) of the form stored under ``form_id``."""
    return f"DIS{form_id:012d}"


def month_share(monthly: int, start: date, end: date | None, month_first: date) -> int:
    """Amount due for one calendar month of a B period (pro rata of the days covered, in cents)."""
    last = _month_end(month_first)
    lo = max(start, month_first)
    hi = last if end is None else min(end, last)
    if hi < lo:
        return 0
    days = (hi - lo).days + 1
    total = last.day
    return monthly if days == total else round(monthly * days / total)


def _granted(period: Period, start: date, end: date) -> int:
    monthly = int(period.form["amount"] or 0)
    hi = end if period.end is None else min(end, period.end)
    total = 0
    cursor = date(start.year, start.month, 1)
    while cursor <= hi:
        total += month_share(monthly, max(start, period.start), hi, cursor)
        cursor = _add_months(cursor, 1)
    return total
