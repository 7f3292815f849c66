"""Scoring lookups against an evaluation set: recall and false matches.

A line of a set (shared/eval) has the fields a lookup sends (`query`, the name, and where
present `certificate_number` and `website`), the expected organisation (`expect_name`, null
for a decoy) and its status (`expect_status`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

AUTO_VERDICTS = frozenset({"certified", "affiliate", "working_towards"})
# Eval line fields -> batch item fields; each is sent only when the line has it.
LINE_FIELDS = {"query": "name", "certificate_number": "certificate_number", "website": "website"}


@dataclass(slots=True)
class EvalReport:
    """Recall over queries that name an organisation; false matches over all."""

    total: int = 0
    expected: int = 0
    hits: int = 0
    rejected: int = 0
    false_matches: list[tuple[str, str, str, str]] = field(default_factory=list)
    misses: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.hits / self.expected if self.expected else 1.0


def batch_item(line: dict[str, Any]) -> dict[str, str]:
    """The batch query for an eval line: each of its lookup fields that is present."""
    return {item: line[key] for key, item in LINE_FIELDS.items() if line.get(key) is not None}


def describe_line(line: dict[str, Any]) -> str:
    """What a line asks, in one cell: the name, then any identifiers."""
    return " | ".join(f"{k}={v}" if k != "name" else v for k, v in batch_item(line).items())


def _got(answer: dict[str, Any]) -> tuple[str | None, str | None]:
    result = answer.get("result")
    if not result:
        return None, None
    organisation = result.get("organisation") or {}
    return result["verdict"], organisation.get("name")


def score_answers(lines: list[dict[str, Any]], answers: list[dict[str, Any]]) -> EvalReport:
    """Compare batch answers with the expected names and statuses, line by line."""
    report = EvalReport(total=len(lines))
    for line, answer in zip(lines, answers, strict=True):
        verdict, name = _got(answer)
        row = (
            line.get("kind", ""),
            describe_line(line),
            str(line.get("expect_name")),
            f"{verdict} {name or ''}".strip(),
        )
        if verdict is None:
            report.rejected += 1
        expected = line.get("expect_name")
        if expected is None:
            if verdict in AUTO_VERDICTS:
                report.false_matches.append(row)
            continue
        report.expected += 1
        if verdict == line.get("expect_status") and name == expected:
            report.hits += 1
        elif verdict in AUTO_VERDICTS:
            report.false_matches.append(row)
        else:
            report.misses.append(row)
    return report
