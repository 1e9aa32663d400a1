"""Realistic nightly export files for tests, the conformance kit and the benchmark.

Two export styles, built from the same deterministic synthetic dossiers as the REST simulator
(:mod:`piis_connectors.casesystem.seed`):

* CSV, Flemish package style: semicolon separated, Windows-1252 (or UTF-8 with BOM), dates
  ``dd/mm/yyyy``, amounts with a decimal comma, one contract per row, domains in one cell
  separated by commas.
* XML, Walloon package style: French element names and codes, one ``<contrat>`` per contract.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lxml import etree

__all__ = ["CSV_COLUMNS", "contract_element", "csv_row", "write_csv", "write_xml"]

CSV_COLUMNS = [
    "contractnr",
    "dossiernr",
    "rijksregisternr",
    "naam",
    "voornaam",
    "geboortedatum",
    "ocmw_kbo",
    "ocmw_nis",
    "ocmw_naam",
    "type",
    "orientatie",
    "status",
    "beslissing_id",
    "beslissingsdatum",
    "categorie",
    "leefloon_bedrag",
    "leefloon_vanaf",
    "startdatum",
    "einddatum",
    "ondertekend_op",
    "mw_code",
    "mw_naam",
    "domeinen",
    "premie",
    "premie_voorwaarden",
]
_CSV_TYPE = {
    "ALG": "ALGEMEEN",
    "STU": "STUDIE",
    "GDW": "GEMDIENST",
    "TEW": "TEWERK",
    "OPL": "OPLEIDING",
    "ACT": "ACTIVERING",
}
_CSV_STATUS = {
    "ONTW": "ONTWERP",
    "AANGEB": "AANGEBODEN",
    "ONDERT": "ONDERTEKEND",
    "LOP": "LOPEND",
    "GESCH": "GESCHORST",
    "BEEIND": "AFGESLOTEN",
}
_CAT = {"SAMENW": "1", "ALLEEN": "2", "GEZIN": "3"}
_CSV_DOMAIN = {
    "WERK": "werk",
    "OPLEID": "opleiding",
    "WONEN": "wonen",
    "GEZOND": "gezondheid",
    "FIN": "schulden",
    "ADMIN": "administratie",
    "SOCNET": "netwerk",
    "MOBIL": "mobiliteit",
    "VRIJE": "vrije tijd",
    "KIND": "kinderen",
    "JUR": "juridisch",
    "INKOM": "inkomen",
}
_XML_TYPE = {"ALG": "GEN", "STU": "ETU", "GDW": "SC", "TEW": "EMP", "OPL": "FOR", "ACT": "ACT"}
_XML_STATUS = {
    "ONTW": "BROUILLON",
    "AANGEB": "PROPOSE",
    "ONDERT": "SIGNE",
    "LOP": "ACTIF",
    "GESCH": "SUSPENDU",
    "BEEIND": "TERMINE",
}
_XML_DOMAIN = {
    "WERK": "EMPLOI",
    "OPLEID": "FORMATION",
    "WONEN": "LOGEMENT",
    "GEZOND": "SANTE",
    "FIN": "DETTES",
    "ADMIN": "ADMINISTRATION",
    "SOCNET": "RESEAU",
    "MOBIL": "MOBILITE",
    "VRIJE": "LOISIRS",
    "KIND": "ENFANTS",
    "JUR": "JURIDIQUE",
    "INKOM": "REVENUS",
}
_XML_MODE = {"PERS": "PRESENTIEL", "TEL": "TELEPHONE", "MAIL": "COURRIEL", "VIDEO": "VIDEO"}
_XML_LANG = {"NL": "NL", "FR": "FR", "DE": "DE", "ANDER": "AUTRE"}


def _slash(d: str | None) -> str:
    return "" if not d else d.replace("-", "/")


def csv_row(doc: dict[str, Any]) -> dict[str, str]:
    """A seeded vendor document as one CSV export row."""
    premie = doc.get("premie") or {}
    return {
        "contractnr": doc["contractnummer"],
        "dossiernr": doc["dossiernummer"],
        "rijksregisternr": doc["client"]["rijksregisternummer"],
        "naam": doc["client"]["naam"],
        "voornaam": doc["client"]["voornaam"],
        "geboortedatum": _slash(doc["client"]["geboortedatum"]),
        "ocmw_kbo": doc["ocmw"]["kbo"],
        "ocmw_nis": doc["ocmw"]["nis"],
        "ocmw_naam": doc["ocmw"]["naam"],
        "type": _CSV_TYPE[doc["gpmi_type"]],
        "orientatie": doc["orientatie"][0],
        "status": _CSV_STATUS[doc["status"]],
        "beslissing_id": doc["leefloon"]["beslissing_id"],
        "beslissingsdatum": _slash(doc["leefloon"]["beslissingsdatum"]),
        "categorie": _CAT[doc["leefloon"]["categorie"]],
        "leefloon_bedrag": doc["leefloon"]["bedrag_maand"],
        "leefloon_vanaf": _slash(doc["leefloon"]["vanaf"]),
        "startdatum": _slash(doc["startdatum"]),
        "einddatum": _slash(doc["einddatum"]),
        "ondertekend_op": _slash(doc.get("ondertekend_op")),
        "mw_code": doc["maatschappelijk_werker"]["code"],
        "mw_naam": doc["maatschappelijk_werker"]["naam"],
        "domeinen": ",".join(_CSV_DOMAIN[d] for d in doc["domeinen"]),
        "premie": premie.get("bedrag", ""),
        "premie_voorwaarden": premie.get("voorwaarden", ""),
    }


def write_csv(
    path: Path,
    rows: Iterable[dict[str, str]],
    encoding: str = "cp1252",
    columns: list[str] | None = None,
) -> Path:
    """Write rows as the vendor does: ``;``, CRLF, header in upper case, given encoding."""
    columns = columns or CSV_COLUMNS
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.upper() for c in columns])
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    Path(path).write_bytes(buf.getvalue().encode(encoding))
    return Path(path)


def _sub(parent: etree._Element, tag: str, text: str | None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = text or ""
    return el


def contract_element(doc: dict[str, Any]) -> etree._Element:
    """A seeded vendor document as one ``<contrat>`` element (French vocabulary)."""
    c = etree.Element("contrat")
    _sub(c, "numero", doc["contractnummer"])
    cpas = etree.SubElement(c, "cpas")
    _sub(cpas, "bce", doc["ocmw"]["kbo"])
    _sub(cpas, "ins", doc["ocmw"]["nis"])
    _sub(cpas, "nom", doc["ocmw"]["naam"].replace("OCMW", "CPAS"))
    ben = etree.SubElement(c, "beneficiaire")
    _sub(ben, "niss", doc["client"]["rijksregisternummer"])
    _sub(ben, "nom", doc["client"]["naam"])
    _sub(ben, "prenom", doc["client"]["voornaam"])
    _sub(ben, "naissance", _slash(doc["client"]["geboortedatum"]))
    _sub(ben, "langue", _XML_LANG[doc["client"]["taal"]])
    _sub(c, "type", _XML_TYPE[doc["gpmi_type"]])
    _sub(c, "orientation", "PRO" if doc["orientatie"] == "BEROEP" else "SOC")
    _sub(c, "statut", _XML_STATUS[doc["status"]])
    dec = etree.SubElement(c, "decision-ris")
    _sub(dec, "id", doc["leefloon"]["beslissing_id"])
    _sub(dec, "date", _slash(doc["leefloon"]["beslissingsdatum"]))
    _sub(dec, "categorie", _CAT[doc["leefloon"]["categorie"]])
    _sub(dec, "montant", doc["leefloon"]["bedrag_maand"])
    _sub(dec, "debut", _slash(doc["leefloon"]["vanaf"]))
    _sub(c, "debut", _slash(doc["startdatum"]))
    _sub(c, "fin", _slash(doc["einddatum"]))
    if doc.get("ondertekend_op"):
        _sub(c, "signature", _slash(doc["ondertekend_op"]))
    aso = etree.SubElement(c, "assistant-social")
    _sub(aso, "code", doc["maatschappelijk_werker"]["code"])
    _sub(aso, "nom", doc["maatschappelijk_werker"]["naam"])
    domains = etree.SubElement(c, "domaines")
    for d in doc["domeinen"]:
        _sub(domains, "domaine", _XML_DOMAIN[d])
    objectives = etree.SubElement(c, "objectifs")
    for goal in doc.get("doelen", []):
        o = etree.SubElement(objectives, "objectif")
        _sub(o, "id", goal["doel_id"])
        _sub(o, "texte", goal["omschrijving"])
        _sub(o, "domaine", _XML_DOMAIN[goal["domein"]])
    evaluations = etree.SubElement(c, "evaluations")
    for g in doc.get("gesprekken", []):
        e = etree.SubElement(evaluations, "evaluation")
        _sub(e, "id", g["gesprek_id"])
        _sub(e, "date", _slash(g["datum"]))
        _sub(e, "mode", _XML_MODE[g["type"]])
    return c


def write_xml(path: Path, elements: Iterable[etree._Element], encoding: str = "UTF-8") -> Path:
    root = etree.Element("export-piis", logiciel="acropole-like", version="1")
    for el in elements:
        root.append(el)
    Path(path).write_bytes(
        etree.tostring(root, xml_declaration=True, encoding=encoding, pretty_print=True)
    )
    return Path(path)
