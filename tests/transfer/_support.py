"""Shared builders for the transfer tests: two real CPAS, keys made with ``cryptography``, contracts
taken from the shipped examples and moved to another municipality."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from piis_bridge.model import Consent, Cpas, PIISContract, ResidencePeriod, load_file
from piis_bridge.transfer.envelope import SigningKey
from piis_bridge.transfer.package import (
    ConsentEvidence,
    PackageParty,
    TransferPackage,
    build_package,
)
from piis_bridge.transfer.service import draft_from_package

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHARLEROI = PackageParty(name="CPAS de Charleroi", ins_code="52011", bce="0212456724")
LIEGE = PackageParty(name="CPAS de Liège", ins_code="62063", bce="0212045562")
GENT = PackageParty(name="OCMW Gent", ins_code="44021", bce="0207567726")
MOVE_DATE = date(2026, 2, 10)


def example(name: str) -> PIISContract:
    return load_file(EXAMPLES / f"{name}.json").contracts[0]


def moved(contract: PIISContract, to: PackageParty, on: date) -> PIISContract:
    """The contract after the case system recorded a move to *to*'s municipality on *on*."""
    person = contract.beneficiary
    residences = [
        r.model_copy(update={"end_date": on.fromordinal(on.toordinal() - 1)})
        if r.end_date is None
        else r
        for r in person.residences
    ]
    residences.append(ResidencePeriod(ins_code=to.ins_code, municipality=to.name, start_date=on))
    return contract.model_copy(
        update={"beneficiary": person.model_copy(update={"residences": residences})}
    )


def new_key(bce: str) -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningKey.from_pem(bce, pem)


def consent(value: Consent = Consent.GIVEN) -> ConsentEvidence:
    return ConsentEvidence(
        consent=value,
        recorded_at=datetime(2026, 2, 3, 10, 0, tzinfo=UTC),
        recorded_by="D. Renard",
        channel="interview at the CPAS, signed form",
    )


def received_draft(
    name: str = "sanction-history", receiver: PackageParty = GENT, package_id: str = "a" * 32
) -> tuple[TransferPackage, PIISContract]:
    """A package Charleroi built for *receiver* from an example contract, and the draft it imports there."""
    contract = example(name)
    contract = contract.model_copy(
        update={
            "cpas": contract.cpas.model_copy(
                update={
                    "name": CHARLEROI.name,
                    "ins_code": CHARLEROI.ins_code,
                    "bce": CHARLEROI.bce,
                }
            )
        }
    )
    package = build_package(
        moved(contract, receiver, MOVE_DATE),
        transfer_id="trf-1",
        sender=CHARLEROI,
        receiver=receiver,
        residence_change_date=MOVE_DATE,
        legal_end_date=MOVE_DATE,
        consent=consent(),
        package_id=package_id,
    )
    return package, draft_from_package(
        package, Cpas(name=receiver.name, ins_code=receiver.ins_code, bce=receiver.bce)
    )
