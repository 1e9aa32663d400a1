"""Deterministic synthetic GPMI data in the vendor's vocabulary.

Why deterministic: a test or a benchmark that seeds ``n`` dossiers with seed ``s`` gets the very same
records on every machine, so a failure can be replayed.  The mix is meant to look like a real
OCMW/CPAS caseload: mostly young adults and general contracts, a share of full-time students under
25, some community service, a few sanctions and moves between CPAS (the contract at the old CPAS ends
with reason ``VERHUIS`` and a new dossier is opened at the new one for the same person).

All NISS numbers are synthetic but checksum-valid; all BCE numbers are checksum-valid.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from piis_connectors.casesystem.vocab import format_date

__all__ = ["OCMWS", "SeedContract", "generate", "make_bce", "make_niss"]


def make_bce(first8: int) -> str:
    """A checksum-valid BCE/KBO number starting with 0."""
    body = f"{first8:08d}"
    return body + f"{97 - int(body) % 97:02d}"


#: (kbo, nis code, name) of the simulated OCMWs.  KBO numbers are synthetic (checksum-valid).
OCMWS: list[tuple[str, str, str]] = [
    (make_bce(2123451), "44021", "OCMW Gent"),
    (make_bce(2123452), "11002", "OCMW Antwerpen"),
    (make_bce(2123453), "24062", "OCMW Leuven"),
    (make_bce(2123454), "31005", "OCMW Brugge"),
    (make_bce(2123455), "71016", "OCMW Genk"),
]

_VOORNAMEN = [
    "Lotte",
    "Noah",
    "Amira",
    "Yusuf",
    "Emma",
    "Liam",
    "Sara",
    "Mohamed",
    "Julie",
    "Arne",
    "Fatima",
    "Kobe",
    "Nina",
    "Ilias",
    "Marie",
    "Jonas",
    "Aya",
    "Wout",
    "Elif",
    "Bram",
]
_NAMEN = [
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "El Amrani",
    "Wouters",
    "De Smet",
    "Dubois",
    "Yilmaz",
    "Lambert",
    "Dupont",
    "Hermans",
    "Aerts",
    "Benali",
]
_STAPPEN = {
    "WERK": "Solliciteren bij minstens vier werkgevers per maand",
    "OPLEID": "Inschrijven voor een opleiding bij VDAB",
    "WONEN": "Zoeken naar een betaalbare woning",
    "GEZOND": "Opvolging bij de huisarts",
    "FIN": "Schuldbemiddeling opstarten",
    "ADMIN": "Administratie op orde brengen met de maatschappelijk werker",
    "SOCNET": "Deelnemen aan een groepsactiviteit",
    "MOBIL": "Rijbewijs behalen",
    "VRIJE": "Vrijwilligerswerk zoeken",
    "KIND": "Kinderopvang regelen",
    "JUR": "Juridisch advies vragen",
    "INKOM": "Kinderbijslag aanvragen",
}
_DOELEN = {
    "WERK": "Duurzaam werk vinden",
    "OPLEID": "Een diploma of getuigschrift behalen",
    "WONEN": "Stabiele huisvesting",
    "GEZOND": "Gezondheid opvolgen",
    "FIN": "Schulden onder controle",
    "ADMIN": "Zelfstandig administratie beheren",
    "SOCNET": "Sociaal netwerk uitbreiden",
    "MOBIL": "Zelfstandig verplaatsen",
    "VRIJE": "Zinvolle vrijetijdsbesteding",
    "KIND": "Kinderopvang geregeld",
    "JUR": "Juridische situatie uitgeklaard",
    "INKOM": "Alle rechten op inkomen benut",
}
_SCHOLEN = [
    ("Hogeschool Gent", "Bachelor verpleegkunde"),
    ("KU Leuven", "Bachelor rechten"),
    ("Arteveldehogeschool", "Bachelor sociaal werk"),
    ("Atheneum Brugge", "Secundair ASO"),
]
_VZWS = ["vzw De Kringwinkel", "vzw Buurtwerk", "Voedselbank vzw", "vzw Speelplein"]


# The day the seeded case system describes: contracts ending later are running ("LOP").
SEED_TODAY = date(2026, 11, 1)


def make_niss(birth: date, counter: int) -> str:
    """A checksum-valid synthetic NISS for a birth date and a 3-digit counter (odd = male)."""
    body = f"{birth:%y%m%d}{counter:03d}"
    base = int(("2" if birth.year >= 2000 else "") + body)
    return body + f"{97 - base % 97:02d}"


@dataclass(frozen=True)
class SeedContract:
    """One contract to insert: its vendor id, dossier id, OCMW KBO and JSON document."""

    id: str
    dossier: str
    ocmw: str
    data: dict[str, Any]


def _contract(
    rng: random.Random,
    nr: int,
    dossier: str,
    ocmw: tuple[str, str, str],
    client: dict[str, Any],
    age: int,
    start: date,
    kind: str,
) -> dict[str, Any]:
    duration = rng.choice([6, 12, 12, 12, 24]) if kind != "STU" else rng.choice([12, 36, 48])
    end = start + timedelta(days=30 * duration)
    domains = rng.sample(sorted(_STAPPEN), k=rng.randint(1, 3))
    if kind == "STU" and "OPLEID" not in domains:
        domains[0] = "OPLEID"
    if kind in ("TEW", "ALG") and "WERK" not in domains and rng.random() < 0.6:
        domains.append("WERK")
    today = SEED_TODAY
    signed = start - timedelta(days=rng.randint(0, 10))
    decided = start - timedelta(days=rng.randint(20, 85))
    goals = [
        {"doel_id": f"D{nr:07d}-{i + 1}", "domein": dom, "omschrijving": _DOELEN[dom]}
        for i, dom in enumerate(domains)
    ]
    steps: list[dict[str, Any]] = []
    for i, dom in enumerate(domains):
        for party in ("CLIENT", "OCMW"):
            steps.append(
                {
                    "stap_id": f"S{nr:07d}-{len(steps) + 1}",
                    "doel_id": goals[i]["doel_id"],
                    "volgorde": len(steps) + 1,
                    "domein": dom,
                    "partij": party,
                    "omschrijving": _STAPPEN[dom]
                    if party == "CLIENT"
                    else f"Begeleiding bij: {_STAPPEN[dom].lower()}",
                    "status": rng.choice(["GEPL", "LOPT", "LOPT", "AFGR"]),
                    "deadline": format_date(start + timedelta(days=60 * (i + 1))),
                }
            )
    interviews: list[dict[str, Any]] = []
    when = start + timedelta(days=rng.randint(60, 110))
    while when < min(end, today) and len(interviews) < 8:
        interviews.append(
            {
                "gesprek_id": f"G{nr:07d}-{len(interviews) + 1}",
                "datum": format_date(when),
                "type": rng.choice(["PERS", "PERS", "PERS", "TEL", "VIDEO", "MAIL"]),
                "soort": "ACADJR" if kind == "STU" and rng.random() < 0.3 else "PERIOD",
                "verslag": "Stand van zaken besproken, afspraken bijgestuurd.",
                "ocmw_afspraken_nagekomen": "J" if rng.random() < 0.95 else "N",
            }
        )
        when += timedelta(days=rng.randint(80, 120))
    annexes = [
        {"volgnummer": 1, "soort": "ORIG", "datum": format_date(signed), "reden": "Ondertekening"}
    ]
    if rng.random() < 0.2:
        annexes.append(
            {
                "volgnummer": 2,
                "soort": "WIJZ",
                "datum": format_date(start + timedelta(days=120)),
                "reden": "Bijsturing na evaluatie",
            }
        )
    status = "LOP" if end > today else "BEEIND"
    doc: dict[str, Any] = {
        "contractnummer": f"GPMI-{nr:07d}",
        "dossiernummer": dossier,
        "ocmw": {"kbo": ocmw[0], "nis": ocmw[1], "naam": ocmw[2]},
        "client": client,
        "gpmi_type": kind,
        "orientatie": "SOCIAAL"
        if kind == "ACT"
        else ("BEROEP" if kind in ("TEW", "OPL") else rng.choice(["BEROEP", "SOCIAAL"])),
        "status": status,
        "verplichtingsgrond": (
            "J25STU"
            if kind == "STU"
            else "J25TEW"
            if age < 25
            else rng.choice(["NIEUW3M", "VRAAGOC", "VRAAGCL"])
        ),
        "leefloon": {
            "beslissing_id": f"B{nr:07d}",
            "beslissingsdatum": format_date(decided),
            "categorie": "GEZIN"
            if rng.random() < 0.2
            else ("ALLEEN" if rng.random() < 0.6 else "SAMENW"),
            "bedrag_maand": rng.choice(["876,13", "1.314,20", "1.776,07"]),
            "vanaf": format_date(decided - timedelta(days=rng.randint(0, 15))),
        },
        "sociaal_onderzoek_datum": format_date(start - timedelta(days=rng.randint(10, 19))),
        "ontwerp_overhandigd_op": format_date(signed - timedelta(days=rng.randint(5, 9))),
        "ondertekend_op": format_date(signed),
        "startdatum": format_date(start),
        "einddatum": format_date(end),
        "maatschappelijk_werker": {
            "code": f"MW{rng.randint(1, 40):03d}",
            "naam": rng.choice(_VOORNAMEN) + " " + rng.choice(_NAMEN),
        },
        "vervangers": [
            {
                "code": f"MW{rng.randint(41, 60):03d}",
                "naam": rng.choice(_VOORNAMEN) + " " + rng.choice(_NAMEN),
            }
        ],
        "domeinen": domains,
        "doelen": goals,
        "stappen": steps,
        "evaluatie_afspraak": {
            "methode": "Evaluatiegesprek met de maatschappelijk werker",
            "per_jaar": 3,
            "persoonlijk_per_jaar": 2,
        },
        "gesprekken": interviews,
        "bijlagen": annexes,
        "studies": None,
        "gemeenschapsdienst": None,
        "premie": None,
        "sancties": [],
        "stopzetting": None,
    }
    if kind == "STU":
        school, programme = rng.choice(_SCHOLEN)
        doc["studies"] = {
            "instelling": school,
            "richting": programme,
            "voltijds": "J",
            "erkend": "J",
            "inschrijvingsbewijs_op": format_date(start + timedelta(days=rng.randint(0, 20))),
        }
    if kind == "GDW":
        doc["gemeenschapsdienst"] = {
            "organisatie": rng.choice(_VZWS),
            "vzw": "J",
            "vrijwilligers": "J",
            "verzekering_ok": "J",
            "uren_per_week": str(rng.choice([4, 6, 8])),
            "activiteiten": "Sorteren en onthaal in de winkel",
            "vergoeding": rng.choice(["0,00", "3,53"]),
        }
    if rng.random() < 0.15:
        doc["premie"] = {
            "bedrag": f"{rng.choice([50, 75, 100, 125])},{rng.choice(['00', '50'])}",
            "frequentie": "MAAND",
            "voorwaarden": "Maandelijks aanwezig op de afgesproken activiteiten",
        }
    if rng.random() < 0.03 and interviews:
        sdate = date(
            int(interviews[-1]["datum"][6:]),
            int(interviews[-1]["datum"][3:5]),
            int(interviews[-1]["datum"][:2]),
        )
        doc["sancties"].append(
            {
                "sanctie_id": f"X{nr:07d}-1",
                "feiten": "Afspraken niet nagekomen ondanks aanmaning",
                "datum": format_date(sdate + timedelta(days=20)),
                "type": rng.choice(["GEDEELT", "VOLLED"]),
                "percentage": rng.choice([25, 50, 100]),
                "van": format_date(sdate + timedelta(days=30)),
                "tot": format_date(sdate + timedelta(days=60)),
            }
        )
    if status == "BEEIND":
        doc["stopzetting"] = {"datum": format_date(end), "reden": "TERMIJN"}
    return doc


def generate(
    dossiers: int, seed: int = 1, *, first_start: date = date(2023, 1, 1), spread_days: int = 1350
) -> Iterator[SeedContract]:
    """Yield the contracts of *dossiers* synthetic dossiers (1-3 contracts each, some moves).

    A dossier's first contract starts within *spread_days* after *first_start* (the demo narrows the window
    so that its first night sends the decisions of the last months, like a normal night)."""
    rng = random.Random(seed)
    nr = 0
    dossier_nr = 0
    produced = 0
    while produced < dossiers:
        age = min(64, max(18, int(rng.triangular(18, 64, 24))))
        birth = date(2026 - age, rng.randint(1, 12), rng.randint(1, 28))
        client = {
            "rijksregisternummer": make_niss(birth, rng.randint(1, 997)),
            "naam": rng.choice(_NAMEN),
            "voornaam": rng.choice(_VOORNAMEN),
            "geboortedatum": format_date(birth),
            "taal": rng.choice(["NL", "NL", "NL", "FR", "ANDER"]),
        }
        roll = rng.random()
        kind = (
            "STU"
            if age < 25 and roll < 0.35
            else "GDW"
            if roll < 0.42
            else "TEW"
            if roll < 0.55
            else "OPL"
            if roll < 0.62
            else "ACT"
            if roll < 0.72
            else "ALG"
        )
        ocmw = OCMWS[rng.randrange(len(OCMWS))]
        start = first_start + timedelta(days=rng.randint(0, spread_days))
        n_contracts = 1 if rng.random() < 0.8 else (2 if rng.random() < 0.75 else 3)
        moves = rng.random() < 0.04 and produced + 1 < dossiers
        dossier_nr += 1
        dossier = f"D{dossier_nr:08d}"
        produced += 1
        for _ in range(n_contracts):
            nr += 1
            doc = _contract(rng, nr, dossier, ocmw, client, age, start, kind)
            if moves:
                # Moved to another municipality: the contract ends by operation of law; the person
                # continues at the new CPAS under a new dossier there.
                moved_on = start + timedelta(days=rng.randint(40, 150))
                doc["status"] = "BEEIND"
                doc["stopzetting"] = {
                    "datum": format_date(moved_on),
                    "reden": "VERHUIS",
                    "naar_ocmw_kbo": OCMWS[(OCMWS.index(ocmw) + 1) % len(OCMWS)][0],
                    "naar_ocmw_nis": OCMWS[(OCMWS.index(ocmw) + 1) % len(OCMWS)][1],
                }
            yield SeedContract(doc["contractnummer"], dossier, ocmw[0], doc)
            start = start + timedelta(days=rng.randint(200, 420))
            if moves:
                break
        if moves:
            new_ocmw = OCMWS[(OCMWS.index(ocmw) + 1) % len(OCMWS)]
            dossier_nr += 1
            produced += 1
            dossier = f"D{dossier_nr:08d}"
            nr += 1
            doc = _contract(
                rng, nr, dossier, new_ocmw, client, age, start + timedelta(days=160), kind
            )
            yield SeedContract(doc["contractnummer"], dossier, new_ocmw[0], doc)
