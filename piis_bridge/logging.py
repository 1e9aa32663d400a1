"""Logging configured once, with one redaction point for every record.

Why: a NISS is personal data that must never reach a log line, whether it comes from our own
structlog calls, from an exception message, from a warning, or from a library's standard
logging (zeep dumps SOAP envelopes, celery logs task arguments).  Everything therefore goes
through one ProcessorFormatter whose last processor before rendering masks every
checksum-valid NISS.  Eleven-digit numbers that fail the check (invoice numbers, phone
numbers) are left alone so logs stay useful.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
import warnings
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, Literal

import structlog

from piis_bridge.identifiers import is_valid_niss, project_niss_text

__all__ = [
    "QUIET_LOGGERS",
    "SENSITIVE_KEYS",
    "MaskingStream",
    "configure_logging",
    "correlation",
    "get_logger",
    "mask_text",
    "masked_stdio",
    "new_correlation_id",
    "quiet_third_party_loggers",
    "redact",
    "redact_processor",
    "strip_url_paths",
]

# In the projected text (see identifiers.project_niss_text) a candidate is a run of digits and
# separators; inside it, any consecutive digit groups that add up to 11 digits form a writing the
# parser accepts, and are masked when the check digits hold.  A NISS glued to more digits
# (a 13-digit number) is another number and is left alone, as the parser would refuse it too.
_RUN = re.compile(r"[0-9][0-9 ]*")
_GROUP = re.compile(r"[0-9]+")
# URLs keep scheme, host and port; path, query and fragment may hold record ids and are dropped.
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s?#'\"<>]*)([/?#][^\s'\"<>]*)")
# Third-party loggers that write URLs, headers or bodies at INFO/DEBUG: never below this level.
QUIET_LOGGERS: dict[str, int] = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "urllib3": logging.WARNING,
    "zeep": logging.WARNING,
    "kombu": logging.WARNING,
    "amqp": logging.WARNING,
    "celery": logging.INFO,
    "celery.app.trace": logging.WARNING,
    "celery.worker.strategy": logging.WARNING,
}
SENSITIVE_KEYS = frozenset(
    {
        "niss",
        "inss",
        "insz",
        "ssin",
        "rrn",
        "national_number",
        "national_register_number",
        "password",
        "secret",
        "client_secret",
        "authorization",
        "token",
        "access_token",
    }
)
_MASK = "[NISS]"


def _niss_spans(projected: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for run in _RUN.finditer(projected):
        groups = list(_GROUP.finditer(run.group(0)))
        i = 0
        while i < len(groups):
            total, j, found = 0, i, False
            while j < len(groups):
                total += len(groups[j].group(0))
                if total >= 11:
                    break
                j += 1
            if total == 11:
                digits = "".join(g.group(0) for g in groups[i : j + 1])
                if is_valid_niss(digits):
                    spans.append((run.start() + groups[i].start(), run.start() + groups[j].end()))
                    i, found = j + 1, True
            if not found:
                i += 1
    return spans


def strip_url_paths(text: str) -> str:
    """Keep scheme, host and port of every URL in *text*; drop path, query and fragment."""
    return _URL.sub(lambda m: m.group(1) + "/[path]", text) if "://" in text else text


def _mask_text(text: str) -> str:
    if not any(c.isdigit() for c in text) and text.isascii():
        return text
    projected, origin = project_niss_text(text)
    spans = [(origin[a], origin[b - 1] + 1) for a, b in _niss_spans(projected)]
    if not text.isascii():
        # Second view with only true decimal digits: a NISS glued to a superscript is still one.
        strict, s_origin = project_niss_text(text, compat=False)
        spans += [(s_origin[a], s_origin[b - 1] + 1) for a, b in _niss_spans(strict)]
        spans.sort()
    if not spans:
        return text
    out, last = [], 0
    for o_start, o_end in spans:
        if o_end <= last:
            continue
        if o_start < last:  # overlapping spans (two views, or a wide character like a circled '21')
            o_start = last
        out.append(text[last:o_start])
        out.append(_MASK)
        last = o_end
    out.append(text[last:])
    return "".join(out)


def mask_text(text: str, urls: bool = False) -> str:
    """Mask every NISS writing the parser accepts in *text* (and, with ``urls``, URL paths).

    The one function for any operator-facing text: log lines, CLI output, quarantine reasons,
    run reports.
    """
    return _mask_text(strip_url_paths(text) if urls else text)


def redact(value: Any) -> Any:
    """Return *value* with every valid NISS masked and every sensitive key's value hidden."""
    if isinstance(value, str):
        return _mask_text(value)
    if isinstance(value, dict):
        return {
            k: ("[REDACTED]" if str(k).lower() in SENSITIVE_KEYS else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(redact(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and 10**9 <= value < 10**11:
        return _MASK if is_valid_niss(f"{value:011d}") else value
    if isinstance(value, BaseException):
        return _mask_text(f"{type(value).__name__}: {value}")
    return value


def redact_processor(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor; must run after exception rendering and just before the renderer.

    Log lines also lose URL paths and queries: they carry record ids, cursors and search terms.
    """
    return redact(_strip_urls_deep(dict(event_dict)))


def _strip_urls_deep(value: Any) -> Any:
    if isinstance(value, str):
        return strip_url_paths(value)
    if isinstance(value, dict):
        return {k: _strip_urls_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_strip_urls_deep(v) for v in value)
    return value


class _RedactingFilter(logging.Filter):
    """Masks stdlib records too, for handlers that bypass our formatter (e.g. celery's own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            try:
                record.msg = record.getMessage()
                record.args = None
            except Exception:  # noqa: BLE001 - keep the record even if the library's format args are broken
                pass
            record.msg = _mask_text(strip_url_paths(record.msg))
        if record.exc_info and not record.exc_text:
            # stdlib formatters (celery's own handlers) print exc_text when it is set.
            record.exc_text = _mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = _mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = _mask_text(record.stack_info)
        return True


_configured: dict[str, Any] = {}


def configure_logging(
    fmt: Literal["json", "console"] | None = None,
    level: int | str = logging.INFO,
    stream: Any = None,
) -> None:
    """Configure structlog and the standard library once for the whole process.

    ``fmt`` defaults to console on a terminal and JSON lines otherwise (production, CI, celery).
    Traceback locals are never rendered: they would carry NISS numbers and SOAP bodies.
    """
    if fmt is None:
        fmt = "console" if sys.stderr.isatty() else "json"
    stream = stream or sys.stderr
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    if fmt == "json":
        tail: list[Any] = [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            redact_processor,
            structlog.processors.JSONRenderer(),
        ]
    else:
        tail = [
            structlog.processors.format_exc_info,
            redact_processor,
            structlog.dev.ConsoleRenderer(
                colors=stream.isatty() if hasattr(stream, "isatty") else False,
                exception_formatter=structlog.dev.plain_traceback,
            ),
        ]
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
        )
    )
    handler.addFilter(_RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_piis_bridge", False):
            root.removeHandler(old)
    handler._piis_bridge = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    quiet_third_party_loggers()
    _configured.update(fmt=fmt, level=level)


def quiet_third_party_loggers() -> None:
    """Raise the libraries that log URLs, headers or bodies (httpx push URLs hold record ids; zeep
    at DEBUG dumps whole envelopes; celery's trace logs task results) to QUIET_LOGGERS, whatever
    the root level, and put the redacting filter on them for handlers that are not ours."""
    for name, floor in QUIET_LOGGERS.items():
        lib = logging.getLogger(name)
        if lib.level == logging.NOTSET or lib.level < floor:
            lib.setLevel(floor)
        if not any(isinstance(f, _RedactingFilter) for f in lib.filters):
            lib.addFilter(_RedactingFilter())


class MaskingStream:
    """A text stream that masks every NISS writing, line by line, before it reaches *target*.

    Why: the CLI prints record ids (vendors build them from a NISS: ``GPMI-<NISS>``), plugin
    error texts and run reports through typer, rich and plain print; wrapping stdout/stderr once
    in ``piis_bridge.cli.main`` covers every command, including those of plugins.  Whole lines
    are masked so a number is never split between two writes; ``flush`` writes a pending partial
    line (progress bars redraw with carriage returns).
    """

    def __init__(self, target: Any) -> None:
        self._target = target
        self._pending = ""

    def write(self, text: str) -> int:
        data = self._pending + text
        cut = max(data.rfind("\n"), data.rfind("\r"))
        if cut < 0:
            self._pending = data
            if len(data) > 65536:  # no newline in a huge write: do not hold it forever
                self._emit_pending()
            return len(text)
        self._pending = data[cut + 1 :]
        self._target.write(_mask_text(data[: cut + 1]))
        return len(text)

    def _emit_pending(self) -> None:
        if self._pending:
            self._target.write(_mask_text(self._pending))
            self._pending = ""

    def flush(self) -> None:
        self._emit_pending()
        self._target.flush()

    def isatty(self) -> bool:
        return bool(getattr(self._target, "isatty", lambda: False)())

    def fileno(self) -> int:
        return int(self._target.fileno())

    @property
    def encoding(self) -> str:
        return str(getattr(self._target, "encoding", None) or "utf-8")

    @property
    def errors(self) -> str:
        return str(getattr(self._target, "errors", None) or "strict")

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return bool(getattr(self._target, "closed", False))


@contextmanager
def masked_stdio() -> Iterator[None]:
    """Wrap sys.stdout and sys.stderr in MaskingStream for the duration of the block."""
    old_out, old_err = sys.stdout, sys.stderr
    out, err = MaskingStream(old_out), MaskingStream(old_err)
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        try:
            out.flush()
            err.flush()
        finally:
            sys.stdout, sys.stderr = old_out, old_err


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


def new_correlation_id() -> str:
    return uuid.uuid4().hex[:16]


@contextmanager
def correlation(**values: Any) -> Iterator[str]:
    """Bind a correlation id (and any other context) for everything logged inside the block."""
    cid = values.pop("correlation_id", None) or new_correlation_id()
    with structlog.contextvars.bound_contextvars(correlation_id=cid, **values):
        yield cid
