"""Readers for nightly export files: semicolon CSV (Windows-1252 or UTF-8 with BOM) and XML.

Every row comes out with the line number it starts on, so a bad row can be quarantined as
"line 17" while the other rows go through.  Problems that make the whole file untrustworthy
(undecodable bytes, missing header columns, malformed XML) raise :class:`FileRejected`; the caller
moves the file to ``failed/`` with a report.

Why no encoding guessing library: the vendors' exports are either UTF-8 (with or without BOM) or
Windows-1252, and UTF-8 decoding is strict, so "valid UTF-8, else Windows-1252" is exact for real
text; bytes undefined in Windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D) reject the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

__all__ = ["FileRejected", "Limits", "ReadResult", "Row", "decode", "read_csv", "read_xml"]


@dataclass(frozen=True)
class Limits:
    """Hard limits on an export file, checked while reading (never after having read everything).

    Why: a drop directory is written by another system; a runaway export or a hostile file must be
    refused with a report instead of taking the worker's memory.  ``max_bytes`` is checked on the
    file size before the first byte is parsed; the XML limits while streaming (lxml iterparse).
    """

    max_bytes: int = 128 * 1024 * 1024
    max_depth: int = 32
    max_record_elements: int = 5_000
    max_records: int = 500_000


DEFAULT_LIMITS = Limits()


def _check_size(path: Path, limits: Limits) -> None:
    size = Path(path).stat().st_size
    if size > limits.max_bytes:
        raise FileRejected(
            f"file of {size} bytes exceeds the limit of {limits.max_bytes} bytes (max_file_bytes)"
        )


class FileRejected(ValueError):
    """The whole file is unusable (its rows cannot be trusted)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason if line is None else f"line {line}: {reason}")
        self.reason, self.line = reason, line


@dataclass(frozen=True, slots=True)
class Row:
    """One record: the line it starts on, its fields, or why it could not be read.

    CSV rows keep their values as a tuple beside a shared column tuple (a 50,000-row export held as
    dicts would take three times the memory); ``data`` builds the dict when the row is used.
    """

    line: int
    raw: Any
    error: str | None = None
    columns: tuple[str, ...] | None = None

    @property
    def data(self) -> dict[str, Any]:
        if self.columns is None:
            return self.raw if isinstance(self.raw, dict) else {}
        return dict(zip(self.columns, self.raw, strict=False))


@dataclass
class ReadResult:
    rows: list[Row]
    encoding: str
    columns: list[str] = field(default_factory=list)


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with BOM, else strict UTF-8, else Windows-1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise FileRejected(
                f"declares UTF-8 (BOM) but byte {exc.start + 3} is not UTF-8"
            ) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRejected("UTF-16 files are not supported; export as UTF-8 or Windows-1252")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise FileRejected(
            f"neither UTF-8 nor Windows-1252 (byte 0x{raw[exc.start]:02x})", line
        ) from None


def read_csv(
    path: Path, required: Iterable[str] = (), delimiter: str = ";", limits: Limits = DEFAULT_LIMITS
) -> ReadResult:
    """Read a semicolon-separated export with a header row.

    Column names are trimmed and lower-cased.  A row with the wrong number of fields is kept as a
    :class:`Row` with ``error`` set (quarantined by the caller), blank lines are skipped.  A file
    over ``limits.max_bytes`` is refused before it is read.
    """
    _check_size(path, limits)
    text, encoding = decode(Path(path).read_bytes())
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=True
    )
    try:
        header = next(reader)
    except StopIteration:
        raise FileRejected("the file is empty (no header row)") from None
    except csv.Error as exc:
        raise FileRejected(f"unreadable header: {exc}", 1) from None
    columns = [c.strip().lower() for c in header]
    missing = [c for c in required if c not in columns]
    if missing:
        raise FileRejected(
            f"missing columns: {', '.join(missing)} (found: {', '.join(columns)})", 1
        )
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise FileRejected(f"duplicate columns: {', '.join(duplicates)}", 1)
    rows: list[Row] = []
    names = tuple(columns)
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rows.append(Row(start, {}, f"unreadable row: {exc}"))
            continue
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(columns):
            rows.append(
                Row(
                    start,
                    {},
                    f"expected {len(columns)} fields separated by {delimiter!r}, found {len(values)}",
                )
            )
            continue
        rows.append(Row(start, tuple(v.strip() for v in values), None, names))
    return ReadResult(rows, encoding, columns)


def _element_to_value(el: etree._Element) -> Any:
    # Elements only (comments and processing instructions have no str tag).
    children = [(c.tag, c) for c in el if isinstance(c.tag, str)]
    if not children:
        return (el.text or "").strip()
    out: dict[str, Any] = {}
    for tag, child in children:
        value = _element_to_value(child)
        if tag in out:
            if not isinstance(out[tag], list):
                out[tag] = [out[tag]]
            out[tag].append(value)
        else:
            out[tag] = value
    return out


_DTD_MARKERS = (b"<!doctype", b"<!entity", b"<!element", b"<!attlist")


def _check_prolog(path: Path) -> None:
    """Refuse a DTD or entity declaration before parsing: lxml would otherwise silently drop
    unexpanded entity references (a value would become "")."""
    with open(path, "rb") as fh:
        head = fh.read(65536).lower()
    if any(marker in head for marker in _DTD_MARKERS):
        raise FileRejected(
            "document type (DTD) or entity declarations are not accepted; export plain XML"
        )


def read_xml(path: Path, record_tag: str, limits: Limits = DEFAULT_LIMITS) -> ReadResult:
    """Read every ``<record_tag>`` element as a nested dict (repeated children become lists).

    Streamed with lxml iterparse: every element outside a record is discarded as soon as it ends,
    so memory follows the records kept, not the file.  Refused with a reason (the caller writes the
    report): a file over ``max_bytes``, a DTD or entity declaration, an element nested deeper than
    ``max_depth``, a record with more than ``max_record_elements`` elements, more than
    ``max_records`` records, or a syntax error anywhere (after one, no later element can be trusted).
    """
    _check_size(path, limits)
    _check_prolog(path)
    rows: list[Row] = []
    depth = 0
    in_record = 0  # depth of the record element being read, 0 outside
    record_elements = 0
    try:
        context = etree.iterparse(
            str(path),
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )
        for event, el in context:
            if event == "start":
                depth += 1
                if depth == 1:
                    info = el.getroottree().docinfo
                    if info.doctype or info.internalDTD is not None:
                        raise FileRejected(
                            "document type (DTD) or entity declarations are not accepted"
                        )
                if depth > limits.max_depth:
                    raise FileRejected(
                        f"elements nested deeper than {limits.max_depth} levels", el.sourceline
                    )
                if in_record:
                    record_elements += 1
                    if record_elements > limits.max_record_elements:
                        raise FileRejected(
                            f"a <{record_tag}> with more than {limits.max_record_elements} elements",
                            el.sourceline,
                        )
                elif el.tag == record_tag:
                    in_record, record_elements = depth, 0
                continue
            # end
            if isinstance(el, etree._Entity) or any(isinstance(c, etree._Entity) for c in el):
                raise FileRejected("entity references are not accepted", el.sourceline)
            if in_record and depth == in_record:
                value = _element_to_value(el)
                rows.append(
                    Row(
                        el.sourceline or 0,
                        value if isinstance(value, dict) else {},
                        None if isinstance(value, dict) else f"<{record_tag}> has no fields",
                    )
                )
                if len(rows) > limits.max_records:
                    raise FileRejected(
                        f"more than {limits.max_records} <{record_tag}> records", el.sourceline
                    )
                in_record = 0
            depth -= 1
            if not in_record:
                # Outside a record nothing is kept: clear the element and drop it (and any earlier
                # siblings) from its parent, so unrelated content never accumulates.
                el.clear(keep_tail=False)
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]
                    if depth > 0:
                        parent.remove(el)
        del context
    except etree.XMLSyntaxError as exc:
        raise FileRejected(f"malformed XML: {exc.msg}", exc.lineno) from None
    return ReadResult(rows, "xml")
