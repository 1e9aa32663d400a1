"""A NeptunusWeb-like vendor case system, as a real HTTP service (``piis-bridge sim casesystem``).

Why a faithful simulator: no CPAS vendor publishes its API, so the connector is built and tested
against a service that behaves like a real one would on a bad night: OAuth2 client-credentials
tokens that expire, rate limiting (429 + ``Retry-After``), occasional 5xx, ETags, paging with a
``gewijzigd_sinds`` (modified since) filter and a keyset cursor over a stable ``(gewijzigd, id)``
order (see :mod:`piis_connectors.casesystem.store` for why no record is ever skipped).

Endpoints (JSON, vendor vocabulary, see docs/casesystem.md)::

    POST /oauth/token                               client_credentials -> bearer token
    GET  /api/v1/gpmi/contracten                    change feed: ?gewijzigd_sinds= &na= &limiet= &ocmw=
    GET  /api/v1/gpmi/contracten/{nr}               one contract, ETag / If-None-Match -> 304
    POST /api/v1/taken                              create a task (Idempotency-Key header required)
    GET  /api/v1/taken?contract=                    list tasks
    PUT  /api/v1/gpmi/contracten/{nr}/federale-status   federal answer (Idempotency-Key; If-Match -> 412)
    GET  /api/v1/gpmi/contracten/{nr}/federale-status   list federal statuses pushed for a contract
    POST /api/v1/gpmi/ontwerpcontracten             create a draft contract (Idempotency-Key; 422 names each bad field)
    GET  /api/v1/gpmi/ontwerpcontracten?status=     list drafts;  GET .../ontwerpcontracten/{id}: one draft
    /admin/...                                      seeding, edits, fault injection, stats, and the social
                                                    worker's review of a draft: .../activeren, .../verwerpen

A draft is never an active contract: it is kept apart from the contracts (the feed never serves
it) until the social worker activates it; then it is a contract of the feed like any other.

Built on :mod:`http.server` with one thread per connection (HTTP/1.1 keep-alive), loopback only.
"""

from __future__ import annotations

import base64
import binascii
import math
import random
import secrets
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
from piis_connectors.casesystem.drafts import Ontwerpcontract, validation_errors
from piis_connectors.casesystem.seed import generate
from piis_connectors.casesystem.store import DraftConflict, Store, etag_of
from piis_connectors.casesystem.vocab import CONTRACT_STATUSSEN, format_timestamp, parse_timestamp
from piis_connectors.leanhttp import LeanRequestHandler
from piis_connectors.threadserver import ServerThread
from pydantic import ValidationError

__all__ = ["CaseSystemSimulator", "SimulatorConfig", "decode_cursor", "encode_cursor"]

API = "/api/v1"


@dataclass
class SimulatorConfig:
    """Behaviour of the simulated vendor.  Every knob can also be changed at run time via /admin."""

    db_path: Path | None = None
    clients: dict[str, str] = field(default_factory=lambda: {"piis-bridge": "geheim"})
    token_ttl: float = 3600.0
    rate_limit: float | None = (
        None  # requests per second per client (token bucket); None = unlimited
    )
    burst: int = 20
    error_rate: float = 0.0  # share of API requests answered with a random 500/502/503
    seed: int = 1
    admin_key: str = "beheer"
    max_page: int = 1000
    default_page: int = 100


def encode_cursor(stamp: int, contract_id: str) -> str:
    """Opaque keyset position: base64url of ``v1:<stamp>:<id>``."""
    return base64.urlsafe_b64encode(f"v1:{stamp}:{contract_id}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[int, str]:
    padded = token + "=" * (-len(token) % 4)
    try:
        version, stamp, contract_id = (
            base64.urlsafe_b64decode(padded.encode()).decode().split(":", 2)
        )
        if version != "v1":
            raise ValueError(version)
        return int(stamp), contract_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("ongeldige cursor") from exc


#: statuses a social worker may give a draft when activating it (never ONTW: that would still be a draft)
ACTIVATION_STATUSES = ("AANGEB", "ONDERT", "LOP")


class _HttpError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}
        self.extra = extra or {}


class _State:
    """Everything the handler threads share."""

    def __init__(self, config: SimulatorConfig, store: Store) -> None:
        self.config = config
        self.store = store
        self.lock = threading.Lock()
        self.tokens: dict[str, tuple[str, float]] = {}  # token -> (client_id, expires_at)
        self.buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last refill)
        self.faults: list[dict[str, Any]] = []
        self.rng = random.Random(config.seed)
        self.stats: Counter[str] = Counter()

    def take_fault(self, path: str) -> dict[str, Any] | None:
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault.get("pad", API)) and fault["aantal"] > 0:
                    fault["aantal"] -= 1
                    if fault["aantal"] == 0:
                        self.faults.remove(fault)
                    return dict(fault)
        return None

    def rate_check(self, client: str) -> float | None:
        """Token bucket; returns seconds to wait when the client is over its limit."""
        rate = self.config.rate_limit
        if not rate:
            return None
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(client, (float(self.config.burst), now))
            tokens = min(float(self.config.burst), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self.buckets[client] = (tokens - 1.0, now)
                return None
            self.buckets[client] = (tokens, now)
            return (1.0 - tokens) / rate


class _Handler(LeanRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body leave in one write (send_whole); an error answer of http.server (send_error)
    # still takes two: without TCP_NODELAY its body would wait for the client's delayed ACK (40 ms)
    disable_nagle_algorithm = True
    server_version = "NeptunusSim/1.0"
    state: _State  # set on the subclass built per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server signature
        """Silent: request lines could carry identifiers; the stats endpoint counts instead."""

    # -- plumbing -----------------------------------------------------------------------------

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None or status == 304 else orjson.dumps(body)
        fields = [("Content-Type", "application/json; charset=utf-8")] if payload else []
        fields.append(("Content-Length", str(len(payload))))
        fields.extend((headers or {}).items())
        self.send_whole(status, fields, payload)

    def _body(self) -> Any:
        raw = self._raw
        if not raw:
            return {}
        ctype = self.headers.get("Content-Type", "")
        if ctype.startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise _HttpError(400, "ONGELDIGE_JSON", "de body is geen geldige JSON") from None

    def _dispatch(self, method: str) -> None:
        st = self.state
        # Read the body first, whatever happens next: an unread body would corrupt the next request
        # on this keep-alive connection.
        length = int(self.headers.get("Content-Length") or 0)
        self._raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        path, query = (
            parts.path.rstrip("/") or "/",
            {k: v[-1] for k, v in parse_qs(parts.query).items()},
        )
        counted = path
        for prefix, name in (
            (API + "/gpmi/contracten/", "{nr}"),
            (API + "/gpmi/ontwerpcontracten/", "{id}"),
        ):
            if path.startswith(prefix):
                counted = prefix + name
        with st.lock:
            st.stats[f"{method} {counted}"] += 1
        try:
            if path.startswith("/admin"):
                self._admin(method, path, query)
                return
            if path == "/oauth/token" and method == "POST":
                fault = st.take_fault(path)
                if fault is not None:
                    headers = (
                        {"Retry-After": str(fault["retry_after"])}
                        if fault.get("retry_after") is not None
                        else {}
                    )
                    raise _HttpError(
                        int(fault["status"]), "GESIMULEERDE_FOUT", "gesimuleerde fout", headers
                    )
                self._token()
                return
            if not path.startswith(API):
                raise _HttpError(404, "NIET_GEVONDEN", "onbekend pad")
            client = self._authenticate()
            wait = st.rate_check(client)
            if wait is not None:
                with st.lock:
                    st.stats["429"] += 1
                raise _HttpError(
                    429,
                    "TE_VEEL_VERZOEKEN",
                    "limiet overschreden",
                    {"Retry-After": str(max(1, math.ceil(wait)))},
                )
            fault = st.take_fault(path)
            if fault is not None:
                with st.lock:
                    st.stats[str(fault["status"])] += 1
                headers = (
                    {"Retry-After": str(fault["retry_after"])}
                    if fault.get("retry_after") is not None
                    else {}
                )
                raise _HttpError(
                    int(fault["status"]), "GESIMULEERDE_FOUT", "gesimuleerde fout", headers
                )
            if st.config.error_rate:
                with st.lock:
                    failing = st.rng.random() < st.config.error_rate
                    status = st.rng.choice([500, 502, 503])
                if failing:
                    with st.lock:
                        st.stats[str(status)] += 1
                    raise _HttpError(status, "TIJDELIJKE_FOUT", "tijdelijke storing")
            self._api(method, path[len(API) :], query)
        except _HttpError as err:
            if err.status == 401:
                err.headers.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"')
            self._send(
                err.status, {"fout": err.code, "melding": err.message, **err.extra}, err.headers
            )

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    # -- auth ---------------------------------------------------------------------------------

    def _token(self) -> None:
        body = self._body()
        client_id, secret = body.get("client_id"), body.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise _HttpError(401, "invalid_client", "ongeldige Basic-authenticatie") from None
        if body.get("grant_type") != "client_credentials":
            self._send(400, {"error": "unsupported_grant_type"})
            return
        if not client_id or self.state.config.clients.get(client_id) != secret:
            self._send(401, {"error": "invalid_client"})
            return
        token = secrets.token_urlsafe(24)
        ttl = self.state.config.token_ttl
        with self.state.lock:
            self.state.tokens[token] = (client_id, time.monotonic() + ttl)
            self.state.stats["tokens"] += 1
        self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": ttl})

    def _authenticate(self) -> str:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise _HttpError(401, "GEEN_TOKEN", "bearer token vereist")
        with self.state.lock:
            entry = self.state.tokens.get(auth[7:])
        if entry is None or entry[1] < time.monotonic():
            raise _HttpError(401, "TOKEN_ONGELDIG", "token ongeldig of verlopen")
        return entry[0]

    # -- API ----------------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict[str, str]) -> None:
        st = self.state
        segments = [unquote(p) for p in path.strip("/").split("/")]
        if segments[:2] == ["gpmi", "ontwerpcontracten"]:
            if len(segments) == 2 and method == "POST":
                self._create_draft()
                return
            if len(segments) == 2 and method == "GET":
                self._send(
                    200, {"items": st.store.list_drafts(query.get("status"), query.get("contract"))}
                )
                return
            if len(segments) == 3 and method == "GET":
                self._send(200, self._draft(segments[2]))
                return
        if segments[:2] == ["gpmi", "contracten"]:
            if len(segments) == 2 and method == "GET":
                self._feed(query)
                return
            if len(segments) == 3 and method == "GET":
                self._one(segments[2], query.get("ocmw"))
                return
            if len(segments) == 4 and segments[3] == "federale-status":
                if method == "PUT":
                    self._push("statussen", segments[2])
                    return
                if method == "GET":
                    self._send(200, {"items": st.store.list_rows("statussen", segments[2])})
                    return
        if segments == ["taken"]:
            if method == "POST":
                self._push("taken", None)
                return
            if method == "GET":
                self._send(200, {"items": st.store.list_rows("taken", query.get("contract"))})
                return
        raise _HttpError(404, "NIET_GEVONDEN", "onbekend pad of methode")

    def _feed(self, query: dict[str, str]) -> None:
        st = self.state
        try:
            limit = int(query.get("limiet", st.config.default_page))
        except ValueError:
            raise _HttpError(400, "ONGELDIGE_LIMIET", "limiet moet een geheel getal zijn") from None
        if not 1 <= limit <= st.config.max_page:
            raise _HttpError(
                400, "ONGELDIGE_LIMIET", f"limiet moet tussen 1 en {st.config.max_page} liggen"
            )
        after = None
        if query.get("na"):
            try:
                after = decode_cursor(query["na"])
            except ValueError:
                raise _HttpError(400, "ONGELDIGE_CURSOR", "cursor 'na' is ongeldig") from None
        since = None
        if query.get("gewijzigd_sinds"):
            try:
                since = parse_timestamp(query["gewijzigd_sinds"])
            except ValueError:
                raise _HttpError(
                    400, "ONGELDIGE_DATUM", "gewijzigd_sinds: verwacht dd-mm-jjjj uu:mm:ss"
                ) from None
        rows = st.store.feed(after, since, query.get("ocmw"), limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        items = []
        for stamp, cid, versie, data in rows:
            doc = orjson.loads(data)
            doc["laatst_gewijzigd"] = format_timestamp(stamp)
            doc["versie"] = versie
            doc["etag"] = etag_of(cid, versie)
            items.append(doc)
        nxt = encode_cursor(rows[-1][0], rows[-1][1]) if rows else query.get("na") or None
        with st.lock:
            st.stats["items_served"] += len(items)
        self._send(200, {"items": items, "volgende": nxt, "meer": more})

    def _one(self, contract_id: str, ocmw: str | None = None) -> None:
        found = self.state.store.get(contract_id)
        if found is None or (
            ocmw is not None and found[2] != ocmw
        ):  # another OCMW's contract: not yours to see
            raise _HttpError(404, "NIET_GEVONDEN", "contract bestaat niet")
        stamp, versie, _ocmw, doc = found
        etag = etag_of(contract_id, versie)
        if self.headers.get("If-None-Match") == etag:
            self._send(304, None, {"ETag": etag})
            return
        doc["laatst_gewijzigd"] = format_timestamp(stamp)
        doc["versie"] = versie
        doc["etag"] = etag
        self._send(200, doc, {"ETag": etag})

    def _push(self, table: str, contract_id: str | None) -> None:
        key = self.headers.get("Idempotency-Key")
        if not key:
            raise _HttpError(400, "SLEUTEL_VEREIST", "header Idempotency-Key is verplicht")
        body = self._body()
        if not isinstance(body, dict):
            raise _HttpError(400, "ONGELDIGE_BODY", "verwacht een JSON-object")
        contract_id = contract_id or body.get("contractnummer")
        if not contract_id:
            raise _HttpError(422, "VELD_ONTBREEKT", "contractnummer is verplicht")
        versie = self.state.store.version(contract_id)  # the document itself is not needed here
        if versie is None:
            raise _HttpError(404, "NIET_GEVONDEN", "contract bestaat niet")
        if_match = self.headers.get("If-Match")
        if if_match and if_match != etag_of(contract_id, versie):
            raise _HttpError(412, "VERSIE_GEWIJZIGD", "het contract werd intussen gewijzigd")
        if table == "taken" and not body.get("titel"):
            raise _HttpError(422, "VELD_ONTBREEKT", "titel is verplicht")
        row_id, created = self.state.store.add_unique(table, key, contract_id, body)
        self._send(201 if created else 200, {"id": row_id, "nieuw": created})

    # -- draft contracts ----------------------------------------------------------------------

    def _draft(self, raw_id: str) -> dict[str, Any]:
        try:
            draft = self.state.store.get_draft(int(raw_id))
        except ValueError:
            draft = None
        if draft is None:
            raise _HttpError(404, "NIET_GEVONDEN", "ontwerp bestaat niet")
        return draft

    def _create_draft(self) -> None:
        """A draft contract, once per Idempotency-Key; 422 lists every field at fault (never its value)."""
        key = self.headers.get("Idempotency-Key")
        if not key:
            raise _HttpError(400, "SLEUTEL_VEREIST", "header Idempotency-Key is verplicht")
        body = self._body()
        if not isinstance(body, dict):
            raise _HttpError(400, "ONGELDIGE_BODY", "verwacht een JSON-object")
        try:
            draft = Ontwerpcontract.model_validate(body)
        except ValidationError as exc:
            errors = validation_errors(exc)
            raise _HttpError(
                422,
                "ONGELDIG_ONTWERP",
                f"ongeldig ontwerp ({len(errors)} fout(en)): "
                + "; ".join(f"{e['veld']}: {e['melding']}" for e in errors),
                extra={"fouten": errors},
            ) from None
        data = draft.model_dump(mode="json", exclude_none=True)
        try:
            draft_id, created = self.state.store.add_draft(
                key, draft.contractnummer, draft.ocmw.kbo, data
            )
        except DraftConflict as exc:
            raise _HttpError(409, "CONTRACT_BESTAAT", str(exc)) from None
        stored = self._draft(str(draft_id))  # a known key answers with the draft as it is now
        self._send(
            201 if created else 200,
            {
                "id": draft_id,
                "contractnummer": stored["contractnummer"],
                "status": stored["status"],
                "nieuw": created,
            },
        )

    def _review_draft(self, raw_id: str, action: str, body: dict[str, Any]) -> None:
        """The social worker's decision on a draft (admin API: there is no social worker in a test)."""
        st = self.state
        draft = self._draft(raw_id)
        try:
            if action == "activeren":
                status = str(body.get("status", "LOP"))
                if status not in ACTIVATION_STATUSES:
                    raise _HttpError(
                        422,
                        "ONGELDIGE_STATUS",
                        f"status bij activering: een van {', '.join(ACTIVATION_STATUSES)} "
                        f"({', '.join(CONTRACT_STATUSSEN[s] for s in ACTIVATION_STATUSES)})",
                    )
                patch = body.get("wijzigingen") or {}
                if not isinstance(patch, dict):
                    raise _HttpError(400, "ONGELDIGE_BODY", "wijzigingen: verwacht een JSON-object")
                cid, stamp, versie = st.store.activate_draft(int(draft["id"]), status, patch)
                self._send(
                    200,
                    {
                        "id": draft["id"],
                        "status": "GEACT",
                        "contractnummer": cid,
                        "versie": versie,
                        "laatst_gewijzigd": format_timestamp(stamp),
                    },
                )
            else:
                st.store.discard_draft(int(draft["id"]), str(body.get("reden") or ""))
                self._send(200, {"id": draft["id"], "status": "VERW"})
        except DraftConflict as exc:
            raise _HttpError(409, "ONTWERP_NIET_OPEN", str(exc)) from None

    # -- admin --------------------------------------------------------------------------------

    def _admin(self, method: str, path: str, query: dict[str, str]) -> None:
        st = self.state
        if self.headers.get("X-Admin-Key") != st.config.admin_key:
            raise _HttpError(403, "GEEN_TOEGANG", "X-Admin-Key vereist")
        body = self._body() if method in ("POST", "PUT") else {}
        if path == "/admin/seed" and method == "POST":
            n = st.store.seed(
                generate(int(body.get("dossiers", 100)), int(body.get("seed", st.config.seed)))
            )
            self._send(200, {"contracten": n})
        elif path == "/admin/wijzig" and method == "POST":
            ids = body.get("ids")
            if ids is None:
                rng = random.Random(int(body.get("seed", 7)))
                all_ids = st.store.ids()
                ids = rng.sample(all_ids, k=min(int(body.get("aantal", 1)), len(all_ids)))
            patch = body.get("patch") or {}

            def mutate(doc: dict[str, Any]) -> None:
                doc.update(patch)
                doc["wijzigingsteller"] = int(doc.get("wijzigingsteller", 0)) + 1

            self._send(200, {"gewijzigd": st.store.touch(list(ids), mutate), "ids": list(ids)})
        elif path.startswith("/admin/contracten/") and method == "PUT":
            cid = path.rsplit("/", 1)[1]
            stamp, versie = st.store.put(cid, body)
            self._send(
                200,
                {
                    "contractnummer": cid,
                    "versie": versie,
                    "laatst_gewijzigd": format_timestamp(stamp),
                },
            )
        elif (
            path.startswith("/admin/ontwerpcontracten/")
            and method == "POST"
            and path.rsplit("/", 1)[1] in ("activeren", "verwerpen")
            and path.count("/") == 4
        ):
            _, _, _, raw_id, action = path.split("/")
            self._review_draft(raw_id, action, body if isinstance(body, dict) else {})
        elif path == "/admin/fouten" and method == "POST":
            fault = {
                "status": int(body.get("status", 503)),
                "aantal": int(body.get("aantal", 1)),
                "retry_after": body.get("retry_after"),
                "pad": body.get("pad", API),
            }
            with st.lock:
                st.faults.append(fault)
            self._send(200, {"fouten": len(st.faults)})
        elif path == "/admin/instellingen" and method == "POST":
            with st.lock:
                for name in ("rate_limit", "burst", "error_rate", "token_ttl"):
                    if name in body:
                        setattr(st.config, name, body[name])
                if body.get("tokens_intrekken"):
                    st.tokens.clear()
                st.buckets.clear()
            self._send(200, {"ok": True})
        elif path == "/admin/stats" and method == "GET":
            with st.lock:
                stats = dict(st.stats)
            stats["contracten"] = st.store.count()
            self._send(200, stats)
        elif path == "/admin/stats/reset" and method == "POST":
            with st.lock:
                st.stats.clear()
            self._send(200, {"ok": True})
        else:
            raise _HttpError(404, "NIET_GEVONDEN", "onbekend beheerpad")


class CaseSystemSimulator:
    """Run the simulator in a background thread (tests, benchmark) or in the foreground (CLI).

    Example::

        with CaseSystemSimulator(SimulatorConfig(), host="127.0.0.1", port=0) as sim:
            sim.seed(1000)
            print(sim.url)
    """

    def __init__(
        self, config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or SimulatorConfig()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if self.config.db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="neptunus-sim-")
            self.config.db_path = Path(self._tmp.name) / "neptunus.sqlite"
        self.store = Store(self.config.db_path)
        self.state = _State(self.config, self.store)
        handler = type("NeptunusHandler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._server = ServerThread(self.httpd, name="neptunus-sim")

    @property
    def url(self) -> str:
        return self._server.url()

    def seed(self, dossiers: int, seed: int | None = None) -> int:
        return self.store.seed(generate(dossiers, self.config.seed if seed is None else seed))

    def inject(
        self, status: int, count: int = 1, retry_after: int | None = None, path: str = API
    ) -> None:
        """Answer the next *count* API requests under *path* with *status* (429, 500, 503...)."""
        with self.state.lock:
            self.state.faults.append(
                {"status": status, "aantal": count, "retry_after": retry_after, "pad": path}
            )

    def start(self) -> CaseSystemSimulator:
        self._server.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.stop()
        self.store.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> CaseSystemSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
