"""Settings of health checks, metrics and alerts (``[monitoring]`` and ``[alerts]`` in piis-bridge.toml).

Why their own models: the thresholds are operational choices of the CPAS's IT staff, not legal rules,
and every one of them changes what ``piis-bridge health`` answers or which alert is sent (a test per
setting in ``tests/observability``).  Secrets (the SMTP password, a webhook token) follow the project's
rule: never inline in the file, from the environment or a ``*_file``.
"""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["AlertRules", "AlertSettings", "EmailChannel", "MonitoringSettings", "WebhookChannel"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


def _from_file(value: str | None, path: str | None, name: str) -> str | None:
    """``<name>_file`` holds the secret (orchestrators mount secrets as files); never both."""
    if path is None:
        return value
    if value:
        raise ValueError(
            f"{name}: both {name.rsplit('.', 1)[1]} and {name.rsplit('.', 1)[1]}_file are set; keep one"
        )
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError as exc:
        raise ValueError(f"{name}_file: cannot read {path}: {exc.strerror}") from None


class MonitoringSettings(_Strict):
    """Thresholds of ``piis-bridge health`` and ``/readyz``; the metrics endpoint's address."""

    nightly_warning_hours: float = Field(
        default=26.0,
        gt=0,
        description="Warn when a CPAS's last successful nightly run is older than this.",
    )
    nightly_critical_hours: float = Field(
        default=50.0, gt=0, description="Critical when it is older than this (two nights missed)."
    )
    quarantine_warning: int = Field(
        default=1, ge=1, description="Open quarantine entries of a CPAS that warn."
    )
    quarantine_critical: int = Field(default=500, ge=1, description="... and that are critical.")
    certificate_warning_days: int = Field(
        default=30, ge=0, description="A certificate expiring sooner warns."
    )
    certificate_critical_days: int = Field(
        default=7, ge=0, description="... and sooner than this is critical."
    )
    disk_warning_free_mb: int = Field(
        default=1024, ge=0, description="Free space of the data directory that warns."
    )
    disk_critical_free_mb: int = Field(default=200, ge=0, description="... and that is critical.")
    worker_ping_seconds: float = Field(
        default=2.0, gt=0, le=30, description="How long to wait for workers."
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Address of `piis-bridge monitor serve`."
    )
    metrics_port: int = Field(
        default=9464, ge=1, le=65535, description="Port of `piis-bridge monitor serve`."
    )
    tracing_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector URL for OpenTelemetry traces (e.g. "
        "http://127.0.0.1:4318/v1/traces); unset = no tracing, nothing sent.",
    )
    tracing_dossiers: bool = Field(
        default=True,
        description="With tracing on, also one trace per dossier of a run (a span per stage it went "
        "through); false keeps only the run's trace (fewer spans for a collector that charges by span).",
    )

    @field_validator("tracing_endpoint")
    @classmethod
    def _otlp_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(
                "monitoring.tracing_endpoint must be an http(s) URL of an OTLP/HTTP collector"
            )
        return value

    @model_validator(mode="after")
    def _ordered(self) -> MonitoringSettings:
        pairs = [
            ("nightly_warning_hours", "nightly_critical_hours", False),
            ("quarantine_warning", "quarantine_critical", False),
            ("certificate_critical_days", "certificate_warning_days", False),
            ("disk_critical_free_mb", "disk_warning_free_mb", False),
        ]
        for low, high, _ in pairs:
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"monitoring.{low} must not be greater than monitoring.{high}")
        return self


class EmailChannel(_Strict):
    """Alerts by e-mail (SMTP).  The password comes from PIIS_ALERTS__EMAIL__PASSWORD or password_file."""

    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(min_length=3, description="The From address.")
    to: list[str] = Field(min_length=1, description="Recipients (IT staff; never a beneficiary).")
    starttls: bool = Field(default=True, description="STARTTLS before login (port 587).")
    ssl: bool = Field(default=False, description="Implicit TLS (port 465).")
    username: str | None = None
    password: str | None = None
    password_file: str | None = Field(default=None, description="A file holding the SMTP password.")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _one_tls(self) -> EmailChannel:
        self.password = _from_file(self.password, self.password_file, "alerts.email.password")
        if self.ssl and self.starttls:
            raise ValueError(
                "alerts.email: set either ssl (port 465) or starttls (port 587), not both"
            )
        if self.password and not self.username:
            raise ValueError("alerts.email: a password without a username")
        return self


class WebhookChannel(_Strict):
    """Alerts as a JSON POST (Teams, Slack, Mattermost or any receiver).

    Why ``url`` may come from the environment: chat webhooks carry their secret in the URL path, so
    ``PIIS_ALERTS__WEBHOOK__URL`` keeps it out of the file; ``token`` is sent as a bearer token.
    """

    url: str = Field(min_length=8)
    token: str | None = None
    token_file: str | None = Field(default=None, description="A file holding the bearer token.")
    format: str = Field(
        default="json", description="json (our shape), slack (text for Slack/Mattermost), teams."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("alerts.webhook.url must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _token(self) -> WebhookChannel:
        self.token = _from_file(self.token, self.token_file, "alerts.webhook.token")
        return self

    @field_validator("format")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in {"json", "slack", "teams"}:
            raise ValueError("alerts.webhook.format must be json, slack or teams")
        return value


class AlertRules(_Strict):
    """Which conditions alert.  ``0`` (or ``false``) switches a rule off."""

    run_failed: bool = Field(default=True, description="A run ended failed or abandoned.")
    nightly_late_hours: float = Field(
        default=26.0, ge=0, description="No successful nightly run for this long."
    )
    quarantine_over: int = Field(
        default=50, ge=0, description="Open quarantine entries of a CPAS above this."
    )
    refused_percent: float = Field(
        default=20.0,
        ge=0,
        le=100,
        description="Share of refused forms among those answered in the last 7 days.",
    )
    refused_min_forms: int = Field(
        default=20, ge=1, description="... judged only from this many answered forms."
    )
    circuit_open_minutes: float = Field(
        default=30.0, ge=0, description="A remote's circuit open for this long."
    )
    certificate_days: int = Field(
        default=30, ge=0, description="A certificate expiring within this many days."
    )
    statement_differences: bool = Field(
        default=True, description="The monthly statement differs from the ledger."
    )


class AlertSettings(_Strict):
    """``[alerts]``: where alerts go, how often at most, and which conditions raise them."""

    email: EmailChannel | None = None
    webhook: WebhookChannel | None = None
    console_url: str | None = Field(
        default=None,
        description="Base URL of the console, for links in alerts (no personal data in it).",
    )
    cap_hours: float = Field(
        default=24.0, gt=0, description="One alert per rule and CPAS at most this often."
    )
    digest_time: time | None = Field(
        default=time(7, 0), description="Local time of the daily digest; none = off."
    )
    rules: AlertRules = Field(default_factory=AlertRules)

    @property
    def channels(self) -> list[str]:
        return [name for name in ("email", "webhook") if getattr(self, name) is not None]
