"""Issuing receipts: a check's full result, signed, stored, and handed back.

The result comes from app/checks (the same decision path as every other door); a receipt
only adds who asked, when, their reference, and the signature over all of it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from joserfc import jws
from sqlalchemy.orm import Session

from app.auth.keys import ApiClient
from app.checks.schemas import CheckResult
from app.checks.verdicts import Clock
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


def stored_receipt(receipt: Receipt) -> dict[str, Any]:
    """A stored receipt as served: the signed payload of its JWS, with the JWS."""
    body = json.loads(jws.extract_compact(receipt.jws.encode("ascii")).payload)
    return with_jws(body, receipt.jws)


def get_receipt(session: Session, client: ApiClient, receipt_id: str) -> dict[str, Any]:
    """The client's receipt as served, or NotFound."""
    return stored_receipt(repository.get_receipt(session, owner_of(client), receipt_id))
