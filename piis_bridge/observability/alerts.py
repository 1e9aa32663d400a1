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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import structlog

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
    rule: str
    scope: str  # a CPAS id, "<role>:<cpas>" for a circuit, a setting path for a certificate
    cpas_id: str | None
    severity: str  # "warning" | "critical"
    title: str
    text: str
    counts: dict[str, Any] = field(default_factory=dict)
    link: str | None = None

    def to_json(self) -> dict[str, Any]:
        return redact(
            {
                "rule": self.rule,
                "cpas": self.cpas_id,
                "severity": self.severity,
                "title": self.title,
                "text": self.text,
                "counts": self.counts,
                "link": self.link,
            }
        )


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
                        f"[{cpas_id}] run {run_id} {status}",
                        f"The run {run_id} of CPAS {cpas_id} ended {status} at {_aware(finished).isoformat(timespec='minutes')}. "
                        f"Counts: {_figures(figures)}. See 'piis-bridge runs show {run_id}'.",
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
                    "no successful nightly run since"
                    if cpas_id in last
                    else "no successful nightly run at all since the first run of"
                )
                alerts.append(
                    Alert(
                        "nightly_late",
                        cpas_id,
                        cpas_id,
                        "critical",
                        f"[{cpas_id}] nightly run late",
                        f"CPAS {cpas_id}: {what} {when.isoformat(timespec='minutes')} ({hours:.1f} h; "
                        f"threshold {rules.nightly_late_hours:g} h). Check the beat and the workers: 'piis-bridge health'.",
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
                        f"[{cpas_id}] {n} records in quarantine",
                        f"CPAS {cpas_id} has {n} open quarantine entries (threshold {rules.quarantine_over}). "
                        "See 'piis-bridge quarantine list'.",
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
                        f"[{cpas_id}] {share:.0f}% of forms refused",
                        f"CPAS {cpas_id}: {refused} of {total} forms answered in the last 7 days were refused "
                        f"({share:.1f}%, threshold {rules.refused_percent:g}%). "
                        f"See 'piis-bridge forms list --cpas {cpas_id} --status refused'.",
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
                    f"[{cpas_id or remote}] {remote} unreachable",
                    f"The circuit breaker of {remote} is open until {until.isoformat(timespec='minutes')}: calls to "
                    f"that remote are paused after repeated failures (alert after {rules.circuit_open_minutes:g} "
                    "minutes open).",
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
                        f"certificate unreadable: {setting}",
                        f"{setting} names {path}, which cannot be read as a PEM certificate.",
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
                        f"certificate expires in {max(days, 0):.0f} days: {setting}",
                        f"{setting} ({path}) expires on {expires.date().isoformat()} ({days:.0f} days; "
                        f"threshold {rules.certificate_days} days). Renew it and restart the workers.",
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
                        f"[{cpas_id}] statement {month.isoformat()[:7]}: {len(differences)} difference(s)",
                        f"The federal monthly statement of {month.isoformat()[:7]} for CPAS {cpas_id} differs from the "
                        f"ledger in {len(differences)} line(s). See 'piis-bridge runs show {run_id}'.",
                        {"differences": len(differences)},
                        _link(cfg, f"/runs/{run_id}"),
                    )
                )
    return alerts


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
    shown = [f"{k} {counts[k]}" for k in keys if k in counts]
    return ", ".join(shown) or "none recorded"


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


def send(cfg: AlertSettings, alert: Alert) -> list[str]:
    """Send *alert* on every configured channel; returns the errors (empty = delivered everywhere)."""
    errors = []
    if cfg.email is not None:
        try:
            _send_email(cfg, alert)
        except (OSError, smtplib.SMTPException) as exc:
            errors.append(
                f"email via {cfg.email.host}:{cfg.email.port}: {type(exc).__name__}: {redact(str(exc))}"
            )
    if cfg.webhook is not None:
        try:
            _send_webhook(cfg, alert)
        except Exception as exc:  # noqa: BLE001 - httpx errors of every kind
            errors.append(f"webhook: {type(exc).__name__}: {redact(str(exc))}")
    return errors


def _send_email(cfg: AlertSettings, alert: Alert) -> None:
    email = cfg.email
    assert email is not None
    data = alert.to_json()
    msg = EmailMessage()
    msg["Subject"] = f"piis-bridge {data['severity']}: {data['title']}"
    msg["From"] = email.sender
    msg["To"] = ", ".join(email.to)
    body = [data["text"], ""]
    if data["link"]:
        body.append(data["link"])
    body.append(f"rule: {data['rule']}; cpas: {data['cpas'] or '-'}")
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


def _send_webhook(cfg: AlertSettings, alert: Alert) -> None:
    import httpx

    hook = cfg.webhook
    assert hook is not None
    data = alert.to_json()
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
                        alert.text
                        + f" ({row.suppressed} similar alert(s) held back by the cap since the last one.)",
                        alert.counts,
                        alert.link,
                    )
                errors = send(cfg, alert)
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
            f"{cpas_id}: runs {_fmt(r)}; forms answered {_fmt(f)}; open quarantine {quarantine.get(cpas_id, 0)}; "
            f"last successful nightly {nightly.isoformat(timespec='minutes') if nightly else 'never'}"
        )
        counts[cpas_id] = {"runs": r, "forms": f, "quarantine_open": quarantine.get(cpas_id, 0)}
    if circuits:
        lines.append(
            "open circuits: "
            + ", ".join(
                f"{k} until {v.isoformat(timespec='minutes')}" for k, v in sorted(circuits.items())
            )
        )
    return Alert(
        "digest",
        "all",
        None,
        "info",
        f"daily digest {now.date().isoformat()}",
        "\n".join(lines) or "no CPAS configured",
        counts,
        _link(settings.alerts, "/"),
    )


def _fmt(values: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(values.items())) or "none"


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
    errors = send(cfg, alert)
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
            "no alert channel is configured: add [alerts.email] or [alerts.webhook] to the "
            "configuration (see docs/operations.md)"
        )
    alert = Alert(
        "test",
        "test",
        None,
        "info",
        "test alert",
        "This is a test alert from piis-bridge: if you read it, alerts reach you.",
        {},
        _link(cfg, "/"),
    )
    return send(cfg, alert)
