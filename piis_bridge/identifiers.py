"""Belgian identifiers with their real check digits: NISS (national register and BIS numbers),
BCE/KBO enterprise numbers and INS/NIS municipality codes.

Why a module of its own: every edge of the system (vendor records, CSV rows, federal replies,
transfer packages) receives these identifiers, and each must reject a bad one with the same
precise reason, without ever echoing a full NISS back into an error or a log line.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError
from stdnum.be import bis, nn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

__all__ = [
    "Niss",
    "Bce",
    "InsCode",
    "IdentifierError",
    "validate_niss",
    "validate_bce",
    "validate_ins",
    "mask_niss",
    "is_valid_niss",
    "niss_birth_date",
]

_NON_DIGITS = re.compile(r"[\s./-]")


class IdentifierError(ValueError):
    """An identifier failed validation.  The message never holds the full value."""

    def __init__(self, kind: str, reason: str, masked: str) -> None:
        self.kind = kind
        self.reason = reason
        self.masked = masked
        super().__init__(f"invalid {kind} {masked}: {reason}")


def mask_niss(value: object) -> str:
    """Show only the last two digits: enough for a person to find the record, useless to anyone else."""
    digits = _NON_DIGITS.sub("", str(value))
    if len(digits) <= 2:
        return "*" * len(digits)
    return "*" * (len(digits) - 2) + digits[-2:]


def _compact(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:011d}"
    if not isinstance(value, str):
        raise IdentifierError("NISS", f"expected a string of 11 digits, got {type(value).__name__}", "")
    return _NON_DIGITS.sub("", value)


def validate_niss(value: object) -> str:
    """Return the 11-digit NISS (national register or BIS number) or raise IdentifierError.

    Births from 2000 use the '2'-prefixed mod-97 check; BIS numbers carry +20/+40 on the month.
    python-stdnum checks both, including the date part.
    """
    digits = _compact(value)
    masked = mask_niss(digits)
    if not digits:
        raise IdentifierError("NISS", "is empty", masked)
    if not digits.isdigit():
        raise IdentifierError("NISS", "must contain only digits (dots, dashes and spaces are allowed)", masked)
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
    return digits


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
    try:
        validate_niss(value)
    except IdentifierError:
        return False
    return True


def niss_birth_date(niss: str) -> date | None:
    """Birth date encoded in a NISS, or None when only partly known (unknown day or month)."""
    module = bis if 20 <= int(niss[2:4]) <= 52 else nn
    try:
        return module.get_birth_date(niss)
    except Exception:  # stdnum raises on a partly unknown birth date
        return None


def validate_bce(value: object) -> str:
    """Return the 10-digit BCE/KBO enterprise number, or raise IdentifierError.

    Accepts the usual spellings (0212.345.678, BE0212345678, 212345678).  The check is
    97 - (first 8 digits mod 97) == last 2 digits, and the number starts with 0 or 1.
    """
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
    return digits


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
                f"invalid_{kind}", "{reason} ({masked})", {"reason": exc.reason, "masked": exc.masked}
            ) from None

    return BeforeValidator(check)


Niss = Annotated[
    str,
    _pydantic("niss", validate_niss),
    PlainSerializer(lambda v: v, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{11}$", "description": "NISS / INSZ (national register or BIS number), 11 digits with valid mod-97 check"}),
]
Bce = Annotated[
    str,
    _pydantic("bce", validate_bce),
    WithJsonSchema({"type": "string", "pattern": r"^[01]\d{9}$", "description": "BCE/KBO enterprise number, 10 digits, mod-97 check"}),
]
InsCode = Annotated[
    str,
    _pydantic("ins", validate_ins),
    WithJsonSchema({"type": "string", "pattern": r"^[1-9]\d{4}$", "description": "INS/NIS municipality code"}),
]
