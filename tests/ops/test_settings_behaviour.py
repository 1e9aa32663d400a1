"""Each new setting changes behaviour (one test per setting; the others are in tests/deploy,
tests/plugins/test_cli.py and tests/ops/test_error_paragraphs.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from piis_bridge.config import Settings
from piis_bridge.pipeline.schedule import due_schedule_key, nightly_window

BRU = ZoneInfo("Europe/Brussels")


def test_nightly_catchup_is_opt_in() -> None:
    """Beat started at 10:00 on install day: no run of 'last night' unless nightly_catchup = true."""
    at = time(2, 30)
    install_day = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 10:00 in Brussels
    off, on = Settings(), Settings(nightly_catchup=True)
    assert due_schedule_key(install_day, at, BRU, nightly_window(off.nightly_catchup, 12.0)) is None
    assert (
        due_schedule_key(install_day, at, BRU, nightly_window(on.nightly_catchup, 12.0))
        == "nightly:2026-12-07"
    )
    # The night itself still starts without catch-up, also after a short beat restart.
    just_after = datetime(2026, 12, 7, 1, 40, tzinfo=UTC)  # 02:40 in Brussels
    assert (
        due_schedule_key(just_after, at, BRU, nightly_window(off.nightly_catchup, 12.0))
        == "nightly:2026-12-07"
    )


def test_deployment_decides_whether_run_starts_an_embedded_worker() -> None:
    from piis_bridge.cli.pipeline_commands import embedded_wanted

    assert embedded_wanted(Settings(), None) is True
    assert embedded_wanted(Settings(deployment="scale-out"), None) is False
    assert (
        embedded_wanted(Settings(deployment="scale-out"), True) is True
    )  # --embedded wins when given
    # End to end through the CLI: tests/ops/test_error_paragraphs.py::test_a_run_that_could_not_be_enqueued...
    # runs `piis-bridge run` with PIIS_DEPLOYMENT=scale-out and no flag: it goes to the (down) broker.


def test_a_cpas_has_no_federal_plugin_unless_configured() -> None:
    s = Settings.model_validate(
        {"cpas": {"gent": {"name": "OCMW Gent", "ins_code": "44021", "bce": "0212345173"}}}
    )
    assert s.cpas["gent"].federal is None and "federal" not in s.cpas["gent"].routed_plugins()
