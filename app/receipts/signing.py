"""Signing receipts as compact JWS (EdDSA over Ed25519, with kid) and verifying them.

Verification never raises: every way a token can fail is a Verification with a stable
reason, so the API and the CLI can say why (and a bad token is never a 500).
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import OKPKey
from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from app.receipts.keys import ALGORITHM, KeyRing

TOKEN_TYPE = "certlookup-receipt+jws"  # noqa: S105 (a media type, not a secret)
MAX_TOKEN_LENGTH = 1_000_000


class Reason(StrEnum):
    """Why a token is, or is not, a valid receipt."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # Every schema in the OpenAPI document carries an example for Swagger UI.
        schema = handler(core_schema)
        handler.resolve_ref_schema(schema)["examples"] = [cls.BAD_SIGNATURE.value]
        return schema

    VALID = "valid"
    MALFORMED = "malformed"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_A_RECEIPT = "not_a_receipt"


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of verifying one token."""

    reason: Reason
    detail: str
    kid: str | None = None
    receipt: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        """True only for a token signed by a known key over an intact receipt."""
        return self.reason is Reason.VALID


def sign(ring: KeyRing, payload: bytes) -> str:
    """A compact JWS over `payload`, signed with the ring's current key."""
    header = {"alg": ALGORITHM, "kid": ring.kid, "typ": TOKEN_TYPE}
    return str(jws.serialize_compact(header, payload, ring.signing, algorithms=[ALGORITHM]))


def _header(token: str) -> dict[str, Any] | Verification:
    try:
        headers = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, TypeError, binascii.Error, UnicodeError):
        return Verification(
            Reason.MALFORMED,
            "not a compact JWS: three base64url parts separated by dots, the first a JSON header",
        )
    return dict(headers)


def _key_for(header: dict[str, Any], keys: Mapping[str, OKPKey]) -> OKPKey | Verification:
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM:
        return Verification(
            Reason.UNSUPPORTED_ALGORITHM,
            f"receipts are signed with {ALGORITHM}; this token says {header.get('alg')!r}",
            kid if isinstance(kid, str) else None,
        )
    if not isinstance(kid, str) or kid not in keys:
        return Verification(
            Reason.UNKNOWN_KEY,
            f"no key with kid {kid!r} in the key set: not signed by this service, or by a key "
            "it no longer publishes",
            kid if isinstance(kid, str) else None,
        )
    return keys[kid]


def verify(token: str, keys: Mapping[str, OKPKey]) -> Verification:
    """Whether `token` is a receipt signed by one of `keys` (kid -> public key), and why."""
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH:
        return Verification(Reason.MALFORMED, f"longer than {MAX_TOKEN_LENGTH:,} characters")
    header = _header(token)
    if isinstance(header, Verification):
        return header
    key = _key_for(header, keys)
    if isinstance(key, Verification):
        return key
    kid = str(header["kid"])
    try:
        payload = jws.deserialize_compact(token, key, algorithms=[ALGORITHM]).payload
    except BadSignatureError:
        return Verification(
            Reason.BAD_SIGNATURE,
            "the signature does not match the content: the receipt was altered after signing",
            kid,
        )
    except (JoseError, ValueError, TypeError, binascii.Error):
        return Verification(Reason.MALFORMED, "the signature or content is not base64url", kid)
    return _receipt(payload, kid)


def _receipt(payload: bytes, kid: str) -> Verification:
    try:
        receipt = json.loads(payload)
    except ValueError:
        receipt = None
    if not isinstance(receipt, dict) or "id" not in receipt or "result" not in receipt:
        return Verification(
            Reason.NOT_A_RECEIPT, "the signature is good but the content is not a receipt", kid
        )
    return Verification(Reason.VALID, "signed by this service's key; unaltered", kid, receipt)
