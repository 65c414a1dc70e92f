"""RGAA: every French page of the platform passes axe-core (WCAG 2.x A and AA, best practices)
with no serious or critical violation, in each state an applicant meets it in: empty, refused
with an error, confirmed, and the authenticated pages of a signed-in applicant with a dossier, an
agent's request and a receipt.

A platform in a real process (the ``platform`` fixture), Debian's Chromium through Playwright.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from scenarios.browser.runner import CHROMIUM, BrowserOptions, launch
from tests.accessibility import blocking, described
from tests.support import PASSWORD, Api, SmtpSink, agent_seed, applicant_seed, body_of, wait_until

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]

SEAM_DEADLINE = 5.0


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright, BrowserOptions())
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, api: Api) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=str(api.http.base_url))
    yield context
    context.close()


def assert_accessible(page: Page, where: str) -> None:
    page.wait_for_load_state("load")
    found = blocking(page)
    assert not found, described(f"{where} ({page.url})", found)


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique ou numéro étranger").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/tableau-de-bord")


def test_the_pages_before_sign_in_are_accessible(context: BrowserContext, api: Api) -> None:
    seed = applicant_seed()
    api.seed(seed)
    page = context.new_page()
    page.goto("/connexion")
    assert_accessible(page, "connexion")
    page.get_by_label("Adresse électronique ou numéro étranger").fill(seed["email"])
    page.get_by_label("Mot de passe").fill("not-the-password-1")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("alert").wait_for()
    assert_accessible(page, "connexion refusée")
    page.goto("/mot-de-passe-oublie")
    assert_accessible(page, "mot de passe oublié")
    page.get_by_label("Adresse électronique").fill(seed["email"])
    page.get_by_role("button", name="Recevoir un lien de réinitialisation").click()
    page.get_by_role("status").wait_for()
    assert_accessible(page, "mot de passe oublié, demande envoyée")
    page.goto("/mot-de-passe/nouveau?jeton=inconnu")
    assert_accessible(page, "nouveau mot de passe")
    page.get_by_label(re.compile("Nouveau mot de passe")).fill("Jeton-inconnu-2024")
    page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
    page.get_by_role("alert").wait_for()
    assert_accessible(page, "nouveau mot de passe refusé")


def test_a_password_reset_confirmed_is_accessible(context: BrowserContext, api: Api, smtp: SmtpSink) -> None:
    seed = applicant_seed()
    api.seed(seed)
    assert api.http.post("/api/auth/password-reset", json={"email": seed["email"]}).status_code == 202
    token = re.search(r"jeton=([\w-]+)", body_of(smtp.wait_for(seed["email"], timeout=SEAM_DEADLINE)[0]))
    assert token
    page = context.new_page()
    page.goto(f"/mot-de-passe/nouveau?jeton={token.group(1)}")
    page.get_by_label(re.compile("Nouveau mot de passe")).fill("Nouveau-mot-de-passe-42")
    page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
    page.get_by_role("status").wait_for()
    assert_accessible(page, "mot de passe modifié")


def test_the_pages_of_a_signed_in_applicant_are_accessible(context: BrowserContext, api: Api) -> None:
    seed, agent = applicant_seed(), agent_seed()
    api.seed(seed, agent)
    # A submitted renewal with an agent's request waiting for an answer: the dashboard shows a
    # table of procedures and an answer form.
    auth, agent_auth = api.login(seed), api.agent_login(agent)
    submitted = api.submitted_renewal(auth)
    wait_until(
        lambda: api.http.get(f"/api/agent/dossiers/{submitted['id']}", headers=agent_auth).status_code == 200,
        SEAM_DEADLINE,
    )
    assert api.http.post(f"/api/agent/dossiers/{submitted['id']}/review", headers=agent_auth).status_code == 200
    asked = api.http.post(
        f"/api/agent/dossiers/{submitted['id']}/requests",
        headers=agent_auth,
        json={"message": "Merci de fournir un justificatif de domicile récent."},
    )
    assert asked.status_code == 201, asked.text
    wait_until(lambda: api.http.get("/api/me/requests", headers=auth).json(), SEAM_DEADLINE)

    page = context.new_page()
    sign_in(page, seed["email"])
    page.get_by_label("Votre réponse").wait_for()
    assert_accessible(page, "tableau de bord")
    page.goto(f"/dossiers/{submitted['id']}")
    assert_accessible(page, "suivi du dossier déposé, dépôt d'une pièce")
    page.goto(f"/dossiers/{submitted['id']}/attestation")
    assert_accessible(page, "attestation de dépôt")
    page.goto("/dossiers/" + "0" * 32)
    assert_accessible(page, "page d'erreur")


def test_choosing_a_procedure_and_its_draft_are_accessible(context: BrowserContext, api: Api) -> None:
    seed = applicant_seed()
    api.seed(seed)
    page = context.new_page()
    sign_in(page, seed["email"])
    page.goto("/demarches")
    assert_accessible(page, "choix de la démarche")
    page.get_by_label("Changement d'adresse").check()
    page.get_by_label("Adresse", exact=True).fill("3 rue des Acacias")
    page.get_by_label("Code postal").fill("69003")
    page.get_by_label("Commune").fill("Lyon")
    page.get_by_role("button", name="Commencer la démarche").click()
    page.wait_for_url(re.compile(r"/dossiers/\w+$"))
    assert_accessible(page, "suivi d'un dossier en brouillon")


def test_the_check_refuses_a_page_without_language_labels_or_alternatives(browser: Browser) -> None:
    page = browser.new_page()
    try:
        page.set_content('<html><head><title>x</title></head><body><main><img src="data:,"><input></main></body>')
        found = {v.rule for v in blocking(page)}
        assert found >= {"html-has-lang", "image-alt", "label"}
        assert "html-has-lang" in described("page", blocking(page))
    finally:
        page.close()
