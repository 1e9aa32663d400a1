"""The vendor's draft contract ("ontwerpcontract"): the document ``POST /api/v1/gpmi/ontwerpcontracten`` accepts.

Why a model of its own, in the connector: a draft is a contract document in the vendor's own
vocabulary (Dutch field names, ``dd-mm-jjjj`` dates, decimal-comma amounts, ``J``/``N``), shaped like
the contracts of the change feed so that, once a social worker activates it, it *is* a contract of
the feed.  The simulator validates every posted draft against this model and answers ``422`` naming
each field at fault; the neptunus plugin's reverse mapping (``mappings/neptunus/draft_contract.yaml``)
targets the same model, so a draft the plugin builds is checked by the same rules before it travels.

Nothing here knows the canonical model: a vendor does not.  The code lists come from
:mod:`piis_connectors.casesystem.vocab`, so a code the vendor does not know is refused here and
reported, never guessed.

A draft is never an active contract: ``status`` must be ``ONTW`` (ontwerp).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from piis_connectors.casesystem.vocab import (
    BIJLAGE_SOORTEN,
    CONTRACT_STATUSSEN,
    DOMEINEN,
    GESPREK_SOORTEN,
    GESPREK_TYPES,
    GPMI_TYPES,
    LEEFLOON_CATEGORIEEN,
    ORIENTATIES,
    PARTIJEN,
    SANCTIE_TYPES,
    STAP_STATUSSEN,
    TALEN,
    VERPLICHTINGSGRONDEN,
)
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from piis_bridge.identifiers import is_valid_niss

__all__ = ["Herkomst", "Ontwerpcontract", "validation_errors"]


def _codes(name: str, table: dict[str, str]) -> type[StrEnum]:
    """A StrEnum of the vendor's codes (value = code), so the mapping engine checks code lists against it."""
    return StrEnum(name, {code: code for code in table})  # type: ignore[return-value]


GpmiType = _codes("GpmiType", GPMI_TYPES)
Orientatie = _codes("Orientatie", ORIENTATIES)
Domein = _codes("Domein", DOMEINEN)
Partij = _codes("Partij", PARTIJEN)
StapStatus = _codes("StapStatus", STAP_STATUSSEN)
GesprekType = _codes("GesprekType", GESPREK_TYPES)
GesprekSoort = _codes("GesprekSoort", GESPREK_SOORTEN)
BijlageSoort = _codes("BijlageSoort", BIJLAGE_SOORTEN)
SanctieType = _codes("SanctieType", SANCTIE_TYPES)
Verplichtingsgrond = _codes("Verplichtingsgrond", VERPLICHTINGSGRONDEN)
LeefloonCategorie = _codes("LeefloonCategorie", LEEFLOON_CATEGORIEEN)
Taal = _codes("Taal", TALEN)
ContractStatus = _codes("ContractStatus", CONTRACT_STATUSSEN)

_DATUM = re.compile(r"^\d{2}-\d{2}-\d{4}$")
_BEDRAG = re.compile(r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+),\d{2}$")


def _datum(value: str) -> str:
    if not _DATUM.match(value):
        raise ValueError("verwacht een datum dd-mm-jjjj")
    try:
        datetime.strptime(value, "%d-%m-%Y")
    except ValueError:
        raise ValueError("geen bestaande datum") from None
    return value


def _bedrag(value: str) -> str:
    if not _BEDRAG.match(value):
        raise ValueError("verwacht een bedrag met decimale komma, bv. 1.314,20")
    return value


def _rijksregisternummer(value: str) -> str:
    if not is_valid_niss(value):  # the message never repeats the number
        raise ValueError("geen geldig rijksregisternummer (11 cijfers met een juist controlegetal)")
    return value


def _kbo(value: str) -> str:
    if not (len(value) == 10 and value.isdigit() and 97 - int(value[:8]) % 97 == int(value[8:])):
        raise ValueError("geen geldig KBO-nummer (10 cijfers met een juist controlegetal)")
    return value


Datum = Annotated[str, AfterValidator(_datum)]
Bedrag = Annotated[str, AfterValidator(_bedrag)]
JN = Literal["J", "N"]
Tekst = Annotated[str, Field(min_length=1)]
Kbo = Annotated[str, AfterValidator(_kbo)]
Nis = Annotated[str, Field(pattern=r"^\d{5}$")]


class _Doc(BaseModel):
    """Unknown fields are refused and inputs are never echoed (a rijksregisternummer stays out of errors)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Ocmw(_Doc):
    kbo: Kbo
    nis: Nis
    naam: Tekst


class Client(_Doc):
    rijksregisternummer: Annotated[str, AfterValidator(_rijksregisternummer)]
    naam: str | None = None
    voornaam: str | None = None
    geboortedatum: Datum
    taal: Taal | None = None  # type: ignore[valid-type]


class Leefloon(_Doc):
    beslissing_id: Tekst
    beslissingsdatum: Datum
    categorie: LeefloonCategorie  # type: ignore[valid-type]
    bedrag_maand: Bedrag
    vanaf: Datum


class Werker(_Doc):
    code: Tekst
    naam: Tekst


class Doel(_Doc):
    doel_id: Tekst
    domein: Domein | None = None  # type: ignore[valid-type]
    omschrijving: Tekst


class Stap(_Doc):
    stap_id: Tekst
    doel_id: str | None = None
    volgorde: int = Field(ge=1)
    domein: Domein | None = None  # type: ignore[valid-type]
    partij: Partij  # type: ignore[valid-type]
    omschrijving: Tekst
    status: StapStatus | None = None  # type: ignore[valid-type]
    deadline: Datum | None = None


class EvaluatieAfspraak(_Doc):
    methode: Tekst
    per_jaar: int | None = Field(default=None, ge=0)
    persoonlijk_per_jaar: int | None = Field(default=None, ge=0)


class Gesprek(_Doc):
    gesprek_id: Tekst
    datum: Datum
    type: GesprekType  # type: ignore[valid-type]
    soort: GesprekSoort | None = None  # type: ignore[valid-type]
    verslag: str | None = None
    ocmw_afspraken_nagekomen: JN | None = None


class Bijlage(_Doc):
    volgnummer: int = Field(ge=1)
    soort: BijlageSoort  # type: ignore[valid-type]
    datum: Datum
    reden: str | None = None


class Studies(_Doc):
    instelling: Tekst
    richting: Tekst
    voltijds: JN
    erkend: JN
    inschrijvingsbewijs_op: Datum | None = None


class Gemeenschapsdienst(_Doc):
    organisatie: Tekst
    vzw: JN
    vrijwilligers: JN
    verzekering_ok: JN | None = None
    uren_per_week: str | None = None
    activiteiten: Tekst
    vergoeding: Bedrag | None = None


class Premie(_Doc):
    bedrag: Bedrag
    frequentie: str | None = None
    voorwaarden: Tekst


class Sanctie(_Doc):
    sanctie_id: Tekst
    datum: Datum
    feiten: Tekst
    type: SanctieType  # type: ignore[valid-type]
    percentage: int | None = Field(default=None, ge=0, le=100)
    van: Datum
    tot: Datum


class Contactpersoon(_Doc):
    """A social worker of the OCMW the person comes from, to call about the hand-over."""

    naam: Tekst
    rol: str | None = None
    telefoon: str | None = None
    email: str | None = None
    bereikbaar: str | None = None


class LopendeSanctie(_Doc):
    """A sanction that continues here for the days it had left at the old OCMW."""

    sanctie_id: Tekst
    resterende_dagen: int = Field(ge=1)
    van: Datum
    tot: Datum


class Herkomst(_Doc):
    """Where a draft comes from: a hand-over by another OCMW after a move (overdracht)."""

    soort: Literal["OVERDRACHT"] = "OVERDRACHT"
    pakket_id: Tekst
    van_ocmw: Ocmw
    vorig_contractnummer: Tekst
    verhuisdatum: Datum
    einde_vorig_contract: Datum
    contactpersonen: list[Contactpersoon] = Field(default_factory=list)
    lopende_sancties: list[LopendeSanctie] = Field(default_factory=list)


class Ontwerpcontract(_Doc):
    """One draft GPMI contract, as the vendor stores it until a social worker activates or discards it."""

    contractnummer: Tekst
    dossiernummer: str | None = None
    ocmw: Ocmw
    client: Client
    gpmi_type: GpmiType  # type: ignore[valid-type]
    orientatie: Orientatie  # type: ignore[valid-type]
    status: Literal["ONTW"] = Field(description="A draft is never an active contract")
    verplichtingsgrond: Verplichtingsgrond | None = None  # type: ignore[valid-type]
    leefloon: Leefloon
    startdatum: Datum
    einddatum: Datum
    maatschappelijk_werker: Werker | None = None
    vervangers: list[Werker] = Field(default_factory=list)
    domeinen: list[Domein] = Field(default_factory=list)  # type: ignore[valid-type]
    doelen: list[Doel] = Field(default_factory=list)
    stappen: list[Stap] = Field(default_factory=list)
    evaluatie_afspraak: EvaluatieAfspraak | None = None
    gesprekken: list[Gesprek] = Field(default_factory=list)
    bijlagen: list[Bijlage] = Field(default_factory=list)
    studies: Studies | None = None
    gemeenschapsdienst: Gemeenschapsdienst | None = None
    premie: Premie | None = None
    sancties: list[Sanctie] = Field(default_factory=list)
    herkomst: Herkomst | None = None
    toelichting: str | None = Field(
        default=None, description="Note for the social worker who reviews the draft"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Ontwerpcontract:
        problems: list[tuple[str, str]] = []
        start = datetime.strptime(self.startdatum, "%d-%m-%Y")
        if datetime.strptime(self.einddatum, "%d-%m-%Y") < start:
            problems.append(("einddatum", "ligt voor de startdatum"))
        goals = {d.doel_id for d in self.doelen}
        for i, stap in enumerate(self.stappen):
            if stap.doel_id is not None and stap.doel_id not in goals:
                problems.append((f"stappen[{i}].doel_id", "verwijst naar een onbekend doel"))
        if problems:
            raise ValueError("; ".join(f"{where}: {why}" for where, why in problems))
        return self


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(ontwerp)"


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    """``[{"veld": path, "melding": why}]`` for a refused draft; never the refused value itself."""
    errors: list[dict[str, str]] = []
    for item in exc.errors(include_input=False, include_url=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        if not item["loc"] and ": " in message:  # the model-level checks name their own fields
            for part in message.split("; "):
                where, _, why = part.partition(": ")
                errors.append({"veld": where, "melding": why})
            continue
        errors.append({"veld": _loc(item["loc"]), "melding": message})
    return errors
