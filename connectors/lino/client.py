"""httpx client for Lino's web API, used with a technical user (a Lino user account of its own).

What Lino's API is: the URLs its own web front ends call.  ``/restful/<app>/<Table>`` lists rows
as dicts (``limit``, ``start``, ``sort``, ``dir``, ``filter`` = a JSON list of grid filters),
creates a row (POST, form field ``rows`` = JSON) and changes one (PUT ``/restful/<app>/<Table>/<pk>``);
``/api/<app>/<Table>/<pk>?fmt=json`` returns one record's detail; a session is opened with
``POST /api/about/About`` and ``an=sign_in``.  Writes need Django's CSRF token (cookie
``csrftoken``, sent back as ``X-CSRFToken``).

Why the session is checked, not trusted: Lino answers many GETs of an *anonymous* visitor with
data (a configuration hole CPAS must close at their reverse proxy, see docs/lino.md), so an expired
session does not fail loudly, it silently reads as someone else.  The client therefore re-checks
that its session still belongs to its user every ``session_check_interval`` seconds and after any
401/403, and signs in again when not.

Retry rules: transport errors and 5xx are retried with exponential back-off and jitter, at most
``max_retries`` times, then :class:`LinoUnavailable`.  A write (POST/PUT) is retried only when the
request certainly never reached Lino (connection refused); otherwise a retry could create a second
task, since Lino has no idempotency key; the caller looks its key up before writing again.

Privacy: Lino rows carry national register numbers.  No exception text of this module contains a
response body or a request parameter; ids in URLs are percent-encoded.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

from piis_bridge.logging import get_logger, redact

__all__ = [
    "LinoAuthError",
    "LinoClient",
    "LinoError",
    "LinoHTTPError",
    "LinoUnavailable",
    "grid_filter",
    "lino_date",
]

_log = get_logger("piis_connectors.lino")


class LinoError(Exception):
    """Talking to Lino failed."""


class LinoHTTPError(LinoError):
    """Lino answered with an error status (not retried: a caller error or a refusal)."""

    def __init__(self, status: int, what: str) -> None:
        super().__init__(f"Lino answered {status} to {what}")
        self.status = status


class LinoUnavailable(LinoError):
    """Transport errors or 5xx persisted beyond the retry budget."""


class LinoAuthError(LinoError):
    """The technical user could not sign in (wrong user or password, user disabled)."""


def lino_date(value: date) -> str:
    """Lino's date format in filters and forms (dd.mm.yyyy)."""
    return value.strftime("%d.%m.%Y")


def grid_filter(
    field: str, value: Any, comparison: str = "eq", kind: str = "numeric"
) -> dict[str, Any]:
    """One grid filter of the ``filter`` parameter (``numeric``: eq, gt, lt, gte, lte)."""
    return {"type": kind, "field": field, "comparison": comparison, "value": value}


def _q(part: Any) -> str:
    return quote(str(part), safe="")


class LinoClient:
    """One per CPAS and Lino site, shareable between threads (one session, one connection pool)."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 20.0,
        session_check_interval: float = 300.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.max_retries = max_retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.session_check_interval = session_check_interval
        self._sleep = sleep
        self._lock = threading.RLock()
        self._checked_at: float | None = None
        self.logins = 0
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "piis-bridge-lino"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LinoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------------

    def _delay(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff * 2**attempt) * (0.5 + random.random() / 2)

    def _send(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        write: bool = False,
    ) -> httpx.Response:
        """One request with retries (see the module doc); raises LinoUnavailable/LinoHTTPError."""
        headers = {}
        if write:
            token = self._http.cookies.get("csrftoken")
            if token:
                headers["X-CSRFToken"] = token
            headers["Referer"] = self.base_url + "/"
        attempt = 0
        while True:
            try:
                if method == "PUT":  # Lino reads a PUT's body as a form
                    resp = self._http.request(
                        method,
                        path,
                        params=params,
                        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
                        content=httpx.QueryParams(data or {}).__str__().encode(),
                    )
                else:
                    resp = self._http.request(
                        method, path, params=params, data=data, headers=headers
                    )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError)
                if (write and sent) or attempt >= self.max_retries:
                    raise LinoUnavailable(
                        f"Lino unreachable for {what}: {type(exc).__name__}"
                        + (
                            " (a write may have reached Lino: not retried)"
                            if write and sent
                            else ""
                        )
                    ) from None
                _log.warning(
                    "lino transport error, retrying",
                    what=what,
                    attempt=attempt + 1,
                    error=type(exc).__name__,
                )
            else:
                if resp.status_code < 500:
                    return resp
                if write or attempt >= self.max_retries:
                    raise LinoUnavailable(
                        f"Lino answered {resp.status_code} to {what}"
                        + (" (a write: not retried)" if write else f" after {attempt + 1} attempts")
                    )
                _log.warning(
                    "lino server error, retrying",
                    what=what,
                    attempt=attempt + 1,
                    status=resp.status_code,
                )
            self._sleep(self._delay(attempt))
            attempt += 1

    # -- session -----------------------------------------------------------------------------------

    def login(self) -> None:
        """Open a new session for the technical user (GET a page for the CSRF cookie, then sign in)."""
        with self._lock:
            self._http.cookies.clear()
            self._send("GET", "/", "the start page (CSRF cookie)")
            resp = self._send(
                "POST",
                "/api/about/About",
                "sign in",
                write=True,
                data={"an": "sign_in", "username": self.username, "password": self._password},
            )
            body = _json(resp)
            if resp.status_code != 200 or not body.get("success"):
                raise LinoAuthError(
                    f"Lino refused the sign-in of user {self.username!r} (status "
                    f"{resp.status_code}); check the user name and password settings"
                )
            if self.whoami() != self.username:
                raise LinoAuthError(
                    f"Lino did not keep the session of user {self.username!r} after sign-in"
                )
            self.logins += 1
            self._checked_at = time.monotonic()
            _log.info("lino session opened", user=self.username, url=self.base_url)

    def whoami(self) -> str | None:
        """The user name of the current session, None for an anonymous visitor."""
        resp = self._send("GET", "/restful/users/Me", "the session's user", params={"limit": 1})
        if resp.status_code != 200:
            return None
        rows = _json(resp).get("rows") or []  # an anonymous visitor gets no row
        name = rows[0].get("username") if rows and isinstance(rows[0], dict) else None
        return str(name) if name else None

    def ensure_session(self, force: bool = False) -> None:
        """Sign in when there is no session, or it is older than the check interval and lost."""
        with self._lock:
            now = time.monotonic()
            if (
                not force
                and self._checked_at is not None
                and now - self._checked_at < self.session_check_interval
            ):
                return
            if self._checked_at is not None and not force and self.whoami() == self.username:
                self._checked_at = now
                return
            self.login()

    def expire_session(self) -> None:
        """Forget the session cookie (tests; what a server-side logout looks like to the client)."""
        with self._lock:
            self._http.cookies.delete("sessionid")
            self._checked_at = None

    def _call(self, method: str, path: str, what: str, **kw: Any) -> httpx.Response:
        self.ensure_session()
        resp = self._send(method, path, what, **kw)
        if resp.status_code in (
            401,
            403,
        ):  # session lost or CSRF token rotated: once more, signed in again
            _log.info("lino session renewed", status=resp.status_code, what=what)
            self.ensure_session(force=True)
            resp = self._send(method, path, what, **kw)
        return resp

    # -- reading -----------------------------------------------------------------------------------

    def list_rows(
        self,
        app: str,
        table: str,
        *,
        filters: list[dict[str, Any]] | None = None,
        sort: str = "id",
        direction: str = "ASC",
        start: int = 0,
        limit: int = 100,
        params: dict[str, Any] | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """One page of ``/restful/<app>/<Table>``: (total count, rows)."""
        what = f"list {app}.{table}"
        query: dict[str, Any] = {
            "start": start,
            "limit": limit,
            "sort": sort,
            "dir": direction,
            **(params or {}),
        }
        if filters:
            query["filter"] = json.dumps(filters)
        resp = self._call("GET", f"/restful/{_q(app)}/{_q(table)}", what, params=query)
        if resp.status_code != 200:
            raise LinoHTTPError(resp.status_code, what)
        body = _json(resp)
        rows = body.get("rows")
        if not isinstance(rows, list):
            raise LinoError(f"Lino's answer to {what} has no rows")
        return int(body.get("count") or 0), rows

    def iter_rows(
        self,
        app: str,
        table: str,
        *,
        filters: list[dict[str, Any]] | None = None,
        page_size: int = 200,
        params: dict[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every row, by ascending id, keyset-paged (``id > last``) so inserts never shift a page."""
        last: Any = None
        while True:
            page_filters = list(filters or []) + (
                [grid_filter("id", last, "gt")] if last is not None else []
            )
            _, rows = self.list_rows(
                app, table, filters=page_filters, limit=page_size, params=params
            )
            yield from rows
            if len(rows) < page_size:
                return
            last = rows[-1]["id"]

    def get_row(self, app: str, table: str, pk: int | str) -> dict[str, Any] | None:
        """The list row of one record (the same dict ``list_rows`` gives), None if there is none."""
        try:
            number = int(pk)
        except (TypeError, ValueError):
            return None
        _, rows = self.list_rows(app, table, filters=[grid_filter("id", number)], limit=2)
        return rows[0] if rows else None

    def get_detail(self, app: str, table: str, pk: int | str) -> dict[str, Any] | None:
        """One record's detail (``/api/<app>/<Table>/<pk>?fmt=json``): its ``data`` dict, None if absent."""
        what = f"read {app}.{table} record"
        resp = self._call(
            "GET", f"/api/{_q(app)}/{_q(table)}/{_q(pk)}", what, params={"fmt": "json"}
        )
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise LinoHTTPError(resp.status_code, what)
        body = _json(resp)
        if body.get("success") is False or not isinstance(body.get("data"), dict):
            return None
        return body["data"]

    def changes(
        self, after_id: int, limit: int = 200, object_type: str | None = None
    ) -> list[dict[str, Any]]:
        """Change-log rows with an id above *after_id*, ascending (needs a SiteStaff user)."""
        filters = [grid_filter("id", after_id, "gt")]
        _, rows = self.list_rows("changes", "Changes", filters=filters, limit=limit)
        return rows

    # -- writing -----------------------------------------------------------------------------------

    def create_row(self, app: str, table: str, values: dict[str, Any]) -> dict[str, Any]:
        """POST a new row (``rows`` = JSON of field values, FK values as ``<field>Hidden``); the row created."""
        what = f"create {app}.{table} row"
        resp = self._call(
            "POST",
            f"/restful/{_q(app)}/{_q(table)}",
            what,
            write=True,
            data={"rows": json.dumps(values)},
        )
        body = _json(resp)
        if resp.status_code != 200 or body.get("success") is False or not body.get("rows"):
            raise LinoHTTPError(resp.status_code, what + _refusal(body))
        return body["rows"][0]

    def update_row(
        self, app: str, table: str, pk: int | str, values: dict[str, Any]
    ) -> dict[str, Any]:
        """PUT changed field values of one row; the row as Lino holds it afterwards."""
        what = f"update {app}.{table} row"
        resp = self._call(
            "PUT",
            f"/restful/{_q(app)}/{_q(table)}/{_q(pk)}",
            what,
            write=True,
            data={"rows": json.dumps(values)},
        )
        body = _json(resp)
        if resp.status_code != 200 or body.get("success") is False or not body.get("rows"):
            raise LinoHTTPError(resp.status_code, what + _refusal(body))
        return body["rows"][0]


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _refusal(body: dict[str, Any]) -> str:
    """Lino's refusal message, NISS masked, bounded (it may quote the submitted values)."""
    message = body.get("message")
    return f": {redact(str(message))[:200]}" if message else ""
