"""Alerts by e-mail and webhook: conditions from ``[alerts.rules]``, a cap per rule and CPAS, a daily digest.

Why evaluated from the database on a schedule (beat every five minutes, or ``piis-bridge alerts check``
from cron) rather than raised inside the pipeline: the conditions that matter most are absences (no
nightly run, a circuit that stays open), which no running code can notice about itself.  Each condition
is a row of :class:`~piis_bridge.observability.models.AlertState` (since when it holds, when it was last
told), so the cap and the durations survive restarts and hold across processes.

An alert names the CPAS, the run and counts, and links to the console; never a person, a record id or
a NISS.  Every text goes through the log redactor once more before it leaves, as a second line of defence.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import structlog

from piis_bridge.i18n import DEFAULT_LANGUAGE, N_, Join, translator
from piis_bridge.i18n.text import Num, Text, say, text_json
from piis_bridge.logging import redact

if TYPE_CHECKING:
    from piis_bridge.config import Settings
    from piis_bridge.observability.settings import AlertSettings

__all__ = [
    "Alert",
    "AlertError",
    "Delivery",
    "check_and_send",
    "digest",
    "evaluate",
    "send",
    "send_test",
]

log = structlog.get_logger(__name__)


class AlertError(RuntimeError):
    """No channel is configured, or every channel failed."""


@dataclass(frozen=True)
class Alert:
    """One alert.  ``title`` and ``text`` are English :class:`~piis_bridge.i18n.text.Text`: they are
    written in the language of the CPAS concerned when sent (:meth:`localized`)."""

    rule: str
    scope: str  # a CPAS id, "<role>:<cpas>" for a circuit, a setting path for a certificate
    cpas_id: str | None
    severity: str  # "warning" | "critical"
    title: str
    text: str
    counts: dict[str, Any] = field(default_factory=dict)
    link: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Language-neutral (``alerts check --json``): the English title and text as always, and
        ``message`` (their message ids and values)."""
        return redact(
            {
                "rule": self.rule,
                "cpas": self.cpas_id,
                "severity": self.severity,
                "title": self.title,
                "text": self.text,
                "message": {"title": text_json(self.title), "text": text_json(self.text)},
                "counts": self.counts,
                "link": self.link,
            }
        )

    def localized(self, language: str) -> Alert:
        """This alert with its title and text in *language* (English: itself)."""
        if language == "en":
            return self
        t = translator(language)
        return replace(self, title=say(self.title, t), text=say(self.text, t))


def alert_language(settings: Settings, cpas_id: str | None) -> str:
    """The language an alert is written in: its CPAS's ``language``; for an alert about no CPAS
    (the digest, a test), the one language of the configured CPAS, else English."""
    if cpas_id is not None and cpas_id in settings.cpas:
        return settings.cpas[cpas_id].language
    languages = {c.language for c in settings.cpas.values()}
    return languages.pop() if len(languages) == 1 else DEFAULT_LANGUAGE


@dataclass
class Delivery:
    alert: Alert
    sent: bool
    suppressed: bool = False
    errors: list[str] = field(default_factory=list)


def _link(cfg: AlertSettings, path: str) -> str | None:
    return f"{cfg.console_url.rstrip('/')}{path}" if cfg.console_url else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- conditions ---------------------------------------------------------------------------------


def evaluate(settings: Settings, engine: Any, now: datetime | None = None) -> list[Alert]:
    """Every alert condition that holds now (before caps and durations)."""
    from sqlalchemy import func, select

    from piis_bridge.ledger.models import FormEntry
    from piis_bridge.observability.health import (
        certificate_expiry,
        certificate_files,
        last_successful_nightly,
        open_circuits,
        open_quarantine,
    )
    from piis_bridge.pipeline.models import StatementFetch, SyncRun, SyncRunCpas

    cfg, rules = settings.alerts, settings.alerts.rules
    now = now or datetime.now(UTC)
    alerts: list[Alert] = []
    cpas_ids = list(settings.cpas)

    with engine.connect() as conn:
        if rules.run_failed:
            window = now - timedelta(hours=max(cfg.cap_hours, 24))
            rows = conn.execute(
                select(
                    SyncRun.id,
                    SyncRunCpas.cpas_id,
                    SyncRun.status,
                    SyncRun.finished_at,
                    SyncRun.counts,
                )
                .join(SyncRunCpas, SyncRunCpas.run_id == SyncRun.id)
                .where(SyncRun.status.in_(("failed", "abandoned")), SyncRun.finished_at >= window)
                .order_by(SyncRun.finished_at.desc())
            ).all()
            seen: set[str] = set()
            for run_id, cpas_id, status, finished, counts in rows:
                if cpas_id in seen:
                    continue
                seen.add(cpas_id)
                figures = {k: v for k, v in (counts or {}).items() if isinstance(v, int)}
                alerts.append(
                    Alert(
                        "run_failed",
                        cpas_id,
                        cpas_id,
                        "critical",
                        Text(
                            "[{cpas}] run {run} {status}",
                            cpas=cpas_id,
                            run=run_id,
                            status=_STATUS.get(status, status),
                        ),
                        Text(
                            "The run {run} of CPAS {cpas} ended {status} at {at}. "
                            "Counts: {counts}. See 'piis-bridge runs show {run}'.",
                            run=run_id,
                            cpas=cpas_id,
                            status=_STATUS.get(status, status),
                            at=_aware(finished).isoformat(timespec="minutes"),
                            counts=_figures(figures),
                        ),
                        {"run_id": run_id, **figures},
                        _link(cfg, f"/runs/{run_id}"),
                    )
                )

    if rules.nightly_late_hours:
        last = last_successful_nightly(engine, cpas_ids)
        started = _first_run_started(engine)
        for cpas_id in cpas_ids:
            when = last.get(cpas_id) or started.get(cpas_id)
            if when is None:
                continue  # never run: nothing is late yet (install day)
            hours = (now - when).total_seconds() / 3600
            if hours > rules.nightly_late_hours:
                what = (
                    N_(
                        "CPAS {cpas}: no successful nightly run since {since} ({hours} h; "
                        "threshold {threshold} h). Check the beat and the workers: 'piis-bridge health'."
                    )
                    if cpas_id in last
                    else N_(
                        "CPAS {cpas}: no successful nightly run at all since the first run of "
                        "{since} ({hours} h; threshold {threshold} h). Check the beat and the "
                        "workers: 'piis-bridge health'."
                    )
                )
                alerts.append(
                    Alert(
                        "nightly_late",
                        cpas_id,
                        cpas_id,
                        "critical",
                        Text("[{cpas}] nightly run late", cpas=cpas_id),
                        Text(
                            what,
                            cpas=cpas_id,
                            since=when.isoformat(timespec="minutes"),
                            hours=Num(hours, 1),
                            threshold=format(rules.nightly_late_hours, "g"),
                        ),
                        {"hours": round(hours, 1)},
                        _link(cfg, f"/cpas/{cpas_id}"),
                    )
                )

    if rules.quarantine_over:
        for cpas_id, n in sorted(open_quarantine(engine).items()):
            if n > rules.quarantine_over:
                alerts.append(
                    Alert(
                        "quarantine_over",
                        cpas_id,
                        cpas_id,
                        "warning",
                        Text("[{cpas}] {n} records in quarantine", cpas=cpas_id, n=n),
                        Text(
                            "CPAS {cpas} has {n} open quarantine entries (threshold {threshold}). "
                            "See 'piis-bridge quarantine list'.",
                            cpas=cpas_id,
                            n=n,
                            threshold=rules.quarantine_over,
                        ),
                        {"open": n},
                        _link(cfg, f"/quarantine?cpas={cpas_id}"),
                    )
                )

    if rules.refused_percent:
        since = now - timedelta(days=7)
        answered = ("accepted", "refused", "partially_accepted", "blocked")
        with engine.connect() as conn:
            rows = conn.execute(
                select(FormEntry.cpas_id, FormEntry.status, func.count())
                .where(FormEntry.status.in_(answered), FormEntry.answered_at >= since)
                .group_by(FormEntry.cpas_id, FormEntry.status)
            ).all()
        per: dict[str, dict[str, int]] = {}
        for cpas_id, status, n in rows:
            per.setdefault(cpas_id, {})[status] = int(n)
        for cpas_id, counts in sorted(per.items()):
            total, refused = sum(counts.values()), counts.get("refused", 0)
            if (
                total >= rules.refused_min_forms
                and 100.0 * refused / total >= rules.refused_percent
            ):
                share = 100.0 * refused / total
                alerts.append(
                    Alert(
                        "refused_rate",
                        cpas_id,
                        cpas_id,
                        "warning",
                        Text(
                            "[{cpas}] {share}% of forms refused", cpas=cpas_id, share=Num(share, 0)
                        ),
                        Text(
                            "CPAS {cpas}: {refused} of {total} forms answered in the last 7 days "
                            "were refused ({share}%, threshold {threshold}%). "
                            "See 'piis-bridge forms list --cpas {cpas} --status refused'.",
                            cpas=cpas_id,
                            refused=refused,
                            total=total,
                            share=Num(share, 1),
                            threshold=format(rules.refused_percent, "g"),
                        ),
                        {"refused": refused, "answered": total},
                        _link(cfg, f"/forms?cpas={cpas_id}&status=refused"),
                    )
                )

    if rules.circuit_open_minutes:
        for remote, until in sorted(open_circuits(engine, now).items()):
            cpas_id = remote.split(":", 1)[1] if ":" in remote else None
            alerts.append(
                Alert(
                    "circuit_open",
                    remote,
                    cpas_id,
                    "critical",
                    Text("[{scope}] {remote} unreachable", scope=cpas_id or remote, remote=remote),
                    Text(
                        "The circuit breaker of {remote} is open until {until}: calls to that "
                        "remote are paused after repeated failures (alert after {minutes} "
                        "minutes open).",
                        remote=remote,
                        until=until.isoformat(timespec="minutes"),
                        minutes=format(rules.circuit_open_minutes, "g"),
                    ),
                    {"open_until": until.isoformat()},
                    _link(cfg, "/"),
                )
            )

    if rules.certificate_days:
        for setting, path in sorted(certificate_files(settings).items()):
            cpas_id = setting.split(".")[1] if setting.startswith("cpas.") else None
            try:
                expires = certificate_expiry(path)
            except (OSError, ValueError):
                alerts.append(
                    Alert(
                        "certificate",
                        setting,
                        cpas_id,
                        "critical",
                        Text("certificate unreadable: {setting}", setting=setting),
                        Text(
                            "{setting} names {path}, which cannot be read as a PEM certificate.",
                            setting=setting,
                            path=str(path),
                        ),
                        {},
                        None,
                    )
                )
                continue
            days = (expires - now).total_seconds() / 86400
            if days < rules.certificate_days:
                alerts.append(
                    Alert(
                        "certificate",
                        setting,
                        cpas_id,
                        "critical" if days < 7 else "warning",
                        Text(
                            "certificate expires in {days} days: {setting}",
                            days=Num(max(days, 0), 0),
                            setting=setting,
                        ),
                        Text(
                            "{setting} ({path}) expires on {date} ({days} days; threshold "
                            "{threshold} days). Renew it and restart the workers.",
                            setting=setting,
                            path=str(path),
                            date=expires.date(),
                            days=Num(days, 0),
                            threshold=rules.certificate_days,
                        ),
                        {"days_left": round(days, 1)},
                        None,
                    )
                )

    if rules.statement_differences:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    StatementFetch.cpas_id,
                    StatementFetch.month,
                    StatementFetch.differences,
                    StatementFetch.run_id,
                )
                .where(StatementFetch.state == "reconciled")
                .order_by(StatementFetch.month.desc())
            ).all()
        newest: dict[str, tuple[Any, ...]] = {}
        for cpas_id, month, differences, run_id in rows:
            newest.setdefault(cpas_id, (month, differences, run_id))
        for cpas_id, (month, differences, run_id) in sorted(newest.items()):
            if differences:
                alerts.append(
                    Alert(
                        "statement_differences",
                        f"{cpas_id}:{month.isoformat()[:7]}",
                        cpas_id,
                        "warning",
                        Text(
                            "[{cpas}] statement {month}: {n} difference(s)",
                            cpas=cpas_id,
                            month=month.isoformat()[:7],
                            n=len(differences),
                        ),
                        Text(
                            "The federal monthly statement of {month} for CPAS {cpas} differs "
                            "from the ledger in {n} line(s). See 'piis-bridge runs show {run}'.",
                            month=month.isoformat()[:7],
                            cpas=cpas_id,
                            n=len(differences),
                            run=run_id,
                        ),
                        {"differences": len(differences)},
                        _link(cfg, f"/runs/{run_id}"),
                    )
                )
    return alerts


_STATUS = {"failed": Text("failed"), "abandoned": Text("abandoned")}
"""The run statuses an alert names, in words (``run_failed``)."""


def _figures(counts: dict[str, int]) -> str:
    keys = (
        "fetched",
        "processed",
        "items_quarantined",
        "forms",
        "forms_answered",
        "pushed",
        "pull_errors",
    )
    shown = [
        f"{k} {counts[k]}" for k in keys if k in counts
    ]  # counter names: codes, as in runs show
    return ", ".join(shown) or Text("none recorded")


def _first_run_started(engine: Any) -> dict[str, datetime]:
    from sqlalchemy import func, select

    from piis_bridge.pipeline.models import SyncRun, SyncRunCpas

    with engine.connect() as conn:
        rows = conn.execute(
            select(SyncRunCpas.cpas_id, func.min(SyncRun.started_at))
            .join(SyncRun, SyncRun.id == SyncRunCpas.run_id)
            .group_by(SyncRunCpas.cpas_id)
        ).all()
    return {cpas_id: _aware(started) for cpas_id, started in rows if started is not None}


# --- delivery -----------------------------------------------------------------------------------


def send(cfg: AlertSettings, alert: Alert, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """Send *alert* on every configured channel, written in *language*; returns the errors (empty =
    delivered everywhere)."""
    errors = []
    local = alert.localized(language)
    # the language-neutral description (``message``) stays; title and text are the reader's
    data = {
        **alert.to_json(),
        "title": redact(local.title),
        "text": redact(local.text),
        "language": language,
    }
    if cfg.email is not None:
        try:
            _send_email(cfg, data)
        except (OSError, smtplib.SMTPException) as exc:
            errors.append(
                f"email via {cfg.email.host}:{cfg.email.port}: {type(exc).__name__}: {redact(str(exc))}"
            )
    if cfg.webhook is not None:
        try:
            _send_webhook(cfg, data)
        except Exception as exc:  # noqa: BLE001 - httpx errors of every kind
            errors.append(f"webhook: {type(exc).__name__}: {redact(str(exc))}")
    return errors


def _send_email(cfg: AlertSettings, data: dict[str, Any]) -> None:
    email = cfg.email
    assert email is not None
    msg = EmailMessage()
    msg["Subject"] = (
        f"piis-bridge {data['severity']}: {data['title']}"  # severity: a code, filtered on
    )
    msg["From"] = email.sender
    msg["To"] = ", ".join(email.to)
    body = [data["text"], ""]
    if data["link"]:
        body.append(data["link"])
    t = translator(data.get("language") or DEFAULT_LANGUAGE)  # the rule and CPAS ids stay
    body.append(
        t.gettext("rule: {rule}; cpas: {cpas}", rule=data["rule"], cpas=data["cpas"] or "-")
    )
    msg.set_content("\n".join(body))
    context = ssl.create_default_context()
    smtp_class = smtplib.SMTP_SSL if email.ssl else smtplib.SMTP
    kwargs: dict[str, Any] = {"timeout": email.timeout_seconds}
    if email.ssl:
        kwargs["context"] = context
    with smtp_class(email.host, email.port, **kwargs) as smtp:
        if email.starttls:
            smtp.starttls(context=context)
        if email.username:
            smtp.login(email.username, email.password or "")
        smtp.send_message(msg)


def _send_webhook(cfg: AlertSettings, data: dict[str, Any]) -> None:
    import httpx

    hook = cfg.webhook
    assert hook is not None
    line = f"*{data['title']}*\n{data['text']}" + (f"\n{data['link']}" if data["link"] else "")
    if hook.format == "slack":
        body: dict[str, Any] = {"text": line}
    elif hook.format == "teams":
        body = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": data["title"],
            "title": data["title"],
            "text": data["text"] + (f"\n\n{data['link']}" if data["link"] else ""),
        }
    else:
        body = {"source": "piis-bridge", **data}
    headers = {"Authorization": f"Bearer {hook.token}"} if hook.token else {}
    response = httpx.post(hook.url, json=body, headers=headers, timeout=hook.timeout_seconds)
    response.raise_for_status()


def check_and_send(
    settings: Settings, engine: Any = None, now: datetime | None = None
) -> list[Delivery]:
    """Evaluate the conditions, apply durations and caps, send, and record; returns what happened."""
    from sqlalchemy.orm import Session

    from piis_bridge.db import make_engine
    from piis_bridge.observability.models import AlertState

    cfg = settings.alerts
    if not cfg.channels:
        return []
    own = engine is None
    engine = engine or make_engine(settings.database_url)
    now = now or datetime.now(UTC)
    deliveries: list[Delivery] = []
    try:
        alerts = evaluate(settings, engine, now)
        holding = {(a.rule, a.scope) for a in alerts}
        with Session(engine) as s:
            states = {(r.rule, r.scope): r for r in s.query(AlertState).all()}
            for key, row in states.items():  # conditions that stopped: their duration starts again
                if key not in holding and row.first_seen_at is not None and key[0] != "digest":
                    row.first_seen_at = None
            for alert in alerts:
                found = states.get((alert.rule, alert.scope))
                if found is not None:
                    row = found
                else:
                    row = AlertState(
                        rule=alert.rule,
                        scope=alert.scope,
                        cpas_id=alert.cpas_id,
                        sent=0,
                        suppressed=0,
                    )
                    s.add(row)
                    states[(alert.rule, alert.scope)] = row
                if row.first_seen_at is None:
                    row.first_seen_at = now
                if alert.rule == "circuit_open" and now - _aware(row.first_seen_at) < timedelta(
                    minutes=cfg.rules.circuit_open_minutes
                ):
                    continue  # not open long enough yet
                capped = _capped(states.values(), alert, now, cfg.cap_hours)
                if capped:
                    row.suppressed += 1
                    deliveries.append(Delivery(alert, sent=False, suppressed=True))
                    continue
                if row.suppressed:
                    alert = Alert(
                        alert.rule,
                        alert.scope,
                        alert.cpas_id,
                        alert.severity,
                        alert.title,
                        Text(
                            "{text} ({n} similar alert(s) held back by the cap since the last one.)",
                            text=alert.text,
                            n=row.suppressed,
                        ),
                        alert.counts,
                        alert.link,
                    )
                errors = send(cfg, alert, alert_language(settings, alert.cpas_id))
                if errors and len(errors) == len(cfg.channels):
                    row.last_error = "; ".join(errors)
                    log.warning(
                        "alert not delivered", rule=alert.rule, cpas=alert.cpas_id, errors=errors
                    )
                else:
                    row.last_sent_at, row.sent, row.suppressed = now, row.sent + 1, 0
                    row.last_error = "; ".join(errors) or None
                    log.info(
                        "alert sent", rule=alert.rule, cpas=alert.cpas_id, channels=cfg.channels
                    )
                deliveries.append(
                    Delivery(
                        alert, sent=not (errors and len(errors) == len(cfg.channels)), errors=errors
                    )
                )
            deliveries.extend(_maybe_digest(settings, s, engine, now, states))
            s.commit()
    finally:
        if own:
            engine.dispose()
    return deliveries


def _capped(rows: Iterable[Any], alert: Alert, now: datetime, cap_hours: float) -> bool:
    """One alert per rule and CPAS per cap window (for scopes such as a circuit, the CPAS's rows count too).
    *rows* are the alert states already loaded by :func:`check_and_send` (no second query per alert)."""
    cutoff = now - timedelta(hours=cap_hours)
    for row in rows:
        if row.rule != alert.rule:
            continue
        same = row.scope == alert.scope or (
            alert.cpas_id is not None and row.cpas_id == alert.cpas_id
        )
        if same and row.last_sent_at is not None and _aware(row.last_sent_at) > cutoff:
            return True
    return False


# --- digest -------------------------------------------------------------------------------------


def digest(settings: Settings, engine: Any, now: datetime) -> Alert:
    """The daily summary: per CPAS the last 24 hours of runs and forms, open quarantine and circuits."""
    from sqlalchemy import func, select

    from piis_bridge.ledger.models import FormEntry
    from piis_bridge.observability.health import (
        last_successful_nightly,
        open_circuits,
        open_quarantine,
    )
    from piis_bridge.pipeline.models import SyncRun, SyncRunCpas

    since = now - timedelta(hours=24)
    lines, counts = [], {}
    with engine.connect() as conn:
        runs = conn.execute(
            select(SyncRunCpas.cpas_id, SyncRun.status, func.count())
            .join(SyncRun, SyncRun.id == SyncRunCpas.run_id)
            .where(SyncRun.started_at >= since)
            .group_by(SyncRunCpas.cpas_id, SyncRun.status)
        ).all()
        forms = conn.execute(
            select(FormEntry.cpas_id, FormEntry.status, func.count())
            .where(FormEntry.answered_at >= since)
            .group_by(FormEntry.cpas_id, FormEntry.status)
        ).all()
    quarantine, circuits = open_quarantine(engine), open_circuits(engine, now)
    last = last_successful_nightly(engine, settings.cpas)
    for cpas_id in settings.cpas:
        r = {status: n for c, status, n in runs if c == cpas_id}
        f = {status: n for c, status, n in forms if c == cpas_id}
        nightly = last.get(cpas_id)
        lines.append(
            Text(
                "{cpas}: runs {runs}; forms answered {forms}; open quarantine {open}; "
                "last successful nightly {nightly}",
                cpas=cpas_id,
                runs=_fmt(r),
                forms=_fmt(f),
                open=quarantine.get(cpas_id, 0),
                nightly=nightly.isoformat(timespec="minutes") if nightly else Text("never"),
            )
        )
        counts[cpas_id] = {"runs": r, "forms": f, "quarantine_open": quarantine.get(cpas_id, 0)}
    if circuits:
        until = [
            Text("{remote} until {until}", remote=k, until=v.isoformat(timespec="minutes"))
            for k, v in sorted(circuits.items())
        ]
        lines.append(Text("open circuits: {circuits}", circuits=Join(", ", until)))
    return Alert(
        "digest",
        "all",
        None,
        "info",
        Text("daily digest {date}", date=now.date()),
        Text("{lines}", lines=Join("\n", lines)) if lines else Text("no CPAS configured"),
        counts,
        _link(settings.alerts, "/"),
    )


def _fmt(values: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(values.items())) or Text("none")


def _maybe_digest(
    settings: Settings, s: Any, engine: Any, now: datetime, states: dict[Any, Any]
) -> list[Delivery]:
    from piis_bridge.observability.models import AlertState

    cfg = settings.alerts
    if cfg.digest_time is None:
        return []
    local = now.astimezone(settings.nightly_zone())
    if local.time() < cfg.digest_time:
        return []
    row = states.get(("digest", "all"))
    if (
        row is not None
        and row.last_sent_at is not None
        and _aware(row.last_sent_at).astimezone(settings.nightly_zone()).date() == local.date()
    ):
        return []  # today's digest went out
    if row is None:
        row = AlertState(rule="digest", scope="all", sent=0, suppressed=0)
        s.add(row)
    alert = digest(settings, engine, now)
    errors = send(cfg, alert, alert_language(settings, None))
    delivered = not (errors and len(errors) == len(cfg.channels))
    if delivered:
        row.last_sent_at, row.sent = now, row.sent + 1
    row.last_error = "; ".join(errors) or None
    return [Delivery(alert, sent=delivered, errors=errors)]


def send_test(settings: Settings) -> list[str]:
    """``piis-bridge alerts test``: one harmless alert on every channel; raises when none is configured."""
    cfg = settings.alerts
    if not cfg.channels:
        raise AlertError(
            Text(
                "no alert channel is configured: add [alerts.email] or [alerts.webhook] to the "
                "configuration (see docs/operations.md)"
            )
        )
    alert = Alert(
        "test",
        "test",
        None,
        "info",
        Text("test alert"),
        Text("This is a test alert from piis-bridge: if you read it, alerts reach you."),
        {},
        _link(cfg, "/"),
    )
    return send(cfg, alert, alert_language(settings, None))
