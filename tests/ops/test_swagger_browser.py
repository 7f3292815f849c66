"""Swagger UI in real headless Chromium: offline /docs, Authorize with a key, run a check.

Uses Debian's /usr/bin/chromium (scripts/install-browser installs it; Playwright's own browser
download cannot work here). A missing browser fails the test; set CERTLOOKUP_SKIP_BROWSER=1 to
skip it on purpose.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Page, Route, expect, sync_playwright

from app.auth.keys import Scope, create_key
from app.db import make_engine, transaction, upgrade_database
from app.main import create_app
from app.register.sync import SyncRequest, run_sync
from tests.conftest import SAMPLE_SITE, make_settings
from tests.support.httpserver import serve_directory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
SCREENSHOT = Path("/tmp/certlookup-swagger-check.png")
BATCH_SCREENSHOT = Path("/tmp/certlookup-swagger-batch.png")
# Operations executed on the first click, as shown, and a piece of each answer.
FIRST_CLICK_ANSWERS = {
    "checks-check_batch": '"verdict": "certified"',
    "register-get_organisation": '"name": "Severn NHS Foundation Trust"',
    "register-list_organisations": '"total": 98',
}
TIMEOUT_MS = 10_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("CERTLOOKUP_SKIP_BROWSER") == "1",
        reason="CERTLOOKUP_SKIP_BROWSER=1",
    ),
]


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve the app with uvicorn in a thread on a free 127.0.0.1 port; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # bound here and handed over: no race for the port
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The real service on the synced sample register, with keys required; (URL, read key)."""
    settings = make_settings(f"sqlite:///{tmp_path / 'docs.sqlite3'}", public_read=False)
    upgrade_database(settings)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with serve_directory(SAMPLE_SITE) as site:
            report = run_sync(engine, settings, SyncRequest(trigger="test", source_url=site.url))
        assert report.ok, f"sync {report.outcome}: {report.reason}"
        with transaction(engine) as session:
            key = create_key(session, "swagger-ui-test", Scope.READ, settings.key_pepper).key
    finally:
        engine.dispose()
    with running(create_app(settings)) as base_url:
        yield base_url, key


@pytest.fixture
def chromium() -> Path:
    """Debian's chromium; its absence is a failure, not a skip."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser")
    return CHROMIUM


def _loopback_only(route: Route, blocked: list[str]) -> None:
    url = route.request.url
    parts = urlsplit(url)
    if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in LOOPBACK_HOSTS:
        blocked.append(url)
        route.abort("blockedbyclient")
    else:
        route.continue_()


def _authorise(page: Page, key: str) -> None:
    page.locator(".auth-wrapper button.authorize").click()
    scheme = page.locator(".modal-ux .auth-container").filter(
        has=page.locator("code", has_text="X-API-Key")
    )
    scheme.locator("input").fill(key)
    scheme.locator("button.authorize").click()
    # Swagger UI 5 labels this button "Remove authorization" for assistive tech; its text
    # is still "Logout".
    expect(scheme.locator("button", has_text="Logout")).to_be_visible(timeout=TIMEOUT_MS)
    page.locator(".modal-ux button.close-modal").click()


def _execute_as_shown(page: Page, operation_id: str) -> None:
    """Open an operation and press Execute at once: Try it out starts from its example."""
    operation = page.locator(f"#operations-{operation_id}")
    operation.locator(".opblock-summary").click()
    operation.locator("button.execute").click()


def _expect_answer(page: Page, operation_id: str, text: str) -> None:
    response = page.locator(f"#operations-{operation_id} .live-responses-table tr.response")
    expect(response.locator(".response-col_status")).to_have_text("200", timeout=TIMEOUT_MS)
    expect(response.locator(".response-col_description pre").first).to_contain_text(
        text, timeout=TIMEOUT_MS
    )


def test_analyst_authorises_with_a_key_and_gets_a_verdict_in_swagger_ui(
    service: tuple[str, str], chromium: Path
) -> None:
    base_url, key = service
    blocked: list[str] = []
    page_errors: list[str] = []
    refused: list[str] = []  # what the page's Content-Security-Policy blocked
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.set_default_timeout(TIMEOUT_MS)
            context.route("**/*", lambda route: _loopback_only(route, blocked))
            page = context.new_page()
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    refused.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            page.goto(f"{base_url}/docs")
            _authorise(page, key)
            with page.expect_request(lambda r: "/v1/check?" in r.url) as sent:
                _execute_as_shown(page, "checks-check_name")
            sent_key = sent.value.headers.get("x-api-key")
            _expect_answer(page, "checks-check_name", '"verdict": "certified"')
            page.locator("#operations-checks-check_name").screenshot(path=str(SCREENSHOT))
            for operation_id, text in FIRST_CLICK_ANSWERS.items():
                _execute_as_shown(page, operation_id)
                _expect_answer(page, operation_id, text)
            page.locator("#operations-checks-check_batch").screenshot(path=str(BATCH_SCREENSHOT))
            page.reload()
            expect(page.locator(".auth-wrapper button.authorize.locked")).to_be_visible(
                timeout=TIMEOUT_MS
            )
            persisted = page.evaluate("() => window.localStorage.getItem('authorized')")
        finally:
            browser.close()
    assert sent_key == key, "Swagger UI should send the authorised key in X-API-Key"
    assert key in (persisted or ""), "persistAuthorization should keep the key across reloads"
    assert page_errors == []
    assert refused == []
    assert blocked == [], f"the page tried to reach non-loopback hosts: {blocked}"


# --- the organisation page (OpenRefine's `view` link) ------------------------------------

PAGE_SCREENSHOT = Path("/tmp/certlookup-organisation-page.png")
# CERTLOOKUP_UPDATE_SCREENSHOTS=1 also writes the guide's picture (docs/analysts.md).
GUIDE_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "organisation-page.png"
PROVIDER = "Positive & Safer Training Ltd"


def _organisation_id(base_url: str, key: str, name: str) -> int:
    found = httpx.get(
        f"{base_url}/v1/organisations", params={"q": name}, headers={"X-API-Key": key}
    ).json()
    return int(next(o["id"] for o in found["items"] if o["name"] == name))


def test_analyst_opens_an_organisation_page_and_follows_its_links(
    service: tuple[str, str], chromium: Path
) -> None:
    base_url, key = service
    provider_id = _organisation_id(base_url, key, PROVIDER)
    blocked: list[str] = []
    page_errors: list[str] = []
    refused: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                extra_http_headers={"X-API-Key": key}, viewport={"width": 1100, "height": 900}
            )
            context.set_default_timeout(TIMEOUT_MS)
            context.route("**/*", lambda route: _loopback_only(route, blocked))
            page = context.new_page()
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            page.on(
                "console",
                lambda message: (
                    refused.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
            page.goto(f"{base_url}/v1/organisations/{provider_id}")
            expect(page.get_by_role("heading", level=1)).to_have_text(PROVIDER)
            expect(page.get_by_role("heading", name="Affiliates")).to_be_visible()
            expect(page.get_by_role("table")).to_contain_text("Added")
            # The inline stylesheet applied: the status tag is styled, so the CSP allowed it.
            colour = page.locator(".tag").evaluate("e => getComputedStyle(e).backgroundColor")
            page.screenshot(path=str(PAGE_SCREENSHOT), full_page=True)
            if os.environ.get("CERTLOOKUP_UPDATE_SCREENSHOTS") == "1":
                page.screenshot(path=str(GUIDE_SCREENSHOT), full_page=True)
            page.get_by_role("link", name="Calder County Council").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Calder County Council")
            page.get_by_role("link", name=PROVIDER).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(PROVIDER)
        finally:
            browser.close()
    assert colour == "rgb(204, 226, 216)"  # .tag-certified
    assert PAGE_SCREENSHOT.stat().st_size > 10_000
    assert page_errors == []
    assert refused == []
    assert blocked == [], f"the page tried to reach non-loopback hosts: {blocked}"
