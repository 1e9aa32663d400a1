"""A received PIIS draft, written in the vendor's fields: canonical draft -> NeptunusWeb-like draft contract.

Why declarative with a small explicit step: the field-by-field translation (names, dates, decimal
comma, ``J``/``N``, every code list) is the YAML mapping ``mappings/neptunus/draft_contract.yaml``,
validated at startup against the vendor's own draft model
(:class:`piis_connectors.casesystem.drafts.Ontwerpcontract`).  What the mapping engine cannot say is
"take one item of a list": the vendor holds one contract model (``gpmi_type``), one obligation ground
and one goal per step where the canonical contract holds lists.  :func:`draft_view` makes that choice
explicitly (the first item, the canonical order) and writes what the vendor document cannot hold into
the note the reviewing social worker reads, so nothing is dropped silently.

Three converters (``neptunus_date``, ``neptunus_money``, ``neptunus_jn``) are registered in the
engine's registry before the mapping is loaded: they turn canonical values into the vendor's text.
"""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from pydantic import ValidationError

from piis_bridge.hooks.types import PushItem
from piis_bridge.mapping import CONVERTERS, ConversionError, Mapping

__all__ = ["draft_view", "shipped_draft_mapping", "vendor_draft"]


def _vendor_date(value: Any, _fmt: str | None) -> str:
    """A canonical date (ISO text or date) as the vendor writes it: dd-mm-jjjj."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise ConversionError(f"{str(value)!r} is not an ISO date (yyyy-mm-dd)") from None
    return day.strftime("%d-%m-%Y")


def _vendor_money(value: Any, _fmt: str | None) -> str:
    """Integer cents as the vendor writes money: ``131420`` -> ``"1.314,20"``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConversionError("expected an amount in integer cents")
    sign, cents = ("-" if value < 0 else ""), abs(value)
    return f"{sign}{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"


def _vendor_jn(value: Any, _fmt: str | None) -> str:
    if not isinstance(value, bool):
        raise ConversionError("expected true or false")
    return "J" if value else "N"


for _name, _converter in (
    ("neptunus_date", _vendor_date),
    ("neptunus_money", _vendor_money),
    ("neptunus_jn", _vendor_jn),
):
    CONVERTERS.setdefault(_name, _converter)


def shipped_draft_mapping() -> Traversable:
    """The reverse mapping shipped with the plugin (a CPAS may name its own: ``draft_mapping_file``)."""
    return files("piis_mappings.neptunus") / "draft_contract.yaml"


def draft_view(handover: Any, item: PushItem, language: str | None = None) -> dict[str, Any]:
    """The canonical draft as the mapping reads it: JSON values plus the explicit one-of-a-list choices.

    The ``note`` the reviewing social worker reads is written in *language* (the CPAS's)."""
    from piis_bridge.i18n.push import draft_note, draft_note_part

    draft = handover.draft_contract
    view = draft.model_dump(mode="json")
    kept_out: list[dict[str, Any]] = []
    tags = view.get("form_tags") or []
    view["primary_form_tag"] = tags[0] if tags else None
    if len(tags) > 1:
        kept_out.append(draft_note_part("form_tags", values=tags[1:]))
    grounds = (view.get("obligation") or {}).get("basis") or []
    view["primary_obligation_basis"] = grounds[0] if grounds else None
    if len(grounds) > 1:
        kept_out.append(draft_note_part("obligation_grounds", values=grounds[1:]))
    for position, commitment in enumerate(view.get("commitments") or [], start=1):
        goals = commitment.get("objective_ids") or []
        commitment["position"] = position
        commitment["primary_objective_id"] = goals[0] if goals else None
        if len(goals) > 1:
            kept_out.append(
                draft_note_part(
                    "objectives", values=goals[1:], commitment=commitment["commitment_id"]
                )
            )
    view["handover"] = {
        "package_id": handover.package_id,
        "sender": handover.sender.model_dump(mode="json"),
        "previous_contract_id": handover.previous_contract_id,
        "residence_change_date": handover.residence_change_date.isoformat(),
        "legal_end_date": handover.legal_end_date.isoformat(),
        "contacts": [c.model_dump(mode="json") for c in handover.contacts],
        "continuing_sanctions": [s.model_dump(mode="json") for s in handover.continuing_sanctions],
    }
    view["note"] = draft_note(item.body or item.title, kept_out, handover.package_id, language)
    return view


def vendor_draft(
    item: PushItem, mapping: Mapping, *, language: str | None = None
) -> tuple[dict[str, Any] | None, str]:
    """(the vendor draft document, "") or (None, why it cannot be written in the vendor's fields),
    written with *mapping* (the plugin's :meth:`~piis_plugins.neptunus.plugin.NeptunusPlugin.draft_mapping`).

    The reason names the canonical field and the code or value problem, never a NISS.
    """
    from piis_bridge.transfer.handover import DraftHandover

    try:
        handover = DraftHandover.model_validate(item.data)
    except ValidationError as exc:
        fields = ", ".join(
            ".".join(str(p) for p in e["loc"]) or "(data)" for e in exc.errors(include_input=False)
        )
        return None, f"item {item.key}: data is not a draft hand-over ({fields})"
    result = mapping.apply(draft_view(handover, item, language), record_id=item.record_id)
    if not result.ok or result.value is None:
        reasons = (
            "; ".join(f"{p.field}: {p.reason}" for p in result.problems)
            or "mapping produced no draft"
        )
        return None, f"draft {item.record_id} cannot be written in the vendor's fields: {reasons}"
    return result.value.model_dump(mode="json", exclude_none=True), ""
