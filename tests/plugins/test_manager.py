"""The plugin host: routing per CPAS, error isolation, startup validation."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
import typer
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

from piis_bridge.cli import CommandRegistry
from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.manager import PluginCallError, PluginHost, PluginStartupError, hook_names
from piis_bridge.hooks.types import (
    ChangePage,
    MappingOutcome,
    PushItem,
    PushResult,
    RecordProblem,
    RunReport,
)
from tests.plugins._helpers import A_NISS, record, settings


class CasePlugin:
    """A minimal case-system plugin whose answers say who answered."""

    def __init__(self, tag: str, fail_on: str | None = None) -> None:
        self.tag = tag
        self.fail_on = fail_on
        self.seen_settings: list[dict[str, Any]] = []

    @hookimpl
    def piis_case_fetch_changes(self, cpas, cursor, page_size):
        self.seen_settings.append(dict(cpas.settings))
        return ChangePage(
            records=[record(f"{self.tag}-1", source=self.tag)],
            cursor=f"{self.tag}:1",
            has_more=False,
        )

    @hookimpl
    def piis_case_map_record(self, cpas, record):
        if record.record_id == self.fail_on:
            raise ValueError(f"cannot parse beneficiary {A_NISS}")
        return MappingOutcome(record_id=record.record_id, skip_reason=f"mapped by {self.tag}")

    @hookimpl
    def piis_case_push(self, cpas, items):
        if self.fail_on == "push":
            raise ConnectionError("vendor API down")
        return [PushResult(key=item.key, status="created") for item in items]


class Settings_(BaseModel):  # noqa: N801 - named like the settings model it stands for
    model_config = ConfigDict(extra="forbid")
    base_url: str
    page_size: int = 50


class WithSettings(CasePlugin):
    @hookimpl
    def piis_plugin_settings(self):
        return Settings_


def _host(tmp_path, plugins, routes, **kw) -> PluginHost:
    return PluginHost(settings(tmp_path, routes), plugins=plugins, load_entrypoints=False, **kw)


def test_per_cpas_hooks_go_only_to_the_configured_plugin(tmp_path) -> None:
    alpha, beta = CasePlugin("alpha"), CasePlugin("beta")
    host = _host(
        tmp_path,
        [("alpha", alpha), ("beta", beta)],
        {"liege": {"case_system": "alpha"}, "bruxelles": {"case_system": "beta"}},
    )
    assert host.case_fetch_changes("liege", None).cursor == "alpha:1"
    assert host.case_fetch_changes("bruxelles", None).cursor == "beta:1"
    assert host.case_map_record("bruxelles", record("x")).skip_reason == "mapped by beta"
    assert len(alpha.seen_settings) == len(beta.seen_settings) == 1
    assert host.failures == []


def test_each_plugin_gets_its_own_settings_and_state_dir(tmp_path) -> None:
    alpha = WithSettings("alpha")
    routes = {
        "liege": {
            "case_system": "alpha",
            "plugins": {"alpha": {"base_url": "http://127.0.0.1:1"}, "other": {}},
        }
    }
    host = _host(tmp_path, [("alpha", alpha), ("other", object())], routes)
    ctx = host.context("liege", "alpha")
    assert ctx.settings == {"base_url": "http://127.0.0.1:1"}
    assert ctx.state_dir == tmp_path / "state" / "liege" / "alpha"
    assert (ctx.cpas_id, ctx.ins_code, ctx.plugin) == ("liege", "62063", "alpha")


def test_a_wrapper_of_another_plugin_sees_and_amends_the_routed_result(tmp_path) -> None:
    class LocalRules:
        @hookimpl(wrapper=True)
        def piis_case_map_record(self, record):
            outcome = yield
            return MappingOutcome(
                record_id=record.record_id,
                problems=[
                    RecordProblem(
                        record_id=record.record_id,
                        field="end_date",
                        reason=f"local rule after: {outcome.skip_reason}",
                    )
                ],
            )

    host = _host(
        tmp_path,
        [("alpha", CasePlugin("alpha")), ("beta", CasePlugin("beta")), ("local", LocalRules())],
        {"liege": {"case_system": "alpha"}},
    )
    outcome = host.case_map_record("liege", record("r1"))
    assert outcome.problems[0].reason == "local rule after: mapped by alpha"


def test_a_raising_plugin_is_isolated_with_its_name_and_the_record(tmp_path) -> None:
    host = _host(
        tmp_path,
        [("alpha", CasePlugin("alpha", fail_on="r2"))],
        {"liege": {"case_system": "alpha"}},
    )
    outcomes = [host.case_map_record("liege", record(rid)) for rid in ("r1", "r2", "r3")]
    assert [o.ok or o.skip_reason is not None for o in outcomes] == [True, False, True]
    problem = outcomes[1].problems[0]
    assert (
        problem.record_id == "r2" and "alpha" in problem.reason and "ValueError" in problem.reason
    )
    (failure,) = host.drain_failures()
    assert (failure.plugin, failure.hook, failure.cpas_id, failure.record_id) == (
        "alpha",
        "piis_case_map_record",
        "liege",
        "r2",
    )
    assert A_NISS not in failure.message and A_NISS not in problem.reason
    assert host.failures == []


def test_the_plugin_whose_code_raised_is_blamed_not_the_routed_one(tmp_path) -> None:
    import types

    mod = types.ModuleType("piis_test_blame_wrapper")
    exec(
        "from piis_bridge.hooks import hookimpl\n"
        "@hookimpl(wrapper=True)\n"
        "def piis_case_map_record(record):\n"
        "    result = yield\n"
        "    raise KeyError('boom')\n",
        mod.__dict__,
    )
    host = _host(
        tmp_path,
        [("alpha", CasePlugin("alpha")), ("wrapper", mod)],
        {"liege": {"case_system": "alpha"}},
    )
    host.case_map_record("liege", record("r1"))
    assert host.failures[0].plugin == "wrapper"


def test_push_failure_marks_every_item_failed_and_records_each_record(tmp_path) -> None:
    host = _host(
        tmp_path,
        [("alpha", CasePlugin("alpha", fail_on="push"))],
        {"liege": {"case_system": "alpha"}},
    )
    items = [PushItem(key=f"k{i}", record_id=f"r{i}", kind="status", title="t") for i in range(2)]
    results = host.case_push("liege", items)
    assert [(r.key, r.status) for r in results] == [("k0", "failed"), ("k1", "failed")]
    assert [f.record_id for f in host.failures] == ["r0", "r1"]
    assert "ConnectionError" in results[0].detail


def test_a_result_of_the_wrong_type_is_a_plugin_failure(tmp_path) -> None:
    class Sloppy(CasePlugin):
        @hookimpl
        def piis_case_fetch_changes(self, cpas, cursor, page_size):
            return {"records": [], "cursor": None}

    host = _host(tmp_path, [("sloppy", Sloppy("s"))], {"liege": {"case_system": "sloppy"}})
    assert host.case_fetch_changes("liege", None) is None
    assert "returned dict, expected ChangePage" in host.failures[0].message


def test_a_page_larger_than_asked_is_refused(tmp_path) -> None:
    host = _host(tmp_path, [("alpha", CasePlugin("alpha"))], {"liege": {"case_system": "alpha"}})
    assert host.case_fetch_changes("liege", None, page_size=1) is not None
    assert host.case_fetch_changes("liege", None, page_size=0) is None


def test_misspelled_hook_is_an_error_at_startup_with_a_suggestion(tmp_path) -> None:
    class Typo:
        @hookimpl
        def piis_case_fetch_change(self, cpas, cursor):
            return None

    with pytest.raises(PluginStartupError) as err:
        _host(tmp_path, [("typo", Typo())], {})
    assert (
        "plugin 'typo': piis_case_fetch_change is not a piis-bridge hook; did you mean piis_case_fetch_changes?"
        in str(err.value)
    )


def test_a_hook_function_without_hookimpl_is_an_error(tmp_path) -> None:
    class Forgot:
        def piis_case_push(self, cpas, items):
            return []

    with pytest.raises(PluginStartupError, match="piis_case_push is not marked with @hookimpl"):
        _host(tmp_path, [("forgot", Forgot())], {})


def test_an_argument_not_in_the_spec_is_an_error(tmp_path) -> None:
    class BadArg:
        @hookimpl
        def piis_case_push(self, cpas, itemz):
            return []

    with pytest.raises(PluginStartupError, match="plugin 'badarg': invalid hook implementation"):
        _host(tmp_path, [("badarg", BadArg())], {})


def test_unknown_plugin_setting_is_an_error_naming_cpas_plugin_and_key(tmp_path) -> None:
    routes = {
        "liege": {"case_system": "alpha", "plugins": {"alpha": {"base_url": "x", "pagesize": 5}}}
    }
    with pytest.raises(PluginStartupError) as err:
        _host(tmp_path, [("alpha", WithSettings("alpha"))], routes)
    assert "cpas.liege.plugins.alpha.pagesize: unknown key" in str(err.value)


def test_settings_for_a_plugin_without_a_settings_model_are_an_error(tmp_path) -> None:
    routes = {"liege": {"case_system": "alpha", "plugins": {"alpha": {"url": "x"}}}}
    with pytest.raises(
        PluginStartupError, match=r"plugin 'alpha' takes no settings \(unknown keys: url\)"
    ):
        _host(tmp_path, [("alpha", CasePlugin("alpha"))], routes)


def test_settings_for_an_unknown_plugin_are_an_error_with_a_hint(tmp_path) -> None:
    routes = {"liege": {"case_system": "alpha", "plugins": {"alpah": {}}}}
    with pytest.raises(
        PluginStartupError, match="no enabled plugin named 'alpah'; did you mean 'alpha'"
    ):
        _host(tmp_path, [("alpha", CasePlugin("alpha"))], routes)


def test_a_cpas_routed_to_a_missing_or_incomplete_plugin_is_an_error(tmp_path) -> None:
    class OnlyPush:
        @hookimpl
        def piis_case_push(self, cpas, items):
            return []

    with pytest.raises(PluginStartupError) as err:
        _host(
            tmp_path,
            [("onlypush", OnlyPush())],
            {"liege": {"case_system": "onlypush"}, "bruxelles": {"case_system": "ghost"}},
        )
    text = str(err.value)
    assert (
        "cpas.liege.case_system: plugin 'onlypush' does not implement piis_case_fetch_changes"
        in text
    )
    assert "cpas.bruxelles.case_system: plugin 'ghost' cannot serve: it is not installed" in text


def test_non_strict_host_keeps_the_problems_for_plugins_check(tmp_path) -> None:
    class Typo:
        @hookimpl
        def piis_run_finishd(self, report):
            pass

    host = _host(tmp_path, [("typo", Typo())], {}, strict=False)
    assert host.problems == [
        "plugin 'typo': piis_run_finishd is not a piis-bridge hook; did you mean piis_run_finished?"
    ]


def test_notification_hooks_call_every_plugin_even_after_one_raises(tmp_path) -> None:
    seen: list[str] = []

    class Good:
        @hookimpl
        def piis_run_finished(self, report):
            seen.append(report.run_id)

    class Bad:
        @hookimpl
        def piis_run_finished(self, report):
            raise RuntimeError("smtp down")

    from datetime import datetime

    now = datetime.now(UTC)
    host = _host(tmp_path, [("good", Good()), ("bad", Bad())], {})
    host.run_finished(RunReport(run_id="run-1", started_at=now, finished_at=now))
    assert seen == ["run-1"]
    assert [(f.plugin, f.hook, f.message) for f in host.failures] == [
        ("bad", "piis_run_finished", "smtp down")
    ]


def test_a_plugin_failing_at_startup_is_unregistered_and_reported(tmp_path) -> None:
    class Broken(CasePlugin):
        @hookimpl
        def piis_startup(self, config):
            raise OSError("cannot open state dir")

    host = _host(tmp_path, [("broken", Broken("b")), ("alpha", CasePlugin("alpha"))], {})
    (failure,) = host.startup()
    assert failure.plugin == "broken" and not host.is_active("broken") and host.is_active("alpha")
    info = {i.name: i for i in host.plugin_infos()}
    assert "cannot open state dir" in info["broken"].error


def test_command_registration_of_a_broken_plugin_is_undone_and_the_rest_works(tmp_path) -> None:
    class Good:
        @hookimpl
        def piis_register_commands(self, cli):
            @cli.group("sim", help="simulators").command("ok")
            def ok() -> None:
                typer.echo("ok ran")

    class Bad:
        @hookimpl
        def piis_register_commands(self, cli):
            @cli.root.command("half")
            def half() -> None:
                pass

            raise ImportError("optional dependency missing")

    app = typer.Typer()
    registry = CommandRegistry(app)
    host = _host(tmp_path, [("good", Good()), ("bad", Bad())], {})
    (failure,) = host.register_commands(registry)
    assert failure.plugin == "bad"
    assert [c.name for c in app.registered_commands] == []
    result = CliRunner().invoke(app, ["sim", "ok"])
    assert result.exit_code == 0 and "ok ran" in result.output


def test_rule_parameters_are_merged_and_a_conflict_names_both_plugins(tmp_path) -> None:
    def params(values):
        class P:
            @hookimpl
            def piis_rule_parameters(self, cpas):
                return dict(values, cpas=cpas.cpas_id)

        return P()

    host = _host(
        tmp_path,
        [("a", params({"x": 1})), ("b", params({"y": 2}))],
        {"liege": {"case_system": None}},
    )
    with pytest.raises(PluginStartupError, match="rule parameter 'cpas' given by both"):
        host.rule_parameters("liege")


def test_installed_entry_points_are_listed_with_distribution_and_disabled_ones_blocked(
    tmp_path,
) -> None:
    host = PluginHost(settings(tmp_path, {}, plugins={"disabled": ["transfer"]}), strict=False)
    infos = {i.name: i for i in host.plugin_infos()}
    assert {"federal", "neptunus", "filedrop", "transfer"} <= set(infos)
    assert infos["neptunus"].distribution == "piis-bridge" and infos["neptunus"].version
    assert infos["transfer"].enabled is False and host.pm.is_blocked("transfer")


def test_every_spec_is_prefixed_and_listed() -> None:
    import piis_bridge.hooks.specs as specs

    defined = {n for n in dir(specs) if n.startswith("piis_") and callable(getattr(specs, n))}
    assert defined == set(hook_names())


def test_a_plugin_can_be_disabled_for_one_cpas_only(tmp_path) -> None:
    class LocalRules:
        @hookimpl(wrapper=True)
        def piis_case_map_record(self, record):
            outcome = yield
            return MappingOutcome(
                record_id=record.record_id, skip_reason="local: " + outcome.skip_reason
            )

        @hookimpl
        def piis_rule_parameters(self, cpas):
            return {"reminder_days": 7}

    routes = {
        "liege": {"case_system": "alpha"},
        "bruxelles": {"case_system": "alpha", "disabled_plugins": ["local"]},
    }
    host = _host(tmp_path, [("alpha", CasePlugin("alpha")), ("local", LocalRules())], routes)
    assert host.case_map_record("liege", record("r")).skip_reason == "local: mapped by alpha"
    assert host.case_map_record("bruxelles", record("r")).skip_reason == "mapped by alpha"
    assert host.rule_parameters("liege") == {"reminder_days": 7}
    assert host.rule_parameters("bruxelles") == {}


def test_disabling_an_unknown_plugin_for_a_cpas_is_an_error(tmp_path) -> None:
    routes = {"liege": {"case_system": "alpha", "disabled_plugins": ["alpah"]}}
    with pytest.raises(
        PluginStartupError,
        match=r"cpas\.liege\.disabled_plugins: no plugin named 'alpah'; did you mean 'alpha'",
    ):
        _host(tmp_path, [("alpha", CasePlugin("alpha"))], routes)


def test_an_explicit_plugin_replaces_the_installed_one_of_the_same_name(tmp_path) -> None:
    double = CasePlugin("double")
    host = PluginHost(
        settings(tmp_path, {"liege": {"case_system": "neptunus"}}),
        plugins=[("neptunus", double)],
        strict=False,
    )
    assert host.pm.get_plugin("neptunus") is double
    assert host.case_fetch_changes("liege", None).cursor == "double:1"
    assert not any("neptunus" in p for p in host.problems), host.problems


def test_tracing_logs_hook_calls_without_their_arguments(tmp_path, monkeypatch, caplog) -> None:
    import logging

    monkeypatch.setenv("PIIS_TRACE_PLUGINS", "1")
    host = _host(
        tmp_path,
        [("alpha", CasePlugin("alpha")), ("beta", CasePlugin("beta"))],
        {"liege": {"case_system": "alpha"}},
    )
    rec = record("r1").model_copy(update={"payload": {"niss": A_NISS}})
    with caplog.at_level(logging.INFO, logger="piis_bridge.plugins"):
        host.case_map_record("liege", rec)
    text = caplog.text
    assert "hook call piis_case_map_record plugins=['alpha'] cpas=liege" in text
    assert "hook done piis_case_map_record error=None" in text
    assert A_NISS not in text


def test_a_transfer_failure_names_the_transfer_case_and_a_niss_is_never_used_as_the_record(
    tmp_path,
) -> None:
    class Transfer:
        @hookimpl
        def piis_transfer_export(self, cpas, transfer):
            raise RuntimeError("destination CPAS unknown")

    routes = {"liege": {"case_system": None, "transfer": "tr"}}
    host = _host(tmp_path, [("tr", Transfer())], routes)
    assert host.transfer_export("liege", "TRF-2026-001") is None
    assert (host.failures[0].plugin, host.failures[0].record_id) == ("tr", "TRF-2026-001")
    import pytest as _pytest

    with _pytest.raises(PluginCallError, match="plugin 'tr' failed in piis_transfer_export"):
        host.require(None)
