"""Settings of the transfer plugin, per CPAS (``[cpas.<id>.plugins.transfer]``).

Paths, not keys: the private keys stay in files the operator protects (``signing_key_path``,
``tls_key_path``); the configuration only names them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from piis_bridge.identifiers import Bce

__all__ = ["PeerSettings", "TransferSettings"]


class PeerSettings(BaseModel):
    """Another CPAS's bridge, keyed by the INS code of the municipality it serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    bce: Bce
    url: str = Field(
        description="Base URL of its transfer endpoint, e.g. https://transfer.cpas-liege.be:8443"
    )


class TransferSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    database_url: str | None = Field(
        default=None, description="Default: the installation's database_url"
    )
    signing_key_path: Path | None = Field(
        default=None, description="PEM private key (EC P-256 or RSA) of this CPAS"
    )
    trust: dict[str, Path | list[Path]] = Field(
        default_factory=dict,
        description="BCE -> PEM public key(s) or certificate(s) of a CPAS we accept packages from (a list while "
        "it rotates its key)",
    )
    peers: dict[str, PeerSettings] = Field(
        default_factory=dict, description="INS code -> the bridge serving it"
    )
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8443, ge=0, le=65535)
    tls_cert_path: Path | None = Field(
        default=None, description="Our certificate (server and client side)"
    )
    tls_key_path: Path | None = None
    tls_ca_path: Path | None = Field(
        default=None, description="CA of the peers' certificates; set = mutual TLS both ways"
    )
    draft_record_id: str | None = Field(
        default=None,
        description="Case-system record (an inbox dossier) that receives the review task of a "
        "received draft when the case system cannot create a draft contract",
    )
    not_expressed_counts_as_consent: bool = Field(
        default=False, description="Legal-review switch Q-09 / C-06"
    )
    max_package_age_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="A package created longer ago than this (and never received before) is refused: a validly "
        "signed package must not create a draft years later (replay from a backup or an interception)",
    )
    retries: int = Field(default=4, ge=0, le=20)
    backoff: float = Field(default=0.5, ge=0)
    timeout: float = Field(default=30.0, gt=0)
