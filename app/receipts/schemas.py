"""Request and response bodies of the receipt endpoints and the JWKS, with examples."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.checks import examples as ex
from app.checks.schemas import CheckResult
from app.receipts.signing import MAX_TOKEN_LENGTH, Reason
from app.schemas import RequestBody

EXAMPLE_JWS = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImdpMDl6ZlluM2dpZDlmcUJybjBZeHBCdHRSSUI4WUFmWVdHc0dpblBp"
    "UmMiLCJ0eXAiOiJjZXJ0bG9va3VwLXJlY2VpcHQrandzIn0.eyJpZCI6InJjcHRfLi4uIn0.qiIduopMDItYy8"
    "50W30NASULlrZ1nJL_YgPt1cn7AcPYz6xYSrMVPL0DmjTx9AmXazg2mcLuzFpsppGgrbRDCA"
)
EXAMPLE_RECEIPT_IN: dict[str, Any] = {
    "name": "Severn NHS FT",
    "certificate_number": "ACT7325",
    "setting": "cqc",
    "reference": "tender 2026-114, bidder B-01",
}
EXAMPLE_RECEIPT: dict[str, Any] = {
    "id": "rcpt_8d1f0c2a6b7e4f93a1c5d2e07b4f6a19",
    "issued_at": "2026-12-02T10:15:00Z",
    "client": "kent-cc-procurement",
    "reference": "tender 2026-114, bidder B-01",
    "result": ex.RESULT,
    "jws": EXAMPLE_JWS,
    "url": "https://certlookup.example/v1/receipts/rcpt_8d1f0c2a6b7e4f93a1c5d2e07b4f6a19",
}
EXAMPLE_JWK: dict[str, Any] = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "udfpx05jSMDCi3nWkqhLdBBdhLa2GvTRXmIgs55ahYg",
    "kid": "gi09zfYn3gid9fqBrn0YxpBttRIB8YAfYWGsGinPiRc",
    "alg": "EdDSA",
    "use": "sig",
}


class ReceiptIn(RequestBody):
    """A check to answer and keep as a signed receipt: the fields of GET /v1/check, and your
    own reference."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_RECEIPT_IN]})
    # Checked by the same validation as GET /v1/check (with its error codes).
    text_checked_by_endpoint = frozenset(
        {"name", "certificate_number", "website", "as_of", "setting", "reference"}
    )

    name: str | None = Field(
        None, description="Provider name as written; optional when an identifier is given."
    )
    certificate_number: str | None = Field(
        None, description="Bild ACT certificate number, any case, spaces or hyphens."
    )
    website: str | None = Field(None, description="The provider's website, in any form.")
    as_of: str | None = Field(None, description="YYYY-MM-DD: answer for that date; omit for now.")
    setting: str | None = Field(None, description="cqc (default) or ofsted_only.")
    reference: str | None = Field(
        None,
        description="Your own reference, e.g. the tender and bidder (at most 200 characters); "
        "signed into the receipt.",
    )


class ReceiptOut(BaseModel):
    """A signed receipt: what was asked, the full answer, and the signature over both."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_RECEIPT]})

    id: str = Field(description="The receipt's id (random, unguessable).")
    issued_at: dt.datetime = Field(description="When the receipt was issued (UTC).")
    client: str = Field(description="The name of the API key it was issued to.")
    reference: str | None = Field(description="The reference given with the request.")
    result: CheckResult = Field(
        description="The full check result, exactly as GET /v1/check answers: the question "
        "as asked, the verdict, the evidence, the register version and its freshness."
    )
    jws: str = Field(
        description="Compact JWS (RFC 7515; alg EdDSA over Ed25519, kid naming the key in "
        "/.well-known/jwks.json) whose payload is this receipt without `jws`: every other "
        "field, exactly as here."
    )
    url: str = Field(description="Where the receipt can be fetched again (JSON or HTML).")


class VerifyIn(RequestBody):
    """A receipt's JWS to verify."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"jws": EXAMPLE_JWS}]})

    jws: str = Field(
        max_length=MAX_TOKEN_LENGTH,
        description="The compact JWS of a receipt (its `jws` field), as issued.",
    )


class VerifyOut(BaseModel):
    """Whether a JWS is a receipt this service signed and nobody altered, and why."""

    model_config = ConfigDict(
        use_enum_values=True,
        json_schema_extra={
            "examples": [
                {
                    "valid": True,
                    "reason": "valid",
                    "detail": "signed by this service's key; unaltered",
                    "kid": EXAMPLE_JWK["kid"],
                    "receipt": {k: v for k, v in EXAMPLE_RECEIPT.items() if k != "jws"},
                },
                {
                    "valid": False,
                    "reason": "bad_signature",
                    "detail": "the signature does not match the content: the receipt was "
                    "altered after signing",
                    "kid": EXAMPLE_JWK["kid"],
                    "receipt": None,
                },
            ]
        },
    )

    valid: bool = Field(description="True: signed by a key in the JWKS, and unaltered.")
    reason: Reason = Field(
        description="valid, malformed (not a compact JWS), unsupported_algorithm, "
        "unknown_key (no key with its kid in the JWKS), bad_signature (altered after "
        "signing) or not_a_receipt."
    )
    detail: str = Field(description="The reason in a sentence.")
    kid: str | None = Field(description="The key id the JWS names, when it names one.")
    receipt: dict[str, Any] | None = Field(
        description="The signed receipt (every field but jws), only when valid."
    )


class Jwk(BaseModel):
    """One public Ed25519 key (RFC 8037 OKP JWK)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_JWK]})

    kty: str = Field(description="Key type: OKP.")
    crv: str = Field(description="Curve: Ed25519.")
    x: str = Field(description="The public key, base64url.")
    kid: str = Field(description="Key id: the RFC 7638 thumbprint; a receipt's JWS names it.")
    alg: str = Field(description="EdDSA.")
    use: str = Field(description="sig: for verifying signatures.")


class Jwks(BaseModel):
    """The public keys that verify receipts: the current key and every retired one."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"keys": [EXAMPLE_JWK]}]})

    keys: list[Jwk] = Field(description="Every public key a receipt may name, current first.")
