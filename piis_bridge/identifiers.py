"""Belgian identifiers with their real check digits: NISS (national register and BIS numbers),
BCE/KBO enterprise numbers and INS/NIS municipality codes.

Why a module of its own: every edge of the system (vendor records, CSV rows, federal replies,
transfer packages) receives these identifiers, and each must reject a bad one with the same
precise reason, without ever echoing a full NISS back into an error or a log line.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError
from stdnum.be import bis, nn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

__all__ = [
    "NISS_SEPARATORS",
    "Bce",
    "IdentifierError",
    "InsCode",
    "Niss",
    "is_valid_niss",
    "mask_niss",
    "niss_birth_date",
    "parse_niss",
    "project_niss_text",
    "shape_hint",
    "validate_bce",
    "validate_ins",
    "validate_niss",
]

_NON_DIGITS = re.compile(r"[\s./-]")

#: Characters accepted between the digits of a NISS (after NFKC): whitespace of any kind (several
#: spaces, tabs, non-breaking spaces), dot, hyphen, slash and the Unicode dashes.  The redactor
#: in piis_bridge.logging finds exactly the writings this module accepts, through the same
#: projection (project_niss_text), so "accepted here" always means "masked there".
NISS_SEPARATORS = frozenset(".-/\u2010\u2011\u2012\u2013\u2014\u2015\u2212")


@lru_cache(maxsize=4096)
def _project_char(ch: str) -> str:
    """One character seen through NFKC: ASCII digits for digits of any script (full-width,
    Arabic-Indic, superscript, circled '21'...), ' ' for each separator, 'x' for anything else.
    Never empty, so positions map back to the original text."""
    if ch.isascii():
        if ch.isdigit():
            return ch
        return " " if (ch in NISS_SEPARATORS or ch.isspace()) else "x"
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        dec = unicodedata.decimal(c, None)
        if dec is not None:
            out.append(str(dec))
        elif c in NISS_SEPARATORS or c.isspace() or unicodedata.category(c) == "Pd":
            out.append(" ")
        else:
            return "x"
    return "".join(out) or "x"


@lru_cache(maxsize=4096)
def _project_char_strict(ch: str) -> str:
    """Like _project_char but without compatibility forms: only true decimal digits count."""
    dec = unicodedata.decimal(ch, None)
    if dec is not None:
        return str(dec)
    proj = _project_char(ch)
    return proj if proj.strip() == "" else "x"


def project_niss_text(text: str, compat: bool = True) -> tuple[str, list[int]]:
    """Return the text projected to ASCII digits / ' ' (separator) / 'x' (other), and for each
    projected position the index of the original character it came from.

    Why a projection instead of NFKC on the whole text: NFKC can change lengths, and the redactor
    must mask the original characters; projecting per character keeps the mapping exact and is
    the single definition of "a NISS writing" shared by parse_niss and the redactor.
    ``compat=False`` ignores compatibility digits (superscripts, circled numbers): the redactor
    also looks at the text that way so that a NISS followed by a '²' is still masked.
    """
    if text.isascii():
        # Fast path for the common case; one projected character per original character.
        return text.translate(_ASCII_TABLE), list(range(len(text)))
    parts: list[str] = []
    origin: list[int] = []
    project = _project_char if compat else _project_char_strict
    for i, ch in enumerate(text):
        proj = project(ch)
        parts.append(proj)
        origin.extend([i] * len(proj))
    return "".join(parts), origin


_ASCII_TABLE = {i: _project_char(chr(i)) for i in range(128)}


def parse_niss(value: object) -> str:
    """Normalise any accepted writing of a NISS to its 11 ASCII digits, or raise IdentifierError.

    Accepted: digits of any script (NFKC per character, so full-width and other decimal digits),
    separated by any number of separators (NISS_SEPARATORS and every kind of whitespace).
    Everything else is refused.  This is the one parser: validate_niss, the mapping engine,
    the readers and the redactor all use it (the redactor through project_niss_text).
    """
    return validate_niss(value)


class IdentifierError(ValueError):
    """An identifier failed validation.  The message never holds the full value."""

    def __init__(self, kind: str, reason: str, masked: object) -> None:
        self.kind = kind
        self.reason = reason
        self.masked = str(masked)
        super().__init__(f"invalid {kind} {self.masked}: {reason}")


def shape_hint(value: object, limit: int = 24) -> str:
    """A hint of what a refused value looked like, without the value: digits become 9, letters
    a/A, other characters stay (separators tell the operator which format arrived).

    Why: a vendor puts a NISS or a name in the wrong column; the error must still say "this
    looked like 99.99.99-999.99" so the operator can fix the export, never the number itself.
    """
    text = str(value)
    out = []
    for ch in text[:limit]:
        proj = _project_char(ch)
        if proj.isdigit():
            out.append("9" * len(proj))
        elif ch.isalpha():
            out.append("A" if ch.isupper() else "a")
        elif ch.isspace():
            out.append(" ")
        else:
            out.append(ch if ch.isascii() and ch.isprintable() else "?")
    more = f"... {len(text)} chars" if len(text) > limit else ""
    return "'" + "".join(out) + more + "'"


def mask_niss(value: object) -> str:
    """Show only the last two digits: enough for a person to find the record, useless to anyone else.

    Whatever the input (a raw vendor value with letters in it too), only digits survive, and only
    the last two of them: the hint can never carry the number.
    """
    projected, _ = project_niss_text(str(value))
    digits = "".join(c for c in projected if c.isdigit())
    if len(digits) <= 2:
        return "*" * len(digits)
    return "*" * (len(digits) - 2) + digits[-2:]


def _compact(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:011d}"
    if not isinstance(value, str):
        raise IdentifierError(
            "NISS", f"expected a string of 11 digits, got {type(value).__name__}", ""
        )
    if value.isascii() and value.isdigit():
        # The usual writing (11 ASCII digits): projecting it gives it back unchanged.
        return value
    projected, _ = project_niss_text(value)
    if "x" in projected:
        return "x"  # some character is neither a digit nor a separator: refused below
    return projected.replace(" ", "")


class _LazyMask:
    """``mask_niss(value)``, computed only when an :class:`IdentifierError` is raised (``str``)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return mask_niss(self.value)


#: The last NISS :func:`validate_niss` found valid, as its 11 digits, and the birth date it encodes
#: (None: partly unknown); ``(None, None)`` before the first.  Why: one record's NISS is checked three
#: times in a row -- the mapping's ``niss`` converter, the model's ``Niss`` type, ``Person``'s
#: birth-date check (``niss_birth_date``) -- and each stdnum check costs ~10 us (issue #20: ~3 % of the
#: process stage).  One entry only, replaced as a whole (a tuple: safe between threads): it holds the
#: number being processed, no more, and is never logged or shown.  A hit answers exactly what the check
#: answered for the same digits (its result depends on nothing else but the current year, which decides
#: whether a 2000s birth is possible: a hit across a new year's midnight answers as before midnight).
_LAST_VALID: tuple[str | None, date | None] = (None, None)


def validate_niss(value: object) -> str:
    """Return the 11-digit NISS (national register or BIS number) or raise IdentifierError.

    Births from 2000 use the '2'-prefixed mod-97 check; BIS numbers carry +20/+40 on the month.
    python-stdnum checks both, including the date part.
    """
    global _LAST_VALID
    last = _LAST_VALID
    if value.__class__ is str and value == last[0]:
        return value  # the digits found valid just before
    digits = _compact(value)
    # The masked hint only for an error: masking every valid NISS cost ~40% of this function
    # (two NISS checks per contract in the nightly run, py-spy).
    masked = _LazyMask(digits if digits != "x" else value)
    if not digits:
        raise IdentifierError("NISS", "is empty", masked)
    if not digits.isdigit():
        raise IdentifierError(
            "NISS",
            "must contain only digits (spaces, dots, dashes and slashes are allowed)",
            masked,
        )
    if len(digits) != 11:
        raise IdentifierError("NISS", f"must have 11 digits, has {len(digits)}", masked)
    module = bis if 20 <= int(digits[2:4]) <= 52 else nn
    try:
        module.validate(digits)
    except InvalidChecksum:
        raise IdentifierError("NISS", "check digits do not match (mod 97)", masked) from None
    except (InvalidComponent, InvalidFormat):
        raise IdentifierError("NISS", "the birth-date part is not a valid date", masked) from None
    except InvalidLength:  # pragma: no cover - length checked above
        raise IdentifierError("NISS", "must have 11 digits", masked) from None
    if not _birth_part_exists(digits):
        # stdnum treats an impossible date (29 February of a common year) as "unknown"; the
        # register only uses 00 for an unknown day or month, so anything else must be a real date.
        raise IdentifierError("NISS", "the birth-date part is not a valid date", masked)
    _LAST_VALID = (digits, _valid_niss_birth_date(digits))
    return digits


def _valid_niss_birth_date(digits: str) -> date | None:
    """``niss_birth_date`` of digits :func:`validate_niss` has just accepted, without checking them
    again: stdnum's reading (``get_birth_date``) of a number whose checksum, month and day are known
    good.  The century is the one whose check digits match (only one can: 2,000,000,000 is not a
    multiple of 97, and the 2000 rule passed validation only where stdnum allows it); 000001,
    002001, 004001 (birth not known), month 00 or day 00 give None.  ``tests/core/test_identifiers.py``
    checks it against stdnum."""
    if digits[:6] in ("000001", "002001", "004001"):
        return None
    month, day = int(digits[2:4]) % 20, int(digits[4:6])
    if month == 0 or day == 0:
        return None
    century = 1900 if 97 - int(digits[:9]) % 97 == int(digits[9:]) else 2000
    return date(century + int(digits[:2]), month, day)


def _birth_part_exists(digits: str) -> bool:
    year2, month, day = int(digits[:2]), int(digits[2:4]) % 20, int(digits[4:6])
    if month == 0 or day == 0:
        return True  # unknown day/month is legitimately written as 00
    body = int(digits[:9])
    century = 2000 if 97 - (2_000_000_000 + body) % 97 == int(digits[9:]) else 1900
    try:
        date(century + year2, month, day)
    except ValueError:
        return False
    return True


def is_valid_niss(value: object) -> bool:
    # What validate_niss refuses before its checksum (not digits, not 11 of them) is answered here
    # without raising and formatting an error: every record id is asked (SourceRecord's RecordId),
    # and a vendor's id is no NISS (38 -> 5 us, load ~16 for 'GPMI-0000001', timeit).
    try:
        digits = _compact(value)
    except IdentifierError:
        return False
    if len(digits) != 11 or not digits.isdigit():
        return False
    try:
        validate_niss(value)
    except IdentifierError:
        return False
    return True


def niss_birth_date(niss: str) -> date | None:
    """Birth date encoded in a NISS, or None when only partly known (unknown day or month)."""
    last = _LAST_VALID
    if niss == last[0]:
        return last[1]  # the number validate_niss has just accepted (Person's check of the record)
    module = bis if 20 <= int(niss[2:4]) <= 52 else nn
    try:
        return module.get_birth_date(niss)
    except Exception:  # noqa: BLE001 - stdnum raises on a partly unknown birth date
        return None


def validate_bce(value: object) -> str:
    """Return the 10-digit BCE/KBO enterprise number, or raise IdentifierError.

    Accepts the usual spellings (0212.345.678, BE0212345678, 212345678).  The check is
    97 - (first 8 digits mod 97) == last 2 digits, and the number starts with 0 or 1.
    """
    if value.__class__ is str:
        known = _VALID_BCE.get(value)
        if known is not None:
            return known
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise IdentifierError("BCE number", f"expected a string, got {type(value).__name__}", "")
    digits = _NON_DIGITS.sub("", str(value)).upper().removeprefix("BE")
    if not digits.isdigit():
        raise IdentifierError("BCE number", "must contain only digits", digits)
    if len(digits) == 9:
        digits = "0" + digits
    if len(digits) != 10:
        raise IdentifierError("BCE number", f"must have 10 digits, has {len(digits)}", digits)
    if digits[0] not in "01":
        raise IdentifierError("BCE number", "must start with 0 or 1", digits)
    if 97 - int(digits[:8]) % 97 != int(digits[8:]):
        raise IdentifierError("BCE number", "check digits do not match (mod 97)", digits)
    if value.__class__ is str:
        if len(_VALID_BCE) >= 1024:
            _VALID_BCE.clear()
        _VALID_BCE[value] = digits
    return digits


#: Writings of a BCE number :func:`validate_bce` accepted -> its 10 digits.  Why: every contract
#: carries its CPAS's BCE (one of a handful a night), checked through a regex each time (~1.5 % of the
#: mapping, issue #20).  An enterprise number is public, not personal data; bounded (cleared at 1,024).
_VALID_BCE: dict[str, str] = {}


def validate_ins(value: object) -> str:
    """Return the 5-digit INS/NIS municipality code, or raise IdentifierError.

    The first digit is the province (1-9); codes are kept as strings so 01xxx-style typos and
    leading zeros are never silently turned into another municipality.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise IdentifierError("INS code", f"expected a string, got {type(value).__name__}", "")
    code = value.strip()
    if len(code) != 5 or not code.isdigit():
        raise IdentifierError("INS code", "must be exactly 5 digits", code)
    if code[0] == "0":
        raise IdentifierError("INS code", "first digit (province) must be 1-9", code)
    return code


def _pydantic(kind: str, validator: Any) -> Any:
    def check(value: object) -> str:
        try:
            return validator(value)
        except IdentifierError as exc:
            raise PydanticCustomError(
                f"invalid_{kind}",
                "{reason} ({masked})",
                {"reason": exc.reason, "masked": exc.masked},
            ) from None

    return BeforeValidator(check)


Niss = Annotated[
    str,
    _pydantic("niss", validate_niss),
    PlainSerializer(lambda v: v, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{11}$",
            "description": "NISS / INSZ (national register or BIS number), 11 digits with valid mod-97 check",
        }
    ),
]
Bce = Annotated[
    str,
    _pydantic("bce", validate_bce),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[01]\d{9}$",
            "description": "BCE/KBO enterprise number, 10 digits, mod-97 check",
        }
    ),
]
InsCode = Annotated[
    str,
    _pydantic("ins", validate_ins),
    WithJsonSchema(
        {"type": "string", "pattern": r"^[1-9]\d{4}$", "description": "INS/NIS municipality code"}
    ),
]
