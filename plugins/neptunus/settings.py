"""Settings of the neptunus plugin, per CPAS (``[cpas.<id>.plugins.neptunus]``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = ["NeptunusSettings"]


class NeptunusSettings(BaseModel):
    """Where the NeptunusWeb-like API is and how to behave towards it.

    ``client_secret`` comes from the environment
    (``PIIS_CPAS__<ID>__PLUGINS__NEPTUNUS__CLIENT_SECRET``) or ``client_secret_file``.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)

    base_url: str = Field(description="e.g. https://neptunus.example.be or http://127.0.0.1:8700")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    ocmw_kbo: str | None = Field(
        default=None, description="Only read contracts of this OCMW (multi-tenant vendors)"
    )
    timeout: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)
    max_retry_after: float = Field(
        default=120.0, gt=0, description="Longest Retry-After honoured, in seconds"
    )
    max_page_size: int = Field(default=1000, ge=1, le=1000, description="The vendor's page limit")
    mapping_file: str | None = Field(
        default=None, description="A local mapping file replacing the shipped one"
    )
    draft_contracts: bool = Field(
        default=True,
        description="The vendor API can create draft contracts (ontwerpcontracten); false = answer draft "
        "items 'failed' so a received hand-over goes to the case system as a review task",
    )
    draft_mapping_file: str | None = Field(
        default=None,
        description="A local reverse mapping (canonical draft -> vendor draft) replacing the shipped one",
    )
    initial_modified_since: str | None = Field(
        default=None,
        description="First sync only: skip contracts not modified since (dd-mm-yyyy HH:MM:SS or ISO 8601)",
    )

    @field_validator("initial_modified_since")
    @classmethod
    def _timestamp(cls, value: str | None) -> str | None:
        if value is not None:
            from piis_connectors.casesystem.vocab import parse_timestamp

            try:
                parse_timestamp(value)
            except ValueError:
                raise ValueError("expected dd-mm-yyyy HH:MM:SS or an ISO 8601 timestamp") from None
        return value
