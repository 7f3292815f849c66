"""Sync end to end over local HTTP, on SQLite and PostgreSQL: mirror, resync, changes, dry run."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import EventKind, Organisation, SyncLease, SyncOutcome, utcnow
from app.register.locks import SyncAlreadyRunning, sync_lock
from app.register.sync import SyncReport
from tests.conftest import REGISTER_DEV
from tests.register import (
    AFFILIATES,
    WORKING_TOWARDS,
    advisory_locks_held,
    artifacts,
    edited,
    events,
    lease,
    mirror_dump,
    organisations,
    registry,
    runs,
    sample_routes,
    sync,
)
from tests.support.httpserver import (
    LocalServer,
    delayed,
    routes_from_site,
    serve,
    serve_site,
    status,
)
from tests.support.sitegen import Org, generate_register, generate_site, renamed

TRUTH: list[dict[str, Any]] = json.loads(REGISTER_DEV.read_text(encoding="utf-8"))


@pytest.fixture
def sample_server() -> Iterator[LocalServer]:
    """The sample site on 127.0.0.1; a test may change its routes."""
    with serve(sample_routes()) as server:
        yield server


def by_name(orgs: list[Organisation]) -> dict[str, Organisation]:
    return {org.name: org for org in orgs}


def aliases(org: Organisation) -> list[str]:
    return [entry["name"] for entry in org.names if entry["kind"] in ("trading", "former")]


def month(year_month: str) -> dt.date:
    return dt.date.fromisoformat(year_month + "-01")


def test_first_sync_mirrors_the_sample_register_exactly(
    engine: Engine, settings: Settings, sample_server: LocalServer
) -> None:
    report = sync(engine, settings, sample_server.url)

    assert (report.outcome, report.reason) == (SyncOutcome.APPLIED, None)
    orgs = organisations(engine)
    assert collections.Counter(o.status for o in orgs) == {
        "certified": 46,
        "affiliate": 38,
        "working_towards": 14,
    }
    mirrored = by_name(orgs)
    assert sorted(mirrored) == sorted(t["name"] for t in TRUTH)
    for truth in TRUTH:
        org = mirrored[truth["name"]]
        assert org.status == truth["status"]
        assert org.listed_name == truth.get("listed_name", truth["name"])
        assert org.names[0] == {"name": truth["name"], "kind": "name"}
        assert aliases(org) == truth["aliases"]
        if truth["status"] == "affiliate":
            assert org.parent_id == mirrored[truth["parent"]].id, org.name
            assert org.approved_on == month(truth["approved_on"])
        else:
            assert org.parent_id is None
        if truth["status"] == "certified":
            assert org.certificate_number == truth.get("certificate_number")
            assert org.certified_on == dt.date.fromisoformat(truth["certified_on"])
            assert org.settings == truth["settings"]
            assert org.regions == truth["regions"]


def test_first_sync_records_one_added_event_per_organisation_and_version_one(
    engine: Engine, settings: Settings, sample_server: LocalServer
) -> None:
    report = sync(engine, settings, sample_server.url)

    orgs = organisations(engine)
    history = events(engine)
    assert sorted(e.organisation_id for e in history) == [o.id for o in orgs]
    assert {(e.kind, e.registry_version, e.sync_run_id) for e in history} == {
        ("added", 1, report.run_id)
    }
    effective = {e.organisation_id: e.effective_on for e in history}
    for org in orgs:
        expected = {"certified": org.certified_on, "affiliate": org.approved_on}.get(org.status)
        assert effective[org.id] == expected, org.name
    state = registry(engine)
    assert state.version == 1
    assert state.source_url == sample_server.url
    assert state.first_synced_at == state.last_synced_at == state.last_changed_at is not None


def test_first_sync_run_is_recorded_as_applied_with_counts(
    engine: Engine, settings: Settings, sample_server: LocalServer
) -> None:
    report = sync(engine, settings, sample_server.url)

    [run] = runs(engine)
    assert run.id == report.run_id
    assert (run.outcome, run.reason, run.trigger, run.forced) == ("applied", None, "test", False)
    assert (run.added, run.changed, run.removed, run.rows_seen) == (98, 0, 0, 98)
    assert run.pages_fetched == 6  # robots.txt, three certified pages, affiliates, working towards
    assert run.registry_version == 1
    assert run.finished_at is not None
    assert run.finished_at >= run.started_at
    assert run.duration_ms is not None
    assert run.duration_ms > 0
    assert run.source_url == sample_server.url
    assert artifacts(engine) == []  # raw pages are kept only for failed or rejected runs
    assert (report.pages_fetched, report.rows_seen, report.registry_version) == (6, 98, 1)


def test_second_sync_of_the_same_pages_is_unchanged_and_only_adds_a_run(
    engine: Engine, settings: Settings, sample_server: LocalServer
) -> None:
    sync(engine, settings, sample_server.url)
    before = mirror_dump(engine)
    state_before = registry(engine)

    report = sync(engine, settings, sample_server.url)

    assert report.outcome is SyncOutcome.UNCHANGED
    assert (report.diff.changes, report.diff.unchanged) == ([], 98)
    assert mirror_dump(engine) == before  # same rows, same events, version still 1
    _, second = runs(engine)
    assert (second.outcome, second.added, second.changed, second.removed) == ("unchanged", 0, 0, 0)
    assert (second.registry_version, second.rows_seen) == (1, 98)
    state = registry(engine)
    assert state.version == 1
    assert state.last_synced_at is not None
    assert state_before.last_synced_at is not None
    assert state.last_synced_at > state_before.last_synced_at
    assert state.last_changed_at == state_before.last_changed_at  # nothing changed


# ---- A listing that changed -------------------------------------------------------------

SEED = 11


def lonely_certified(orgs: list[Org]) -> Org:
    """A certified organisation no affiliate names as its parent, with a date certified."""
    parents = {o.get("parent") for o in orgs}
    return next(
        o
        for o in orgs
        if o["status"] == "certified" and o["name"] not in parents and "certified_on" in o
    )


def four_changes(orgs: list[Org]) -> tuple[list[Org], dict[str, Org]]:
    """The register after one promotion, one rename, one addition and one removal."""
    working = [o for o in orgs if o["status"] == "working_towards"]
    before_rename = lonely_certified(orgs)
    promoted = {
        "name": working[0]["name"],
        "status": "certified",
        "aliases": [],
        "certificate_number": "ACT0042",
        "certified_on": "2026-10-01",
        "settings": ["Health"],
        "regions": ["London"],
    }
    added = {"name": "Fresh Start Consulting Ltd", "status": "working_towards", "aliases": []}
    after = [o for o in orgs if o not in (working[0], working[1])]
    after[after.index(before_rename)] = renamed(before_rename, "Brand New Name Ltd")
    # Appended: the generator renders unchanged organisations identically only up to a change.
    after += [promoted, added]
    return after, {
        "promoted": working[0],
        "removed": working[1],
        "renamed": before_rename,
        "added": added,
    }


@pytest.fixture
def generated() -> list[Org]:
    return generate_register(60, seed=SEED)


def test_a_changed_listing_yields_exactly_its_four_events_and_keeps_ids(
    engine: Engine, settings: Settings, generated: list[Org]
) -> None:
    after, who = four_changes(generated)
    with serve_site(generate_site(generated, seed=SEED)) as server:
        assert sync(engine, settings, server.url).outcome is SyncOutcome.APPLIED
        ids = {o.name: o.id for o in organisations(engine)}
        server.routes = routes_from_site(generate_site(after, seed=SEED))
        report = sync(engine, settings, server.url)

    assert report.outcome is SyncOutcome.APPLIED
    new_events = {e.kind: e for e in events(engine) if e.registry_version == 2}
    assert sorted(new_events) == ["added", "removed", "renamed", "status_changed"]
    assert len([e for e in events(engine) if e.registry_version == 2]) == 4
    status_change = new_events["status_changed"]
    assert status_change.organisation_id == ids[who["promoted"]["name"]]
    assert (status_change.status_before, status_change.status_after) == (
        "working_towards",
        "certified",
    )
    assert status_change.effective_on == dt.date(2026, 10, 1)  # its certified_on
    rename = new_events["renamed"]
    assert rename.organisation_id == ids[who["renamed"]["name"]]
    assert rename.changes["name"] == [who["renamed"]["name"], "Brand New Name Ltd"]
    assert new_events["removed"].organisation_id == ids[who["removed"]["name"]]
    assert new_events["added"].organisation_id not in ids.values()
    assert new_events["added"].effective_on is None  # working towards: no date on the register
    assert registry(engine).version == 2
    last = runs(engine)[-1]
    assert (last.outcome, last.added, last.changed, last.removed) == ("applied", 1, 2, 1)


def test_a_changed_listing_updates_the_organisations_in_place(
    engine: Engine, settings: Settings, generated: list[Org]
) -> None:
    after, who = four_changes(generated)
    with serve_site(generate_site(generated, seed=SEED)) as server:
        sync(engine, settings, server.url)
        server.routes = routes_from_site(generate_site(after, seed=SEED))
        sync(engine, settings, server.url)

    mirrored = by_name(organisations(engine))
    assert len(mirrored) == 61  # 60 + the new one; the removed one is kept, marked removed
    renamed_org = mirrored["Brand New Name Ltd"]
    assert who["renamed"]["name"] not in mirrored
    assert {"name": who["renamed"]["name"], "kind": "former"} in renamed_org.names
    assert renamed_org.listed_name == renamed(who["renamed"], "Brand New Name Ltd")["listed_name"]
    promoted = mirrored[who["promoted"]["name"]]
    assert (promoted.status, promoted.certificate_number) == ("certified", "ACT0042")
    assert promoted.certified_on == dt.date(2026, 10, 1)
    assert promoted.note is None
    removed = mirrored[who["removed"]["name"]]
    assert removed.status == "removed"
    assert removed.removed_at is not None
    assert mirrored[who["added"]["name"]].status == "working_towards"


def test_an_affiliate_keeps_its_parent_when_the_parent_is_renamed(
    engine: Engine, settings: Settings, generated: list[Org]
) -> None:
    # The affiliates page still names the parent by its old name, now a former name.
    parents = collections.Counter(o.get("parent") for o in generated)
    parent = next(
        o
        for o in generated
        if o["status"] == "certified" and parents[o["name"]] and "listed_name" not in o
    )
    after = [renamed(o, "Renamed Parent Ltd") if o is parent else o for o in generated]
    with serve_site(generate_site(generated, seed=SEED)) as server:
        sync(engine, settings, server.url)
        server.routes = routes_from_site(generate_site(after, seed=SEED))
        report = sync(engine, settings, server.url)

    assert [c.kind for c in report.diff.changes] == [EventKind.RENAMED]
    mirrored = by_name(organisations(engine))
    children = [o for o in mirrored.values() if o.parent_name == parent["name"]]
    assert len(children) == parents[parent["name"]]
    assert {c.parent_id for c in children} == {mirrored["Renamed Parent Ltd"].id}


def _like(template: Org, **values: Any) -> Org:
    """A hand-made entry with the template's other details (no website, no aliases)."""
    kept = {k: v for k, v in template.items() if k not in ("listed_name", "website")}
    return {**kept, "aliases": [], **values}


def test_an_affiliate_is_linked_to_the_parent_it_names_not_to_a_lookalike(
    engine: Engine, settings: Settings, generated: list[Org]
) -> None:
    # Names that normalise alike ("+X Training" and "X Training Ltd" are both "x training")
    # used to link an affiliate to whichever certified organisation was read first: on
    # PostgreSQL that changed with every update (rows move in the heap), and the lookalike
    # here has an expired certificate. The parent written as on the certified page decides;
    # a parent text that only fits several organisations links none, with a warning.
    certified = next(o for o in generated if o["status"] == "certified")
    affiliate = next(o for o in generated if o["status"] == "affiliate")
    added = [
        _like(
            certified,
            name="+Kestrel Approaches Training",
            certificate_number="ACT9901",
            valid_until="2025-10-19",
        ),
        _like(
            certified,
            name="Kestrel Approaches Training Ltd",
            certificate_number="ACT9902",
            valid_until="2028-07-02",
        ),
        _like(
            certified,
            name="Acme Safety Training Ltd",
            certificate_number="ACT9903",
            valid_until="2028-01-01",
        ),
        _like(
            certified,
            name="Acme Safety Training CIC",
            certificate_number="ACT9904",
            valid_until="2028-01-01",
        ),
        _like(
            affiliate, name="Fenland Thrive Services Ltd", parent="Kestrel Approaches Training Ltd"
        ),
        _like(affiliate, name="Brave Paths Care Limited", parent="+Kestrel Approaches Training"),
        _like(
            affiliate, name="Ouse Keystone Services Ltd", parent="KESTREL APPROACHES  TRAINING LTD"
        ),
        _like(affiliate, name="Dales Care Group", parent="Acme Safety Training"),
    ]
    site = generate_site([*generated, *added], seed=SEED)
    with serve_site(site) as server:
        report = sync(engine, settings, server.url)

    assert report.outcome == SyncOutcome.APPLIED
    mirrored = by_name(organisations(engine))
    parent_of = {name: mirrored[name].parent_id for name in (o["name"] for o in added[4:])}
    assert parent_of == {
        "Fenland Thrive Services Ltd": mirrored["Kestrel Approaches Training Ltd"].id,
        "Brave Paths Care Limited": mirrored["+Kestrel Approaches Training"].id,
        "Ouse Keystone Services Ltd": mirrored["Kestrel Approaches Training Ltd"].id,
        "Dales Care Group": None,
    }
    assert report.warnings == [
        "affiliate 'Dales Care Group' names its parent as 'Acme Safety Training', which fits "
        "several organisations on the register (Acme Safety Training CIC, Acme Safety "
        "Training Ltd): "
        "left without a parent"
    ]
    assert runs(engine)[-1].warnings == report.warnings
    with serve_site(site) as server:
        again = sync(engine, settings, server.url)
    assert (again.outcome, again.warnings) == (SyncOutcome.UNCHANGED, report.warnings)
    # Every other affiliate of the generated register still has the parent it names.
    for org in generated:
        if org["status"] == "affiliate":
            assert mirrored[org["name"]].parent_id == mirrored[org["parent"]].id, org["name"]


def test_an_affiliate_whose_parent_left_is_not_linked_to_a_certified_lookalike(
    engine: Engine, settings: Settings, generated: list[Org]
) -> None:
    # The affiliates page still names "Kestrel Approaches Training Ltd" after it left the
    # certified list. "+Kestrel Approaches Training", certified and valid, shares its
    # normalised form; linking to it would make the affiliate meet the CQC expectation on
    # another provider's certificate.
    certified = next(o for o in generated if o["status"] == "certified")
    affiliate = next(o for o in generated if o["status"] == "affiliate")
    parent = _like(
        certified,
        name="Kestrel Approaches Training Ltd",
        certificate_number="ACT9902",
        valid_until="2028-07-02",
    )
    lookalike = _like(
        certified,
        name="+Kestrel Approaches Training",
        certificate_number="ACT9901",
        valid_until="2028-07-02",
    )
    child = _like(affiliate, name="Fenland Thrive Services Ltd", parent=parent["name"])
    with serve_site(generate_site([*generated, parent, lookalike, child], seed=SEED)) as server:
        sync(engine, settings, server.url)
        linked = by_name(organisations(engine))[child["name"]].parent_id
        server.routes = routes_from_site(generate_site([*generated, lookalike, child], seed=SEED))
        report = sync(engine, settings, server.url)

    assert report.outcome == SyncOutcome.APPLIED
    mirrored = by_name(organisations(engine))
    assert linked == mirrored[parent["name"]].id
    assert mirrored[parent["name"]].status == "removed"
    assert mirrored[child["name"]].parent_id is None


def test_a_sync_mends_a_wrong_parent_link_though_the_listing_did_not_change(
    engine: Engine, settings: Settings, generated: list[Org]
) -> None:
    # A mirror linked by older rules is put right at the next sync, not at the next change
    # of the register; the new link is a new registry version, so every snapshot rebuilds.
    child = next(o for o in generated if o["status"] == "affiliate")
    other = next(
        o for o in generated if o["status"] == "certified" and o["name"] != child["parent"]
    )
    site = generate_site(generated, seed=SEED)
    with serve_site(site) as server:
        sync(engine, settings, server.url)
        mirrored = by_name(organisations(engine))
        with Session(engine) as session, session.begin():
            session.execute(
                update(Organisation)
                .where(Organisation.id == mirrored[child["name"]].id)
                .values(parent_id=mirrored[other["name"]].id)
            )
        version = registry(engine).version
        mended = sync(engine, settings, server.url)
        again = sync(engine, settings, server.url)

    assert (mended.outcome, mended.diff.changes) == (SyncOutcome.APPLIED, [])
    assert mended.registry_version == version + 1
    after = by_name(organisations(engine))
    assert after[child["name"]].parent_id == after[child["parent"]].id
    assert (again.outcome, again.registry_version) == (SyncOutcome.UNCHANGED, version + 1)


def test_entries_whose_names_normalise_alike_keep_their_ids_when_the_listing_reorders(
    engine: Engine, settings: Settings, generated: list[Org]
) -> None:
    # "+Kind Hands Care" and "Kind Hands Care Ltd" share a normalised key. Each row must
    # continue the organisation of its own name whatever order the page lists them in:
    # claimed by key alone, a reorder swapped their ids and recorded two renames.
    affiliate = next(o for o in generated if o["status"] == "affiliate")
    twins = [
        _like(affiliate, name="Kind Hands Care Ltd"),
        _like(affiliate, name="+Kind Hands Care"),
    ]
    with serve_site(generate_site([*generated, *twins], seed=SEED)) as server:
        sync(engine, settings, server.url)
        before = {o.name: o.id for o in organisations(engine)}
        server.routes = routes_from_site(generate_site([*generated, *twins[::-1]], seed=SEED))
        report = sync(engine, settings, server.url)

    assert (report.outcome, report.diff.changes) == (SyncOutcome.UNCHANGED, [])
    assert {o.name: o.id for o in organisations(engine)} == before


# ---- Dry run ----------------------------------------------------------------------------


def test_dry_run_on_an_empty_mirror_reports_every_addition_and_writes_nothing(
    engine: Engine, settings: Settings, sample_server: LocalServer
) -> None:
    before = mirror_dump(engine)

    report = sync(engine, settings, sample_server.url, dry_run=True)

    assert (report.outcome, report.run_id, report.reason) == (SyncOutcome.DRY_RUN, None, None)
    assert report.ok
    assert (report.diff.added, report.diff.changed, report.diff.removed) == (98, 0, 0)
    assert mirror_dump(engine) == before
    assert runs(engine) == []
    state = registry(engine)
    assert (state.version, state.last_attempted_at, state.last_synced_at) == (0, None, None)


def test_dry_run_shows_the_changes_a_sync_would_make_without_making_them(
    engine: Engine, settings: Settings, sample_server: LocalServer
) -> None:
    sync(engine, settings, sample_server.url)
    before = mirror_dump(engine)
    state_before = registry(engine)
    sample_server.routes[WORKING_TOWARDS] = edited(
        WORKING_TOWARDS,
        lambda page: page.replace(
            "<li><strong>Positive Bridges Consulting Ltd</strong>",
            "<li><strong>Positive Bridges Consulting Ltd (formerly PB Ltd)</strong>",
        ).replace("</ul>", "<li><strong>Fresh Start Consulting Ltd</strong> – new</li>\n</ul>"),
    )

    report = sync(engine, settings, sample_server.url, dry_run=True)

    assert report.outcome is SyncOutcome.DRY_RUN
    assert sorted((c.kind.value, c.name) for c in report.diff.changes) == [
        ("added", "Fresh Start Consulting Ltd"),
        ("renamed", "Positive Bridges Consulting Ltd"),
    ]
    assert mirror_dump(engine) == before
    assert len(runs(engine)) == 1
    state = registry(engine)
    assert (state.last_attempted_at, state.last_synced_at) == (
        state_before.last_attempted_at,
        state_before.last_synced_at,
    )


def test_dry_run_of_a_listing_that_would_be_rejected_says_why_and_records_nothing(
    engine: Engine, settings: Settings, sample_server: LocalServer
) -> None:
    sync(engine, settings, sample_server.url)
    before = mirror_dump(engine)
    sample_server.routes[AFFILIATES] = edited(
        AFFILIATES, lambda page: page.replace('class="affiliates"', 'class="partners"')
    )

    report = sync(engine, settings, sample_server.url, dry_run=True)

    assert report.outcome is SyncOutcome.DRY_RUN
    assert report.reason is not None
    assert "affiliate list came back empty" in report.reason
    assert report.diff.removed == 38
    assert mirror_dump(engine) == before
    assert len(runs(engine)) == 1
    assert artifacts(engine) == []


# ---- One sync at a time -----------------------------------------------------------------


def assert_lock_free(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        assert advisory_locks_held(engine) == 0
    else:
        assert (lease(engine).holder, lease(engine).expires_at) == (None, None)
    with sync_lock(engine, wait_seconds=0):
        pass  # and anyone may take it at once


def test_a_sync_refuses_to_start_while_another_holds_the_lock(
    engine: Engine, settings: Settings, sample_server: LocalServer
) -> None:
    with sync_lock(engine, wait_seconds=0):
        started = time.monotonic()
        with pytest.raises(SyncAlreadyRunning):
            sync(engine, settings, sample_server.url, lock_wait_seconds=0.3)
        assert time.monotonic() - started >= 0.3  # it waited a little before giving up

    assert runs(engine) == []
    assert sample_server.paths_requested() == []  # refused before fetching anything
    assert_lock_free(engine)


def test_a_sync_in_progress_blocks_a_second_one_until_it_finishes(
    engine: Engine, settings: Settings, sample_server: LocalServer
) -> None:
    sample_server.routes[AFFILIATES] = delayed(sample_server.routes[AFFILIATES], 1.0)
    results: list[object] = []
    first = threading.Thread(
        target=lambda: results.append(sync(engine, settings, sample_server.url))
    )
    first.start()
    deadline = time.monotonic() + 10
    while AFFILIATES not in sample_server.paths_requested() and time.monotonic() < deadline:
        time.sleep(0.02)

    with pytest.raises(SyncAlreadyRunning):
        sync(engine, settings, sample_server.url, lock_wait_seconds=0.2)
    first.join(timeout=30)

    [report] = results
    assert isinstance(report, SyncReport)
    assert report.outcome is SyncOutcome.APPLIED
    assert [r.outcome for r in runs(engine)] == ["applied"]
    assert_lock_free(engine)
    assert sync(engine, settings, sample_server.url).outcome is SyncOutcome.UNCHANGED


def test_the_lock_is_released_after_a_sync_whatever_its_outcome(
    engine: Engine, settings: Settings, sample_server: LocalServer
) -> None:
    assert sync(engine, settings, sample_server.url).outcome is SyncOutcome.APPLIED
    assert_lock_free(engine)
    assert sync(engine, settings, sample_server.url, dry_run=True).ok
    assert_lock_free(engine)
    sample_server.routes[AFFILIATES] = status(404)
    assert sync(engine, settings, sample_server.url).outcome is SyncOutcome.FAILED
    assert_lock_free(engine)
    sample_server.routes[AFFILIATES] = edited(
        AFFILIATES, lambda page: page.replace('class="affiliates"', 'class="partners"')
    )
    assert sync(engine, settings, sample_server.url).outcome is SyncOutcome.REJECTED
    assert_lock_free(engine)


# The lease row is the SQLite lock; Postgres uses the advisory lock instead.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def set_lease(engine: Engine, holder: str, expires_in: float) -> None:
    expires = utcnow() + dt.timedelta(seconds=expires_in)
    with Session(engine) as session, session.begin():
        session.execute(update(SyncLease).values(holder=holder, expires_at=expires))


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    with subprocess.Popen([sys.executable, "-c", ""]) as child:
        child.wait()
    return child.pid


@sqlite_only
def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_over(engine: Engine) -> None:
    set_lease(engine, f"{socket.gethostname()}:{dead_pid()}:deadbeef", expires_in=900)

    with sync_lock(engine, wait_seconds=0):
        assert lease(engine).holder.split(":")[-2] == str(os.getpid())  # type: ignore[union-attr]

    assert_lock_free(engine)


@sqlite_only
@pytest.mark.parametrize(
    "holder",
    [
        pytest.param(f"{socket.gethostname()}:{os.getppid()}:cafe", id="live-process"),
        pytest.param(f"{socket.gethostname()}:{os.getpid()}:cafe", id="this-process"),
        pytest.param("another-host:1:cafe", id="another-host"),
        pytest.param("not a holder id", id="unreadable"),
    ],
)
def test_a_lease_that_may_be_live_is_respected_until_it_expires(
    engine: Engine, holder: str
) -> None:
    set_lease(engine, holder, expires_in=900)
    with pytest.raises(SyncAlreadyRunning), sync_lock(engine, wait_seconds=0):
        pass
    assert lease(engine).holder == holder

    set_lease(engine, holder, expires_in=-1)  # expired
    with sync_lock(engine, wait_seconds=0):
        assert lease(engine).holder != holder
