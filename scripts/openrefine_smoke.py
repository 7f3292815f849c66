"""Reconcile eval-set names in a real OpenRefine through /reconcile, then compare with /v1/check.

Drives OpenRefine's own HTTP commands (what its browser UI posts): create a project from a
CSV of names, certificate numbers and websites (the first 25 positives and 25 decoys of
queries-v2-dev.jsonl, 25 decoys of queries-dev.jsonl), reconcile the name column with the
other two as properties and auto-match on, then "Add columns from reconciled values"
(status, valid until, parent). Prints how many cells OpenRefine auto-matched, how many agree
with /v1/check/batch (same organisation, or no verdict for both) and how many decoys got
matched, and exits 1 on any disagreement or matched decoy.

    apt-get install openrefine    # Debian 12: OpenRefine 3.6.2
    openrefine -p 3333 -d /tmp/refine-data -x refine.headless=true run &
    certlookup serve --port 8012 &    # the sample site synced
    .venv/bin/python scripts/openrefine_smoke.py --key cl_...    # no --key: public reads
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import httpx

LISTED = {"certified", "affiliate", "working_towards"}
ENGINE = json.dumps({"facets": [], "mode": "row-based"})
CSV_OPTIONS = {
    "separator": ",",
    "headerLines": 1,
    "ignoreLines": -1,
    "skipDataLines": 0,
    "limit": -1,
    "storeBlankRows": True,
    "guessCellValueTypes": False,
    "processQuotes": True,
    "storeBlankCellsAsNulls": True,
    "includeFileSources": False,
    "encoding": "UTF-8",
}


def eval_rows(eval_dir: Path) -> list[dict[str, Any]]:
    """25 named positives and 25 decoys of the v2 set, 25 decoys of the first set."""
    v2 = [json.loads(line) for line in (eval_dir / "queries-v2-dev.jsonl").open()]
    v1 = [json.loads(line) for line in (eval_dir / "queries-dev.jsonl").open()]
    named = [line for line in v2 if line.get("query")]
    positives = [line for line in named if line["expect_name"]][:25]
    decoys = [line for line in named if not line["expect_name"]][:25]
    decoys += [line for line in v1 if not line["expect_name"] and line.get("query")][:25]
    return positives + decoys


class Refine:
    """The few OpenRefine commands the UI would post."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=120)

    def token(self) -> str:
        token: str = self.http.get(f"{self.url}/command/core/get-csrf-token").json()["token"]
        return token

    def command(self, name: str, project: str, **data: str) -> None:
        params = {"project": project, "csrf_token": self.token()}
        response = self.http.post(f"{self.url}/command/core/{name}", params=params, data=data)
        response.raise_for_status()
        self.wait(project)

    def create(self, rows: list[dict[str, Any]]) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["Name", "Certificate", "Website"])
        for row in rows:
            writer.writerow([row["query"], row.get("certificate_number"), row.get("website")])
        response = self.http.post(
            f"{self.url}/command/core/create-project-from-upload",
            params={"csrf_token": self.token()},
            data={
                "project-name": "certlookup smoke",
                "format": "text/line-based/*sv",
                "options": json.dumps(CSV_OPTIONS),
            },
            files={"project-file": ("providers.csv", buffer.getvalue().encode(), "text/csv")},
        )
        return response.headers["location"].split("project=")[1]

    def wait(self, project: str) -> None:
        for _ in range(600):
            url = f"{self.url}/command/core/get-processes"
            if not self.http.get(url, params={"project": project}).json().get("processes"):
                return
            time.sleep(0.5)
        raise SystemExit("OpenRefine did not finish in 5 minutes")

    def rows(self, project: str) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, int]]:
        params = {"project": project, "start": 0, "limit": 10_000, "csrf_token": self.token()}
        data = self.http.post(
            f"{self.url}/command/core/get-rows", params=params, data={"engine": ENGINE}
        ).json()
        models = self.http.get(f"{self.url}/command/core/get-models", params={"project": project})
        columns = {c["name"]: c["cellIndex"] for c in models.json()["columnModel"]["columns"]}
        return data["rows"], data.get("pool", {}).get("recons", {}), columns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refine", default="http://127.0.0.1:3333")
    parser.add_argument("--service", default="http://127.0.0.1:8012")
    parser.add_argument("--key", default=None)
    parser.add_argument("--eval-dir", type=Path, default=Path(__file__).parents[2] / "shared/eval")
    args = parser.parse_args()
    endpoint = f"{args.service}/reconcile" + (f"?api_key={args.key}" if args.key else "")
    headers = {"X-API-Key": args.key} if args.key else {}
    rows = eval_rows(args.eval_dir)
    refine = Refine(args.refine)
    manifest = httpx.get(endpoint).json()
    spaces = {k: manifest[k] for k in ("identifierSpace", "schemaSpace")}
    project = refine.create(rows)
    config = {
        "mode": "standard-service",
        "service": endpoint,
        **spaces,
        "type": None,
        "autoMatch": True,
        "columnDetails": [
            {
                "column": "Certificate",
                "propertyName": "Certificate number",
                "propertyID": "certificate_number",
            },
            {"column": "Website", "propertyName": "Website", "propertyID": "website"},
        ],
        "limit": 0,
    }
    refine.command(
        "reconcile", project, columnName="Name", config=json.dumps(config), engine=ENGINE
    )
    properties = [{"id": p} for p in ("status", "valid_until", "parent")]
    refine.command(
        "extend-data",
        project,
        baseColumnName="Name",
        endpoint=endpoint,
        extension=json.dumps({"properties": properties}),
        columnInsertIndex="1",
        engine=ENGINE,
        **spaces,
    )
    table, recons, columns = refine.rows(project)
    queries = [
        {
            k: v
            for k, v in (
                ("name", r["query"]),
                ("certificate_number", r.get("certificate_number")),
                ("website", r.get("website")),
            )
            if v
        }
        for r in rows
    ]
    checks = httpx.post(
        f"{args.service}/v1/check/batch", json={"queries": queries}, headers=headers, timeout=60
    ).json()["results"]
    matched = agree = decoys = extended = 0
    for row, line, check in zip(table, rows, checks, strict=True):
        cell = row["cells"][columns["Name"]] or {}
        recon = cell.get("r") or {}
        recon = recons.get(recon, {}) if isinstance(recon, str) else recon
        is_match = recon.get("j") == "matched"
        result = check["result"]
        by_check = result is not None and result["verdict"] in LISTED
        same = is_match == by_check and (
            not is_match or recon["m"]["id"] == str(result["organisation"]["id"])
        )
        matched += is_match
        agree += same
        decoys += is_match and not line["expect_name"]
        at = columns["Status"]  # the column is named after the property's meta name
        status = row["cells"][at] if at < len(row["cells"]) else None
        extended += bool(is_match and status and status.get("v") == result["verdict"])
        if not same:
            print("DISAGREE:", line, recon.get("j"), result and result["verdict"])
    print(
        f"{len(rows)} rows; OpenRefine auto-matched {matched}; agrees with /v1/check on {agree}; "
        f"decoys auto-matched {decoys}; status column filled and equal to the verdict on "
        f"{extended} of the matched"
    )
    return 0 if agree == len(rows) and decoys == 0 and extended == matched else 1


if __name__ == "__main__":
    raise SystemExit(main())
