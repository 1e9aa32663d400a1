"""OpenID Connect login (authorization code + PKCE) beside the local accounts.

Why: an IT partner hosting several CPAS already has an identity provider; its staff should not get
one more password, and leaving the partner should end their access there.  The provider says who the
person is and, in one claim (``groups`` by default), what they belong to; the console maps those
values to a role and CPAS (``PIIS_CONSOLE_OIDC_ROLES``).  A person whose claim matches no entry gets
**no access**, whatever the provider accepted: the mapping is the console's own decision.

How it is built:

* the OAuth 2.0 flow (authorization URL with ``state``, ``nonce`` and the S256 PKCE challenge, the
  token request authenticated with the client secret) is **Authlib**'s ``OAuth2Session``;
* the ID token is verified with **joserfc** (Authlib's successor for JOSE, already a dependency of the
  bridge) against the provider's published keys: signature, issuer, audience, expiry and the nonce
  of this login;
* ``state`` ties the callback to the browser that started the login (a cookie) and to this process
  (kept in memory for :data:`LOGIN_TTL` seconds; the console is one process).

An OIDC user becomes a console account ``oidc:<sub>`` (no password, so it cannot log in locally);
its role and CPAS are set from the mapping at every login (the provider is the source of truth; a
change is audited as a role change), and an administrator can still disable it
(``piis-bridge users disable``), which refuses its next logins.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from piis_bridge.config import ConfigError

__all__ = [
    "LOGIN_TTL",
    "OidcClient",
    "OidcError",
    "OidcSettings",
    "RoleGrant",
    "load_oidc_settings",
]

LOGIN_TTL = 600.0
ENV_PREFIX = "PIIS_CONSOLE_OIDC_"


class OidcError(Exception):
    """A login that cannot go through; ``code`` is what the login page says (no detail leaks)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class RoleGrant:
    role: str
    cpas_ids: list[str]


class OidcSettings(BaseSettings):
    """``PIIS_CONSOLE_OIDC_*``: from the environment only (a secret never sits in the TOML file)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    issuer: str | None = Field(
        default=None,
        description="The provider's issuer URL (its /.well-known/openid-configuration is read); "
        "unset: no OIDC login, local accounts only.",
    )
    client_id: str | None = Field(default=None, description="The console's client id.")
    client_secret: SecretStr | None = Field(
        default=None, description="The client secret (or client_secret_file)."
    )
    client_secret_file: Path | None = Field(
        default=None, description="A file holding the client secret (a mounted secret)."
    )
    redirect_url: str | None = Field(
        default=None,
        description="The callback as the browser reaches it through the reverse proxy, e.g. "
        "https://console.example.be/login/oidc/callback (registered at the provider).",
    )
    role_claim: str = Field(
        default="groups", description="The ID token claim (a string or a list) mapped to roles."
    )
    roles: dict[str, str] = Field(
        default_factory=dict,
        description='JSON: claim value -> "role:cpas,cpas" (e.g. {"it-admins": "admin:*", '
        '"gent-staff": "viewer:gent"}); the first entry, in the order written, that the user\'s '
        "claim holds decides; no entry: no access.",
    )

    @field_validator("roles")
    @classmethod
    def _grants(cls, value: dict[str, str]) -> dict[str, str]:
        from piis_bridge.console.models import ROLES

        for key, grant in value.items():
            role, _, cpas = grant.partition(":")
            if role not in ROLES or not [c for c in cpas.split(",") if c.strip()]:
                raise ValueError(
                    f"entry {key!r}: {grant!r} is not 'role:cpas[,cpas]' with a role among "
                    f"{', '.join(ROLES)} (e.g. 'operator:gent,liege' or 'admin:*')"
                )
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)

    def secret(self) -> str:
        if self.client_secret is not None:
            return self.client_secret.get_secret_value()
        if self.client_secret_file is not None:
            return self.client_secret_file.read_text(encoding="utf-8").strip()
        return ""

    def grant(self, claims: dict[str, Any]) -> RoleGrant | None:
        """The role and CPAS of the first mapping entry the user's claim holds; None: no access."""
        value = claims.get(self.role_claim)
        held = {value} if isinstance(value, str) else {str(v) for v in value or []}
        for key, grant in self.roles.items():
            if key in held:
                role, _, cpas = grant.partition(":")
                return RoleGrant(role, sorted({c.strip() for c in cpas.split(",") if c.strip()}))
        return None


def load_oidc_settings(environ: dict[str, str] | None = None) -> OidcSettings:
    """The OIDC settings from the environment; a mistake names the variable and the fix."""
    import os

    env = dict(os.environ if environ is None else environ)
    raw = {
        k[len(ENV_PREFIX) :].lower(): v for k, v in env.items() if k.startswith(ENV_PREFIX) and v
    }
    if "roles" in raw:
        try:
            raw["roles"] = json.loads(raw["roles"])
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{ENV_PREFIX}ROLES (environment): not JSON ({exc.msg}); write e.g. "
                '\'{"it-admins": "admin:*", "gent-staff": "viewer:gent"}\''
            ) from None
    try:
        settings = OidcSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ENV_PREFIX + str(first["loc"][0]).upper() if first["loc"] else ENV_PREFIX
        raise ConfigError(f"{name} (environment): {first['msg']}") from None
    if not settings.enabled:
        return settings
    missing = [
        ENV_PREFIX + n.upper() for n in ("client_id", "redirect_url") if not getattr(settings, n)
    ]
    if settings.client_secret is None and settings.client_secret_file is None:
        missing.append(f"{ENV_PREFIX}CLIENT_SECRET or {ENV_PREFIX}CLIENT_SECRET_FILE")
    if settings.client_secret is not None and settings.client_secret_file is not None:
        raise ConfigError(
            f"{ENV_PREFIX}CLIENT_SECRET and {ENV_PREFIX}CLIENT_SECRET_FILE (environment) are both "
            "set: keep one"
        )
    if missing:
        raise ConfigError(
            f"{ENV_PREFIX}ISSUER is set (environment), so OIDC login is on, but "
            + ", ".join(missing)
            + " is missing: set it, or unset the issuer to use local accounts only"
        )
    if settings.client_secret_file is not None:
        try:
            settings.secret()
        except OSError as exc:
            raise ConfigError(
                f"{ENV_PREFIX}CLIENT_SECRET_FILE (environment): cannot read "
                f"{settings.client_secret_file} ({exc.strerror})"
            ) from None
    if not settings.roles:
        raise ConfigError(
            f"{ENV_PREFIX}ROLES (environment) is empty: nobody could log in through the provider; "
            'map claim values to roles, e.g. \'{"it-admins": "admin:*"}\''
        )
    return settings


class OidcClient:
    """The console's side of one provider: discovery, login URL, callback (see the module doc)."""

    def __init__(self, settings: OidcSettings, *, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._meta: dict[str, Any] | None = None
        self._keys: Any = None
        self._pending: dict[str, tuple[float, str, str]] = {}  # state -> (expires, nonce, verifier)
        self._lock = threading.Lock()

    def _client(self) -> Any:
        from authlib.integrations.requests_client import (  # type: ignore[import-untyped]
            OAuth2Session,
        )

        return OAuth2Session(
            client_id=self.settings.client_id,
            client_secret=self.settings.secret(),
            token_endpoint_auth_method="client_secret_basic",
            redirect_uri=self.settings.redirect_url,
            scope="openid profile",
            code_challenge_method="S256",
            default_timeout=self.timeout,
        )

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, read once (its issuer must be the configured one)."""
        if self._meta is None:
            import httpx

            issuer = str(self.settings.issuer).rstrip("/")
            try:
                r = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=self.timeout)
                r.raise_for_status()
                meta = r.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise OidcError("provider_unreachable", f"{type(exc).__name__}") from None
            if str(meta.get("issuer", "")).rstrip("/") != issuer:
                raise OidcError("provider_mismatch", "the discovery document names another issuer")
            self._meta = meta
        return self._meta

    def _keyset(self, refresh: bool = False) -> Any:
        if self._keys is None or refresh:
            import httpx
            from joserfc.jwk import KeySet

            r = httpx.get(self.metadata()["jwks_uri"], timeout=self.timeout)
            r.raise_for_status()
            self._keys = KeySet.import_key_set(r.json())
        return self._keys

    def start(self) -> tuple[str, str]:
        """(the provider's authorization URL, the state the browser's cookie must carry back)."""
        from authlib.common.security import generate_token  # type: ignore[import-untyped]

        meta = self.metadata()
        state, nonce, verifier = (
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(24),
            generate_token(64),
        )
        with self._client() as client:
            url, _ = client.create_authorization_url(
                meta["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
            )
        now = time.monotonic()
        with self._lock:
            for key in [k for k, v in self._pending.items() if v[0] < now]:
                del self._pending[key]
            self._pending[state] = (now + LOGIN_TTL, nonce, verifier)
        return url, state

    def finish(self, params: dict[str, str], cookie_state: str | None) -> dict[str, Any]:
        """The verified ID token's claims of the login coming back with *params*."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        state = params.get("state", "")
        with self._lock:
            pending = self._pending.pop(state, None)
        if not state or cookie_state != state or pending is None or pending[0] < time.monotonic():
            raise OidcError("state", "unknown or expired login, or another browser's")
        if params.get("error"):
            raise OidcError("refused_by_provider", str(params.get("error"))[:100])
        _, nonce, verifier = pending
        meta = self.metadata()
        with self._client() as client:
            try:
                token = client.fetch_token(
                    meta["token_endpoint"],
                    grant_type="authorization_code",
                    code=params.get("code", ""),
                    code_verifier=verifier,
                )
            except Exception as exc:  # noqa: BLE001 - any failure of the exchange refuses the login
                raise OidcError("token", type(exc).__name__) from None
        id_token = token.get("id_token")
        if not id_token:
            raise OidcError("token", "no id_token in the token response")
        try:
            try:
                decoded = jwt.decode(id_token, self._keyset())
            except JoseError:  # the provider rotated its keys since we read them
                decoded = jwt.decode(id_token, self._keyset(refresh=True))
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": meta["issuer"]},
                aud={"essential": True, "value": str(self.settings.client_id)},
                sub={"essential": True},
                nonce={"essential": True, "value": nonce},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise OidcError("id_token", type(exc).__name__) from None
        return dict(decoded.claims)
