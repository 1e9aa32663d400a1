"""The CPAS side of the BCSS link: a zeep client on the local copy of WebServiceConnector.wsdl.

Why these choices (stack.md section 3):
* the WSDL is local (never fetched) and the endpoint is set per environment with ``create_service``;
* zeep's ``operation_timeout`` defaults to *no timeout*, so both connect and read timeouts are explicit;
* one ``requests.Session`` per client: connections are reused (keep-alive);
* only failures where the request certainly did not reach the service are retried here (connection
  refused, SOAP fault MSG00003 "unavailable", HTTP 502/503/504).  A timeout or a broken reply AFTER sending
  raises :class:`OutcomeUnknown`: the caller asks for the status before any resend (no double claim);
* replies are parsed with DTDs, entities and external references forbidden, and refused above a byte limit,
  before and after zeep (XXE, entity expansion, huge documents);
* HTTPS with a client certificate (``cert``/``verify``) and an optional WS-Security X.509 signature
  (xmlsec, RSA-SHA256) are configuration, not code changes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from piis_connectors.federal import dis, envelope, schemas
from piis_connectors.federal.safexml import UnsafeXmlError, parse_untrusted

__all__ = [
    "AccessResult",
    "ClientConfig",
    "DeadlineExceeded",
    "FederalClient",
    "FederalError",
    "OutcomeUnknown",
    "OutgoingInvalid",
    "PermanentError",
    "ReplyTooLarge",
    "TransientError",
    "make_signature",
]

_WSC_NS = "http://ksz-bcss.fgov.be/connectors/WebServiceConnector"
_BINDING = f"{{{_WSC_NS}}}KSZBCSSWebServiceConnectorBinding"


class FederalError(Exception):
    """Base class; messages never carry a NISS."""


class TransientError(FederalError):
    """The request did not reach (or was not processed by) the service; safe to retry later."""


class PermanentError(FederalError):
    """The service refused the whole message (SOAP Client fault, envelope NO); retrying will not help."""


class OutcomeUnknown(FederalError):
    """The request may have been processed but no usable reply came back: ask for the status, never resend blindly."""


class OutgoingInvalid(FederalError):
    """The document we were about to send is not valid against our XSD or the SSDN XSDs; it never left."""

    def __init__(self, issues: Sequence[schemas.SchemaIssue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(f"{i.path}: {i.type_name}" for i in self.issues[:5]))


class ReplyTooLarge(OutcomeUnknown):
    pass


@dataclass
class AccessResult:
    """The answer to one ManageAccess request of a multi-request message (no NISS in its repr: keyed outside)."""

    ok: bool
    registrations: list[dict[str, str]]
    codes: list[str]

    def covers(self, on: date, purpose: int = 2) -> bool:
        """An integration with this quality code that includes the day ``on`` (start <= on <= end)."""
        day = on.isoformat()
        return any(
            r["purpose"] == str(purpose)
            and r["start"]
            and r["start"] <= day
            and (not r["end"] or r["end"] >= day)
            for r in self.registrations
        )


@dataclass
class ClientConfig:
    endpoint: str
    user: envelope.AuthorizedUser
    wsdl: Path | str = schemas.WSDL_PATH
    connect_timeout: float = 5.0
    operation_timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.2
    cert: tuple[str, str] | None = None  # (client.crt, client.key) for mutual TLS
    verify: bool | str = True  # CA bundle path for HTTPS
    basic_auth: tuple[str, str] | None = None
    wsse: Any | None = None  # e.g. make_signature(...)
    max_reply_bytes: int = 32 * 1024 * 1024
    #: Wall-clock limit of one call (connect + send + receive).  The timeouts above are per socket
    #: operation: a server dripping one byte every few seconds would otherwise hold a call forever.
    #: None = connect_timeout + operation_timeout.
    total_timeout: float | None = None
    pool_size: int = 4
    version: str = dis.SERVICE_VERSION
    extra: dict[str, Any] = field(default_factory=dict)


def make_signature(
    key_file: str, cert_file: str, password: str | None = None, *, verify_reply: bool = False
) -> Any:
    """WS-Security X.509 signature of the Body with RSA-SHA256/SHA256 (zeep defaults to SHA1).

    Needs the ``xmlsec`` extra; imported here so that the client works without it.  zeep verifies the
    reply's signature with the *same* certificate and before looking for a SOAP fault (zeep issues 997 and
    1197), which fails against a service that does not sign its replies (the BCSS classic connector and our
    simulator); ``verify_reply=False`` therefore signs requests only."""
    import xmlsec
    from zeep.wsse.signature import BinarySignature

    class _Signature(BinarySignature):
        def verify(self, envelope: Any) -> Any:
            return super().verify(envelope) if verify_reply else envelope

    return _Signature(
        key_file,
        cert_file,
        password,
        signature_method=xmlsec.constants.TransformRsaSha256,
        digest_method=xmlsec.constants.TransformSha256,
    )


class DeadlineExceeded(OutcomeUnknown):
    """The call did not complete within ``total_timeout``; the message may have been processed."""


_CALL = threading.local()  # the connections used by the call in progress on this thread


def _deadline_adapter(**kwargs: Any) -> Any:
    """An HTTPAdapter whose connections register themselves with the call in progress, so that the
    call's deadline watchdog can shut their sockets down (a blocked recv then returns at once)."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    def _register(conn: Any) -> None:
        calls = getattr(_CALL, "conns", None)
        if calls is not None:
            calls.append(conn)

    class _Conn(HTTPConnection):
        def request(self, *args: Any, **kw: Any) -> Any:
            _register(self)
            return super().request(*args, **kw)

    class _TLSConn(HTTPSConnection):
        def request(self, *args: Any, **kw: Any) -> Any:
            _register(self)
            return super().request(*args, **kw)

    class _Pool(HTTPConnectionPool):
        ConnectionCls = _Conn

    class _TLSPool(HTTPSConnectionPool):
        ConnectionCls = _TLSConn

    class _Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kw: Any) -> None:
            super().init_poolmanager(*args, **kw)
            self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}

    return _Adapter(**kwargs)


def _shutdown(conns: list[Any]) -> None:
    for conn in conns:
        sock = getattr(conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _transport_class() -> type:
    from zeep.transports import Transport

    class _LimitedTransport(Transport):
        """Reads at most ``max_bytes`` of a reply; explicit (connect, read) timeouts and a total deadline."""

        def __init__(
            self,
            *args: Any,
            max_bytes: int,
            connect_timeout: float,
            total_timeout: float,
            **kwargs: Any,
        ) -> None:
            super().__init__(*args, **kwargs)
            self.max_bytes = max_bytes
            self.connect_timeout = connect_timeout
            self.total_timeout = total_timeout

        def post(self, address: str, message: Any, headers: dict[str, str]) -> Any:
            conns: list[Any] = []
            fired = threading.Event()

            def expire() -> None:
                fired.set()
                _shutdown(conns)

            _CALL.conns = conns
            watchdog = threading.Timer(self.total_timeout, expire)
            watchdog.daemon = True
            watchdog.start()
            started = time.monotonic()
            try:
                return self._post(address, message, headers, started)
            except FederalError:
                raise
            except Exception as exc:
                if fired.is_set():
                    raise DeadlineExceeded(
                        f"no complete reply within the total deadline of {self.total_timeout:g} s"
                    ) from None
                raise exc
            finally:
                watchdog.cancel()
                _CALL.conns = None
                if fired.is_set():
                    self.session.close()  # its sockets were shut down: never reuse them

        def _post(self, address: str, message: Any, headers: dict[str, str], started: float) -> Any:
            # verify/cert passed explicitly: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override the
            # session's own CA bundle otherwise, silently replacing the configured one
            response = self.session.post(
                address,
                data=message,
                headers=headers,
                stream=True,
                timeout=(self.connect_timeout, self.operation_timeout),
                verify=self.session.verify,
                cert=self.session.cert,
            )
            try:
                declared = int(response.headers.get("Content-Length") or 0)
            except ValueError:
                declared = 0
            if declared > self.max_bytes:
                response.close()
                raise ReplyTooLarge(
                    f"reply of {declared} bytes exceeds the limit of {self.max_bytes}"
                )
            data = bytearray()
            for chunk in response.iter_content(65536):
                data.extend(chunk)
                if len(data) > self.max_bytes:
                    response.close()
                    raise ReplyTooLarge(f"reply exceeds the limit of {self.max_bytes} bytes")
                if time.monotonic() - started > self.total_timeout:
                    response.close()
                    raise DeadlineExceeded(
                        f"no complete reply within the total deadline of {self.total_timeout:g} s"
                    )
            response._content = bytes(data)
            response._content_consumed = True
            return response

    return _LimitedTransport


class FederalClient:
    """One per process or thread (zeep's thread safety is undocumented)."""

    def __init__(self, config: ClientConfig) -> None:
        import requests
        from urllib3.util.retry import Retry
        from zeep import Client, Settings

        self.config = config
        session = requests.Session()
        # connect errors only: a POST that reached the server is never replayed by the transport
        adapter = _deadline_adapter(
            pool_connections=1,
            pool_maxsize=config.pool_size,
            max_retries=Retry(
                total=config.retries,
                connect=config.retries,
                read=0,
                status=0,
                other=0,
                backoff_factor=config.backoff,
                allowed_methods=None,
            ),
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.verify = config.verify
        if config.cert is not None:
            session.cert = config.cert
        if config.basic_auth is not None:
            session.auth = config.basic_auth
        transport = _transport_class()(
            session=session,
            timeout=config.connect_timeout,
            operation_timeout=config.operation_timeout,
            max_bytes=config.max_reply_bytes,
            connect_timeout=config.connect_timeout,
            total_timeout=config.total_timeout or config.connect_timeout + config.operation_timeout,
        )
        settings = Settings(
            strict=True,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
            xml_huge_tree=False,
        )
        self.session = session
        self._zeep = Client(
            str(config.wsdl), transport=transport, settings=settings, wsse=config.wsse
        )
        self._service = self._zeep.create_service(_BINDING, config.endpoint)

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ transport
    def call(
        self, services: Iterable[envelope.ServiceRequest], *, reference: str | None = None
    ) -> envelope.ReplyEnvelope:
        """Send one SSDNRequest, validated first; retry only failures that certainly had no effect."""
        reference = reference or str(uuid.uuid4())
        root = envelope.build_request(
            self.config.user, services, reference=reference, time_request=datetime.now()
        )
        issues = schemas.validate(schemas.envelope_schema(), root)
        if issues:
            raise OutgoingInvalid(issues)
        xml = etree.tostring(root, encoding="unicode")
        attempt = 0
        while True:
            try:
                return self._send_once(xml, reference)
            except TransientError:
                attempt += 1
                if attempt > self.config.retries:
                    raise
                time.sleep(self.config.backoff * (2 ** (attempt - 1)))

    def _send_once(self, xml: str, reference: str) -> envelope.ReplyEnvelope:
        import requests
        from zeep import exceptions as zx

        try:
            raw = self._service.sendXML(xml)
        except FederalError:
            raise  # ReplyTooLarge, DeadlineExceeded: already classified
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:
            raise PermanentError(f"endpoint is not usable: {type(exc).__name__}") from None
        except requests.exceptions.SSLError as exc:
            # The TLS handshake failed: nothing was sent.  A certificate problem will not heal by
            # itself, but a handshake cut short by the network may; the caller's retry budget decides.
            raise TransientError(f"TLS handshake failed: {type(exc).__name__}") from None
        except (requests.exceptions.ConnectTimeout, requests.exceptions.ConnectionError) as exc:
            if isinstance(exc, requests.exceptions.ConnectionError) and not _is_connect_failure(
                exc
            ):
                if "ReadTimeout" in repr(exc):
                    raise OutcomeUnknown("no reply within the operation timeout") from None
                raise OutcomeUnknown(
                    f"connection lost after sending: {type(exc).__name__}"
                ) from None
            raise TransientError(f"could not connect: {type(exc).__name__}") from None
        except requests.exceptions.Timeout:
            raise OutcomeUnknown("no reply within the operation timeout") from None
        except zx.Fault as fault:
            text = str(fault.message or "")
            if "MSG00003" in text or (fault.code or "").endswith("Server"):
                raise TransientError(f"SOAP fault: {text[:200]}") from None
            raise PermanentError(f"SOAP fault: {text[:200]}") from None
        except zx.TransportError as exc:
            if (
                200 <= (exc.status_code or 0) < 300
            ):  # zeep's wording for "a 2xx reply that is not XML"
                raise OutcomeUnknown("unusable reply refused: invalid XML") from None
            if exc.status_code in (502, 503, 504):
                raise TransientError(f"HTTP {exc.status_code}") from None
            raise PermanentError(f"HTTP {exc.status_code}") from None
        except (
            zx.DTDForbidden,
            zx.EntitiesForbidden,
            zx.XMLSyntaxError,
            etree.XMLSyntaxError,
        ) as exc:
            raise OutcomeUnknown(f"unusable reply refused: {type(exc).__name__}") from None
        except requests.exceptions.RequestException as exc:
            # Everything else happened after the request may have been sent (ChunkedEncodingError,
            # ContentDecodingError, ReadTimeout...): the outcome is unknown.
            raise OutcomeUnknown(f"transport failed after sending: {type(exc).__name__}") from None
        except (
            zx.Error,
            AttributeError,
            TypeError,
            KeyError,
            IndexError,
            ValueError,
            OSError,
        ) as exc:
            # An unexpected reply shape (an extra element next to xmlString makes zeep fail in its
            # own code) or a socket error: the message may have been processed.
            raise OutcomeUnknown(f"unexpected reply: {type(exc).__name__}") from None
        if not isinstance(raw, str):
            raise OutcomeUnknown("reply does not carry an xmlString")
        try:
            reply = envelope.parse_reply(
                parse_untrusted(raw, max_bytes=self.config.max_reply_bytes)
            )
        except (UnsafeXmlError, envelope.EnvelopeError, ValueError) as exc:
            raise OutcomeUnknown(f"unusable reply refused: {exc}") from None
        if reply.reference is not None and reply.reference != reference:
            raise OutcomeUnknown("reply belongs to another message (stale or duplicated reply)")
        if reply.ok == "NO" and not reply.services:
            codes = ",".join(d.reason_code or "" for d in reply.details)
            raise PermanentError(f"BCSS refused the message: {codes}")
        return reply

    # ------------------------------------------------------------------ services
    def _service_request(self, service_id: str, payload: etree._Element) -> envelope.ServiceRequest:
        return envelope.ServiceRequest(service_id, self.config.version, payload)

    def _single(self, reply: envelope.ReplyEnvelope) -> etree._Element:
        """The payload of the reply's one service (a refused service raises)."""
        if not reply.services:
            raise PermanentError("reply carries no ServiceReply")
        service = reply.services[0]
        if service.payload is None:
            codes = ",".join(d.reason_code or "" for d in service.details)
            raise PermanentError(f"service {service.service_id} refused the request: {codes}")
        return service.payload

    def _access_request(
        self, ssin: str, action: str, start: date, end: date | None, purpose: int
    ) -> envelope.ServiceRequest:
        return self._access_requests([(ssin, start, end)], action, purpose)[0]

    def _access_requests(
        self, people: Sequence[tuple[str, date, date | None]], action: str, purpose: int
    ) -> list[envelope.ServiceRequest]:
        """One ``ManageAccessRequest`` per NISS (the XSD allows one SSIN per request).  Written as text and
        parsed once for the whole list: a message integrates up to 1000 NISS, and building ~7 elements
        each costs more than the rest of the message.  The request is validated with the envelope."""
        x = _xml_text
        text = []
        for ssin, start, end in people:
            text.append(
                f"<ManageAccessRequest><SSIN>{x(ssin)}</SSIN><Purpose>{int(purpose)}</Purpose>"
                f"<Period><common:StartDate>{start.isoformat()}</common:StartDate>"
            )
            if end is not None:
                text.append(f"<common:EndDate>{end.isoformat()}</common:EndDate>")
            text.append(
                f"</Period><Action>{x(action)}</Action><ProofOfAuthentication/></ManageAccessRequest>"
            )
        holder = etree.fromstring(
            f'<Requests xmlns="{envelope.MANAGE_ACCESS_NS}" xmlns:common="{envelope.COMMON_NS}">'
            f"{''.join(text)}</Requests>".encode()
        )
        return [
            self._service_request(dis.SERVICE_MANAGE_ACCESS, payload) for payload in list(holder)
        ]

    def manage_access(
        self, ssin: str, action: str, start: date, end: date | None = None, purpose: int = 2
    ) -> list[dict[str, str]]:
        """OCMWCPASManageAccess: integrate (REGISTER) a NISS before any form (federal.md 5.1)."""
        payload = self._single(self.call([self._access_request(ssin, action, start, end, purpose)]))
        return _registrations(payload)

    def manage_access_many(
        self, action: str, starts: Mapping[str, date], purpose: int = 2
    ) -> dict[str, AccessResult]:
        """One ManageAccess per NISS, all in ONE SSDNRequest (``ServiceRequest`` is unbounded in the SSDN XSD):
        a batch integrates its new NISS in one round trip.  Each NISS gets its own answer: the registrations
        the BCSS returned, or the reason codes of its refusal.  REGISTER is a side effect: an unknown outcome
        raises :class:`OutcomeUnknown` (ask with LIST, never register blindly again); LIST is read-only and
        is repeated after an unknown outcome."""
        ssins = list(starts)
        if not ssins:
            return {}
        services = self._access_requests([(n, starts[n], None) for n in ssins], action, purpose)
        reply = self._call_repeatable(services) if action == "LIST" else self.call(services)
        out: dict[str, AccessResult] = {}
        for position, service in enumerate(reply.services):
            ssin = None
            if service.payload is not None:
                original = service.payload.find(_MA + "OriginalRequest")
                ssin = None if original is None else original.findtext(_MA + "SSIN")
            if ssin is None and position < len(ssins):
                ssin = ssins[
                    position
                ]  # a refused ServiceReply has no payload: replies follow the requests
            if ssin is None or ssin not in starts:
                continue
            out[ssin] = AccessResult(
                ok=service.ok != "NO" and service.payload is not None,
                registrations=[] if service.payload is None else _registrations(service.payload),
                codes=[d.reason_code or "" for d in service.details],
            )
        return out

    def submit_online(
        self, kind: str, forms: Sequence[etree._Element], *, reference: str | None = None
    ) -> list[dis.DecisionResult]:
        """Forms of one kind, answered immediately with the control results (federal.md 10.5.2)."""
        request = dis.build_decision_request(forms)
        payload = self._single(
            self.call([self._service_request(dis.SERVICE_FORM[kind], request)], reference=reference)
        )
        return _dedupe(
            dis.parse_decision_result(el) for el in payload.iterfind(dis.q("DecisionResult"))
        )

    def submit_batch(self, forms: Iterable[etree._Element], *, reference: str | None = None) -> str:
        """Batch ("envoi en lot"): immediate acknowledgement with a ticket, results later."""
        request = dis.build_decision_request(forms)
        payload = self._single(
            self.call([self._service_request(dis.SERVICE_BATCH, request)], reference=reference)
        )
        return payload.findtext(dis.q("Ticket")) or ""

    def batch_result(self, ticket: str) -> tuple[str, list[dis.DecisionResult]]:
        req = etree.Element(dis.q("DIS_BatchResultRequest"), nsmap={"dis": dis.DIS_NS})
        etree.SubElement(req, dis.q("Ticket")).text = ticket
        payload = self._single(self._call_idempotent(dis.SERVICE_BATCH_RESULT, req))
        status = payload.findtext(dis.q("Status")) or "UNKNOWN"
        return status, _dedupe(
            dis.parse_decision_result(el) for el in payload.iterfind(dis.q("DecisionResult"))
        )

    def wait_batch(
        self, ticket: str, *, timeout: float = 60.0, poll: float = 0.05
    ) -> list[dis.DecisionResult]:
        deadline = time.monotonic() + timeout
        while True:
            status, results = self.batch_result(ticket)
            if status == "DONE":
                return results
            if status == "UNKNOWN":
                raise PermanentError("unknown batch ticket")
            if time.monotonic() > deadline:
                raise OutcomeUnknown("batch results not available in time")
            time.sleep(poll)

    def status(
        self, client_refs: Sequence[str]
    ) -> dict[str, tuple[str, dis.DecisionResult | None]]:
        """What the service knows about each ClientReference: UNKNOWN, PENDING or PROCESSED (+ result)."""
        out: dict[str, tuple[str, dis.DecisionResult | None]] = {}
        for i in range(0, len(client_refs), 1000):
            req = etree.Element(dis.q("DIS_StatusRequest"), nsmap={"dis": dis.DIS_NS})
            for ref in client_refs[i : i + 1000]:
                etree.SubElement(req, dis.q("ClientReference")).text = ref
            payload = self._single(self._call_idempotent(dis.SERVICE_STATUS, req))
            for fs in payload.iterfind(dis.q("FormStatus")):
                el = fs.find(dis.q("DecisionResult"))
                out[fs.findtext(dis.q("ClientReference")) or ""] = (
                    fs.findtext(dis.q("State")) or "UNKNOWN",
                    None if el is None else dis.parse_decision_result(el),
                )
        return out

    def notices(self, after: str | None, limit: int) -> dis.NoticePage:
        """National Register notices (SIM.NR.Notices) after the cursor ``after``; read-only, so repeated
        after an unknown outcome like the other queries."""
        req = etree.Element(dis.q("DIS_NoticeRequest"), nsmap={"dis": dis.DIS_NS})
        if after:
            etree.SubElement(req, dis.q("After")).text = after
        etree.SubElement(req, dis.q("Limit")).text = str(limit)
        payload = self._single(self._call_idempotent(dis.SERVICE_NOTICES, req))
        return dis.parse_notices(payload)

    def attestations(self, ssin: str) -> list[dis.Attestation]:
        """The multifunctional attestations of a person visible to the network (SIM.DIS.Attestations); the
        asking CPAS must have integrated the person.  Read-only."""
        req = etree.Element(dis.q("DIS_AttestationRequest"), nsmap={"dis": dis.DIS_NS})
        etree.SubElement(req, dis.q("SSIN")).text = ssin
        payload = self._single(self._call_idempotent(dis.SERVICE_ATTESTATIONS, req))
        return dis.parse_attestations(payload)

    def statement(self, month: str) -> dis.Statement:
        req = etree.Element(dis.q("DIS_StatementRequest"), nsmap={"dis": dis.DIS_NS})
        etree.SubElement(req, dis.q("Month")).text = month
        payload = self._single(self._call_idempotent(dis.SERVICE_STATEMENT, req))
        return dis.parse_statement(payload)

    def _call_idempotent(self, service_id: str, payload: etree._Element) -> envelope.ReplyEnvelope:
        return self._call_repeatable([self._service_request(service_id, payload)])

    def _call_repeatable(self, services: list[envelope.ServiceRequest]) -> envelope.ReplyEnvelope:
        # Read-only services may be repeated after an unknown outcome.
        for attempt in range(self.config.retries + 1):
            try:
                return self.call(services)
            except OutcomeUnknown:
                if attempt == self.config.retries:
                    raise
                time.sleep(self.config.backoff)
        raise AssertionError("unreachable")


_MA = f"{{{envelope.MANAGE_ACCESS_NS}}}"
_CM = f"{{{envelope.COMMON_NS}}}"


def _registrations(payload: etree._Element) -> list[dict[str, str]]:
    """The ``Registrations`` of a ManageAccessReply (one pass over the children: path look-ups cost more
    than the rest of a 1000-NISS reply)."""
    out = []
    for reg in payload.iterchildren(_MA + "Registrations"):
        item = {"purpose": "", "start": "", "end": ""}
        for child in reg:
            if child.tag == _MA + "Purpose":
                item["purpose"] = child.text or ""
            elif child.tag == _MA + "Period":
                for part in child:
                    if part.tag == _CM + "StartDate":
                        item["start"] = part.text or ""
                    elif part.tag == _CM + "EndDate":
                        item["end"] = part.text or ""
        out.append(item)
    return out


def _xml_text(value: object) -> str:
    return escape(str(value))


def _is_connect_failure(exc: Exception) -> bool:
    text = repr(exc)
    return any(
        marker in text
        for marker in (
            "NewConnectionError",
            "Connection refused",
            "ConnectTimeout",
            "Failed to establish",
        )
    )


def _dedupe(results: Iterable[dis.DecisionResult]) -> list[dis.DecisionResult]:
    """Duplicated replies (fault injection) must not double-count: keep one result per ClientReference."""
    seen: dict[str, dis.DecisionResult] = {}
    for r in results:
        seen.setdefault(r.client_reference, r)
    return list(seen.values())
