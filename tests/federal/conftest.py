"""Helpers for the federal tests: valid identifiers, form field sets, a client bound to the simulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

KBO = "0212344876"  # checksum-valid BCE
KBO2 = "0207446574"
INS = "62063"
INS2 = "21004"
CLOCK = datetime(2025, 4, 10, 9, 0)


def niss(yymmdd: str = "850730", counter: int = 33) -> str:
    base = int(f"{yymmdd}{counter:03d}")
    if yymmdd.startswith(("0", "1", "2")) and int(yymmdd[:2]) < 25:
        check = 97 - int(f"2{yymmdd}{counter:03d}") % 97
    else:
        check = 97 - base % 97
    return f"{yymmdd}{counter:03d}{check:02d}"


def b_fields(
    ref: str,
    ssin: str,
    *,
    kbo: str = KBO,
    ins: str = INS,
    dossier: str = "D-0001",
    entry: date = date(2025, 3, 1),
    **over: Any,
) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        ClientReference=ref,
        CpasName="Liège",
        InsCode=ins,
        KBOBCE=kbo,
        SSIN=ssin,
        Dossier=dossier,
        EntryDate=entry,
        NoticeStatus=0,
        Category=2,
        DecisionDate=date(2025, 2, 20),
        MonthlyAmount=120000,
        PiisApplicant=11,
        ForeignersRegister=False,
        HomelessFirstHome=False,
    )
    fields.update(over)
    return fields


def c_fields(
    ref: str, ssin: str, *, entry: date, dossier: str = "D-0001", **over: Any
) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        ClientReference=ref,
        CpasName="Liège",
        InsCode=INS,
        KBOBCE=KBO,
        SSIN=ssin,
        Dossier=dossier,
        EntryDate=entry,
        DecisionDate=entry,
        DecisionNature="2",
        Regularisation="0",
    )
    fields.update(over)
    return fields


def d_fields(
    ref: str, ssin: str, *, seq: int = 1, dossier: str = "D-0001", **over: Any
) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        ClientReference=ref,
        CpasName="Liège",
        InsCode=INS,
        KBOBCE=KBO,
        SSIN=ssin,
        Dossier=dossier,
        RecoveryMonth="2025-04",
        SequenceNumber=seq,
        RecoveryType="01",
        PeriodStart=date(2025, 3, 1),
        PeriodEnd=date(2025, 3, 31),
        Amount=20000,
        Correction="0",
    )
    fields.update(over)
    return fields


@pytest.fixture
def sim(federal_simulator: Any) -> Any:
    federal_simulator.admin.register_cpas(KBO, INS, "Liège", 6500)
    federal_simulator.admin.register_cpas(KBO2, INS2, "Anderlecht", 5500)
    federal_simulator.admin.set_clock(CLOCK)
    return federal_simulator


def make_client(sim: Any, kbo: str = KBO, **kwargs: Any) -> Any:
    from piis_connectors.federal.client import ClientConfig, FederalClient
    from piis_connectors.federal.envelope import AuthorizedUser

    kwargs.setdefault("operation_timeout", 10.0)
    kwargs.setdefault("backoff", 0.01)
    return FederalClient(
        ClientConfig(
            endpoint=sim.endpoint, user=AuthorizedUser("00000000097", "it@cpas.be", kbo), **kwargs
        )
    )


@pytest.fixture
def client(sim: Any) -> Iterator[Any]:
    c = make_client(sim)
    yield c
    c.close()
