"""HTTP client for the simulator's JSON admin API (tests and the demo; never used by production code)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from piis_bridge.urls import segment

__all__ = ["SimulatorAdmin"]


class SimulatorAdmin:
    def __init__(self, base_url: str) -> None:
        import httpx

        self._http = httpx.Client(base_url=base_url, timeout=30.0)

    def close(self) -> None:
        self._http.close()

    def _post(self, name: str, body: dict[str, Any]) -> Any:
        response = self._http.post(f"/admin/{segment(name)}", json=body)
        response.raise_for_status()
        return response.json()

    def _get(self, name: str) -> Any:
        response = self._http.get(f"/admin/{segment(name)}")
        response.raise_for_status()
        return response.json()

    def set_clock(self, now: datetime | date) -> str:
        if not isinstance(now, datetime):
            now = datetime.combine(now, datetime.min.time().replace(hour=9))
        return self._post("clock", {"now": now.isoformat()})["now"]

    def clock(self) -> str:
        return self._get("clock")["now"]

    def register_cpas(
        self,
        kbo: str,
        ins: str,
        name: str = "CPAS",
        rate: int = 5500,
        rates: list[dict[str, Any]] | None = None,
    ) -> None:
        self._post(
            "cpas", {"kbo": kbo, "ins": ins, "name": name, "rate": rate, "rates": rates or []}
        )

    def set_beneficiaries(self, kbo: str, averages: dict[int, float]) -> dict[int, int]:
        """Average number of RI beneficiaries per month, by year: the simulator derives the CPAS's tier rate of
        each following year from them (federal.md 5.5: 55/65/70 %, +5 % to enter, -1 point a year, 3 %)."""
        rates = self._post(
            "tiers", {"kbo": kbo, "averages": {str(y): a for y, a in averages.items()}}
        )["rates"]
        return {int(y): r for y, r in rates.items()}

    def rates(self, kbo: str | None = None) -> list[dict[str, Any]]:
        """The dated table of tier rates (``since``, ``rate`` in hundredths of %, ``source`` 'tier' when derived)."""
        response = self._http.get("/admin/rates", params={"kbo": kbo} if kbo else None)
        response.raise_for_status()
        return response.json()

    def integrate(
        self,
        kbo: str,
        ssin: str,
        start: str = "2002-10-01",
        end: str | None = None,
        purpose: int = 2,
    ) -> None:
        self._post(
            "integrations",
            {"kbo": kbo, "ssin": ssin, "start": start, "end": end, "purpose": purpose},
        )

    def integrate_many(
        self, kbo: str, ssins: list[str], start: str = "2002-10-01", purpose: int = 2
    ) -> int:
        """Bulk integration (load tests); the real path is OCMWCPASManageAccess, one NISS per call."""
        return self._post(
            "integrations", {"kbo": kbo, "ssins": ssins, "start": start, "purpose": purpose}
        )["count"]

    def mutate(
        self,
        ssin: str,
        kind: str,
        on: date,
        new_ssin: str | None = None,
        *,
        new_ins: str | None = None,
        new_municipality: str | None = None,
    ) -> int:
        """A National Register mutation: ``death``, ``emigration``, ``replaced`` (``new_ssin``) or ``move``
        (``new_ins`` + ``new_municipality``, required).  Returns the number of forms affected."""
        return self._post(
            "mutations",
            {
                "ssin": ssin,
                "kind": kind,
                "date": on.isoformat(),
                "new_ssin": new_ssin,
                "new_ins": new_ins,
                "new_municipality": new_municipality,
            },
        )["affected"]

    def inject_fault(self, kind: str, count: int = 1, delay: float = 0.0) -> None:
        self._post("faults", {"kind": kind, "count": count, "delay": delay})

    def clear_faults(self) -> None:
        self._http.delete("/admin/faults").raise_for_status()

    def configure(self, **settings: Any) -> None:
        self._post("config", settings)

    def forms(self) -> list[dict[str, Any]]:
        return self._get("forms")

    def stats(self) -> dict[str, Any]:
        """Counts of forms and integrations, and the calls received since start (``calls``: SSDN messages,
        ManageAccess actions)."""
        return self._get("stats")

    def attestations(self, ssin: str, *, include_pending: bool = False) -> list[dict[str, Any]]:
        """A person's multifunctional attestations visible today (all of them with ``include_pending``)."""
        response = self._http.get(
            "/admin/attestations",
            params={"ssin": ssin, **({"all": "1"} if include_pending else {})},
        )
        response.raise_for_status()
        return response.json()

    def notices(self) -> list[dict[str, Any]]:
        return self._get("notices")

    def ebox_statement(self, kbo: str, month: str) -> str | None:
        response = self._http.get(f"/ebox/{segment(kbo)}/{segment(month)}/statement.txt")
        return None if response.status_code == 404 else response.text

    def ebox_reception(self, kbo: str, month: str) -> str | None:
        response = self._http.get(f"/ebox/{segment(kbo)}/{segment(month)}/reception.csv")
        return None if response.status_code == 404 else response.text
