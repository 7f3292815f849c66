"""Every fetch or parse fault leaves the mirror as it was, says why, and keeps the raw pages."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine

from app.config import Settings
from app.models import SyncOutcome
from tests.conftest import make_settings
from tests.register import (
    AFFILIATES,
    CERTIFIED,
    CERTIFIED_2,
    CERTIFIED_3,
    WORKING_TOWARDS,
    artifacts,
    edited,
    events,
    fast_fetching,
    mirror_dump,
    organisations,
    registry,
    runs,
    sample_routes,
    sample_text,
    sync,
)
from tests.support.httpserver import (
    LocalServer,
    delayed,
    html,
    invalid_utf8,
    oversized,
    redirect,
    robots_txt,
    sequence,
    serve,
    status,
    truncated,
    unused_port,
)

CERTIFIED_PAGES = (CERTIFIED, CERTIFIED_2, CERTIFIED_3)


@pytest.fixture
def site(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalServer]:
    """The sample site, mirrored once (version 1); a test then breaks it."""
    fast_fetching(monkeypatch)
    with serve(sample_routes()) as server:
        assert sync(engine, settings, server.url).outcome is SyncOutcome.APPLIED
        server.requests.clear()
        yield server


@dataclass(frozen=True)
class Fault:
    """How to break the site, and what the sync must then say."""

    breaks: Callable[[LocalServer], str | None]
    """Changes the server's routes; returns another source URL to use, if any."""
    reason: str
    settings: dict[str, Any] = field(default_factory=dict)
    policy: dict[str, Any] = field(default_factory=dict)
    kept_url: str | None = None
    """A URL (path) whose raw page must be among the kept artifacts."""


def route(path: str, response: Any) -> Callable[[LocalServer], None]:
    def breaks(server: LocalServer) -> None:
        server.routes[path] = response

    return breaks


def elsewhere(server: LocalServer) -> str:
    return f"http://127.0.0.1:{unused_port()}"


def without_next_link(server: LocalServer) -> None:
    server.routes[CERTIFIED] = edited(
        CERTIFIED, lambda page: re.sub(r'<nav class="pagination">.*?</nav>', "", page, flags=re.S)
    )


def markup_changed(server: LocalServer) -> None:
    renames = [(path, "directory-entry", "listing-card") for path in CERTIFIED_PAGES]
    renames += [
        (AFFILIATES, 'class="affiliates"', 'class="partner-table"'),
        (WORKING_TOWARDS, 'class="working-towards"', 'class="applicants"'),
    ]
    for path, old, new in renames:
        server.routes[path] = edited(path, lambda page, old=old, new=new: page.replace(old, new))


FETCH_FAULTS = {
    "connection-refused": Fault(elsewhere, "could not connect"),
    "timeout": Fault(
        route(CERTIFIED_2, delayed(html(sample_text(CERTIFIED_2)), 1.5)),
        "timed out fetching",
        policy={"read_timeout": 0.3, "max_retries": 1},
        kept_url=CERTIFIED,
    ),
    "http-500": Fault(
        route(AFFILIATES, status(500)), "HTTP 500 Internal Server Error", kept_url=AFFILIATES
    ),
    "truncated-connection": Fault(
        route(CERTIFIED, truncated(sample_text(CERTIFIED).encode())), "looks truncated"
    ),
    "truncated-page": Fault(
        route(CERTIFIED, truncated(sample_text(CERTIFIED).encode(), declare_full_length=False)),
        "page looks truncated",
        kept_url=CERTIFIED,
    ),
    "robots-disallow": Fault(
        route("/robots.txt", robots_txt("User-agent: *\nDisallow: /certified-organisations/\n")),
        "robots.txt disallows",
        kept_url="/robots.txt",
    ),
    "redirect-loop": Fault(route(WORKING_TOWARDS, redirect(WORKING_TOWARDS)), "too many redirects"),
    "oversized": Fault(
        route(AFFILIATES, oversized(200_000)),
        "page too large",
        settings={"fetch_max_page_bytes": 100_000},
    ),
    "invalid-utf8": Fault(
        route(AFFILIATES, invalid_utf8()), "not valid UTF-8", kept_url=AFFILIATES
    ),
}

EMPTY_WORKING_TOWARDS = edited(
    WORKING_TOWARDS,
    lambda page: re.sub(
        r'<ul class="working-towards">.*?</ul>',
        '<ul class="working-towards"></ul>',
        page,
        flags=re.S,
    ),
)
VALIDATION_FAULTS = {
    "empty-category": Fault(
        route(WORKING_TOWARDS, EMPTY_WORKING_TOWARDS),
        "the working towards list came back empty (the mirror has 14)",
        kept_url=WORKING_TOWARDS,
    ),
    "most-rows-gone": Fault(
        without_next_link, "26 of 98 organisations (27%) would be removed", kept_url=CERTIFIED
    ),
    "nothing-parses": Fault(markup_changed, "no organisations were found", kept_url=CERTIFIED),
    "affiliate-without-parent": Fault(
        route(
            AFFILIATES,
            edited(
                AFFILIATES,
                lambda page: page.replace(
                    "<td>Calder County Council</td><td>Positive &amp; Safer Training Ltd</td>",
                    "<td>Calder County Council</td><td></td>",
                ),
            ),
        ),
        "'Calder County Council': affiliate has no certified training provider",
    ),
    "entry-without-name": Fault(
        route(
            CERTIFIED,
            edited(
                CERTIFIED,
                lambda page: page.replace(
                    '<h3 class="directory-entry__name">Beacon‑Path Consultancy</h3>',
                    '<h3 class="directory-entry__name"> </h3>',
                ),
            ),
        ),
        "certified entry #1 has no name",
    ),
}


def certified_name(name_html: str) -> Fault:
    """The first certified entry renamed to some hostile text (HTML as written on the page)."""
    page = edited(
        CERTIFIED,
        lambda page: page.replace(
            '<h3 class="directory-entry__name">Beacon‑Path Consultancy</h3>',
            f'<h3 class="directory-entry__name">{name_html}</h3>',
        ),
    )
    return Fault(route(CERTIFIED, page), "", kept_url=CERTIFIED)


def reason_is(fault: Fault, reason: str) -> Fault:
    return Fault(fault.breaks, reason, kept_url=fault.kept_url)


# Text a compromised or careless page could carry: never served, the sync says which entry.
HOSTILE_TEXT_FAULTS = {
    "name-of-5000-characters": reason_is(
        certified_name("A" * 5000), "name is 5,000 characters long (at most 300)"
    ),
    "markup-in-name": reason_is(
        certified_name("Acme &lt;script&gt;alert(1)&lt;/script&gt; Ltd"),
        "'Acme <script>alert(1)</script> Ltd': listed name holds HTML markup",
    ),
    "terminal-colours-in-name": reason_is(
        certified_name("\x1b[31mAcme Ltd\x1b[0m"),
        "'[31mAcme Ltd[0m': listed name holds a terminal escape sequence ('[31m')",
    ),
    "colour-residue-in-name": reason_is(
        certified_name("[1;31mAcme Ltd"), "listed name holds a terminal escape sequence"
    ),
    "markup-in-certificate-number": Fault(
        route(
            CERTIFIED,
            edited(
                CERTIFIED,
                lambda page: page.replace(
                    "<dd>ACT3580</dd>", "<dd>ACT3580&lt;img src=x onerror=alert(1)&gt;</dd>"
                ),
            ),
        ),
        'Rees Associates LLP": certificate number holds HTML markup',
    ),
    "certificate-number-of-odd-characters": Fault(
        route(
            CERTIFIED,
            edited(
                CERTIFIED, lambda page: page.replace("<dd>ACT3580</dd>", "<dd>ACT3580;DROP</dd>")
            ),
        ),
        "certificate number 'ACT3580;DROP' holds characters other than letters, digits",
    ),
    "long-note": Fault(
        route(
            WORKING_TOWARDS,
            edited(
                WORKING_TOWARDS,
                lambda page: page.replace(
                    "– application received December 2026", "– " + "x" * 1200
                ),
            ),
        ),
        "'Positive Bridges Consulting Ltd': note is 1,200 characters long (at most 1,000)",
    ),
    "control-residue-in-parent": Fault(
        route(
            AFFILIATES,
            edited(
                AFFILIATES,
                lambda page: page.replace(
                    "<td>Positive &amp; Safer Training Ltd</td>",
                    "<td>Positive &amp; Safer Training Ltd\x1b[2K</td>",
                ),
            ),
        ),
        "certified training provider holds a terminal escape sequence ('[2K')",
    ),
}


def sync_broken_site(
    engine: Engine,
    settings: Settings,
    server: LocalServer,
    fault: Fault,
    monkeypatch: pytest.MonkeyPatch,
    **request: Any,
) -> Any:
    source_url = fault.breaks(server) or server.url
    if fault.policy:
        fast_fetching(monkeypatch, **fault.policy)
    if fault.settings:
        settings = make_settings(settings.sqlalchemy_url, **fault.settings)
    return sync(engine, settings, source_url, **request)


def assert_refused(
    engine: Engine,
    settings: Settings,
    server: LocalServer,
    fault: Fault,
    monkeypatch: pytest.MonkeyPatch,
    outcome: SyncOutcome,
) -> None:
    before = mirror_dump(engine)
    state_before = registry(engine)

    report = sync_broken_site(engine, settings, server, fault, monkeypatch)

    assert report.outcome is outcome
    assert report.reason is not None
    assert fault.reason in report.reason
    assert not report.ok
    assert mirror_dump(engine) == before  # organisations, history and version untouched
    state = registry(engine)
    assert state.last_synced_at == state_before.last_synced_at
    assert state.last_attempted_at is not None
    assert state_before.last_attempted_at is not None
    assert state.last_attempted_at > state_before.last_attempted_at
    run = runs(engine)[-1]
    assert (run.id, run.outcome, run.reason) == (report.run_id, outcome.value, report.reason)
    assert run.finished_at is not None
    kept = artifacts(engine, run.id)
    assert kept, "the raw pages must be kept for diagnosis"
    if fault.kept_url is not None:
        assert server.url_for(fault.kept_url) in [a.url for a in kept]
    assert {a.sync_run_id for a in artifacts(engine)} == {run.id}


@pytest.mark.parametrize("fault", FETCH_FAULTS.values(), ids=FETCH_FAULTS.keys())
def test_a_fetch_fault_fails_the_sync_and_leaves_the_mirror_unchanged(
    engine: Engine,
    settings: Settings,
    site: LocalServer,
    fault: Fault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert_refused(engine, settings, site, fault, monkeypatch, SyncOutcome.FAILED)


@pytest.mark.parametrize("fault", VALIDATION_FAULTS.values(), ids=VALIDATION_FAULTS.keys())
def test_a_listing_that_looks_wrong_is_rejected_and_leaves_the_mirror_unchanged(
    engine: Engine,
    settings: Settings,
    site: LocalServer,
    fault: Fault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert_refused(engine, settings, site, fault, monkeypatch, SyncOutcome.REJECTED)


@pytest.mark.parametrize("fault", HOSTILE_TEXT_FAULTS.values(), ids=HOSTILE_TEXT_FAULTS.keys())
def test_an_entry_whose_text_could_inject_is_rejected_and_leaves_the_mirror_unchanged(
    engine: Engine,
    settings: Settings,
    site: LocalServer,
    fault: Fault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert_refused(engine, settings, site, fault, monkeypatch, SyncOutcome.REJECTED)
    assert "entries are incomplete or malformed" in (runs(engine)[-1].reason or "")


def test_the_failing_response_itself_is_kept_byte_for_byte(
    engine: Engine, settings: Settings, site: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = sync_broken_site(engine, settings, site, FETCH_FAULTS["invalid-utf8"], monkeypatch)

    [page] = [a for a in artifacts(engine, report.run_id) if a.url.endswith(AFFILIATES)]
    assert page.content == invalid_utf8().body
    assert page.status_code == 200
    assert page.error is not None
    assert "not valid UTF-8" in page.error


def test_a_429_with_retry_after_is_waited_out_and_the_sync_then_applies(
    engine: Engine, settings: Settings, site: LocalServer
) -> None:
    with_newcomer = edited(
        WORKING_TOWARDS,
        lambda page: page.replace(
            "</ul>", "<li><strong>Fresh Start Consulting Ltd</strong> – new</li>\n</ul>"
        ),
    )
    site.routes[WORKING_TOWARDS] = sequence(status(429, retry_after=1), with_newcomer)
    started = time.monotonic()

    report = sync(engine, settings, site.url)

    assert time.monotonic() - started >= 1.0  # it honoured Retry-After
    assert site.paths_requested().count(WORKING_TOWARDS) == 2
    assert (report.outcome, report.reason) == (SyncOutcome.APPLIED, None)
    assert [(c.kind.value, c.name) for c in report.diff.changes] == [
        ("added", "Fresh Start Consulting Ltd")
    ]
    assert "Fresh Start Consulting Ltd" in {o.name for o in organisations(engine)}
    assert registry(engine).version == 2
    assert artifacts(engine) == []


def test_force_applies_a_rejected_listing_and_says_so(
    engine: Engine, settings: Settings, site: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault = VALIDATION_FAULTS["most-rows-gone"]

    report = sync_broken_site(engine, settings, site, fault, monkeypatch, force=True)

    assert report.outcome is SyncOutcome.APPLIED
    assert report.reason is not None
    assert report.reason.startswith("forced past: ")
    assert fault.reason in report.reason
    statuses = [o.status for o in organisations(engine)]
    assert statuses.count("removed") == 26
    assert registry(engine).version == 2
    assert sum(e.kind == "removed" for e in events(engine)) == 26
    run = runs(engine)[-1]
    assert (run.outcome, run.forced, run.removed) == ("applied", True, 26)
    assert run.reason == report.reason


def test_force_cannot_apply_a_fetch_that_failed(
    engine: Engine, settings: Settings, site: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = mirror_dump(engine)

    report = sync_broken_site(
        engine, settings, site, FETCH_FAULTS["http-500"], monkeypatch, force=True
    )

    assert report.outcome is SyncOutcome.FAILED
    assert mirror_dump(engine) == before


def test_only_the_newest_runs_artifacts_are_kept(
    engine: Engine, settings: Settings, site: LocalServer
) -> None:
    keep_two = make_settings(settings.sqlalchemy_url, artifact_runs_kept=2)
    FETCH_FAULTS["robots-disallow"].breaks(site)

    ids = [sync(engine, keep_two, site.url).run_id for _ in range(3)]

    assert {a.sync_run_id for a in artifacts(engine)} == set(ids[1:])
    assert len(artifacts(engine, ids[2])) == 1  # robots.txt: nothing else was fetched

    keep_none = make_settings(settings.sqlalchemy_url, artifact_runs_kept=0)
    sync(engine, keep_none, site.url)
    assert artifacts(engine) == []
