"""`certlookup check NAME` and `certlookup eval FILE`: verdicts in a terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from app.checks.evaluation import EvalReport, batch_item, score_answers
from app.checks.inputs import validate_query
from app.checks.snapshot import load_snapshot
from app.checks.verdicts import Clock, decide
from app.config import get_settings
from app.db import engine_for, upgrade_database
from app.errors import ServiceError
from app.files.cli import check_file
from app.files.service import FileOptions

console = Console()


def check(
    name: Annotated[str | None, typer.Argument(help="Provider name as written.")] = None,
    certificate_number: Annotated[
        str | None, typer.Option(help="Bild ACT certificate number.")
    ] = None,
    website: Annotated[str | None, typer.Option(help="The provider's website.")] = None,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    setting: Annotated[str | None, typer.Option(help="cqc or ofsted_only.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON response.")] = False,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="A CSV or XLSX of providers: check every row, as POST /v1/check/file.",
        ),
    ] = None,
    column: Annotated[
        str | None, typer.Option(help="--file: the name column (header or 1-based position).")
    ] = None,
    certificate_column: Annotated[
        str | None, typer.Option(help="--file: the certificate number column.")
    ] = None,
    website_column: Annotated[str | None, typer.Option(help="--file: the website column.")] = None,
    sheet: Annotated[str | None, typer.Option(help="--file: the XLSX sheet to check.")] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="--file: where to write the answer (.csv or .xlsx); "
            "default NAME-checked beside the file.",
        ),
    ] = None,
) -> None:
    """Give the verdict for one name and/or identifier, as GET /v1/check would; or, with
    --file, check every row of a spreadsheet as POST /v1/check/file would."""
    settings = get_settings()
    upgrade_database(settings)
    if file is not None:
        if name is not None or certificate_number or website:
            console.print("[red]give a NAME (and identifiers) or --file, not both[/]")
            raise typer.Exit(2)
        options = FileOptions(column, certificate_column, website_column, as_of, setting)
        check_file(settings, file, output, options, sheet, Console(stderr=True))
        return
    clock = Clock.for_settings(settings)
    try:
        query = validate_query(name, as_of, setting, clock.now.date(), certificate_number, website)
    except ServiceError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.detail}")
        raise typer.Exit(2) from None
    with Session(engine_for(settings.sqlalchemy_url)) as session:
        snapshot = load_snapshot(session)
    result = decide(snapshot, query, clock)
    if as_json:
        console.print_json(result.model_dump_json(by_alias=True))
        return
    _print_result(result.model_dump(mode="json", by_alias=True))


def _print_result(result: dict[str, Any]) -> None:
    colour = {
        "certified": "green",
        "affiliate": "green",
        "working_towards": "yellow",
        "not_listed": "red",
        "needs_review": "yellow",
    }.get(result["verdict"], "white")
    console.print(
        f"[bold {colour}]{result['verdict']}[/]  meets CQC expectation: "
        f"{result['meets_cqc_expectation']}"
    )
    console.print(result["explanation"])
    if result["match"]:
        m = result["match"]
        console.print(
            f"matched [bold]{m['matched_name']}[/] ({m['method']}, score "
            f"{m['score']}): {m['reason']}"
        )
        for confirmation in m["confirmed_by"]:
            console.print(
                f"confirmed by {confirmation['kind'].replace('_', ' ')} "
                f"{confirmation['listed_as']} ({confirmation['relation']})"
            )
    for warning in result["warnings"]:
        console.print(f"[yellow]warning[/] {warning['code']}: {warning['message']}")
    if result["candidates"] and not result["match"]:
        table = Table("id", "candidate", "status", "score")
        for c in result["candidates"]:
            table.add_row(str(c["organisation_id"]), c["name"], c["status"], str(c["score"]))
        console.print(table)
    reg = result["register"]
    console.print(
        f"register version {reg['version']}, last synced {reg['last_synced_at']}, "
        f"stale {reg['stale']}"
    )


def evaluate(
    queries_files: Annotated[
        list[Path] | None,
        typer.Argument(help="JSONL sets (query, certificate_number, website, expect_name...)."),
    ] = None,
    eval_dir: Annotated[
        Path, typer.Option(help="Without files: every queries*.jsonl here.")
    ] = Path("../shared/eval"),
    base_url: Annotated[str, typer.Option(help="Running service.")] = "http://127.0.0.1:8000",
    api_key: Annotated[str | None, typer.Option(envvar="CERTLOOKUP_API_KEY")] = None,
    show: Annotated[int, typer.Option(help="Misses and false matches to list.")] = 20,
) -> None:
    """Run eval sets against a running service; print recall and false matches of each."""
    queries_files = queries_files or sorted(eval_dir.glob("queries*.jsonl"))
    if not queries_files:
        console.print(f"[red]no queries*.jsonl in {eval_dir}[/]: name the sets to run")
        raise typer.Exit(2)
    headers = {"X-API-Key": api_key} if api_key else {}
    reports: list[tuple[str, EvalReport]] = []
    try:
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
            for path in queries_files:
                lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
                reports.append((path.name, score_answers(lines, _answers(client, lines))))
    except httpx.HTTPStatusError as exc:
        response = exc.response
        console.print(
            f"[red]the service at {base_url} answered {response.status_code}[/]: "
            f"{_problem_detail(response)}"
            + (
                " (pass --api-key or set CERTLOOKUP_API_KEY)"
                if response.status_code in (401, 403)
                else ""
            )
        )
        raise typer.Exit(2) from None
    except httpx.HTTPError as exc:
        console.print(
            f"[red]cannot reach the service at {base_url}[/] ({exc}): eval scores a running "
            "service; start it (scripts/run) or pass --base-url"
        )
        raise typer.Exit(2) from None
    for name, report in reports:
        _print_eval(name, report, show)
    if len(reports) > 1:
        _print_summary(reports)
    if any(report.false_matches for _, report in reports):
        raise typer.Exit(1)


def _problem_detail(response: httpx.Response) -> str:
    """The `detail` of a problem+json answer, else the start of the body."""
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _answers(client: httpx.Client, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The batch answers to every line, sending each lookup field a line has."""
    answers: list[dict[str, Any]] = []
    for start in range(0, len(lines), 1000):
        body = {"queries": [batch_item(line) for line in lines[start : start + 1000]]}
        response = client.post("/v1/check/batch", json=body)
        response.raise_for_status()
        answers += response.json()["results"]
    return answers


def _print_eval(name: str, report: EvalReport, show: int) -> None:
    console.print(
        f"[bold]{name}[/]: queries {report.total}  expected matches {report.expected}  "
        f"recall [bold]{report.recall:.4f}[/] ({report.hits}/{report.expected})  false "
        f"matches [bold]{len(report.false_matches)}[/]  rejected as invalid {report.rejected}"
    )
    for title, rows in (("false matches", report.false_matches), ("misses", report.misses)):
        if rows:
            table = Table("kind", "query", "expected", "got", title=f"{name}: {title}")
            for row in rows[:show]:
                table.add_row(*row)
            console.print(table)


def _print_summary(reports: list[tuple[str, EvalReport]]) -> None:
    table = Table("set", "queries", "expected", "recall", "false matches", "rejected")
    for name, report in reports:
        table.add_row(
            name,
            str(report.total),
            str(report.expected),
            f"{report.recall:.4f}",
            str(len(report.false_matches)),
            str(report.rejected),
        )
    console.print(table)
