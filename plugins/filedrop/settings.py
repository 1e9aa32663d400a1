"""Settings of the filedrop plugin, per CPAS (``[cpas.<id>.plugins.filedrop]``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FiledropSettings"]

Format = Literal["csv", "xml"]
FORMATS: tuple[Format, ...] = ("csv", "xml")


class FiledropSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    directory: Path = Field(
        description="Drop root; incoming/, processing/, done/, failed/, outbox/, outgoing/ "
        "live below it"
    )
    formats: list[Format] = Field(
        default_factory=lambda: list(FORMATS), description="Accepted file types, by extension"
    )
    settle_seconds: float = Field(
        default=5.0, ge=0, description="A file must be unchanged this long to be read"
    )
    xml_record_tag: str = Field(default="contrat", min_length=1)
    max_file_bytes: int = Field(
        default=128 * 1024 * 1024,
        gt=0,
        description="A larger export file is refused (failed/ with a report) before it is "
        "read; XML is also limited in depth and record size while streaming",
    )
    csv_mapping_file: str | None = Field(
        default=None, description="Replaces mappings/filedrop/csv_contract.yaml"
    )
    xml_mapping_file: str | None = Field(
        default=None, description="Replaces mappings/filedrop/xml_contract.yaml"
    )
    outgoing_drafts: bool = Field(
        default=False,
        description="The vendor package imports draft contracts from outgoing/: write a received hand-over "
        "there (one file per package); false = answer 'failed' so it goes to outbox/ as a review task",
    )
