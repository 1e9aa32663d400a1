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

from piis_bridge.identifiers import is_valid_niss

__all__ = [
    "configure_logging",
    "get_logger",
    "redact",
    "redact_processor",
    "correlation",
    "new_correlation_id",
    "SENSITIVE_KEYS",
]

# 11 digits, optionally written 85.07.30-033.28 / 850730 033 28; not part of a longer number.
_NISS_LIKE = re.compile(r"(?<![\d])(\d{2})[.\- ]?(\d{2})[.\- ]?(\d{2})[.\- ]?(\d{3})[.\- ]?(\d{2})(?![\d])")
SENSITIVE_KEYS = frozenset(
    {"niss", "inss", "insz", "ssin", "rrn", "national_number", "national_register_number",
     "password", "secret", "client_secret", "authorization", "token", "access_token"}
)
_MASK = "[NISS]"


def _mask_text(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return _MASK if is_valid_niss("".join(match.groups())) else match.group(0)

    return _NISS_LIKE.sub(replace, text)


def redact(value: Any) -> Any:
    """Return *value* with every valid NISS masked and every sensitive key's value hidden."""
    if isinstance(value, str):
        return _mask_text(value) if any(c.isdigit() for c in value) else value
    if isinstance(value, dict):
        return {k: ("[REDACTED]" if str(k).lower() in SENSITIVE_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(redact(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and 10**9 <= value < 10**11:
        return _MASK if is_valid_niss(f"{value:011d}") else value
    if isinstance(value, BaseException):
        return _mask_text(f"{type(value).__name__}: {value}")
    return value


def redact_processor(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor; must run after exception rendering and just before the renderer."""
    return redact(dict(event_dict))


class _RedactingFilter(logging.Filter):
    """Masks stdlib records too, for handlers that bypass our formatter (e.g. celery's own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            try:
                record.msg = record.getMessage()
                record.args = None
            except Exception:  # keep the record even if the library's format args are broken
                pass
            record.msg = _mask_text(record.msg)
        return True


_configured: dict[str, Any] = {}


def configure_logging(fmt: Literal["json", "console"] | None = None, level: int | str = logging.INFO,
                      stream: Any = None) -> None:
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
            structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            redact_processor,
            structlog.processors.JSONRenderer(),
        ]
    else:
        tail = [
            structlog.processors.format_exc_info,
            redact_processor,
            structlog.dev.ConsoleRenderer(colors=stream.isatty() if hasattr(stream, "isatty") else False,
                                          exception_formatter=structlog.dev.plain_traceback),
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
    # zeep at DEBUG dumps whole envelopes; keep it at INFO even when the root is DEBUG.
    logging.getLogger("zeep.transports").setLevel(logging.INFO)
    _configured.update(fmt=fmt, level=level)


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
