"""A plugin adds a local rule and CPAS parameters through the real hooks (``piis_register_rules``,
``piis_rule_parameters``) and the real PluginHost."""

from __future__ import annotations

from datetime import date
from typing import Any

from piis_bridge.config import Settings
from piis_bridge.hooks import hookimpl
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.rules import RuleSettings, RuleSpec, Severity, build_registry, evaluate
from piis_bridge.rules.context import RuleContext
from tests.rules._core import make


class LocalRulesPlugin:
    """What a vendor's local-rules plugin looks like."""

    @hookimpl
    def piis_register_rules(self, registry: Any) -> None:
        def _min_objectives(ctx: RuleContext) -> None:
            wanted = int(ctx.settings.local.get("min_objectives", 0))
            if len(ctx.contract.objectives) < wanted:
                ctx.flag(f"Contract {ctx.cid}: fewer than {wanted} objectives.", "objectives")

        local_rules = (
            RuleSpec(
                "R-LOC-50",
                title="Local: at least N objectives",
                severity=Severity.LOCAL,
                citation="[council decision 2026-02-01]",
                doc="This CPAS wants at least ``min_objectives`` objectives in every contract "
                "(plugin parameter).",
                check=_min_objectives,
            ),
        )
        registry.family(local_rules, source="localrules")

    @hookimpl
    def piis_rule_parameters(self, cpas: Any) -> dict[str, Any]:
        return {"min_objectives": 3, "interview_deadline_working_days": 4}


def _host() -> PluginHost:
    settings = Settings.model_validate(
        {
            "cpas": {
                "liege": {
                    "name": "CPAS de Liège",
                    "ins_code": "62063",
                    "bce": "0212045562",
                    "federal": None,
                    "transfer": None,
                }
            }
        }
    )
    return PluginHost(
        settings, plugins=[("localrules", LocalRulesPlugin())], load_entrypoints=False, strict=True
    )


def test_plugin_rule_and_parameters_through_the_real_hooks() -> None:
    host = _host()
    registry = build_registry(host)
    assert registry.get("R-LOC-50").source == "localrules"
    params = host.rule_parameters("liege")
    assert params == {"min_objectives": 3, "interview_deadline_working_days": 4}
    settings = RuleSettings().with_parameters(params)
    assert settings.interview_deadline_working_days == 4 and settings.local == {"min_objectives": 3}
    contract = make(
        "u25-employment-project",
        lambda x: x.update(
            interview_requests=[{"requested_date": "2026-11-09", "held_date": "2026-11-17"}]
        ),
    )
    report = evaluate(contract, on=date(2026, 11, 22), settings=settings, registry=registry)
    assert [f.level.value for f in report.by_rule("R-LOC-50")] == ["warning"]  # 2 objectives < 3
    assert report.by_rule("R-DL-05")  # 4 working days: 16 November was the deadline
    assert not evaluate(contract, on=date(2026, 11, 22), registry=registry).by_rule("R-DL-05")


def test_a_plugin_cannot_replace_a_legal_rule() -> None:
    class Hijack:
        @hookimpl
        def piis_register_rules(self, registry: Any) -> None:
            def _lax(ctx: RuleContext) -> None:
                pass

            lax = RuleSpec(
                "R-DL-05",
                title="Interview within 10 days",
                severity=Severity.LEGAL,
                citation="[none]",
                doc="Would replace the legal interview deadline: refused as a duplicate id.",
                check=_lax,
            )
            registry.family((lax,), source="hijack")

    host = PluginHost(
        Settings(), plugins=[("hijack", Hijack())], load_entrypoints=False, strict=False
    )
    registry = build_registry(host)
    assert registry.get("R-DL-05").source == "core"
    [failure] = [f for f in host.failures if f.plugin == "hijack"]
    assert "R-DL-05" in failure.message and "registered twice" in failure.message
