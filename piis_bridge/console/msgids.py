"""Words the templates translate from data (statuses, roles, triggers, audit actions).

Why a module: ``pybabel extract`` only sees literal strings; these values come from the database,
so they are listed here once for the catalogues (``_()`` in the templates looks them up)."""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 (gettext's own name for a no-op marker)
    return text


STATUS_WORDS = [
    N_("running"),
    N_("finished"),
    N_("failed"),
    N_("open"),
    N_("replayed"),
    N_("dismissed"),
    N_("all"),
    N_("pending"),
    N_("done"),
    N_("quarantined"),
    N_("skipped"),
    N_("leased"),
    N_("accepted"),
    N_("refused"),
    N_("partially_accepted"),
    N_("blocked"),
    N_("superseded"),
    N_("built"),
    N_("sent"),
    N_("sending"),
    N_("submitted"),
    N_("answered"),
    N_("waiting"),
    N_("reconciled"),
    N_("unsupported"),
    N_("pulled"),
    N_("pulling"),
    N_("none"),
    N_("overdue"),
    N_("due"),
    N_("met"),
    N_("upcoming"),
    N_("info"),
    N_("missed"),
    N_("ok"),
    N_("warning"),
    N_("critical"),
]
TRANSFER_STATES = [
    N_("detected"),
    N_("awaiting_consent"),
    N_("consent_given"),
    N_("consent_refused"),
    N_("not_transferable"),
    N_("package_built"),
    N_("acknowledged"),
    N_("assessed"),
    N_("rejected"),
    N_("received"),
    N_("imported"),
    N_("reviewed"),
]
ROLES = [N_("admin"), N_("operator"), N_("viewer")]
TRIGGERS = [N_("nightly"), N_("manual"), N_("replay"), N_("statement")]
ACTIONS = [
    N_("login"),
    N_("login_failed"),
    N_("logout"),
    N_("dismiss"),
    N_("reveal"),
    N_("consent"),
    N_("role_change"),
    N_("set_worker"),
    N_("user_add"),
    N_("user_disable"),
    N_("session_revoke"),
    N_("audit_export"),
]
