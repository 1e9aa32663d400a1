from __future__ import annotations

from pathlib import Path

import pytest

from piis_bridge.db import Base, make_engine, make_sessionmaker
from piis_bridge.transfer import TransferService, TrustList
from tests.transfer._support import CHARLEROI, LIEGE, new_key


def make_service(tmp: Path, name: str, party, keys, trusted) -> TransferService:
    engine = make_engine(f"sqlite:///{tmp / f'{name}.sqlite3'}")
    Base.metadata.create_all(engine)
    trust = TrustList({p.bce: keys[p.bce].public_pem() for p in trusted})
    return TransferService(
        make_sessionmaker(engine),
        cpas_id=name,
        party=party,
        signing_key=keys[party.bce],
        trust=trust,
    )


@pytest.fixture(scope="session")
def cpas_keys():
    return {p.bce: new_key(p.bce) for p in (CHARLEROI, LIEGE)}


@pytest.fixture
def charleroi(tmp_path, cpas_keys) -> TransferService:
    return make_service(tmp_path, "charleroi", CHARLEROI, cpas_keys, [LIEGE])


@pytest.fixture
def liege(tmp_path, cpas_keys) -> TransferService:
    return make_service(tmp_path, "liege", LIEGE, cpas_keys, [CHARLEROI])
