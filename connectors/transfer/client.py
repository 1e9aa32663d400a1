"""Deliver a signed package to another bridge, with retries.

Why retries are safe here: the receiver keys its import on the package id, so the same envelope
delivered twice is imported once (it answers ``duplicate``).  Transport errors, ``429`` and
``5xx`` are retried with exponential backoff (``Retry-After`` honoured, capped); ``200`` and
``422`` carry a signed answer and end the delivery; any other status is a permanent error.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

import httpx
from piis_connectors.transfer.server import PACKAGES_PATH

__all__ = ["DeliveryError", "DeliveryResult", "TransferClient"]

_RETRY_STATUSES = {429, 500, 502, 503, 504}
_MAX_RETRY_AFTER = 60.0


class DeliveryError(RuntimeError):
    """Delivery failed; ``permanent`` says whether trying again later can help."""

    def __init__(self, message: str, *, permanent: bool, attempts: int) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.attempts = attempts


@dataclass(frozen=True)
class DeliveryResult:
    http_status: int
    ack: str
    attempts: int


class TransferClient:
    """One destination bridge.  ``tls``: a context from :func:`client_tls_context` (mutual TLS)."""

    def __init__(
        self,
        base_url: str,
        *,
        tls: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        sleep=time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=timeout,
            verify=tls if tls is not None else True,
            headers={"User-Agent": "piis-bridge-transfer/1"},
        )

    def send(self, envelope: str, path: str = PACKAGES_PATH) -> DeliveryResult:
        """POST one envelope to *path* (packages by default, or ``ASSESSMENTS_PATH``)."""
        url = self.base_url + path
        last = ""
        for attempt in range(1, self.retries + 2):
            try:
                response = self._http.post(
                    url,
                    content=envelope.encode("ascii"),
                    headers={"Content-Type": "application/jose"},
                )
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                wait = self.backoff * 2 ** (attempt - 1)
            else:
                if response.status_code in (200, 422):
                    return DeliveryResult(response.status_code, response.text, attempt)
                if response.status_code not in _RETRY_STATUSES:
                    raise DeliveryError(
                        f"{url} answered HTTP {response.status_code}",
                        permanent=True,
                        attempts=attempt,
                    )
                last = f"HTTP {response.status_code}"
                wait = self._retry_after(response) or self.backoff * 2 ** (attempt - 1)
            if attempt <= self.retries:
                self._sleep(wait)
        raise DeliveryError(
            f"{url}: no answer after {self.retries + 1} attempts ({last})",
            permanent=False,
            attempts=self.retries + 1,
        )

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        try:
            return min(float(response.headers.get("Retry-After", "")), _MAX_RETRY_AFTER)
        except ValueError:
            return None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TransferClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
