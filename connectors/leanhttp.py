"""``BaseHTTPRequestHandler`` with a cheaper request parse and one write per response (the simulators).

Why: the nightly benchmark sends one HTTP request per contract to the case-system simulator and
several per batch to the federal one, and at 100,000 dossiers both simulators together cost ~12 % of
the run's CPU (issue #20).  Profiled, ``http.server`` spent most of a request's Python time outside
the simulator's own code:

* ``parse_request`` hands the header block to ``email.parser`` (a feed parser built for MIME
  messages): ~60 us per request of 8 headers; reading the lines here and storing them in the same
  :class:`http.client.HTTPMessage` costs ~10 us;
* ``date_time_string`` formats the ``Date`` header anew for every response (~6 us); it changes once
  a second, so it is formatted once a second;
* headers and body left in two ``send`` calls (two TCP segments, two wake-ups of the client);
  :meth:`LeanRequestHandler.send_whole` sends them in one.

The answers are the same bytes: status line, ``Server``, ``Date``, the handler's headers, body.
Malformed requests get the same answers as from ``http.server`` (400, 505, 431 with the same
texts); a header line that is neither ``name: value`` nor a continuation ends the header block, as
the e-mail parser does (the lines after it were never headers there either).
"""

from __future__ import annotations

import email.utils
import re
import time
from http import HTTPStatus
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler

__all__ = ["LeanRequestHandler"]

# the limits of http.client (a longer line or more lines: 431, as http.server answers)
_MAX_LINE = 65536
_MAX_HEADERS = 100
_END = (b"\r\n", b"\n", b"")
# a header line as the e-mail parser recognises one: a name of printable characters but ':', then ':'
# (or an envelope "From " line; continuation lines are told apart before)
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:")
_LINE_END = re.compile(r"(\r\n|\r|\n)")


class LeanRequestHandler(BaseHTTPRequestHandler):
    """A drop-in base for a handler: same attributes (``command``, ``path``, ``request_version``,
    ``headers`` as an :class:`~http.client.HTTPMessage`, ``close_connection``), same error answers."""

    _date_second = -1
    _date_text = ""
    raw_requestline: bytes  # set by handle_one_request
    _headers_buffer: list[bytes]  # http.server's buffer of the response head (send_header)

    def parse_request(self) -> bool:
        """The request line and the headers; False after answering an error (or on an empty line)."""
        self.command = None  # type: ignore[assignment]  # set once the request line is understood
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if not words:
            return False
        if len(words) >= 3:
            version = words[-1]
            number = _version_number(version)
            if number is None:
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
                return False
            if number >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            if number >= (2, 0):
                self.send_error(
                    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED,
                    f"Invalid HTTP version ({version.split('/', 1)[1]})",
                )
                return False
            self.request_version = version
        if not 2 <= len(words) <= 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({requestline!r})")
            return False
        command, path = words[:2]
        if len(words) == 2:  # HTTP/0.9: a GET and nothing else
            self.close_connection = True
            if command != "GET":
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad HTTP/0.9 request type ({command!r})")
                return False
        # '//x' would be read by a client as a host name (gh-87389): one slash, as http.server does
        self.command, self.path = (
            command,
            ("/" + path.lstrip("/") if path.startswith("//") else path),
        )
        headers = self._read_headers()
        if headers is None:
            return False
        self.headers = headers
        connection = headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        if (
            headers.get("Expect", "").lower() == "100-continue"
            and self.protocol_version >= "HTTP/1.1"
            and self.request_version >= "HTTP/1.1"
        ):
            return bool(self.handle_expect_100())
        return True

    def _read_headers(self) -> HTTPMessage | None:
        """The header block into an HTTPMessage, as ``http.client.parse_headers`` fills it; None after
        answering 431 (a line over 64 KiB, more than 100 lines).

        The e-mail parser's reading of the block, kept: a line starting with a blank continues the
        header before it (joined as is; ignored with no header before it), ``From `` lines and lines
        starting with ``:`` carry no header, a bare CR ends a line, and the first line that is none of
        these ends the headers (the lines after it are read and dropped)."""
        message = self.MessageClass()
        current: list[str] | None = None
        fields: list[list[str]] = []
        count = 0
        ended = False
        while True:
            raw = self.rfile.readline(_MAX_LINE + 1)
            if len(raw) > _MAX_LINE:
                self.send_error(
                    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "Line too long",
                    f"got more than {_MAX_LINE} bytes when reading header line",
                )
                return None
            count += 1
            if count > _MAX_HEADERS:
                self.send_error(
                    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "Too many headers",
                    f"got more than {_MAX_HEADERS} headers",
                )
                return None
            if raw in _END:
                break
            if ended:
                continue
            text = raw.decode("iso-8859-1")
            lines = [text] if "\r" not in text[:-2] else _split_lines(text)
            for line in lines:
                if line[0] in " \t":
                    if current is not None:
                        current.append(line)
                    continue
                current = None
                if not _HEADER_LINE.match(line):
                    ended = True
                    break
                if line.startswith("From ") or line[0] == ":":
                    continue
                current = [line]
                fields.append(current)
        for parts in fields:
            name, _, value = parts[0].partition(":")
            value = value.lstrip(" \t") + "".join(parts[1:])
            message.set_raw(name, value.rstrip("\r\n"))
        return message

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header's text; the current one formatted once a second (same text)."""
        if timestamp is not None:
            return email.utils.formatdate(timestamp, usegmt=True)
        now = time.time()
        second = int(now)
        cls = type(self)
        if second != cls._date_second:
            # one class attribute pair, written by whichever thread is first in a new second: a thread
            # reading both mid-update gets the previous second's text, which is still a valid Date
            cls._date_text = email.utils.formatdate(now, usegmt=True)
            cls._date_second = second
        return cls._date_text

    def send_whole(
        self,
        code: int,
        headers: list[tuple[str, str]] | tuple[tuple[str, str], ...],
        body: bytes,
        message: str | None = None,
    ) -> None:
        """Status line, ``Server``, ``Date``, *headers* and *body* in one write to the socket."""
        self.send_response(code, message)
        for name, value in headers:
            self.send_header(name, value)
        if self.request_version != "HTTP/0.9":
            self._headers_buffer.append(b"\r\n")
            if body:
                self._headers_buffer.append(body)
            self.flush_headers()
        elif body:
            self.wfile.write(body)


def _split_lines(text: str) -> list[str]:
    """*text* cut after each CR, LF or CRLF, as the e-mail parser cuts lines (no empty pieces)."""
    parts = _LINE_END.split(text)
    lines = [parts[i] + parts[i + 1] for i in range(0, len(parts) - 1, 2)]
    if parts[-1]:
        lines.append(parts[-1])
    return [line for line in lines if line]


def _version_number(version: str) -> tuple[int, int] | None:
    """(major, minor) of ``HTTP/major.minor``; None when the text is not such a version (as
    http.server reads it: two parts of at most 10 digits each)."""
    if not version.startswith("HTTP/"):
        return None
    parts = version[5:].split(".")
    if len(parts) != 2 or not all(p.isdigit() and len(p) <= 10 for p in parts):
        return None
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:  # digits int() does not read (superscripts): refused like http.server does
        return None
