"""The Lino client and the lino plugin's settings, against the running Lino demo (and a loopback fault server)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from piis_connectors.lino.client import LinoAuthError, LinoClient, LinoUnavailable
from piis_plugins.lino.plugin import LinoPlugin
from piis_plugins.lino.settings import LinoSettings
from pydantic import ValidationError

from piis_bridge.hooks.types import CpasContext, PushItem
from tests.lino.conftest import USER

# One plugin object for the module's tests, as a process has one (its clients closed after each test).
plugin = LinoPlugin()


def _ctx(tmp_path: Path, settings: dict, cpas_id: str = "eupen") -> CpasContext:
    return CpasContext(
        cpas_id=cpas_id,
        name="ÖSHZ Eupen",
        ins_code="63023",
        bce="0212345470",
        settings=settings,
        state_dir=tmp_path / cpas_id,
        plugin="lino",
    )


@pytest.fixture(autouse=True)
def _fresh_clients():
    yield
    plugin.close()


# -- client ----------------------------------------------------------------------------------------


def test_the_session_is_renewed_when_lost(lino_server) -> None:
    with LinoClient(lino_server.url, USER, "1234", session_check_interval=0.0) as client:
        count, _ = client.list_rows("isip", "Contracts", limit=1)
        assert count >= 34 and client.logins == 1
        client.expire_session()  # what a server-side logout or a lost cookie looks like
        assert client.whoami() is None  # Lino would now answer as an anonymous visitor...
        client.list_rows("isip", "Contracts", limit=1)
        assert (
            client.logins == 2 and client.whoami() == USER
        )  # ...so the client signed in again first


def test_a_wrong_password_names_the_user_not_the_password(lino_server) -> None:
    with (
        LinoClient(lino_server.url, USER, "wrong-secret") as client,
        pytest.raises(LinoAuthError) as exc,
    ):
        client.list_rows("isip", "Contracts", limit=1)
    assert USER in str(exc.value) and "wrong-secret" not in str(exc.value)


def test_ids_are_percent_encoded_and_an_unknown_record_is_none(lino_server) -> None:
    with LinoClient(lino_server.url, USER, "1234") as client:
        assert client.get_detail("isip", "Contracts", "../../about/About") is None
        assert (
            client.get_row("isip", "Contracts", "980526 001-51") is None
        )  # never sent: not a number


class _Flaky(BaseHTTPRequestHandler):
    failures = 2
    calls = 0

    def do_GET(self) -> None:  # noqa: N802
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            self.send_response(503)
            self.end_headers()
            return
        body = json.dumps({"count": 1, "rows": [{"id": 1, "username": USER}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_5xx_are_retried_with_backoff_then_reported_without_data() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    slept: list[float] = []
    try:
        _Flaky.calls, _Flaky.failures = 0, 2
        client = LinoClient(url, USER, "x", max_retries=3, backoff=0.1, sleep=slept.append)
        client._checked_at = 1e18  # noqa: SLF001 - this server has no sign-in; the retry path is under test
        assert client.list_rows("isip", "Contracts")[0] == 1
        assert _Flaky.calls == 3 and len(slept) == 2 and slept[1] > slept[0] * 1.0
        _Flaky.calls, _Flaky.failures = 0, 99
        with pytest.raises(LinoUnavailable, match="503"):
            client.list_rows("isip", "Contracts")
        assert _Flaky.calls == 4  # 1 + max_retries
        client.close()
    finally:
        server.shutdown()
        server.server_close()


# -- settings --------------------------------------------------------------------------------------


def test_settings_refuse_plain_http_off_loopback_and_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="https"):
        LinoSettings(url="http://lino.cpas.example", user="piis", password="x")
    with pytest.raises(ValidationError, match="extra"):
        LinoSettings.model_validate(
            {"url": "https://lino.cpas.example", "user": "piis", "password": "x", "pasword": 1}
        )
    assert (
        LinoSettings(url="https://lino.cpas.example/", user="piis", password="x").url
        == "https://lino.cpas.example"
    )


def test_the_password_is_refused_in_the_configuration_file(tmp_path: Path) -> None:
    from piis_bridge.config import load_settings

    cfg = tmp_path / "piis-bridge.toml"
    cfg.write_text(
        '[cpas.eupen]\nname = "ÖSHZ Eupen"\nins_code = "63023"\nbce = "0212345470"\ncase_system = "lino"\n'
        '[cpas.eupen.plugins.lino]\nurl = "https://lino.example"\nuser = "piis"\npassword = "inline"\n'
    )
    with pytest.raises(Exception, match="password") as exc:
        load_settings(cfg)
    assert "inline" not in str(exc.value)


def _first_records(tmp_path: Path, settings: dict) -> dict[str, object]:
    ctx = _ctx(tmp_path, settings)
    records, cursor = {}, None
    while True:
        page = plugin.piis_case_fetch_changes(ctx, cursor, 50)
        records.update({r.record_id: r for r in page.records})
        cursor = page.cursor
        if not page.has_more:
            return {"records": records, "cursor": cursor, "ctx": ctx}


def test_missing_decision_date_quarantines_by_default_or_takes_the_granting_start(
    tmp_path, lino_settings
) -> None:
    strict = _first_records(tmp_path / "a", dict(lino_settings))
    record = strict["records"]["isip-1"]
    outcome = plugin.piis_case_map_record(strict["ctx"], record)
    assert [(p.field, p.reason.split(" (")[0]) for p in outcome.problems] == [
        ("grantings.decision_date", "granting #1 has no decision date in Lino")
    ]
    lenient = _ctx(tmp_path / "a", {**lino_settings, "missing_decision_date": "granting_start"})
    contract = plugin.piis_case_map_record(lenient, record).contract
    assert contract.decision.decision_date == contract.decision.ri_start_date.__class__(2012, 9, 29)
    assert (
        contract.decision.ri_amount_monthly_cents == 12300 and contract.decision.ri_category == "1"
    )
    assert not contract.signatures  # Lino has no signature date: none is invented


def test_full_scan_hours_rescans_or_never(tmp_path, lino_settings) -> None:
    every = _first_records(tmp_path / "every", {**lino_settings, "full_scan_hours": 0})
    again = plugin.piis_case_fetch_changes(every["ctx"], every["cursor"], 50)
    # a rescan hands over nothing unchanged (content hashes), but it does run: the cursor is a scan's
    assert (
        again.records == []
        and json.loads(again.cursor)["last_scan"] != json.loads(every["cursor"])["last_scan"]
    )
    never = _first_records(tmp_path / "never", {**lino_settings, "full_scan_hours": None})
    later = plugin.piis_case_fetch_changes(never["ctx"], never["cursor"], 50)
    assert (
        later.records == []
        and json.loads(later.cursor)["last_scan"] == json.loads(never["cursor"])["last_scan"]
    )


def test_a_code_unknown_to_the_code_file_is_reported_never_guessed(tmp_path, lino_settings) -> None:
    from importlib.resources import files

    text = (files("piis_mappings.lino") / "codes.yaml").read_text(encoding="utf-8")
    local = tmp_path / "codes.yaml"
    local.write_text(text.replace('    "1": SCHOOL\n', ""))
    first = _first_records(tmp_path / "c", {**lino_settings, "codes_file": str(local)})
    outcome = plugin.piis_case_map_record(first["ctx"], first["records"]["isip-1"])
    assert ("contract.study_type", "unknown code '1' (code list study_type)") in [
        (p.field, p.reason) for p in outcome.problems
    ]


def test_push_is_assigned_to_task_user_and_found_again_by_its_key(tmp_path, lino_settings) -> None:
    ctx = _ctx(tmp_path, {**lino_settings, "task_user": "romain"})
    item = PushItem(
        key="test-task-user-1",
        record_id="isip-2",
        kind="deadline_alert",
        title="Evaluation due",
        body="Plan the evaluation.",
    )
    (first,) = plugin.piis_case_push(ctx, [item])
    (second,) = plugin.piis_case_push(ctx, [item])
    assert (first.status, second.status, second.remote_id) == (
        "created",
        "duplicate",
        first.remote_id,
    )
    with LinoClient(lino_settings["url"], USER, "1234") as client:
        row = client.get_row("cal", "Tasks", first.remote_id.split(":")[1])
    assert (
        row["owner_idHidden"] == 2
        and row["projectHidden"] == 17
        and row["user"].startswith("Romain")
    )
    draft = PushItem(
        key="transfer-draft:x", record_id="isip-2", kind="draft_contract", title="Hand-over"
    )
    (refused,) = plugin.piis_case_push(ctx, [draft])
    assert refused.status == "failed" and "no draft contracts" in refused.detail


def test_connection_settings_reach_the_client(tmp_path, lino_settings) -> None:
    ctx = _ctx(
        tmp_path,
        {**lino_settings, "timeout": 7.5, "max_retries": 1, "session_check_interval": 12.0},
    )
    client = plugin._client(ctx)  # noqa: SLF001
    assert (client._http.timeout.read, client.max_retries, client.session_check_interval) == (
        7.5,
        1,
        12.0,
    )  # noqa: SLF001


def test_page_size_bounds_each_lino_list_request(tmp_path, lino_settings, monkeypatch) -> None:
    from piis_connectors.lino.client import LinoClient as Client

    limits: list[int] = []
    original = Client.list_rows

    def spy(self, app, table, **kw):
        if (app, table) == ("isip", "Contracts"):
            limits.append(kw.get("limit", 100))
        return original(self, app, table, **kw)

    monkeypatch.setattr(Client, "list_rows", spy)
    page = plugin.piis_case_fetch_changes(
        _ctx(tmp_path, {**lino_settings, "page_size": 3}), None, 50
    )
    assert len(page.records) == 50 or not page.has_more
    assert limits and max(limits) == 3


def test_a_local_mapping_file_replaces_the_shipped_one(tmp_path, lino_settings) -> None:
    from importlib.resources import files

    text = (files("piis_mappings.lino") / "contract.yaml").read_text(encoding="utf-8")
    local = tmp_path / "contract.yaml"
    local.write_text(text.replace("    vsea: PROFESSIONAL\n", "    vsea: SOCIAL\n"))
    shipped = _first_records(
        tmp_path / "m", {**lino_settings, "missing_decision_date": "granting_start"}
    )
    record = shipped["records"]["isip-1"]  # a contract of type vsea (VSE Ausbildung)
    assert (
        plugin.piis_case_map_record(shipped["ctx"], record).contract.orientation == "PROFESSIONAL"
    )
    ctx = _ctx(
        tmp_path / "m",
        {**lino_settings, "missing_decision_date": "granting_start", "mapping_file": str(local)},
    )
    assert plugin.piis_case_map_record(ctx, record).contract.orientation == "SOCIAL"
