"""The vendor's own vocabulary: code lists of the NeptunusWeb-like case system.

Why a module of its own: the simulator generates records with these codes and the documentation
(docs/casesystem.md) lists them; the mapping files in ``mappings/neptunus/`` translate them to the
canonical model.  Nothing here knows the canonical model: a vendor does not.

Dates in the vendor's JSON are strings ``dd-mm-yyyy``; timestamps are ``dd-mm-yyyy HH:MM:SS.ffffff``
(UTC).  Money is a string with a decimal comma (``"125,50"``).  Booleans are ``"J"``/``"N"``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = [
    "BIJLAGE_SOORTEN",
    "CONTRACT_STATUSSEN",
    "DATE_FORMAT",
    "DOMEINEN",
    "GESPREK_SOORTEN",
    "GESPREK_TYPES",
    "GPMI_TYPES",
    "LEEFLOON_CATEGORIEEN",
    "ONTWERP_STATUSSEN",
    "ORIENTATIES",
    "PARTIJEN",
    "SANCTIE_TYPES",
    "STAP_STATUSSEN",
    "STOPREDENEN",
    "TALEN",
    "TIMESTAMP_FORMAT",
    "VERPLICHTINGSGRONDEN",
    "format_date",
    "format_timestamp",
    "parse_timestamp",
]

DATE_FORMAT = "%d-%m-%Y"
TIMESTAMP_FORMAT = "%d-%m-%Y %H:%M:%S.%f"

#: gpmi_type: the kind of GPMI (the law knows one PIIS; vendors label the model used).
GPMI_TYPES = {
    "ALG": "algemeen GPMI",
    "STU": "GPMI studies (voltijds onderwijs)",
    "GDW": "GPMI met gemeenschapsdienst",
    "TEW": "GPMI tewerkstellingsproject",
    "OPL": "GPMI opleiding",
    "ACT": "GPMI sociale activering",
}
ORIENTATIES = {"BEROEP": "professionele integratie", "SOCIAAL": "sociale integratie"}
CONTRACT_STATUSSEN = {
    "ONTW": "ontwerp",
    "AANGEB": "aangeboden (bedenktijd loopt)",
    "ONDERT": "ondertekend",
    "LOP": "lopend",
    "GESCH": "project geschorst",
    "BEEIND": "beëindigd",
}
#: levensdomeinen (action domains).
DOMEINEN = {
    "WERK": "werk",
    "OPLEID": "opleiding en onderwijs",
    "WONEN": "wonen",
    "GEZOND": "gezondheid",
    "FIN": "financiën en schulden",
    "ADMIN": "administratie",
    "SOCNET": "sociaal netwerk",
    "MOBIL": "mobiliteit",
    "VRIJE": "vrije tijd",
    "KIND": "kinderen",
    "JUR": "juridisch",
    "INKOM": "inkomen",
}
STAP_STATUSSEN = {"GEPL": "gepland", "LOPT": "lopend", "AFGR": "afgerond", "STOP": "stopgezet"}
PARTIJEN = {"CLIENT": "cliënt", "OCMW": "OCMW", "DERDE": "derde partij"}
#: gesprekstype: how an evaluation interview took place.
GESPREK_TYPES = {
    "PERS": "persoonlijk gesprek",
    "TEL": "telefonisch",
    "MAIL": "e-mail",
    "VIDEO": "videogesprek",
}
GESPREK_SOORTEN = {
    "PERIOD": "periodieke evaluatie",
    "ACADJR": "evaluatie academiejaar",
    "EIND": "eindevaluatie",
    "ADHOC": "ad-hoc evaluatie",
    "TRIPAR": "tripartiet gesprek",
}
BIJLAGE_SOORTEN = {
    "ORIG": "origineel contract",
    "BIJL": "bijlage",
    "WIJZ": "wijziging",
    "TRAJ": "trajectupdate",
    "EVALF": "evaluatiefiche",
    "LLHERN": "bijlage herziening leefloon",
}
SANCTIE_TYPES = {"GEDEELT": "gedeeltelijke schorsing", "VOLLED": "volledige schorsing"}
VERPLICHTINGSGRONDEN = {
    "J25STU": "jonger dan 25, studies",
    "J25TEW": "jonger dan 25, tewerkstellingsproject",
    "NIEUW3M": "geen leefloon in de voorbije 3 maanden",
    "VRAAGCL": "op vraag van de cliënt",
    "VRAAGOC": "op vraag van het OCMW",
    "GEEN": "geen",
}
STOPREDENEN = {
    "VERHUIS": "verhuis naar een andere gemeente (OCMW niet meer bevoegd)",
    "TERMIJN": "einde looptijd",
    "STUDEIND": "einde studies na evaluatie",
    "HEROR": "heroriëntatie, nieuw GPMI",
    "LLEIND": "einde leefloon",
    "ART60": "tewerkstelling artikel 60",
    "ANDER": "andere",
}

#: leefloon categorie (RI category of the decision).
LEEFLOON_CATEGORIEEN = {
    "SAMENW": "samenwonend",
    "ALLEEN": "alleenstaand",
    "GEZIN": "met gezinslast",
}
#: taal of the client.
TALEN = {"NL": "Nederlands", "FR": "Frans", "DE": "Duits", "ANDER": "andere taal"}
#: status of a draft contract ("ontwerpcontract") waiting for the social worker's review.
ONTWERP_STATUSSEN = {
    "OPEN": "te beoordelen door de maatschappelijk werker",
    "GEACT": "geactiveerd: het contract staat in de contractenlijst",
    "VERW": "verworpen door de maatschappelijk werker",
}


def format_date(value: date | None) -> str | None:
    return None if value is None else value.strftime(DATE_FORMAT)


def format_timestamp(micros: int) -> str:
    """Vendor timestamp string for an integer count of microseconds since the epoch (UTC)."""
    return datetime.fromtimestamp(micros / 1_000_000, tz=UTC).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> int:
    """Inverse of :func:`format_timestamp`; also accepts ISO-8601 (``2026-11-22T10:00:00Z``)."""
    text = text.strip()
    try:
        moment = datetime.strptime(text, TIMESTAMP_FORMAT)
    except ValueError:
        try:
            moment = datetime.strptime(text, "%d-%m-%Y %H:%M:%S")
        except ValueError:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
