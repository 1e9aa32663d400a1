"""The console speaks French, Dutch and English; dates are Belgian (dd/mm/yyyy, Brussels time)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from piis_bridge.console.i18n import LANGUAGES, belgian_date, belgian_datetime
from tests.console.conftest import csrf_of, seed_users

LOCALE = Path(__file__).resolve().parents[2] / "piis_bridge" / "console" / "locale"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated(lang: str) -> None:
    with open(LOCALE / lang / "LC_MESSAGES" / "console.po", "rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog if m.id and not m.string]
    assert not missing and len(catalog) > 150


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_of_the_templates_and_code_is_in_the_catalogue(lang: str) -> None:
    """What ``pybabel extract`` finds in the templates and the console's code: a message added to a
    page without its translation fails here, not as English text in a French page."""
    from babel.messages.extract import extract_from_dir

    root = LOCALE.parent
    found = {
        msg if isinstance(msg, str) else msg[0]
        for _, _, msg, _, _ in extract_from_dir(
            str(root),
            method_map=[("templates/**.html", "jinja2"), ("**.py", "python")],
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        )
    }
    with open(LOCALE / lang / "LC_MESSAGES" / "console.po", "rb") as f:
        catalog = read_po(f)
    assert len(found) > 150
    assert sorted(m for m in found if m not in catalog) == []


def test_german_uses_the_laws_own_terms() -> None:
    """The German-speaking Community's CPAS is an ÖSHZ, its PIIS an IPSE, a dossier an Akte, as in the
    core catalogue (``piis_bridge/i18n/locale/de``), not a word-for-word rendering of the English."""
    from piis_bridge.console.i18n import translations

    t = translations("de")
    assert t.gettext("CPAS") == "ÖSHZ"
    assert t.gettext("Dossier") == "Akte"
    assert t.gettext("Federal answer") == "Föderale Antwort"
    assert t.gettext("Pushed back to the case system").endswith(
        "Fallverwaltungssystem zurückgemeldet"
    )


def test_belgian_dates() -> None:
    assert belgian_date(date(2026, 1, 5)) == "05/01/2026"
    # 23:30 UTC on 31 December is already 1 January in Brussels
    assert belgian_datetime(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "nl") == "01/01/2027 00:30"


def test_the_user_chooses_the_language_and_it_is_kept(client_for, console_env) -> None:
    seed_users(console_env[1])
    c = client_for("vera")  # created with language nl
    assert "Overzicht" in c.get("/").text
    c.post("/language", data={"csrf": csrf_of(c), "lang": "fr", "back": "/runs"})
    assert "Exécutions" in c.get("/runs").text
    c.post("/language", data={"csrf": csrf_of(c), "lang": "en"})
    assert ">Overview<" in c.get("/").text
    assert (
        "Overview" in client_for("vera").get("/").text
    )  # stored in the profile: a new session keeps it
    c.post("/language", data={"csrf": csrf_of(c), "lang": "de"})
    page = c.get("/").text
    assert ">Übersicht<" in page and 'lang="de"' in page
    assert c.post("/language", data={"csrf": csrf_of(c), "lang": "es"}).status_code == 400


def test_the_login_page_speaks_the_browsers_language(client_for) -> None:
    c = client_for()
    assert (
        "Aanmelden" in c.get("/login", headers={"accept-language": "nl-BE,nl;q=0.9,en;q=0.5"}).text
    )
    assert "Anmelden" in c.get("/login", headers={"accept-language": "de-DE,en;q=0.8"}).text
    assert "Log in" in c.get("/login", headers={"accept-language": "es-ES,en;q=0.8"}).text
    assert (
        "Se connecter" in c.get("/login", headers={"accept-language": "es-ES"}).text
    )  # French by default
