"""The console's ASGI application (Starlette, Jinja2 pages, htmx for partial updates).

Request rules, all enforced here and tested in ``tests/console``:

* every page needs a live server-side session (:mod:`accounts`); a revoked one sends back to login;
* every POST carries the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``), else 403;
* actions (replay, dismiss) need the operator or admin role, else 403, whatever the page showed;
* a record of a CPAS outside the user's scope is 404, exactly like one that does not exist;
* no NISS in any URL: searches are POSTed, a NISS-shaped search is refused, the reveal is a POST;
* security headers on every response (a CSP without inline scripts or styles, frame-ancestors none).
"""

from __future__ import annotations

import csv
import hmac
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from piis_bridge.config import Settings
from piis_bridge.console import accounts, actions, audit
from piis_bridge.console.audit import record
from piis_bridge.console.i18n import LANGUAGES, belgian_date, belgian_datetime, translations
from piis_bridge.console.models import ConsoleUser
from piis_bridge.db import make_engine, make_sessionmaker
from piis_bridge.i18n import translator as catalogue_translator
from piis_bridge.i18n.text import say_stored
from piis_bridge.identifiers import is_valid_niss
from piis_bridge.ops import queries

__all__ = ["SECURITY_HEADERS", "SESSION_COOKIE", "ConsoleState", "create_app"]

_HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "__Host-piis_console"
LOGIN_CSRF_COOKIE = "__Host-piis_login"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}
_NISS_LIKE = re.compile(r"\d[\d .\-/]{9,14}\d")


class _SecurityHeaders:
    """Pure ASGI middleware (no buffering): adds the headers above, and no-store on pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                for k, v in SECURITY_HEADERS.items():
                    if k.encode() not in names:
                        headers.append((k.encode(), v.encode()))
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


@dataclass
class ConsoleState:
    """What the app needs: the settings (CPAS list, database) and lazily the pipeline's runtime."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    oidc: Any = None  # an OidcClient when PIIS_CONSOLE_OIDC_ISSUER is set
    _runtime: Any = None
    _enqueuer: Any = None
    envs: dict[str, Environment] = field(default_factory=dict)

    @property
    def cpas_ids(self) -> list[str]:
        return sorted(self.settings.cpas)

    def runtime(self) -> Any:
        """The pipeline's Runtime (its sessions, plugins and person key), made once."""
        if self._runtime is None:
            from piis_bridge.pipeline.runtime import Runtime

            self._runtime = Runtime(self.settings)
        return self._runtime

    def pipeline(self) -> tuple[Any, Any]:
        """The pipeline's Runtime and a celery enqueuer on the configured broker (for replay)."""
        rt = self.runtime()
        if self._enqueuer is None:
            from piis_bridge.pipeline.app import make_celery_app
            from piis_bridge.pipeline.tasks import CeleryEnqueuer

            self._enqueuer = CeleryEnqueuer(make_celery_app(runtime=rt))
        return rt, self._enqueuer


def _env(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    t = translations(lang)
    env.install_gettext_callables(t.gettext, t.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["bdate"] = lambda v: belgian_date(v, lang)
    env.filters["bdatetime"] = lambda v: belgian_datetime(v, lang)
    env.filters["duration"] = _duration
    # a stored reason (quarantine) in the page's language from its message id + values, else as written
    env.filters["said"] = lambda english, stored: say_stored(
        english, stored, catalogue_translator(lang)
    )
    env.filters["money"] = lambda v: (
        "" if v is None else f"{v / 100:,.2f} €".replace(",", " ").replace(".", ",")
    )
    env.globals["lang"] = lang
    env.globals["languages"] = LANGUAGES
    env.globals["query"] = _query
    return env


def _duration(td: timedelta | None) -> str:
    if td is None:
        return ""
    seconds = int(td.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d}"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _state(request: Request) -> ConsoleState:
    return request.app.state.console


def _render(
    request: Request, name: str, who: accounts.Principal | None, status_code: int = 200, **ctx: Any
) -> HTMLResponse:
    st = _state(request)
    lang = who.language if who else _accept_language(request)
    if lang not in st.envs:
        st.envs[lang] = _env(lang)
    html = (
        st.envs[lang]
        .get_template(name)
        .render(request=request, who=who, path=request.url.path, **ctx)
    )
    return HTMLResponse(html, status_code=status_code)


def _accept_language(request: Request) -> str:
    """Before login (the login page), the first of fr/nl/de/en the browser asks for; French otherwise."""
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "fr"


def _query(request: Request, **changes: Any) -> str:
    params = dict(request.query_params)
    params.update({k: v for k, v in changes.items() if v is not None})
    return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})


def _principal(request: Request) -> accounts.Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    st = _state(request)
    with st.sessions() as s:
        who = accounts.load_session(s, token, st.cpas_ids)
        s.commit()
    return who


class _Login(Exception):
    pass


def _need(request: Request) -> accounts.Principal:
    who = _principal(request)
    if who is None:
        raise _Login()
    return who


def _csrf(request: Request, form: Any, expected: str | None) -> None:
    token = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
    if not token or not expected or not hmac.compare_digest(token, expected):
        raise HTTPException(403, "CSRF token missing or wrong")


def _post(handler: Callable[[Request, Any], Response]) -> Callable[[Request], Any]:
    """A POST endpoint: the body is read here, the handler (database work, a replay) runs in the
    thread pool so a long action never blocks the other requests of the event loop."""

    async def endpoint(request: Request) -> Response:
        form = await request.form()
        return await run_in_threadpool(handler, request, form)

    endpoint.__name__ = handler.__name__
    return endpoint


def _need_actor(who: accounts.Principal) -> None:
    if not who.can_act:
        raise HTTPException(403, "this action needs the operator or admin role")


def _int(value: Any, default: int = 1) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


def _belgian_date(value: str | None) -> date | None:
    """dd/mm/yyyy as Belgians write it (yyyy-mm-dd accepted too); 400 otherwise."""
    if not value:
        return None
    try:
        if "/" in value:
            day, month, year = (int(p) for p in value.split("/"))
            return date(year, month, day)
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(400, "a date is written dd/mm/yyyy") from None


def _opt(request: Request, name: str) -> str | None:
    v = request.query_params.get(name, "").strip()
    if v and _NISS_LIKE.search(v) and is_valid_niss(re.sub(r"\D", "", v)):
        raise HTTPException(400, "a NISS never goes into an address; use the dossier search")
    return v or None


# ================================================================================= login / logout


async def login_page(request: Request) -> Response:
    import secrets

    token = secrets.token_urlsafe(24)
    resp = _render(
        request,
        "login.html",
        None,
        login_csrf=token,
        error=request.query_params.get("error"),
        oidc=_state(request).oidc is not None,
    )
    resp.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, secure=True, samesite="strict", path="/"
    )
    return resp


@_post
def login_submit(request: Request, form: Any) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    _csrf(request, form, cookie)
    username = str(form.get("username", "")).strip()[:120]
    password = str(form.get("password", ""))
    st = _state(request)
    client = _client(request)
    with st.sessions() as s:
        if accounts.rate_limited(s, username, client):
            return _render(
                request, "login.html", None, status_code=429, login_csrf=cookie, error="rate"
            )
        user = accounts.authenticate(s, username, password, client)
        token = accounts.open_session(s, user, client) if user else None
        s.commit()
    if token is None:
        return _render(request, "login.html", None, status_code=401, login_csrf=cookie, error="bad")
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, secure=True, samesite="strict", path="/")
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return resp


OIDC_STATE_COOKIE = "__Host-piis_oidc"


def oidc_start(request: Request) -> Response:
    """Send the browser to the identity provider (authorization code + PKCE)."""
    from piis_bridge.console.oidc import OidcError

    st = _state(request)
    if st.oidc is None:
        raise HTTPException(404)
    try:
        url, state = st.oidc.start()
    except OidcError:
        return _render(request, "login.html", None, status_code=502, error="oidc", oidc=True)
    resp = RedirectResponse(url, status_code=303)
    # Lax, not Strict: the provider's redirect back is a cross-site navigation that must carry it
    resp.set_cookie(
        OIDC_STATE_COOKIE, state, httponly=True, secure=True, samesite="lax", path="/", max_age=600
    )
    return resp


def oidc_callback(request: Request) -> Response:
    """The provider's answer: verify it, map the claim to a role, open a session (or refuse)."""
    from piis_bridge.console.oidc import OidcError

    st = _state(request)
    if st.oidc is None:
        raise HTTPException(404)
    client = _client(request)
    try:
        claims = st.oidc.finish(dict(request.query_params), request.cookies.get(OIDC_STATE_COOKIE))
    except OidcError as exc:
        with st.sessions() as s:
            record(
                s, actor="oidc:?", action="login_failed", detail={"via": "oidc", "why": exc.code}
            )
            s.commit()
        return _render(request, "login.html", None, status_code=401, error="oidc", oidc=True)
    grant = st.oidc.settings.grant(claims)
    with st.sessions() as s:
        user = accounts.oidc_login(
            s,
            sub=str(claims["sub"]),
            display_name=str(claims.get("preferred_username") or claims.get("name") or ""),
            role=grant.role if grant else None,
            cpas_ids=grant.cpas_ids if grant else [],
            client=client,
            language=_accept_language(request),
        )
        token = accounts.open_session(s, user, client) if user else None
        s.commit()
    if token is None:
        resp = _render(request, "login.html", None, status_code=403, error="no_access", oidc=True)
    else:
        # A page, not a redirect: the session cookie is SameSite=Strict, and a redirect chain that
        # began at the provider is cross-site, so the browser would not send it to "/" yet.
        resp = _render(request, "oidc_done.html", None)
        resp.set_cookie(
            SESSION_COOKIE, token, httponly=True, secure=True, samesite="strict", path="/"
        )
    resp.delete_cookie(OIDC_STATE_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return resp


@_post
def logout(request: Request, form: Any) -> Response:
    who = _need(request)
    _csrf(request, form, who.csrf_token)
    with _state(request).sessions() as s:
        accounts.revoke_session(s, who.session_id)
        record(s, actor=who.username, action="logout")
        s.commit()
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return resp


@_post
def set_language(request: Request, form: Any) -> Response:
    who = _need(request)
    _csrf(request, form, who.csrf_token)
    lang = str(form.get("lang", ""))
    if lang not in LANGUAGES:
        raise HTTPException(400, "unknown language")
    with _state(request).sessions() as s:
        user = s.get(ConsoleUser, who.user_id)
        if user is None:
            raise HTTPException(401)
        user.language = lang
        s.commit()
    back = str(form.get("back", "/"))
    return RedirectResponse(
        back if back.startswith("/") and not back.startswith("//") else "/", status_code=303
    )


# ========================================================================================= pages


def overview_page(request: Request) -> Response:
    who = _need(request)
    with _state(request).sessions() as s:
        rows = queries.overview(s, who.cpas_ids)
    return _render(request, "overview.html", who, rows=rows)


def overview_health(request: Request) -> Response:
    """The overview's workers and certificates (``piis-bridge health``'s own checks), loaded apart
    from the page because asking the workers waits for their answers."""
    from piis_bridge.console.health import installation_health
    from piis_bridge.i18n import translator
    from piis_bridge.i18n.text import say

    who = _need(request)
    st = _state(request)
    health = installation_health(st.settings, st.engine)
    return _render(
        request,
        "_health.html",
        who,
        health=health,
        # the check's own summary (piis-bridge health's), in the console user's language
        workers_summary=say(health.workers_summary, translator(who.language)),
        certificates=health.certificates_of(who.cpas_ids),
    )


def runs_page(request: Request) -> Response:
    who = _need(request)
    cpas = _opt(request, "cpas")
    scope = [c for c in who.cpas_ids if not cpas or c == cpas]
    since, until = _belgian_date(_opt(request, "since")), _belgian_date(_opt(request, "until"))
    with _state(request).sessions() as s:
        page = queries.list_runs(
            s,
            scope,
            status=_opt(request, "status"),
            since=since,
            until=until,
            page=_int(request.query_params.get("page")),
        )
    return _render(request, "runs.html", who, page=page)


def run_page(request: Request) -> Response:
    who = _need(request)
    with _state(request).sessions() as s:
        detail = queries.run_detail(
            s,
            who.cpas_ids,
            request.path_params["run_id"],
            page=_int(request.query_params.get("page")),
        )
    if detail is None:
        raise HTTPException(404)
    return _render(request, "run.html", who, d=detail)


def quarantine_page(request: Request) -> Response:
    who = _need(request)
    status = request.query_params.get("status", "open")
    with _state(request).sessions() as s:
        page = queries.list_quarantine(
            s,
            who.cpas_ids,
            cpas=_opt(request, "cpas"),
            stage=_opt(request, "stage"),
            status=status if status in queries.QUARANTINE_STATUSES else None,
            reason=_opt(request, "reason"),
            older_than_days=_int(request.query_params.get("older"), 0) or None,
            page=_int(request.query_params.get("page")),
        )
    return _render(request, "quarantine.html", who, page=page, status=status)


def quarantine_entry_page(request: Request) -> Response:
    who = _need(request)
    entry_id = _int(request.path_params["entry_id"], 0)
    with _state(request).sessions() as s:
        d = queries.quarantine_detail(s, who.cpas_ids, entry_id)
        history = audit.audit_of(s, f"quarantine {entry_id}") if d else []
    if d is None:
        raise HTTPException(404)
    return _render(request, "quarantine_entry.html", who, d=d, history=history)


def _ids(form: Any) -> list[int]:
    out = []
    for v in form.getlist("ids"):
        try:
            out.append(int(v))
        except ValueError:
            continue
    return out


@_post
def quarantine_preview(request: Request, form: Any) -> Response:
    who = _need(request)
    _csrf(request, form, who.csrf_token)
    _need_actor(who)
    ids = _ids(form)
    with _state(request).sessions() as s:
        rows = queries.replay_preview(s, who.cpas_ids, ids)
    return _render(
        request, "replay_preview.html", who, rows=rows, action=str(form.get("action", "replay"))
    )


@_post
def quarantine_replay(request: Request, form: Any) -> Response:
    who = _need(request)
    _csrf(request, form, who.csrf_token)
    _need_actor(who)
    ids = _ids(form)
    if form.get("confirm") != "yes":
        raise HTTPException(400, "confirmation missing")
    st = _state(request)
    try:
        rt, enq = st.pipeline()
        run_id, _ = actions.replay(st.sessions, rt, enq, who, ids, str(form.get("reason", "")))
    except actions.ActionError as exc:
        with st.sessions() as s:
            rows = queries.replay_preview(s, who.cpas_ids, ids)
        return _render(
            request,
            "replay_preview.html",
            who,
            status_code=400,
            rows=rows,
            action="replay",
            error=str(exc),
        )
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@_post
def quarantine_dismiss(request: Request, form: Any) -> Response:
    who = _need(request)
    _csrf(request, form, who.csrf_token)
    _need_actor(who)
    ids = _ids(form)
    if form.get("confirm") != "yes":
        raise HTTPException(400, "confirmation missing")
    st = _state(request)
    try:
        actions.dismiss(st.sessions, st.runtime(), who, ids, str(form.get("reason", "")))
    except actions.ActionError as exc:
        with st.sessions() as s:
            rows = queries.replay_preview(s, who.cpas_ids, ids)
            return _render(
                request,
                "replay_preview.html",
                who,
                status_code=400,
                rows=rows,
                action="dismiss",
                error=str(exc),
            )
    return RedirectResponse("/quarantine?status=dismissed", status_code=303)


def dossier_search_page(request: Request) -> Response:
    who = _need(request)
    return _render(request, "dossier_search.html", who, error=None)


@_post
def dossier_search(request: Request, form: Any) -> Response:
    who = _need(request)
    _csrf(request, form, who.csrf_token)
    q = str(form.get("q", "")).strip()
    cpas = str(form.get("cpas", "")) or None
    if re.fullmatch(r"[\d .\-/]{11,16}", q) and is_valid_niss(re.sub(r"\D", "", q)):
        reason = str(form.get("reason", "")).strip()
        if len(reason) < actions.MIN_REASON:
            return _render(request, "dossier_search.html", who, status_code=400, error="niss")
        st = _state(request)
        rt, _ = st.pipeline()
        with st.sessions() as s:
            people = actions.search_by_niss(s, rt.person_key, who, re.sub(r"\D", "", q), reason)
        return _render(
            request, "dossier_search.html", who, error=None if people else "none", found=people
        )
    with _state(request).sessions() as s:
        found = queries.find_dossier(s, who.cpas_ids, q, cpas=cpas) if q else None
    if found is None:
        return _render(request, "dossier_search.html", who, status_code=404, error="none")
    return RedirectResponse(f"/dossiers/{found[0]}/{found[1]}", status_code=303)


def dossier_page(request: Request) -> Response:
    who = _need(request)
    cpas, record_id = request.path_params["cpas"], request.path_params["record_id"]
    if cpas not in who.cpas_ids:
        raise HTTPException(404)
    with _state(request).sessions() as s:
        h = queries.dossier_history(s, who.cpas_ids, record_id, cpas=cpas)
    if h is None:
        raise HTTPException(404)
    return _render(request, "dossier.html", who, h=h)


def version_report_partial(request: Request) -> Response:
    who = _need(request)
    st = _state(request)
    with st.sessions() as s:
        found = queries.item_payload(s, who.cpas_ids, _int(request.path_params["item_id"], 0))
    if found is None or found[0] != request.path_params["cpas"]:
        raise HTTPException(404)
    from piis_bridge.console.rules_report import version_report

    rt, _ = st.pipeline()
    try:
        report = version_report(rt, found[0], found[2], date.today(), language=who.language)
    except Exception as exc:  # noqa: BLE001 - a plugin failing on one record must not break the page
        from piis_bridge.console.rules_report import VersionReport
        from piis_bridge.logging import redact

        report = VersionReport(False, [str(redact(f"{type(exc).__name__}: {exc}"))[:500]], [], [])
    return _render(request, "_version_report.html", who, report=report)


@_post
def dossier_reveal(request: Request, form: Any) -> Response:
    who = _need(request)
    _csrf(request, form, who.csrf_token)
    cpas, record_id = request.path_params["cpas"], request.path_params["record_id"]
    if cpas not in who.cpas_ids:
        raise HTTPException(404)
    with _state(request).sessions() as s:
        try:
            niss = actions.reveal_niss(s, who, cpas, record_id, str(form.get("reason", "")))
        except actions.ActionError:
            return _render(
                request,
                "_reveal.html",
                who,
                status_code=400,
                niss=None,
                error="reason_required",
                cpas=cpas,
                record_id=record_id,
            )
    if niss is None:
        raise HTTPException(404)
    return _render(
        request, "_reveal.html", who, niss=niss, error=None, cpas=cpas, record_id=record_id
    )


def forms_page(request: Request) -> Response:
    who = _need(request)
    month = _opt(request, "month")
    if month:
        m = re.fullmatch(r"(\d{1,2})/(\d{4})", month) or re.fullmatch(r"(\d{4})-(\d{2})", month)
        if m is None:
            raise HTTPException(400, "the month is written mm/yyyy")
        year, mon = (m.group(2), m.group(1)) if "/" in month else (m.group(1), m.group(2))
        if not 1 <= int(mon) <= 12:
            raise HTTPException(400, "the month is written mm/yyyy")
        month = f"{year}-{int(mon):02d}"
    with _state(request).sessions() as s:
        page = queries.list_ledger(
            s,
            who.cpas_ids,
            cpas=_opt(request, "cpas"),
            status=_opt(request, "status"),
            code=_opt(request, "code"),
            month=month,
            kind=_opt(request, "kind"),
            page=_int(request.query_params.get("page")),
        )
        statements = queries.latest_statements(s, who.cpas_ids)
    from piis_bridge.console.codes import meaning

    return _render(request, "forms.html", who, page=page, statements=statements, meaning=meaning)


def transfers_page(request: Request) -> Response:
    who = _need(request)
    with _state(request).sessions() as s:
        cases = queries.list_transfers(
            s,
            who.cpas_ids,
            state=_opt(request, "state"),
            page=_int(request.query_params.get("page")),
        )
        received = queries.list_received(
            s, who.cpas_ids, page=_int(request.query_params.get("rpage"))
        )
    return _render(
        request,
        "transfers.html",
        who,
        cases=cases,
        received=received,
        consent_states=actions.CONSENT_STATES,
    )


@_post
def transfer_consent(request: Request, form: Any) -> Response:
    who = _need(request)
    _csrf(request, form, who.csrf_token)
    _need_actor(who)
    if form.get("confirm") != "yes":
        raise HTTPException(400, "confirmation missing")
    st = _state(request)
    try:
        state = actions.record_consent(
            st.sessions,
            st.settings,
            who,
            request.path_params["case_id"],
            str(form.get("consent", "")),
            str(form.get("channel", "")),
            str(form.get("reason", "")),
        )
    except actions.ActionError as exc:
        raise HTTPException(400, str(exc)) from None
    if state is None:
        raise HTTPException(404)
    return RedirectResponse("/transfers", status_code=303)


MINE = "mine"  # the agenda's worker filter for the logged-in account's own worker id


def _agenda_worker(request: Request, who: accounts.Principal) -> str | None:
    """The worker filter of the agenda: a staff id, ``unassigned``, or ``mine`` (the account's own
    worker id, ``users set-worker``); ``mine`` on an account linked to no worker is refused (400)
    rather than silently showing every deadline."""
    worker = _opt(request, "worker")
    if worker == MINE:
        if not who.worker_id:
            raise HTTPException(
                400, "this account is linked to no social worker (users set-worker)"
            )
        return who.worker_id
    return worker


def agenda_page(request: Request) -> Response:
    who = _need(request)
    cpas = _opt(request, "cpas")
    worker = _agenda_worker(request, who)
    with _state(request).sessions() as s:
        page = queries.list_agenda(
            s,
            who.cpas_ids,
            cpas=cpas,
            worker=worker,
            page=_int(request.query_params.get("page")),
            today=_state(request).settings.local_today(),
        )
        scope = [c for c in who.cpas_ids if not cpas or c == cpas]
        workers = queries.agenda_workers(s, scope)
    return _render(
        request,
        "agenda.html",
        who,
        page=page,
        workers=workers,
        worker=request.query_params.get("worker", ""),
        unassigned=queries.UNASSIGNED,
        mine=MINE,
    )


def _agenda_all(request: Request, who: accounts.Principal) -> list[queries.AgendaRow]:
    """Every deadline of the page's filters (CPAS and worker), for the exports."""
    worker = _agenda_worker(request, who)
    with _state(request).sessions() as s:
        return queries.list_agenda(
            s,
            who.cpas_ids,
            cpas=_opt(request, "cpas"),
            worker=worker,
            size=10_000,
            today=_state(request).settings.local_today(),
        ).items


def agenda_csv(request: Request) -> Response:
    who = _need(request)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["cpas", "dossier", "rule", "due", "status", "title", "worker_id", "worker"])
    for r in _agenda_all(request, who):
        w.writerow(
            [
                r.cpas_id,
                r.record_id,
                r.rule,
                r.due.isoformat() if r.due else "",
                r.status,
                r.title,
                r.worker_id or queries.UNASSIGNED,
                r.worker_name,
            ]
        )
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="agenda.csv"'},
    )


def agenda_ics(request: Request) -> Response:
    who = _need(request)
    from piis_bridge.console.calendar import agenda_ics as build

    return Response(
        build(_agenda_all(request, who)),
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="agenda.ics"'},
    )


def _need_admin(who: accounts.Principal) -> None:
    if not who.is_admin:
        raise HTTPException(403, "the audit log is for administrators")


def audit_page(request: Request) -> Response:
    who = _need(request)
    _need_admin(who)
    with _state(request).sessions() as s:
        page = audit.list_audit(s, who.cpas_ids, page=_int(request.query_params.get("page")))
    return _render(request, "audit.html", who, page=page)


def audit_csv(request: Request) -> Response:
    who = _need(request)
    _need_admin(who)
    with _state(request).sessions() as s:
        rows = audit.export_audit(s, who.cpas_ids)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "at", "actor", "action", "cpas", "target", "reason"])
    for r in rows:
        w.writerow([r.id, r.at.isoformat(), r.actor, r.action, r.cpas_id or "", r.target, r.reason])
    with _state(request).sessions() as s:
        record(s, actor=who.username, action="audit_export", detail={"rows": len(rows)})
        s.commit()
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="audit.csv"'},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    try:
        who = await run_in_threadpool(_principal, request)
    except Exception:  # noqa: BLE001 - an error page never fails on the session
        who = None
    return _render(
        request,
        "error.html",
        who,
        status_code=exc.status_code,
        code=exc.status_code,
        detail=exc.detail if exc.status_code != 404 else None,
    )


async def _to_login(request: Request, exc: Exception) -> Response:
    if request.headers.get("hx-request"):
        return PlainTextResponse("", status_code=401, headers={"HX-Redirect": "/login"})
    return RedirectResponse("/login", status_code=303)


def healthz(request: Request) -> Response:
    """Liveness for the reverse proxy or orchestrator: the console process answers (no login)."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def readyz(request: Request) -> Response:
    """Readiness, the same checks as ``piis-bridge monitor serve``'s /readyz (database migrated, broker)."""
    from piis_bridge.observability.http import readiness_response

    code, body = readiness_response(_state(request).settings)
    return JSONResponse(body, status_code=code, headers={"Cache-Control": "no-store"})


def create_app(settings: Settings, *, engine: Engine | None = None, oidc: Any = None) -> Starlette:
    """The console for the configuration *settings* (its ``database_url`` and its CPAS).

    *oidc*: the OIDC settings (``piis_bridge.console.oidc.OidcSettings``); by default read from the
    ``PIIS_CONSOLE_OIDC_*`` environment, so a configuration mistake stops the start, named."""
    from piis_bridge.console.oidc import OidcClient, load_oidc_settings

    engine = engine or make_engine(settings.database_url)
    oidc = oidc if oidc is not None else load_oidc_settings()
    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/login/oidc", oidc_start),
        Route("/login/oidc/callback", oidc_callback),
        Route("/logout", logout, methods=["POST"]),
        Route("/language", set_language, methods=["POST"]),
        Route("/", overview_page),
        Route("/overview/health", overview_health),
        Route("/runs", runs_page),
        Route("/runs/{run_id}", run_page),
        Route("/quarantine", quarantine_page),
        Route("/quarantine/preview", quarantine_preview, methods=["POST"]),
        Route("/quarantine/replay", quarantine_replay, methods=["POST"]),
        Route("/quarantine/dismiss", quarantine_dismiss, methods=["POST"]),
        Route("/quarantine/{entry_id:int}", quarantine_entry_page),
        Route("/dossiers", dossier_search_page, methods=["GET"]),
        Route("/dossiers", dossier_search, methods=["POST"]),
        Route("/dossiers/{cpas}/{record_id}", dossier_page),
        Route("/dossiers/{cpas}/{record_id}/reveal", dossier_reveal, methods=["POST"]),
        Route("/dossiers/{cpas}/{record_id}/versions/{item_id:int}", version_report_partial),
        Route("/forms", forms_page),
        Route("/transfers", transfers_page),
        Route("/transfers/{case_id}/consent", transfer_consent, methods=["POST"]),
        Route("/agenda", agenda_page),
        Route("/agenda.csv", agenda_csv),
        Route("/agenda.ics", agenda_ics),
        Route("/audit", audit_page),
        Route("/audit.csv", audit_csv),
        Mount("/static", StaticFiles(directory=_HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_SecurityHeaders)],
        exception_handlers={HTTPException: _http_error, _Login: _to_login},
    )
    app.state.console = ConsoleState(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        oidc=OidcClient(oidc) if oidc.enabled else None,
    )
    return app
