"""Issuing receipts: a check's full result, signed, stored, and handed back.

The result comes from app/checks (the same decision path as every other door); a receipt
only adds who asked, when, their reference, and the signature over all of it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from joserfc import jws
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.auth.keys import ApiClient
from app.checks.schemas import BatchItem, CheckResult
from app.checks.verdicts import Clock
from app.db import transaction
from app.errors import Unauthorized
from app.models import Receipt
from app.receipts import repository
from app.receipts.keys import KeyRing
from app.receipts.signing import sign

ID_PREFIX = "rcpt_"
RECEIPTS_PATH = "/v1/receipts/"


def new_receipt_id() -> str:
    """A random receipt id: `rcpt_` and 128 random bits in hex."""
    return ID_PREFIX + secrets.token_hex(16)


def owner_of(client: ApiClient) -> int:
    """The key receipts are kept for; a caller without one (public reads) cannot have any."""
    if client.key_id is None:
        raise Unauthorized(
            "receipts are kept for the client that asked for them: send an API key",
            headers={"WWW-Authenticate": 'Bearer realm="certlookup"'},
        )
    return client.key_id


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who receipts are issued to, when, signed with which keys, and where they live."""

    ring: KeyRing
    clock: Clock
    client: ApiClient
    base_url: str
    """The service's base URL (scheme, host, root path), without a trailing slash."""

    def receipt_url(self, receipt_id: str) -> str:
        """Where a receipt can be fetched again."""
        return f"{self.base_url}{RECEIPTS_PATH}{receipt_id}"


def _timestamp(clock: Clock) -> str:
    return clock.now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _signed(issuer: Issuer, result: CheckResult, reference: str | None) -> dict[str, Any]:
    """One receipt with its JWS, fields in the documented order."""
    receipt_id = new_receipt_id()
    body: dict[str, Any] = {
        "id": receipt_id,
        "issued_at": _timestamp(issuer.clock),
        "client": issuer.client.name,
        "reference": reference,
        "result": result.model_dump(mode="json", by_alias=True),
        "url": issuer.receipt_url(receipt_id),
    }
    token = sign(issuer.ring, orjson.dumps(body))
    return with_jws(body, token)


def with_jws(body: dict[str, Any], token: str) -> dict[str, Any]:
    """The receipt as served: its signed fields with `jws` before `url`."""
    served = {k: v for k, v in body.items() if k != "url"}
    return {**served, "jws": token, "url": body.get("url")}


def _row(key_id: int, issuer: Issuer, receipt: dict[str, Any]) -> dict[str, Any]:
    result = receipt["result"]
    return {
        "id": receipt["id"],
        "key_id": key_id,
        "issued_at": issuer.clock.now,
        "reference": receipt["reference"],
        "verdict": result["verdict"],
        "register_version": result["register"]["version"],
        "kid": issuer.ring.kid,
        "jws": receipt["jws"],
    }


def issue_receipts(
    session: Session, issuer: Issuer, asked: Sequence[tuple[CheckResult, str | None]]
) -> list[dict[str, Any]]:
    """Sign and store one receipt per (result, reference), in order; the receipts as served."""
    key_id = owner_of(issuer.client)
    receipts = [_signed(issuer, result, reference) for result, reference in asked]
    repository.add_receipts(session, [_row(key_id, issuer, r) for r in receipts])
    return receipts


def with_receipts(
    session: Session, issuer: Issuer, items: Sequence[BatchItem], references: Sequence[str | None]
) -> list[BatchItem]:
    """Batch items with a receipt issued for each answered one (`receipt_id` set), in one
    statement; an item in error gets none."""
    answered: list[tuple[int, CheckResult]] = []
    for i, item in enumerate(items):
        if item.result is not None:
            answered.append((i, item.result))
    receipts = issue_receipts(session, issuer, [(r, references[i]) for i, r in answered])
    ids = {i: receipt["id"] for (i, _), receipt in zip(answered, receipts, strict=True)}
    return [
        item.model_copy(update={"receipt_id": ids[i]}) if i in ids else item
        for i, item in enumerate(items)
    ]


def receipted(engine: Engine, issuer: Issuer, items: Sequence[BatchItem]) -> list[BatchItem]:
    """`with_receipts` in a transaction of its own, for a batch check."""
    with transaction(engine) as session:
        return with_receipts(session, issuer, items, [None] * len(items))


ItemsHook = Callable[[Sequence[BatchItem], Sequence[str | None]], list[BatchItem]]


@contextmanager
def receipt_hook(
    engine: Engine, issuer: Issuer | None, label: str | None = None
) -> Iterator[ItemsHook | None]:
    """For a file check: a hook issuing receipts for each chunk's rows, all in one
    transaction (committed when the file is done, so a failed file leaves none); None
    without an issuer. `label` (the file's name) prefixes each row's reference."""
    if issuer is None:
        yield None
        return
    with transaction(engine) as session:

        def hook(items: Sequence[BatchItem], references: Sequence[str | None]) -> list[BatchItem]:
            labelled = [f"{label}, {ref}" if label and ref else ref for ref in references]
            return with_receipts(session, issuer, items, labelled)

        yield hook


def issuer_for(request: Request, client: ApiClient, clock: Clock) -> Issuer:
    """The issuer of this request's receipts: the app's keys, the caller, the base URL.

    Raises Unauthorized at once for a caller without a key (receipts are kept per key).
    """
    owner_of(client)
    ring: KeyRing = request.app.state.receipt_keys
    return Issuer(ring, clock, client, str(request.base_url).rstrip("/"))


def stored_receipt(receipt: Receipt) -> dict[str, Any]:
    """A stored receipt as served: the signed payload of its JWS, with the JWS."""
    body = json.loads(jws.extract_compact(receipt.jws.encode("ascii")).payload)
    return with_jws(body, receipt.jws)


def get_receipt(session: Session, client: ApiClient, receipt_id: str) -> dict[str, Any]:
    """The client's receipt as served, or NotFound."""
    return stored_receipt(repository.get_receipt(session, owner_of(client), receipt_id))
