"""Settings of the lino plugin, per CPAS (``[cpas.<id>.plugins.lino]``), validated at startup."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = ["LinoSettings"]


class LinoSettings(BaseModel):
    """Where the CPAS's Lino Welfare is, the technical user, and the sync policy.

    ``password`` never sits in the configuration file: it comes from the environment
    (``PIIS_CPAS__<ID>__PLUGINS__LINO__PASSWORD``) or from ``password_file`` (the core refuses it inline).
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)

    url: str = Field(
        description="Lino's base URL, e.g. https://lino.cpas.example (http only for loopback)"
    )
    user: str = Field(
        min_length=1,
        description="The technical Lino user (a SiteStaff user type: it reads the change log)",
    )
    password: SecretStr
    timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP request")
    max_retries: int = Field(
        default=4, ge=0, le=20, description="Retries of a 5xx or transport error (reads)"
    )
    session_check_interval: float = Field(
        default=300.0,
        gt=0,
        description="Seconds between checks that the session still belongs to the user",
    )
    full_scan_hours: float | None = Field(
        default=24.0,
        ge=0,
        description="Hours between full scans of every contract (content hashes catch what the change log "
        "misses); 0 = every run; null = never (change log only)",
    )
    page_size: int = Field(default=100, ge=1, le=1000, description="Rows per Lino list request")
    mapping_file: str | None = Field(
        default=None, description="A local mapping file replacing mappings/lino/contract.yaml"
    )
    codes_file: str | None = Field(
        default=None, description="A local code file replacing mappings/lino/codes.yaml"
    )
    missing_decision_date: Literal["quarantine", "granting_start"] = Field(
        default="quarantine",
        description="A granting without decision date: quarantine the contract (default), or take the "
        "granting's start date as the decision date (a CPAS policy, stated in the configuration)",
    )
    task_user: str | None = Field(
        default=None,
        description="Lino user name tasks are assigned to; default: the contract's social worker",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http(s) URL such as https://lino.cpas.example")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(
                "plain http is only accepted on loopback; use https (the session carries national ids)"
            )
        return value.rstrip("/")
