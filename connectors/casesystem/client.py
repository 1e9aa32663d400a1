"""HTTP client for the NeptunusWeb-like REST API.

Why its own small HTTP/1.1 transport (:mod:`.http11`) and not httpx (the project's usual REST client) or
urllib3: the nightly push sends one request per federal answer (the vendor API has no bulk endpoint), so
the client's own CPU per request is a large part of the push.  Measured against the simulator on
loopback (one PUT of a federal status, one thread, keep-alive): httpx 0.29 ~600-770 us of client CPU per
request, urllib3 2.8 ~260-310 us, http.client alone ~150 us, :mod:`.http11` ~30-35 us (its docstring
says what it does and does not do).  One keep-alive connection pool per client, shared by threads, no
retries inside the transport (the rules below are ours).

Why these retry rules: a nightly sync must survive a vendor's bad night without ever sending a
write twice or hammering a service that asked it to slow down.

* 429: wait exactly ``Retry-After`` seconds (capped by ``max_retry_after``), then retry; these waits
  do not use up the error-retry budget, but are bounded by ``max_rate_limit_waits``.
* 5xx and transport errors (connect/read timeouts, resets): exponential back-off with jitter, at
  most ``max_retries`` times.  Writes are retried too, because every write carries an
  ``Idempotency-Key`` the vendor de-duplicates on.
* 401: the token is refreshed once and the request replayed (tokens expire or are revoked).
* Any other 4xx is a caller error and raises :class:`CaseSystemError` at once.

Exceptions::

    CaseSystemError            any failure talking to the case system
     ├── CaseSystemHTTPError   the vendor answered with an error status (after retries)
     └── CaseSystemUnavailable transport errors or 5xx persisted beyond the retry budget
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
from piis_connectors.casesystem.http11 import ConnectionPool, Response, TransportError

from piis_bridge.logging import mask_text
from piis_bridge.urls import segment

__all__ = [
    "CaseSystemClient",
    "CaseSystemError",
    "CaseSystemHTTPError",
    "CaseSystemUnavailable",
    "FeedPage",
]


class CaseSystemError(Exception):
    """Talking to the case system failed."""


class CaseSystemHTTPError(CaseSystemError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"case system answered {status} {code}: {message}")
        self.status, self.code = status, code


class CaseSystemUnavailable(CaseSystemError):
    """5xx or transport errors persisted beyond the retry budget."""


@dataclass(frozen=True)
class FeedPage:
    """One page of the change feed: raw vendor documents, the cursor after them, and more-to-come."""

    items: list[dict[str, Any]]
    cursor: str | None
    has_more: bool


class CaseSystemClient:
    """One instance per CPAS, shareable between threads; reuses one HTTP/1.1 connection pool."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        max_rate_limit_waits: int = 50,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int = 10,
    ) -> None:
        base = base_url.rstrip("/")
        self._prefix = urlsplit(base).path  # a vendor may serve the API under a path
        # A thread finding every pooled connection busy opens one more rather than waiting (it is closed
        # instead of pooled afterwards); no retries inside: see the module doc.
        self._http = ConnectionPool(
            base, maxsize=pool_size, connect_timeout=min(timeout, 10.0), read_timeout=timeout
        )
        self._headers = {"Accept": "application/json", "User-Agent": "piis-bridge-neptunus/1"}
        self._client_id, self._secret = client_id, client_secret
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()  # one refresh at a time when threads share the client
        self.max_retries, self.backoff, self.max_backoff = max_retries, backoff, max_backoff
        self.max_retry_after, self.max_rate_limit_waits = max_retry_after, max_rate_limit_waits
        self._sleep = sleep
        self._rng = random.Random()
        #: counters a run report or a test can read: requests, retries, rate_limited, token_refreshes
        self.stats: dict[str, int] = {
            "requests": 0,
            "retries": 0,
            "rate_limited": 0,
            "token_refreshes": 0,
        }

    # -- public API ---------------------------------------------------------------------------

    def fetch_changes(
        self,
        cursor: str | None,
        page_size: int = 100,
        *,
        modified_since: str | None = None,
        ocmw: str | None = None,
    ) -> FeedPage:
        """One page of contracts changed after *cursor* (keyset position; None = from the start)."""
        params: dict[str, Any] = {"limiet": page_size}
        if cursor:
            params["na"] = cursor
        if modified_since:
            params["gewijzigd_sinds"] = modified_since
        if ocmw:
            params["ocmw"] = ocmw
        body = self._json("GET", "/api/v1/gpmi/contracten", params=params)
        return FeedPage(
            items=body["items"], cursor=body.get("volgende"), has_more=bool(body.get("meer"))
        )

    def get_contract(
        self, contract_id: str, etag: str | None = None, *, ocmw: str | None = None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The contract and its ETag; ``(None, etag)`` when *etag* still matches (304).

        With *ocmw* (a KBO number) a contract of another OCMW answers 404, as the feed would not serve it.
        An unknown contract raises :class:`CaseSystemHTTPError` with status 404.
        """
        headers = {"If-None-Match": etag} if etag else {}
        params = {"ocmw": ocmw} if ocmw else None
        response = self._request(
            "GET",
            f"/api/v1/gpmi/contracten/{segment(contract_id)}",
            headers=headers,
            params=params,
            route="GET /api/v1/gpmi/contracten/{id}",
        )
        if response.status == 304:
            return None, etag
        return orjson.loads(response.data), response.headers.get("ETag")

    def create_task(self, key: str, task: dict[str, Any]) -> tuple[int, bool]:
        """Create a task once per *key*; returns (vendor task id, created? False = duplicate)."""
        response = self._request(
            "POST", "/api/v1/taken", json=task, headers={"Idempotency-Key": key}
        )
        body = orjson.loads(response.data)
        return int(body["id"]), bool(body["nieuw"])

    def create_draft_contract(self, key: str, draft: dict[str, Any]) -> tuple[int, bool]:
        """Create a draft contract ("ontwerpcontract") once per *key*; returns (vendor draft id, created?).

        The vendor keeps it apart from the contracts until a social worker activates it.  A malformed
        draft raises :class:`CaseSystemHTTPError` 422 whose message names every field at fault; a
        contract number already in use raises 409.
        """
        response = self._request(
            "POST", "/api/v1/gpmi/ontwerpcontracten", json=draft, headers={"Idempotency-Key": key}
        )
        body = orjson.loads(response.data)
        return int(body["id"]), bool(body["nieuw"])

    def get_draft_contract(self, draft_id: int) -> dict[str, Any]:
        """One draft with its review status (``OPEN``, ``GEACT``, ``VERW``) and the document (``ontwerp``)."""
        return self._json(
            "GET",
            f"/api/v1/gpmi/ontwerpcontracten/{segment(int(draft_id))}",
            route="GET /api/v1/gpmi/ontwerpcontracten/{id}",
        )

    def list_draft_contracts(self, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else None
        return list(self._json("GET", "/api/v1/gpmi/ontwerpcontracten", params=params)["items"])

    def put_federal_status(
        self, key: str, contract_id: str, status: dict[str, Any], if_match: str | None = None
    ) -> tuple[int, bool]:
        headers = {"Idempotency-Key": key}
        if if_match:
            headers["If-Match"] = if_match
        response = self._request(
            "PUT",
            f"/api/v1/gpmi/contracten/{segment(contract_id)}/federale-status",
            json=status,
            headers=headers,
            route="PUT /api/v1/gpmi/contracten/{id}/federale-status",
        )
        body = orjson.loads(response.data)
        return int(body["id"]), bool(body["nieuw"])

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CaseSystemClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------------

    def _fetch_token(self) -> None:
        """Client-credentials token; 5xx, 429 and transport errors are retried like any request."""
        attempt = 0
        while True:
            try:
                response = self._send(
                    "POST",
                    "/oauth/token",
                    body=b"grant_type=client_credentials",
                    headers={
                        "Authorization": "Basic "
                        + base64.b64encode(
                            f"{self._client_id}:{self._secret}".encode("latin-1")
                        ).decode(),
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
            except TransportError as exc:
                attempt += 1
                if attempt > self.max_retries:
                    raise CaseSystemUnavailable(
                        f"token request failed: {type(exc).__name__}"
                    ) from exc
                self._backoff(attempt)
                continue
            if response.status == 429 or response.status >= 500:
                attempt += 1
                if attempt > self.max_retries:
                    raise CaseSystemUnavailable(
                        f"token request: HTTP {response.status} after {attempt} attempts"
                    )
                if "Retry-After" in response.headers:
                    self._sleep(self._retry_after(response))
                else:
                    self._backoff(attempt)
                continue
            if response.status != 200:
                raise CaseSystemHTTPError(response.status, "token", "client credentials refused")
            break
        body = orjson.loads(response.data)
        self._token = body["access_token"]
        # Refresh a little before the vendor's expiry so a long page never carries a dead token.
        self._token_expires = time.monotonic() + max(1.0, float(body.get("expires_in", 300)) * 0.9)
        self.stats["token_refreshes"] += 1

    def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        return orjson.loads(self._request(method, url, **kwargs).data)

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """One HTTP exchange on the pool (the whole body read, the connection back in the pool)."""
        path = self._prefix + url
        if params:
            path += "?" + urlencode(params)
        sent = {**self._headers, **(headers or {})}
        if json is not None:
            body = orjson.dumps(json)
            sent["Content-Type"] = "application/json"
        return self._http.request(method, path, body=body, headers=sent)

    def _request(
        self, method: str, url: str, *, route: str | None = None, **kwargs: Any
    ) -> Response:
        """One request with retries.  Error texts name the *route* (the path template), never the
        path itself: it holds a record id, which vendors often build from a NISS."""
        where = route or f"{method} {url}"
        errors = 0
        waits = 0
        refreshed = False
        while True:
            if self._token is None or time.monotonic() >= self._token_expires:
                with self._token_lock:
                    if self._token is None or time.monotonic() >= self._token_expires:
                        self._fetch_token()
            headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self._token}"}
            kwargs["headers"] = headers
            self.stats["requests"] += 1
            try:
                response = self._send(method, url, **kwargs)
            except TransportError as exc:
                errors += 1
                if errors > self.max_retries:
                    raise CaseSystemUnavailable(
                        f"{where}: {type(exc).__name__} after {errors} attempts"
                    ) from exc
                self._backoff(errors)
                continue
            status = response.status
            if status < 400 or status == 304:
                return response
            if status == 401 and not refreshed:
                refreshed = True
                self._token = None
                continue
            if status == 429:
                waits += 1
                self.stats["rate_limited"] += 1
                if waits > self.max_rate_limit_waits:
                    raise CaseSystemUnavailable(f"{where}: still rate limited after {waits} waits")
                self._sleep(self._retry_after(response))
                continue
            if status >= 500:
                errors += 1
                if errors > self.max_retries:
                    raise CaseSystemUnavailable(f"{where}: HTTP {status} after {errors} attempts")
                retry_after = response.headers.get("Retry-After")
                if retry_after is not None:
                    self.stats["retries"] += 1
                    self._sleep(self._retry_after(response))
                else:
                    self._backoff(errors)
                continue
            try:
                body = orjson.loads(response.data)
                code, message = str(body.get("fout", status)), str(body.get("melding", ""))
            except (ValueError, AttributeError):
                code, message = str(status), response.data.decode("utf-8", "replace")[:200]
            raise CaseSystemHTTPError(
                status, code, mask_text(message)
            )  # vendors echo ids and values

    def _retry_after(self, response: Response) -> float:
        raw = response.headers.get("Retry-After", "1")
        try:
            delay = float(raw)
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                delay = parsedate_to_datetime(raw).timestamp() - time.time()
            except (TypeError, ValueError):
                delay = 1.0
        return min(max(delay, 0.0), self.max_retry_after)

    def _backoff(self, attempt: int) -> None:
        self.stats["retries"] += 1
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        self._sleep(delay * (0.5 + self._rng.random() / 2))
