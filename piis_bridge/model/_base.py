"""Shared configuration and small types of the canonical model."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError


class CanonicalModel(BaseModel):
    """Base of every canonical record.

    ``extra="forbid"``: a misspelt field in a vendor mapping is an error, not silently lost data.
    ``hide_input_in_errors``: validation errors must never echo a NISS back.
    """

    model_config = ConfigDict(
        extra="forbid",
        hide_input_in_errors=True,
        str_strip_whitespace=True,
        populate_by_name=True,
    )


Cents = Annotated[
    int, Field(ge=0, description="Amount in euro cents (integer; EUR 1,234.56 = 123456).")
]
NonEmptyStr = Annotated[str, Field(min_length=1)]
Percentage = Annotated[int, Field(ge=0, le=100)]


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def field_problems(problems: list[tuple[str, str]]) -> PydanticCustomError:
    """An error for a model-level check that names the exact sub-fields at fault.

    pydantic places model-validator errors at the model itself; this error carries
    ``(field path, reason)`` pairs which ``files.problems_from_error`` turns into one problem per field.
    """
    return PydanticCustomError(
        "field_problems",
        "{summary}",
        {"summary": "; ".join(f"{f}: {r}" for f, r in problems), "problems": problems},
    )
