"""The runtime dependencies in pyproject.toml are enough to run the service.

The Docker image installs only those (with their own dependencies), while the test venv also
holds the dev tools and whatever they pull in, so a missing runtime dependency passes every
other test and only fails in production. Here the service is imported in a subprocess that
refuses any module whose distribution is not reachable from the runtime dependencies.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]

# Imports the service makes at start-up and in its request paths, in a process that only
# finds the allowed distributions (and the standard library).
PROBE = """
import importlib.metadata as md, json, sys
from packaging.utils import canonicalize_name

allowed = set(json.loads(sys.argv[1]))
owners = md.packages_distributions()


class RuntimeOnly:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        dists = owners.get(top)
        if dists and not any(canonicalize_name(d) in allowed for d in dists):
            raise ImportError(f"{top!r} comes from {dists}: not a runtime dependency")
        return None


sys.meta_path.insert(0, RuntimeOnly())
import app.cli, app.main, app.register.sync, app.ops.scheduler, scrapers  # noqa: E401
from app.checks.matching import IndexEntry, IndexName, MatchIndex
from app.db import LoopReader

names = (IndexName("Harbour Learning", "name"),)
index = MatchIndex.build([IndexEntry(1, "Harbour Learning", "certified", names)])
assert index.match_many(["Harbuor Learning", "Nobody"])[0].outcome == "matched"
LoopReader("postgresql+psycopg://nobody@127.0.0.1:1/none")  # the async engine, not connected
print("ok")
"""


def _runtime_distributions() -> set[str]:
    """The project's runtime requirements and everything they require, extras included."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        for line in md.distribution(requirement.name).requires or []:
            needed = Requirement(line)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in extras):
                todo.append(needed)
    return {name for name, _ in seen} | {canonicalize_name(project["name"]), "packaging"}


def _probe(allowed: set[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(sorted(allowed))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_service_runs_on_its_runtime_dependencies_alone() -> None:
    result = _probe(_runtime_distributions())
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_the_probe_refuses_a_distribution_outside_the_runtime_set() -> None:
    result = _probe(_runtime_distributions() - {"greenlet"})
    assert result.returncode != 0
    assert "greenlet" in result.stderr
