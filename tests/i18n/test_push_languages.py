"""Texts pushed back to a case system are in the CPAS's ``language``; keys never depend on it.

Through real plugins: the file drop writes the task file the vendor package imports; NeptunusWeb is the
vendor REST simulator over HTTP.  The items are built by the same functions the pipeline, the notices
and the transfer plugin use.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import orjson
import piis_plugins.filedrop as filedrop
import piis_plugins.neptunus as neptunus
import pytest
from piis_connectors.filedrop.outbox import Outbox

from piis_bridge.config import Settings
from piis_bridge.hooks.manager import PluginHost
from piis_bridge.hooks.types import PushItem
from piis_bridge.i18n import push as push_text

CPAS = {"name": "CPAS", "ins_code": "21004", "bce": "0212560454", "federal": None, "transfer": None}

ANSWER = {
    "fr": "Réponse fédérale : REFUSÉ",
    "nl": "Federaal antwoord: GEWEIGERD",
    "de": "Föderale Antwort: ABGELEHNT",
    "en": "Federal answer: REFUSED",
}
ALERT = {
    "fr": "sanction S1 : fin du délai de sursis (R-SAN-09, à venir, 1 mars 2027)",
    "nl": "sanctie S1: einde van de periode van uitstel (R-SAN-09, nog te doen, 1 mrt 2027)",
    "de": "Sanktion S1: Ende der Aufschubfrist (R-SAN-09, ausstehend, 01.03.2027)",
    "en": "sanction S1: sursis period ends (R-SAN-09, pending, 2027-03-01)",
}
DEATH_BODY_START = {
    "fr": "Le Registre national signale le décès du bénéficiaire.",
    "nl": "Het Rijksregister meldt het overlijden van de begunstigde.",
    "de": "Das Nationalregister meldet den Tod des Leistungsempfängers.",
    "en": "The National Register reports the beneficiary's death.",
}


def _items(record_id: str) -> list[PushItem]:
    title, body, message = push_text.federal_answer("REFUSED")
    answer = PushItem(
        key=f"fed:{record_id}:REFUSED",
        record_id=record_id,
        kind="federal_answer",
        title=title,
        body="B REF-1",
        data={"answer": "REFUSED"},
        message=message,
    )
    title, body, message = push_text.deadline_alert(
        "sanction S1: sursis period ends", "R-SAN-09", "pending", date(2027, 3, 1)
    )
    alert = PushItem(
        key=f"alert:{record_id}:R-SAN-09",
        record_id=record_id,
        kind="deadline_alert",
        title=title,
        due=date(2027, 3, 1),
        data={"rule": "R-SAN-09", "status": "pending"},
        message=message,
    )
    title, body, message = push_text.death_notice(date(2026, 11, 30))
    death = PushItem(
        key=f"notice:N1:{record_id}",
        record_id=record_id,
        kind="status",
        title=title,
        body=body,
        message=message,
    )
    return [answer, alert, death]


def _filedrop_host(tmp_path: Path, language: str | None) -> PluginHost:
    cpas = {
        **CPAS,
        "case_system": "filedrop",
        "plugins": {"filedrop": {"directory": str(tmp_path / "drop")}},
    }
    if language is not None:
        cpas["language"] = language
    host = PluginHost(
        Settings(cpas={"brussel": cpas}, state_dir=tmp_path / "state"),
        plugins=[("filedrop", filedrop)],
        load_entrypoints=False,
        strict=True,
    )
    assert host.startup() == []
    return host


def _task(tmp_path: Path, key: str) -> dict:
    path = Outbox(tmp_path / "drop" / "outbox").path_for(key)
    return orjson.loads(path.read_bytes())


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_a_pushed_task_is_written_in_the_cpas_language(tmp_path: Path, language: str) -> None:
    host = _filedrop_host(tmp_path, language)
    items = _items("BXL-1")
    assert [r.status for r in host.case_push("brussel", items)] == ["created"] * 3
    answer, alert, death = (_task(tmp_path, item.key) for item in items)
    assert answer["titel"] == ANSWER[language] and answer["omschrijving"] == "B REF-1"
    assert alert["titel"] == ALERT[language]
    assert alert["gegevens"] == {
        "rule": "R-SAN-09",
        "status": "pending",
    }  # data stays language-neutral
    assert alert["vervaldatum"] == "01/03/2027"
    assert death["omschrijving"].startswith(DEATH_BODY_START[language])
    assert "(R-GEN-01)" in death["omschrijving"]


def test_without_the_setting_texts_are_english_as_before(tmp_path: Path) -> None:
    host = _filedrop_host(tmp_path, None)
    items = _items("BXL-1")
    host.case_push("brussel", items)
    assert _task(tmp_path, items[0].key)["titel"] == "Federal answer: REFUSED"


def test_changing_the_language_never_creates_a_second_task(tmp_path: Path) -> None:
    items = _items("BXL-1")
    assert [r.status for r in _filedrop_host(tmp_path, "en").case_push("brussel", items)] == [
        "created"
    ] * 3
    assert [r.status for r in _filedrop_host(tmp_path, "nl").case_push("brussel", items)] == [
        "duplicate"
    ] * 3
    assert len(list((tmp_path / "drop" / "outbox").glob("*.json"))) == 3


def test_an_item_without_message_description_is_pushed_as_written(tmp_path: Path) -> None:
    host = _filedrop_host(tmp_path, "de")
    item = PushItem(
        key="third-party", record_id="BXL-1", kind="status", title="Vom Anbieter geschrieben"
    )
    host.case_push("brussel", [item])
    assert _task(tmp_path, "third-party")["titel"] == "Vom Anbieter geschrieben"


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_neptunusweb_receives_the_task_and_the_status_in_the_cpas_language(
    casesystem_simulator, tmp_path, language: str
) -> None:
    settings = {
        "base_url": casesystem_simulator.url,
        "client_id": "piis-bridge",
        "client_secret": "geheim",
        "timeout": 5,
    }
    cpas = {
        **CPAS,
        "case_system": "neptunus",
        "language": language,
        "plugins": {"neptunus": settings},
    }
    host = PluginHost(
        Settings(cpas={"gent": cpas}, state_dir=tmp_path / "state"),
        plugins=[("neptunus", neptunus)],
        load_entrypoints=False,
        strict=True,
    )
    host.startup()
    try:
        cid = casesystem_simulator.store.ids()[0]
        answer, alert, _ = _items(cid)
        assert [r.status for r in host.case_push("gent", [answer, alert])] == ["created", "created"]
        token = httpx.post(
            casesystem_simulator.url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("piis-bridge", "geheim"),
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        tasks = httpx.get(
            casesystem_simulator.url + "/api/v1/taken", params={"contract": cid}, headers=auth
        ).json()
        assert [t["titel"] for t in tasks["items"]] == [ALERT[language]]
        statuses = httpx.get(
            f"{casesystem_simulator.url}/api/v1/gpmi/contracten/{cid}/federale-status", headers=auth
        ).json()["items"]
        assert statuses[0]["status"] == ANSWER[language]
    finally:
        host.instances.close()


@pytest.mark.parametrize("status", ["pending", "overdue", "met", "late", "info", "not_applicable"])
def test_the_alert_s_direct_english_title_is_the_catalogue_s_english(status: str) -> None:
    """deadline_alert writes its English title without the catalogue (it runs for every contract every
    night); it must be exactly what rendering the description in English gives."""
    title, _, message = push_text.deadline_alert(
        "interview requested on 2026-03-02", "R-DL-05", status, date(2026, 3, 9)
    )
    assert push_text.render_message(message, "en") == (title, None)
    assert title == f"interview requested on 2026-03-02 (R-DL-05, {status}, 2026-03-09)"


def test_a_received_draft_reaches_neptunusweb_with_its_note_in_the_cpas_language(
    casesystem_simulator, tmp_path: Path
) -> None:
    """The hand-over text and what the vendor's draft could not hold, in Dutch, for an OCMW in Gent."""
    from piis_bridge.transfer import draft_contract_item
    from tests.transfer._support import GENT, received_draft

    settings = {
        "base_url": casesystem_simulator.url,
        "client_id": "piis-bridge",
        "client_secret": "geheim",
        "timeout": 5,
    }
    cpas = {
        "name": GENT.name,
        "ins_code": GENT.ins_code,
        "bce": GENT.bce,
        "case_system": "neptunus",
        "federal": None,
        "transfer": None,
        "language": "nl",
        "plugins": {"neptunus": settings},
    }
    host = PluginHost(
        Settings(cpas={"gent": cpas}, state_dir=tmp_path / "state"),
        plugins=[("neptunus", neptunus)],
        load_entrypoints=False,
        strict=True,
    )
    host.startup()
    try:
        package, draft = received_draft("sanction-history", GENT, "b" * 32)
        (result,) = host.case_push("gent", [draft_contract_item(draft, package)])
        assert result.status == "created", result.detail
        (stored,) = casesystem_simulator.store.list_drafts()
        note = stored["ontwerp"]["toelichting"]
        assert note.startswith(
            "Ga na of het overnemen van de verbintenissen mogelijk en wenselijk is (R-TRF-06)."
        )
        assert (
            "Niet in dit ontwerp (het systeem bewaart één waarde per veld): ook de formuliertags TRAINING"
            in note
        )
        assert note.endswith(
            "Het volledige overdrachtspakket: piis-bridge transfer show " + "b" * 32
        )
        assert "Check whether" not in note and "sanction " not in note
    finally:
        host.instances.close()


def test_a_move_notice_gives_the_eligibility_reasons_in_the_language() -> None:
    reason = (
        "the contract ends and cannot be handed over: no legal obligation to conclude a PIIS exists, so it "
        "cannot be transferred (R-TRF-04); the old CPAS did not agree (R-TRF-03)"
    )
    title, body, message = push_text.move_notice(
        "63023", "Eupen", date(2026, 11, 1), date(2026, 11, 1), reason
    )
    assert title == "Move to INS 63023 (Eupen) on 2026-11-01: PIIS ends on 2026-11-01 (R-TRF-01)"
    assert body.endswith("(R-TRF-01). " + reason + ".")  # English exactly as before
    de_title, de_body = push_text.render_message(message, "de")
    assert (
        de_title
        == "Umzug nach NIS 63023 (Eupen) am 01.11.2026: das IPSE endet am 01.11.2026 (R-TRF-01)"
    )
    assert de_body.endswith(
        "der Vertrag endet und kann nicht übertragen werden: es besteht keine gesetzliche Pflicht "
        "zum Abschluss eines IPSE, daher kann es nicht übertragen werden (R-TRF-04); das bisherige "
        "ÖSHZ war nicht einverstanden (R-TRF-03)."
    )
    unknown = push_text.move_notice(
        "63023", None, date(2026, 11, 1), date(2026, 11, 1), "a reason from elsewhere"
    )
    assert push_text.render_message(unknown[2], "fr")[1].endswith("; a reason from elsewhere.")
