"""Many checks at once against one snapshot: the one decision path behind every door
(batch, spreadsheet files, receipts)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence

from app.checks.inputs import CheckQuery, validate_query
from app.checks.schemas import BatchItem, ItemError
from app.checks.snapshot import Snapshot
from app.checks.verdicts import Clock, decide_many, is_stale
from app.errors import ServiceError
from app.gc_pause import collector_paused


def memo_key(kind: str, query: CheckQuery, snapshot: Snapshot, clock: Clock) -> tuple[object, ...]:
    """What an answer depends on besides the snapshot's organisations (Snapshot.memo)."""
    info = snapshot.info
    stale = is_stale(snapshot, clock)
    return (kind, query, info.version, info.last_synced_at, stale, clock.now.date())


def validated(raw: object, today: dt.date) -> CheckQuery | ItemError:
    """The validated query of a raw item (anything with name/as_of/setting attributes, and
    certificate_number/website where it has them), or the error that says why it cannot be
    checked."""
    try:
        return validate_query(
            getattr(raw, "name", None),
            getattr(raw, "as_of", None),
            getattr(raw, "setting", None),
            today,
            getattr(raw, "certificate_number", None),
            getattr(raw, "website", None),
        )
    except ServiceError as exc:
        return ItemError(code=exc.code, detail=exc.detail)


def check_many(raws: Sequence[object], snapshot: Snapshot, clock: Clock) -> list[BatchItem]:
    """One item per query, in order: a bad query gets its error, the others their verdicts,
    decided together; a question asked before of this snapshot comes from its memo."""
    checked = [validated(raw, clock.now.date()) for raw in raws]
    valid = [query for query in checked if isinstance(query, CheckQuery)]
    # memo_key's parts besides the query, worked out once for the whole batch.
    shared = memo_key("result", CheckQuery(""), snapshot, clock)[2:]
    keys = [("result", query, *shared) for query in valid]
    by_key: dict[Hashable, CheckQuery] = dict(zip(keys, valid, strict=True))
    with collector_paused():
        results = iter(
            snapshot.memo_many(
                keys,
                lambda missing: decide_many(snapshot, [by_key[k] for k in missing], clock),
            )
        )
    return [
        BatchItem(index=i, result=next(results), error=None)
        if isinstance(item, CheckQuery)
        else BatchItem(index=i, result=None, error=item)
        for i, item in enumerate(checked)
    ]


def verdict_counts(items: Iterable[BatchItem]) -> Counter[str]:
    """How many items got each verdict (for the verdict metric; errors are not verdicts)."""
    return Counter(str(item.result.verdict) for item in items if item.result is not None)
