"""The simulator as a plain WSGI application built on lxml (no spyne: it does not import on 3.12+,
stack.md section 3).

Routes:
  GET  <PORT_PATH>?wsdl                 the official WebServiceConnector.wsdl with the local address
  POST <PORT_PATH>                      SOAP 1.1 ``sendXML(xmlString)`` carrying an SSDNRequest
  GET/POST/DELETE /admin/...            JSON admin API (clock, CPAS, integrations, mutations, faults, config)
  GET  /ebox/<kbo>/<YYYY-MM>/statement.txt   monthly statement, TXT layout of federal.md 5.4
  GET  /?wsdl (or /wsdl)                the same WSDL;  GET /  the endpoints and services, as text
  other SOAP endpoints and services     a fault / refusal naming the service and saying it is not simulated
"""

from __future__ import annotations

import base64
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import orjson
from lxml import etree
from piis_connectors.federal import dis, envelope, schemas
from piis_connectors.federal.safexml import UnsafeXmlError, parse_untrusted
from piis_connectors.federal.simulator import access as _access
from piis_connectors.federal.simulator import statement as _statement
from piis_connectors.federal.simulator import tables
from piis_connectors.federal.simulator.novaprima import NovaPrima, ssin_valid
from piis_connectors.federal.simulator.store import Store
from piis_connectors.federal.simulator.wsse import WSSE_NS, SignatureCheck, WsseFault

__all__ = ["PORT_PATH", "SOAP_NS", "WSC_NS", "SimulatorApp"]

PORT_PATH = "/connectors/webservice/KSZBCSSWebServiceConnectorPort"
WSC_NS = "http://ksz-bcss.fgov.be/connectors/WebServiceConnector"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_MA = f"{{{envelope.MANAGE_ACCESS_NS}}}"
_BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<tns:xmlString xmlns:tns="http://ksz-bcss.fgov.be/connectors/WebServiceConnector">&lol2;&xxe;</tns:xmlString>'
    b"</soap:Body></soap:Envelope>"
)

StartResponse = Callable[..., Any]
_YIELD_AT_MOST = 0.05  # seconds the batch worker waits for SOAP calls in progress before each slice
# the batch worker looks for due batches at least this often (seconds) even when nothing woke it
_WORKER_IDLE_MAX = 1.0


class BodyRefused(Exception):
    """A request body refused before or while reading it (status line + reason)."""

    def __init__(self, status: str, text: str) -> None:
        super().__init__(f"{status}: {text}")
        self.status, self.text = status, text


def _soap(body: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soap": SOAP_NS})
    etree.SubElement(env, f"{{{SOAP_NS}}}Body").append(body)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def _fault(code: str, text: str, reason: str) -> bytes:
    fault = etree.Element(f"{{{SOAP_NS}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap:{code}"
    etree.SubElement(fault, "faultstring").text = text
    detail = etree.SubElement(fault, "detail")
    etree.SubElement(detail, "ReasonCode").text = reason
    return _soap(fault)


def _wsse_fault(code: str, text: str) -> bytes:
    """A WS-Security fault (WSS 1.0 section 12): the fault code is a QName of the wsse namespace."""
    fault = etree.Element(f"{{{SOAP_NS}}}Fault", nsmap={"wsse": WSSE_NS})
    etree.SubElement(fault, "faultcode").text = f"wsse:{code}"
    etree.SubElement(fault, "faultstring").text = text
    return _soap(fault)


class SimulatorApp:
    """The WSGI callable; owns the SQLite store and the batch worker thread."""

    def __init__(
        self,
        db_path: Path | str,
        *,
        basic_auth: tuple[str, str] | None = None,
        max_request_bytes: int = 64 * 1024 * 1024,
        require_signature: Iterable[Path | str | bytes] | None = None,
    ) -> None:
        """``require_signature``: the certificates (PEM) whose WS-Security signatures are accepted; every SOAP
        request must then carry one over its Body (wsse faults otherwise).  ``None``: signatures are not
        checked (accepted and ignored, like the classic BCSS connector)."""
        self.store = Store(db_path)
        self.signature_check = (
            None if require_signature is None else SignatureCheck(require_signature)
        )
        self.engine = NovaPrima(self.store)
        self.basic_auth = basic_auth
        self.max_request_bytes = max_request_bytes
        self._stop = threading.Event()
        self._wake = (
            threading.Event()
        )  # set once a batch is stored (committed): the worker looks at once
        self._worker: threading.Thread | None = None
        # SOAP calls in progress: the batch worker waits for none (at most _YIELD_AT_MOST each time), so a
        # call is not slowed down by an evaluation sharing the interpreter lock and the store lock with it;
        # the worker uses the time the client spends between calls.
        self._calls_in_progress = 0
        self._calls_lock = threading.Lock()
        self._no_call = threading.Event()
        self._no_call.set()
        self._wsdl = (schemas.WSDL_PATH).read_text(encoding="utf-8")
        self._last_reply: bytes | None = None
        self._faults_maybe = (
            True  # faults are added only through the admin API: skip the lookup when none are left
        )
        self._calls: Counter[str] = (
            Counter()
        )  # SSDN messages and ManageAccess actions (admin stats, tests)

    # ------------------------------------------------------------------ lifecycle
    def start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="novaprima-batch", daemon=True)
            self._worker.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=5)
        self.store.close()

    def _work(self) -> None:
        """Evaluate batches as they fall due: woken by each batch stored (``_wake``), else asleep until the
        earliest pending batch is due, and at least once every ``_WORKER_IDLE_MAX`` seconds.

        Why not a poll every 20 ms, as before: the polls cost the idle simulator 6.5 ms of CPU a second
        (~4 s of a 10-minute benchmark run) and each scanned every batch ever received (issue #20)."""
        while not self._stop.is_set():
            self._wake.clear()  # a batch stored from here on wakes the wait below at once
            try:
                self.process_due_batches()
                wait = self._next_due_in()
            except Exception:  # noqa: BLE001 - pragma: no cover - keep the worker alive; state is transactional
                wait = 0.2
            self._wake.wait(_WORKER_IDLE_MAX if wait is None else min(wait, _WORKER_IDLE_MAX))

    def _next_due_in(self) -> float | None:
        """Seconds until the earliest pending batch is due (0 when one is due now), None when none is pending."""
        with self.store.lock:
            due = self.store.db.execute("SELECT MIN(due) FROM batches WHERE done=0").fetchone()[0]
        return None if due is None else max(0.0, float(due) - time.time())

    def _call_started(self) -> None:
        with self._calls_lock:
            self._calls_in_progress += 1
            self._no_call.clear()

    def _call_ended(self) -> None:
        with self._calls_lock:
            self._calls_in_progress -= 1
            if self._calls_in_progress == 0:
                self._no_call.set()

    def process_due_batches(self, slice_size: int = 100) -> int:
        """Evaluate due batches in arrival order, in short transactions so that SOAP calls interleave; before
        each slice, give way to the SOAP calls in progress (never for more than ``_YIELD_AT_MOST``)."""
        done = 0
        with self.store.lock:
            # "+rowid": sorting the few open batches, not walking every batch ever received in rowid
            # order (without it SQLite prefers the walk to the index of open batches)
            tickets = self.store.db.execute(
                "SELECT ticket, kbo FROM batches WHERE done=0 AND due<=? ORDER BY +rowid",
                (time.time(),),
            ).fetchall()
        for ticket, kbo in tickets:
            while True:
                self._no_call.wait(_YIELD_AT_MOST)
                with self.store.lock:
                    db = self.store.db
                    db.execute("BEGIN")
                    try:
                        rows = db.execute(
                            "SELECT id, kind, payload, received_at FROM forms WHERE ticket=?"
                            " AND state='PENDING' ORDER BY id LIMIT ?",
                            (ticket, slice_size),
                        ).fetchall()
                        for row in rows:
                            self.engine.process(
                                kbo,
                                row[1],
                                orjson.loads(row[2]),
                                row_id=row[0],
                                online=False,
                                received=row[3],
                            )
                        if not rows:
                            db.execute("UPDATE batches SET done=1 WHERE ticket=?", (ticket,))
                        db.execute("COMMIT")
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
                done += len(rows)
                if not rows:
                    break
        return done

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        try:
            if path.startswith("/admin/"):
                return self._admin(environ, method, path, start_response)
            if path.startswith("/ebox/"):
                return self._ebox(path, start_response)
            if (
                method == "GET"
                and (path in (PORT_PATH, "/wsdl", "/"))
                and (path == "/wsdl" or query.lower() == "wsdl")
            ):
                host = (
                    environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
                )
                scheme = environ.get("wsgi.url_scheme", "http")
                text = self._wsdl.replace("http://127.0.0.1:8765", f"{scheme}://{host}")
                return self._respond(
                    start_response, "200 OK", text.encode(), "text/xml; charset=utf-8"
                )
            if method == "POST" and path == PORT_PATH:
                if not self._authorised(environ):
                    return self._respond(
                        start_response,
                        "401 Unauthorized",
                        b"",
                        "text/plain",
                        [("WWW-Authenticate", 'Basic realm="bcss"')],
                    )
                self._call_started()
                try:
                    return self._soap_call(environ, start_response)
                finally:
                    self._call_ended()
            if method == "GET" and path == "/":
                return self._respond(
                    start_response, "200 OK", _index(environ).encode(), "text/plain; charset=utf-8"
                )
            if (
                method == "POST"
            ):  # another SOAP endpoint (a new-style service): name it, say it is not simulated
                return self._respond(
                    start_response,
                    "404 Not Found",
                    _fault(
                        "Client",
                        f"-300000: no service at {path}: not simulated (the simulator serves the classic"
                        f" SSDN connector, sendXML at {PORT_PATH})",
                        "-300000",
                    ),
                    "text/xml; charset=utf-8",
                )
            return self._respond(
                start_response,
                "404 Not Found",
                f"not found: {path}\n\n{_index(environ)}".encode(),
                "text/plain; charset=utf-8",
            )
        except Exception as exc:  # noqa: BLE001 - the simulator must answer, not crash the test run
            return self._respond(
                start_response,
                "500 Internal Server Error",
                _fault(
                    "Server",
                    f"MSG00003: unexpected internal error ({type(exc).__name__})",
                    "MSG00003",
                ),
                "text/xml; charset=utf-8",
            )

    def _respond(
        self,
        start_response: StartResponse,
        status: str,
        body: bytes,
        ctype: str,
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        start_response(
            status, [("Content-Type", ctype), ("Content-Length", str(len(body))), *(extra or [])]
        )
        return [body]

    def _authorised(self, environ: dict[str, Any]) -> bool:
        if self.basic_auth is None:
            return True
        header = environ.get("HTTP_AUTHORIZATION", "")
        expected = (
            "Basic "
            + base64.b64encode(f"{self.basic_auth[0]}:{self.basic_auth[1]}".encode()).decode()
        )
        return header == expected

    def _read_body(self, environ: dict[str, Any], *, required: bool = False) -> bytes:
        """The request body, refused *before or while* reading it, never after.

        A missing Content-Length (chunked uploads) is refused when *required* (411), a negative or
        non-numeric one always (400), one over ``max_request_bytes`` before the first byte is read
        (413); the body is then read in 64 KiB slices up to the declared length only.
        """
        raw = environ.get("CONTENT_LENGTH")
        if raw in (None, ""):
            if required:
                raise BodyRefused("411 Length Required", "a Content-Length header is required")
            return b""
        try:
            length = int(str(raw).strip())
        except ValueError:
            raise BodyRefused("400 Bad Request", "Content-Length is not a number") from None
        if length < 0:
            raise BodyRefused("400 Bad Request", "Content-Length is negative")
        if length > self.max_request_bytes:
            raise BodyRefused(
                "413 Payload Too Large",
                f"request of {length} bytes exceeds the limit of {self.max_request_bytes} bytes",
            )
        stream = environ["wsgi.input"]
        parts: list[bytes] = []
        left = length
        while left > 0:
            chunk = stream.read(min(left, 65536))
            if not chunk:
                raise BodyRefused("400 Bad Request", "the body is shorter than its Content-Length")
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    def _take_fault(self) -> tuple[str, float] | None:
        if (
            not self._faults_maybe
        ):  # no store lock for nothing (the batch worker holds it while evaluating)
            return None
        with self.store.lock:
            row = self.store.db.execute(
                "SELECT id, kind, delay, remaining FROM faults WHERE remaining>0 ORDER BY id"
                " LIMIT 1"
            ).fetchone()
            if row is None:
                self._faults_maybe = False
                return None
            self.store.db.execute(
                "UPDATE faults SET remaining=remaining-1 WHERE id=?", (row["id"],)
            )
            return row["kind"], float(row["delay"])

    # ------------------------------------------------------------------ SOAP
    def _soap_call(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        xml = "text/xml; charset=utf-8"
        try:
            body = self._read_body(environ, required=True)
        except BodyRefused as exc:
            environ["piis.close_connection"] = (
                True  # the unread body must not be taken for a request
            )
            return self._respond(
                start_response,
                exc.status,
                _fault("Client", exc.text, "-000050"),
                xml,
                [("Connection", "close")],
            )
        fault = self._take_fault()
        kind, delay = fault if fault else ("", 0.0)
        if kind == "unavailable":
            return self._respond(
                start_response,
                "500 Internal Server Error",
                _fault("Server", "MSG00003: service temporarily unavailable", "MSG00003"),
                xml,
            )
        if kind == "http503":
            return self._respond(
                start_response, "503 Service Unavailable", b"unavailable", "text/plain"
            )
        if kind == "soap_fault":
            return self._respond(
                start_response,
                "500 Internal Server Error",
                _fault("Client", "-000050: message structure not conform", "-000050"),
                xml,
            )
        if kind == "slow":
            time.sleep(delay)
        try:
            soap_root = parse_untrusted(body, max_bytes=self.max_request_bytes)
            if self.signature_check is not None:
                self.signature_check.verify(soap_root)
            holder = soap_root.find(f"{{{SOAP_NS}}}Body/{{{WSC_NS}}}xmlString")
            operation = soap_root.find(f"{{{SOAP_NS}}}Body/*")
            if holder is None and operation is not None and isinstance(operation.tag, str):
                name = etree.QName(operation).localname
                return self._respond(
                    start_response,
                    "500 Internal Server Error",
                    _fault(
                        "Client",
                        f"-300000: {name} ({etree.QName(operation).namespace}) is not simulated: the simulator"
                        " serves the classic SSDN connector only (sendXML carrying an SSDNRequest)",
                        "-300000",
                    ),
                    xml,
                )
            if holder is None or not holder.text:
                raise UnsafeXmlError("SOAP body must hold one xmlString")
            inner = parse_untrusted(holder.text, max_bytes=self.max_request_bytes)
        except UnsafeXmlError as exc:
            return self._respond(
                start_response,
                "500 Internal Server Error",
                _fault("Client", f"-000050: {exc}", "-000050"),
                xml,
            )
        except WsseFault as exc:
            return self._respond(
                start_response, "500 Internal Server Error", _wsse_fault(exc.code, exc.text), xml
            )
        reply = self._handle_ssdn(
            inner, duplicate=(kind == "duplicate"), shuffle=(kind == "shuffle")
        )
        payload = _soap_string(etree.tostring(reply, encoding="unicode"))
        if kind == "timeout":
            time.sleep(
                delay
            )  # effects are committed: the client must ask for the status before any resend
        elif kind == "malformed":
            payload = payload[: len(payload) // 2]
        elif kind == "hostile":
            payload = _BOMB
        elif kind == "huge":
            payload = payload.replace(
                b"</tns:xmlString>", b" " * int(delay or 4_000_000) + b"</tns:xmlString>"
            )
        elif kind == "stale" and self._last_reply is not None:
            payload = self._last_reply
        self._last_reply = payload
        return self._respond(start_response, "200 OK", payload, xml)

    def _handle_ssdn(
        self, inner: etree._Element, *, duplicate: bool, shuffle: bool
    ) -> etree._Element:
        received = datetime.now()
        self._calls["ssdn_messages"] += 1
        ticket = str(uuid.uuid4())
        issues = schemas.validate(schemas.envelope_schema(), inner)
        if issues:
            details = [
                envelope.Detail("ERROR", "-000050", f"{i.path}: {i.message}"[:500], "BCSS")
                for i in issues[:5]
            ]
            return envelope.build_reply(
                ok="NO",
                return_code=10000,
                details=details,
                user=None,
                reference=None,
                ticket=ticket,
                time_request=None,
                time_receive=received,
                time_response=datetime.now(),
            )
        request = envelope.parse_request(inner)
        with self.store.lock:
            db = self.store.db
            if self.engine._cpas(request.user.org_unit) is None:
                return envelope.build_reply(
                    ok="NO",
                    return_code=10000,
                    user=request.user,
                    reference=request.reference,
                    ticket=ticket,
                    details=[
                        envelope.Detail(
                            "ERROR", "-300010", "sender not authorised for this service", "BCSS"
                        )
                    ],
                    time_request=request.time_request,
                    time_receive=received,
                    time_response=datetime.now(),
                )
            db.execute("BEGIN")
            try:
                kbo = request.user.org_unit
                if request.services and all(_is_manage_access(s) for s in request.services):
                    # the plugin integrates the new NISS of a batch in one message: one pass for all of them
                    replies = self._manage_access_many(kbo, request.services)
                else:
                    replies = [
                        self._service(kbo, s, ticket, duplicate, shuffle) for s in request.services
                    ]
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        if any(s.service_id == dis.SERVICE_BATCH for s in request.services):
            self._wake.set()  # a batch was stored: the worker evaluates it when due
        ok = (
            "YES"
            if all(r.ok == "YES" for r in replies)
            else ("NO" if all(r.ok == "NO" for r in replies) else "WARNING")
        )
        return envelope.build_reply(
            ok=ok,
            return_code={"YES": 0, "WARNING": 1, "NO": 10000}[ok],
            user=request.user,
            reference=request.reference,
            ticket=ticket,
            time_request=request.time_request,
            time_receive=received,
            time_response=datetime.now(),
            services=replies,
        )

    def _service(
        self,
        kbo: str,
        service: envelope.ServiceRequest,
        ticket: str,
        duplicate: bool,
        shuffle: bool,
    ) -> envelope.ServiceReply:
        sid = service.service_id
        payload = service.payload
        local = etree.QName(payload).localname

        def reply(
            body: etree._Element | None,
            ok: str = "YES",
            details: list[envelope.Detail] | None = None,
        ):
            return envelope.ServiceReply(
                ok=ok,
                return_code={"YES": 0, "WARNING": 1, "NO": 10000}[ok],
                service_id=sid,
                version=service.version,
                payload=body,
                details=details or [],
            )

        if sid == dis.SERVICE_MANAGE_ACCESS and local == "ManageAccessRequest":
            return self._manage_access(kbo, service)
        if sid in dis.SERVICE_FORM.values() and local == "DIS_DecisionRequest":
            kind = sid[-1]
            out = etree.Element(dis.q("DIS_DecisionReply"), nsmap={"dis": dis.DIS_NS})
            warn = False
            for form in payload:
                fkind, fields = dis.form_fields(form)
                if fkind != kind:
                    return reply(
                        None,
                        "NO",
                        [envelope.Detail("ERROR", "-300000", f"form {fkind} sent to {sid}")],
                    )
                existing = self.engine.existing(kbo, fields["ClientReference"])
                if existing is not None and existing["state"] == "DONE":
                    result = self.engine.echo(existing)
                else:
                    result = self.engine.process(kbo, kind, fields)
                warn = warn or result.evaluation != "ACCEPTED" or bool(result.errors)
                el = dis.build_decision_result(result)
                out.append(el)
                if duplicate:
                    out.append(dis.build_decision_result(result))
            return reply(out, "WARNING" if warn else "YES")
        if sid == dis.SERVICE_BATCH and local == "DIS_DecisionRequest":
            db = self.store.db
            forms = [dis.form_fields(form) for form in payload]
            count = len(forms)
            seen = self.engine.known_references(kbo, [f["ClientReference"] for _, f in forms])
            fresh, dups = [], []
            for (
                fkind,
                fields,
            ) in forms:  # a reference already sent, or twice in this batch: answered as a duplicate
                ref = fields["ClientReference"]
                if ref in seen:
                    dups.append((ticket, kbo, ref))
                else:
                    seen.add(ref)
                    fresh.append((fkind, fields))
            self.engine.enqueue_many(kbo, fresh, ticket)
            db.executemany("INSERT INTO batch_dups(ticket, kbo, client_ref) VALUES(?,?,?)", dups)
            delay = float(self.engine.config("batch_delay", 0.0))
            db.execute(
                "INSERT INTO batches(ticket, kbo, due, count) VALUES(?,?,?,?)",
                (ticket, kbo, time.time() + delay, count),
            )
            ack = etree.Element(dis.q("DIS_BatchAck"), nsmap={"dis": dis.DIS_NS})
            etree.SubElement(ack, dis.q("Ticket")).text = ticket
            etree.SubElement(ack, dis.q("FormCount")).text = str(count)
            return reply(ack)
        if sid == dis.SERVICE_BATCH_RESULT and local == "DIS_BatchResultRequest":
            return reply(
                self._batch_result(kbo, payload.findtext(dis.q("Ticket")) or "", duplicate, shuffle)
            )
        if sid == dis.SERVICE_STATUS and local == "DIS_StatusRequest":
            out = etree.Element(dis.q("DIS_StatusReply"), nsmap={"dis": dis.DIS_NS})
            for ref_el in payload.iterfind(dis.q("ClientReference")):
                ref = ref_el.text or ""
                row = self.engine.existing(kbo, ref)
                fs = etree.SubElement(out, dis.q("FormStatus"))
                etree.SubElement(fs, dis.q("ClientReference")).text = ref
                state = (
                    "UNKNOWN"
                    if row is None
                    else ("PENDING" if row["state"] == "PENDING" else "PROCESSED")
                )
                etree.SubElement(fs, dis.q("State")).text = state
                if state == "PROCESSED":
                    fs.append(etree.fromstring(row["result"]))
            return reply(out)
        if sid == dis.SERVICE_ATTESTATIONS and local == "DIS_AttestationRequest":
            ssin = payload.findtext(dis.q("SSIN")) or ""
            if not ssin_valid(ssin):
                return reply(
                    None,
                    "NO",
                    [envelope.Detail("ERROR", "MSG00011", "SSIN structure invalid", "BCSS")],
                )
            if self.engine._mutation(ssin, "replaced") is not None:
                return reply(
                    None, "NO", [envelope.Detail("ERROR", "MSG00006", "SSIN replaced", "BCSS")]
                )
            today = self.engine.now().date().isoformat()
            if (
                self.store.db.execute(
                    "SELECT 1 FROM integrations WHERE kbo=? AND ssin=? AND start<=?"
                    " AND (end IS NULL OR end>=?) LIMIT 1",
                    (kbo, ssin, today, today),
                ).fetchone()
                is None
            ):
                return reply(
                    None,
                    "NO",
                    [
                        envelope.Detail(
                            "ERROR",
                            "MSG00012",
                            "SSIN not sufficiently integrated for your organisation",
                            "BCSS",
                        )
                    ],
                )
            return reply(self._attestations(ssin))
        if sid == dis.SERVICE_NOTICES and local == "DIS_NoticeRequest":
            return reply(self._register_notices(kbo, payload))
        if sid == dis.SERVICE_STATEMENT and local == "DIS_StatementRequest":
            return reply(self._statement(kbo, payload.findtext(dis.q("Month")) or ""))
        return reply(
            None,
            "NO",
            [
                envelope.Detail(
                    "ERROR",
                    "-300000",
                    f"service {sid} ({local}) is not simulated; simulated: {', '.join(SIMULATED_SERVICES)}",
                    "BCSS",
                )
            ],
        )

    def _batch_result(
        self, kbo: str, ticket: str, duplicate: bool, shuffle: bool
    ) -> etree._Element:
        db = self.store.db
        out = etree.Element(dis.q("DIS_BatchResultReply"), nsmap={"dis": dis.DIS_NS})
        etree.SubElement(out, dis.q("Ticket")).text = ticket
        batch = db.execute(
            "SELECT done FROM batches WHERE ticket=? AND kbo=?", (ticket, kbo)
        ).fetchone()
        status = "UNKNOWN" if batch is None else ("DONE" if batch["done"] else "PENDING")
        etree.SubElement(out, dis.q("Status")).text = status
        if status != "DONE":
            return out
        stored = [
            r[0]
            for r in db.execute(
                "SELECT result FROM forms WHERE ticket=? AND kbo=? ORDER BY id", (ticket, kbo)
            ).fetchall()
        ]
        for r in db.execute(
            "SELECT f.* FROM batch_dups d JOIN forms f ON f.kbo=d.kbo AND f.client_ref=d.client_ref"
            " WHERE d.ticket=? AND f.state='DONE'",
            (ticket,),
        ).fetchall():
            stored.append(dis.render_decision_result(self.engine.echo(r)))
        if shuffle:
            random.Random(ticket).shuffle(stored)
        if duplicate:
            stored = [r for r in stored for _ in (0, 1)]
        # the stored results are the bytes of DecisionResult elements: one parse for the whole reply
        # instead of one per form
        holder = etree.fromstring(
            b'<dis:Results xmlns:dis="%s">%s</dis:Results>'
            % (dis.DIS_NS.encode(), b"".join(stored))
        )
        out.extend(
            list(holder)
        )  # a list first: moving children while iterating their parent skips some
        return out

    def _attestations(self, ssin: str) -> etree._Element:
        out = etree.Element(dis.q("DIS_AttestationReply"), nsmap={"dis": dis.DIS_NS})
        etree.SubElement(out, dis.q("SSIN")).text = ssin
        for a in self.engine.attestations(ssin):
            el = etree.SubElement(out, dis.q("Attestation"))
            for tag, value in (
                ("AttestationID", a["attestation_id"]),
                ("Status", a["status"]),
                ("KBOBCE", a["kbo"]),
                ("CategoryCode", a["category"]),
                ("ValidFrom", a["valid_from"]),
                ("ValidTo", a["valid_to"]),
                ("CreationDate", a["created_at"]),
                ("AvailableFrom", a["available_on"]),
                ("UpdateOf", a["update_of"]),
            ):
                if value is not None:
                    etree.SubElement(el, dis.q(tag)).text = str(value)
        return out

    def _register_notices(self, kbo: str, payload: etree._Element) -> etree._Element:
        """SIM.NR.Notices: the National Register notices of persons this CPAS integrated, after a cursor."""
        after_text = payload.findtext(dis.q("After"))
        after = int(after_text) if after_text else None
        rows, more = self.engine.register_notices(
            kbo, after, int(payload.findtext(dis.q("Limit")) or 100)
        )
        out = etree.Element(dis.q("DIS_NoticeReply"), nsmap={"dis": dis.DIS_NS})
        for row in rows:
            el = etree.SubElement(out, dis.q("Notice"))
            for tag, value in (
                ("NoticeId", row["notice_id"]),
                ("SSIN", row["ssin"]),
                ("Kind", row["kind"]),
                ("EffectiveDate", row["date"]),
                ("NewSSIN", row["new_ssin"]),
                ("NewInsCode", row["new_ins"]),
                ("NewMunicipality", row["new_municipality"]),
                ("RecordedAt", row["recorded_at"]),
            ):
                if value is not None:
                    etree.SubElement(el, dis.q(tag)).text = str(value)
        last = rows[-1]["notice_id"] if rows else after
        if last is not None:
            etree.SubElement(out, dis.q("Cursor")).text = str(last)
        etree.SubElement(out, dis.q("HasMore")).text = "true" if more else "false"
        return out

    def _statement(self, kbo: str, month: str) -> etree._Element:
        lines = _statement.generate(self.engine, kbo, month)
        out = etree.Element(dis.q("DIS_StatementReply"), nsmap={"dis": dis.DIS_NS})
        etree.SubElement(out, dis.q("KBOBCE")).text = kbo
        etree.SubElement(out, dis.q("Month")).text = month
        etree.SubElement(out, dis.q("Available")).text = "false" if lines is None else "true"
        for line in lines or []:
            el = etree.SubElement(out, dis.q("Line"))
            for tag, value in (
                ("Legislation", "1"),
                ("InsCode", line["ins"]),
                ("Dossier", line["dossier"]),
                ("SSIN", line["ssin"]),
                ("Reference", line["reference"] or ""),
                ("ClientReference", line["client_ref"]),
                ("AmountType", line["amount_type"]),
                ("FirstDay", line["first_day"]),
                ("LastDay", line["last_day"]),
                ("BudgetArticle", line["article"]),
                ("Sign", line["sign"]),
                ("Amount", line["amount"]),
                ("Percentage", line["pct"]),
                ("Category", line["category"] or ""),
            ):
                etree.SubElement(el, dis.q(tag)).text = str(value)
        if lines is not None:
            start = f"{month}-01"
            end = f"{month}-31T23:59:59"
            for n in self.store.db.execute(
                "SELECT * FROM notices WHERE kbo=? AND created_at>=? AND created_at<=? ORDER BY id",
                (kbo, start, end),
            ).fetchall():
                el = etree.SubElement(out, dis.q("Notice"))
                etree.SubElement(el, dis.q("Code")).text = n["code"]
                if n["client_ref"]:
                    etree.SubElement(el, dis.q("ClientReference")).text = n["client_ref"]
                etree.SubElement(el, dis.q("Text")).text = n["text"]
        return out

    def _manage_access(self, kbo: str, service: envelope.ServiceRequest) -> envelope.ServiceReply:
        return self._manage_access_many(kbo, [service])[0]

    def _manage_access_many(
        self, kbo: str, services: list[envelope.ServiceRequest]
    ) -> list[envelope.ServiceReply]:
        """OCMWCPASManageAccess requests of one message, in order (federal.md 5.1 / 10.5.1), each checked as the
        real service does (:mod:`access`): a refused request gets a ServiceReply ``NO`` with its code and
        changes nothing; the others are applied.

        Why in one go: a batch of the plugin integrates up to 1000 new NISS in one SSDN message.  Each
        request is applied in message order (a NISS named twice sees its earlier request), then one query
        reads the registrations of every NISS and the replies are written as text and parsed once."""
        requests = [_access.read(s.payload) for s in services]
        if len({r.ssin for r in requests}) < len(
            requests
        ):  # a NISS twice: each reply shows the state after it
            return [self._manage_access_many(kbo, [s])[0] for s in services]
        db = self.store.db
        registers: list[tuple[Any, ...]] = []
        refused: dict[int, list[envelope.Detail]] = {}
        for i, req in enumerate(requests):
            self._calls["manage_access_" + req.action.lower()] += 1
            existing: Any = ...
            valid = ssin_valid(req.ssin)
            if valid and req.action == "REGISTER":
                row = db.execute(
                    "SELECT end FROM integrations WHERE kbo=? AND ssin=? AND purpose=? AND start=?",
                    (kbo, req.ssin, req.purpose, req.start),
                ).fetchone()
                existing = ... if row is None else row[0]
            details = _access.problems(
                req,
                ssin_valid=valid,
                replaced=valid and self.engine._mutation(req.ssin, "replaced") is not None,
                existing_end=existing,
            )
            if details:
                refused[i] = details
            elif req.action == "REGISTER":
                registers.append((kbo, req.ssin, req.purpose, req.start, req.end))
            elif req.action == "UNREGISTER":
                db.executemany(
                    "INSERT OR REPLACE INTO integrations(kbo, ssin, purpose, start, end) VALUES(?,?,?,?,?)",
                    registers,
                )
                registers = []
                db.execute(
                    "UPDATE integrations SET end=? WHERE kbo=? AND ssin=? AND purpose=? AND (end IS NULL OR end>?)",
                    (req.start, kbo, req.ssin, req.purpose, req.start),
                )
        db.executemany(
            "INSERT OR REPLACE INTO integrations(kbo, ssin, purpose, start, end) VALUES(?,?,?,?,?)",
            registers,
        )
        held: dict[str, list[tuple[Any, ...]]] = {}
        ssins = sorted({r.ssin for i, r in enumerate(requests) if i not in refused})
        for i in range(0, len(ssins), 900):
            part = ssins[i : i + 900]
            for row in db.execute(
                f"SELECT ssin, purpose, start, end FROM integrations WHERE kbo=? AND ssin IN"  # noqa: S608 - only "?" placeholders are formatted in; values are bound
                f" ({','.join('?' * len(part))}) ORDER BY start",
                (kbo, *part),
            ).fetchall():
                held.setdefault(row[0], []).append(row)
        text = []
        x = _xml_text
        for i, req in enumerate(requests):
            if i in refused:
                continue
            purpose = "" if req.purpose is None else f"<Purpose>{req.purpose}</Purpose>"
            text.append(
                f"<ManageAccessReply><OriginalRequest><SSIN>{x(req.ssin)}</SSIN>{purpose}"
                f"<Period><common:StartDate>{x(req.start or '')}</common:StartDate>"
            )
            if req.end:
                text.append(f"<common:EndDate>{x(req.end)}</common:EndDate>")
            text.append(f"</Period><Action>{x(req.action)}</Action></OriginalRequest>")
            for _, reg_purpose, reg_start, reg_end in held.get(req.ssin, ()):
                if req.action == "LIST" and req.purpose is not None and reg_purpose != req.purpose:
                    continue
                text.append(
                    f"<Registrations><Purpose>{reg_purpose}</Purpose><Period><common:StartDate>{x(reg_start)}"
                    "</common:StartDate>"
                )
                if reg_end:
                    text.append(f"<common:EndDate>{x(reg_end)}</common:EndDate>")
                text.append(
                    f"</Period><OrgUnit>{x(kbo)}</OrgUnit><Register>SECONDARY</Register></Registrations>"
                )
            text.append("</ManageAccessReply>")
        holder = etree.fromstring(
            f'<Replies xmlns="{envelope.MANAGE_ACCESS_NS}" xmlns:common="{envelope.COMMON_NS}">'
            f"{''.join(text)}</Replies>".encode()
        )
        bodies = iter(list(holder))
        replies = []
        for i, (service, req) in enumerate(zip(services, requests, strict=False)):
            if i in refused:
                replies.append(
                    envelope.ServiceReply(
                        ok="NO",
                        return_code=10000,
                        service_id=service.service_id,
                        version=service.version,
                        payload=None,
                        details=refused[i],
                    )
                )
                continue
            warn = _access.warnings(req)
            replies.append(
                envelope.ServiceReply(
                    ok="WARNING" if warn else "YES",
                    return_code=1 if warn else 0,
                    service_id=service.service_id,
                    version=service.version,
                    payload=next(bodies),
                    details=warn,
                )
            )
        return replies

    # ------------------------------------------------------------------ eBox
    def _ebox(self, path: str, start_response: StartResponse) -> list[bytes]:
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[3] == "statement.txt":
            with self.store.lock:
                lines = _statement.generate(self.engine, parts[1], parts[2])
            if lines is None:
                return self._respond(
                    start_response, "404 Not Found", b"statement not yet available", "text/plain"
                )
            return self._respond(
                start_response,
                "200 OK",
                _statement.render_txt(lines, parts[2]).encode(),
                "text/plain; charset=utf-8",
            )
        if len(parts) == 4 and parts[3] == "reception.csv":
            # the "réception" list (federal.md 5.4 / 10.5.12): forms received during the month and their fate,
            # delivered with the statement on the first Sunday of the next month
            with self.store.lock:
                if not _statement.statement_available(self.engine, parts[2]):
                    return self._respond(
                        start_response,
                        "404 Not Found",
                        b"reception list not yet available",
                        "text/plain",
                    )
                rows = self.store.db.execute(
                    "SELECT client_ref, reference, kind, dossier, entry_date, recovery_month, seq, evaluation,"
                    " received_at FROM forms WHERE kbo=? AND state='DONE' AND received_at>=? AND received_at<=?"
                    " ORDER BY id",
                    (parts[1], f"{parts[2]}-01", f"{parts[2]}-31T23:59:59"),
                ).fetchall()
            csv_lines = ["client_reference;reference;form;dossier;period;evaluation;received_at"]
            for r in rows:
                period = r["entry_date"] or f"{r['recovery_month']}/{r['seq']}"
                csv_lines.append(
                    ";".join(
                        [
                            r["client_ref"],
                            r["reference"] or "",
                            r["kind"],
                            r["dossier"],
                            period,
                            r["evaluation"] or "",
                            r["received_at"],
                        ]
                    )
                )
            return self._respond(
                start_response,
                "200 OK",
                ("\n".join(csv_lines) + "\n").encode(),
                "text/csv; charset=utf-8",
            )
        return self._respond(start_response, "404 Not Found", b"not found", "text/plain")

    # ------------------------------------------------------------------ admin
    def _admin(
        self, environ: dict[str, Any], method: str, path: str, start_response: StartResponse
    ) -> list[bytes]:
        try:
            body = (
                orjson.loads(self._read_body(environ) or b"{}") if method in ("POST", "PUT") else {}
            )
        except BodyRefused as exc:
            environ["piis.close_connection"] = True
            return self._respond(
                start_response,
                exc.status,
                orjson.dumps({"error": exc.text}),
                "application/json",
                [("Connection", "close")],
            )
        name = path.removeprefix("/admin/").strip("/")
        try:
            result = self.admin(method, name, body, environ.get("QUERY_STRING", ""))
        except KeyError as exc:
            return self._respond(
                start_response,
                "404 Not Found",
                orjson.dumps({"error": str(exc)}),
                "application/json",
            )
        except (
            ValueError
        ) as exc:  # a request the simulator refuses (e.g. a move without its municipality)
            return self._respond(
                start_response,
                "400 Bad Request",
                orjson.dumps({"error": str(exc)}),
                "application/json",
            )
        return self._respond(start_response, "200 OK", orjson.dumps(result), "application/json")

    def admin(self, method: str, name: str, body: dict[str, Any], query: str = "") -> Any:
        """The admin operations (also callable in-process)."""
        db = self.store.db
        with self.store.lock:
            if name == "clock":
                if method == "POST":
                    self.store.set_setting("clock", datetime.fromisoformat(body["now"]).isoformat())
                return {"now": self.engine.now().isoformat()}
            if name == "config" and method == "POST":
                check_config(body)
                for key, value in body.items():
                    self.store.set_setting("cfg:" + key, orjson.dumps(value).decode())
                return {"ok": True}
            if name == "cpas" and method == "POST":
                body = {**body, **check_cpas(body)}
                db.execute(
                    "INSERT OR REPLACE INTO cpas(kbo, ins, name, rate) VALUES(?,?,?,?)",
                    (
                        body["kbo"],
                        body["ins"],
                        body.get("name", "CPAS"),
                        int(body.get("rate", 5500)),
                    ),
                )
                for item in body.get("rates", []):
                    db.execute(
                        "INSERT OR REPLACE INTO cpas_rates(kbo, since, rate) VALUES(?,?,?)",
                        (body["kbo"], item["since"], int(item["rate"])),
                    )
                self.engine.forget_cached()
                return {"ok": True}
            if name == "tiers" and method == "POST":
                # average beneficiaries per month by year -> the CPAS's tier rates (federal.md 5.5, 10.5.13)
                db.execute("BEGIN")
                try:
                    rates = self.engine.set_beneficiaries(
                        body["kbo"], {int(y): float(a) for y, a in body["averages"].items()}
                    )
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                return {"rates": {str(y): r for y, r in rates.items()}}
            if name == "rates" and method == "GET":
                kbo = parse_qs(query).get("kbo", [None])[0]
                rows = db.execute(
                    "SELECT kbo, since, rate, source FROM cpas_rates WHERE ? IS NULL OR kbo=?"
                    " ORDER BY kbo, since",
                    (kbo, kbo),
                ).fetchall()
                return [dict(r) for r in rows]
            if name == "integrations" and method == "POST":
                ssins = body.get("ssins") or [body["ssin"]]  # bulk form for load tests
                db.executemany(
                    "INSERT OR REPLACE INTO integrations(kbo, ssin, purpose, start, end) VALUES(?,?,?,?,?)",
                    [
                        (
                            body["kbo"],
                            ssin,
                            int(body.get("purpose", 2)),
                            body.get("start", "2002-10-01"),
                            body.get("end"),
                        )
                        for ssin in ssins
                    ],
                )
                return {"ok": True, "count": len(ssins)}
            if name == "mutations" and method == "POST":
                db.execute("BEGIN")
                try:
                    n = self.engine.apply_mutation(
                        body["ssin"],
                        body["kind"],
                        date.fromisoformat(body["date"]),
                        body.get("new_ssin"),
                        new_ins=body.get("new_ins"),
                        new_municipality=body.get("new_municipality"),
                    )
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                return {"affected": n}
            if name == "faults":
                if method == "POST":
                    db.execute(
                        "INSERT INTO faults(kind, remaining, delay) VALUES(?,?,?)",
                        (body["kind"], int(body.get("count", 1)), float(body.get("delay", 0))),
                    )
                    self._faults_maybe = True
                elif method == "DELETE":
                    db.execute("DELETE FROM faults")
                return [
                    dict(r) for r in db.execute("SELECT * FROM faults WHERE remaining>0").fetchall()
                ]
            if name == "forms":
                rows = db.execute(
                    "SELECT id, kbo, client_ref, kind, ssin, dossier, entry_date, recovery_month, seq,"
                    " state, evaluation, superseded_by, cancelled, nr_end, pct, accepted_amount, ticket"
                    " FROM forms ORDER BY id"
                ).fetchall()
                return [dict(r) for r in rows]
            if name == "attestations" and method == "GET":
                params = parse_qs(query)
                return self.engine.attestations(
                    params["ssin"][0], include_pending=params.get("all") == ["1"]
                )
            if name == "notices":
                return [dict(r) for r in db.execute("SELECT * FROM notices ORDER BY id").fetchall()]
            if name == "stats":
                return {
                    "forms": db.execute("SELECT COUNT(*) FROM forms").fetchone()[0],
                    "pending": db.execute(
                        "SELECT COUNT(*) FROM forms WHERE state='PENDING'"
                    ).fetchone()[0],
                    "integrations": db.execute("SELECT COUNT(*) FROM integrations").fetchone()[0],
                    "calls": dict(self._calls),
                }
        raise KeyError(f"unknown admin operation {method} {name}")


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _days(v: Any) -> bool:
    if not isinstance(v, list):
        return False
    try:
        [date.fromisoformat(d) for d in v]
    except (TypeError, ValueError):
        return False
    return True


# setting -> (check, what a valid value is): an unknown setting or a wrong value is refused, never stored
CONFIG_SETTINGS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "batch_delay": (
        lambda v: isinstance(v, (int, float)) and not _is_bool(v) and 0 <= v <= 3600,
        "a number of seconds from 0 to 3600",
    ),
    "allow_c_cancellation": (_is_bool, "true or false"),
    "forfeiture_months": (
        lambda v: isinstance(v, int) and not _is_bool(v) and 1 <= v <= 120,
        "a whole number of months from 1 to 120",
    ),
    "reception_next_working_day": (_is_bool, "true or false"),
    "closure_days": (_days, "a list of ISO dates (YYYY-MM-DD)"),
    "attestation_delay_days": (
        lambda v: isinstance(v, int) and not _is_bool(v) and 0 <= v <= 7,
        "a number of working days from 0 to 7",
    ),
}


def check_config(settings: dict[str, Any]) -> None:
    """Refuse an unknown simulator setting or a value it cannot use (ValueError naming the setting and the fix)."""
    for key, value in settings.items():
        if key not in CONFIG_SETTINGS:
            raise ValueError(
                f"unknown simulator setting {key!r}; known: {', '.join(sorted(CONFIG_SETTINGS))}"
            )
        check, expected = CONFIG_SETTINGS[key]
        if not check(value):
            raise ValueError(f"simulator setting {key}={value!r} refused: expected {expected}")


def check_cpas(body: dict[str, Any]) -> dict[str, Any]:
    """The CPAS a simulator registers, checked as the real registers would (BCE check digits, INS code,
    rate in hundredths of a percent); returns the normalised values or raises ValueError naming the field."""
    from piis_bridge.identifiers import IdentifierError, validate_bce, validate_ins

    try:
        kbo = validate_bce(body.get("kbo"))
    except IdentifierError as exc:
        raise ValueError(
            f"CPAS kbo: {exc}; give the CPAS's 10-digit BCE/KBO number with valid check digits"
        ) from None
    try:
        ins = validate_ins(body.get("ins"))
    except IdentifierError as exc:
        raise ValueError(
            f"CPAS ins: {exc}; give the 5-digit INS/NIS code of the CPAS's municipality"
        ) from None
    rates = [body.get("rate", 5500), *(r.get("rate") for r in body.get("rates", []))]
    for rate in rates:
        if not isinstance(rate, int) or isinstance(rate, bool) or not 0 < rate <= tables.FULL_RATE:
            raise ValueError(
                f"CPAS rate {rate!r} refused: hundredths of a percent, 1 to {tables.FULL_RATE}"
                " (5500 = 55 %)"
            )
    for item in body.get("rates", []):
        try:
            date.fromisoformat(item.get("since", ""))
        except (TypeError, ValueError):
            raise ValueError(
                f"CPAS rates since {item.get('since')!r} refused: an ISO date (YYYY-MM-DD)"
            ) from None
    return {"kbo": kbo, "ins": ins}


def cpas_from_spec(spec: str, option: str = "--cpas") -> dict[str, Any]:
    """``KBO:INS[:name[:rate]]`` (the ``--cpas`` option of ``piis-bridge sim federal``), checked by
    :func:`check_cpas`; ValueError names the option, the value and the fix."""
    parts = spec.split(":")
    if len(parts) < 2 or len(parts) > 4:
        raise ValueError(
            f"{option} {spec!r}: expected KBO:INS[:name[:rate]], e.g. 0207567726:44021:Gent:6500"
        )
    body: dict[str, Any] = {
        "kbo": parts[0],
        "ins": parts[1],
        "name": parts[2] if len(parts) > 2 else "CPAS",
    }
    if len(parts) > 3:
        if not parts[3].isdigit():
            raise ValueError(
                f"{option} {spec!r}: rate {parts[3]!r} is not a whole number (5500 = 55 %)"
            )
        body["rate"] = int(parts[3])
    try:
        return {**body, **check_cpas(body)}
    except ValueError as exc:
        raise ValueError(f"{option} {spec!r}: {exc}") from None


SIMULATED_SERVICES = (
    dis.SERVICE_MANAGE_ACCESS,
    *dis.SERVICE_FORM.values(),
    dis.SERVICE_BATCH,
    dis.SERVICE_BATCH_RESULT,
    dis.SERVICE_STATUS,
    dis.SERVICE_ATTESTATIONS,
    dis.SERVICE_NOTICES,
    dis.SERVICE_STATEMENT,
)


def _index(environ: dict[str, Any]) -> str:
    """What ``GET /`` answers: the endpoints and the services inside sendXML (also in docs/federal.md)."""
    host = (
        environ.get("HTTP_HOST")
        or f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '')}"
    )
    base = f"{environ.get('wsgi.url_scheme', 'http')}://{host}"
    return (
        f"NovaPrima / BCSS simulator (piis-bridge)\n"
        f"WSDL:      {base}{PORT_PATH}?wsdl  (also {base}/?wsdl)\n"
        f"SOAP 1.1:  POST {base}{PORT_PATH}  operation sendXML(xmlString) carrying an SSDNRequest\n"
        f"services:  {', '.join(SIMULATED_SERVICES)}\n"
        f"admin:     {base}/admin/  eBox: {base}/ebox/<kbo>/<YYYY-MM>/statement.txt|reception.csv\n"
        f"docs:      docs/federal.md, section 'The NovaPrima simulator'\n"
    )


def _is_manage_access(service: envelope.ServiceRequest) -> bool:
    return (
        service.service_id == dis.SERVICE_MANAGE_ACCESS
        and service.payload.tag == _MA + "ManageAccessRequest"
    )


def _xml_text(value: object) -> str:
    return escape(str(value))


def _soap_string(reply_xml: str) -> bytes:
    holder = etree.Element(f"{{{WSC_NS}}}xmlString", nsmap={"tns": WSC_NS})
    holder.text = reply_xml
    return _soap(holder)
