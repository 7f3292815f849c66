"""POST /v1/receipts, GET /v1/receipts/{id}, POST /v1/receipts/verify, GET /.well-known/jwks.json.

Issuing and reading receipts takes an API key with the read scope (a receipt is kept for
the key that asked, so public reads without a key cannot have one). Verifying and the
public keys need no key at all: an auditor has no account.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Request, Response

from app.auth.dependencies import ReadAccess
from app.checks.inputs import validate_query
from app.checks.verdicts import Clock, decide
from app.deps import SessionDep, SettingsDep, SnapshotDep
from app.receipts import service
from app.receipts.keys import KeyRing
from app.receipts.page import VERIFY_FORM_PATH, receipt_page, verification_page, wants_html
from app.receipts.schemas import EXAMPLE_RECEIPT, Jwks, ReceiptIn, ReceiptOut, VerifyIn, VerifyOut
from app.receipts.signing import verify
from app.register.http import problem_doc
from app.watches.service import validate_reference
from app.web import require_json

router = APIRouter(tags=["receipts"])
KEY_ERRORS: dict[int | str, dict[str, Any]] = {
    401: problem_doc("unauthorized: missing or unknown API key (receipts need a key)."),
    403: problem_doc("forbidden: the key lacks the read scope."),
    429: problem_doc("rate_limited: too many requests; see Retry-After."),
}
ReceiptId = Annotated[
    str,
    Path(
        max_length=40,
        description="The receipt's id (rcpt_...).",
        openapi_examples={"receipt": {"summary": "a receipt's id", "value": EXAMPLE_RECEIPT["id"]}},
    ),
]
JWKS_CACHE = "public, max-age=300"
EXAMPLE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Receipt '
    f"{EXAMPLE_RECEIPT['id']}</title>...</head><body><h1>Certification check receipt ...</h1>"
    "<h2>What was asked</h2>...<h2>The answer</h2>...<h2>The evidence</h2>...<h2>Register "
    "and time</h2>...<h2>Signature</h2>...</body></html>"
)


async def get_key_ring(request: Request) -> KeyRing:
    """The app's receipt keys (loaded by create_app)."""
    ring: KeyRing = request.app.state.receipt_keys
    return ring


KeyRingDep = Annotated[KeyRing, Depends(get_key_ring)]


def _issuer(
    request: Request, ring: KeyRing, settings: SettingsDep, client: ReadAccess
) -> service.Issuer:
    base = str(request.base_url).rstrip("/")
    return service.Issuer(ring, Clock.for_settings(settings), client, base)


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.post(
    "/v1/receipts",
    operation_id="create_receipt",
    summary="Check a provider and keep the answer as a signed receipt",
    status_code=201,
    response_model=ReceiptOut,
    dependencies=[Depends(require_json)],
    responses={
        **KEY_ERRORS,
        415: problem_doc("unsupported_media_type: the body is not application/json."),
        422: problem_doc(
            "validation_error, name_empty, name_too_long, name_invalid_characters, "
            "certificate_number_invalid, website_invalid, invalid_date, date_in_future, "
            "invalid_setting, invalid_reference, invalid_encoding."
        ),
        503: problem_doc("index_not_ready: the register index is not loaded yet."),
    },
)
def create_receipt(
    body: ReceiptIn,
    request: Request,
    session: SessionDep,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    client: ReadAccess,
    ring: KeyRingDep,
) -> Response:
    """Answer as GET /v1/check does, sign the answer, keep it; 201 with the receipt."""
    issuer = _issuer(request, ring, settings, client)
    service.owner_of(client)  # before any work: anonymous callers have no receipts
    query = validate_query(
        body.name,
        body.as_of,
        body.setting,
        issuer.clock.now.date(),
        body.certificate_number,
        body.website,
    )
    reference = validate_reference(body.reference)
    result = decide(snapshot, query, issuer.clock)
    (receipt,) = service.issue_receipts(session, issuer, [(result, reference)])
    return _json(receipt, status=201)


@router.get(
    "/v1/receipts/{id}",
    operation_id="get_receipt",
    summary="One of your receipts, as JSON or as a printable page",
    response_model=ReceiptOut,
    responses={
        200: {
            "description": "The receipt exactly as issued (JSON); with `Accept: text/html`, "
            "a one-page printable receipt.",
            "content": {
                "application/json": {"example": EXAMPLE_RECEIPT},
                "text/html": {"schema": {"type": "string"}, "example": EXAMPLE_PAGE},
            },
        },
        **KEY_ERRORS,
        404: problem_doc("receipt_not_found: you have no receipt with this id."),
        422: problem_doc("validation_error: the id is too long."),
    },
)
def get_receipt(
    id: ReceiptId, request: Request, session: SessionDep, client: ReadAccess
) -> Response:
    """A receipt of your key (another client's is not found), as JSON or HTML."""
    receipt = service.get_receipt(session, client, id)
    if wants_html(request.headers.get("accept")):
        base = str(request.base_url).rstrip("/")
        return receipt_page(receipt, base)
    return _json(receipt)


@router.post(
    "/v1/receipts/verify",
    operation_id="verify_receipt",
    summary="Verify a receipt's signature (no key needed)",
    response_model=VerifyOut,
    dependencies=[Depends(require_json)],
    responses={
        413: problem_doc("body_too_large: the body is over 2 MB."),
        415: problem_doc("unsupported_media_type: the body is not application/json."),
        422: problem_doc('validation_error: the body is not {"jws": "..."}.'),
    },
)
async def verify_receipt(body: VerifyIn, ring: KeyRingDep) -> VerifyOut:
    """Is this JWS a receipt signed by this service (current or retired key), unaltered?"""
    outcome = verify(body.jws, ring.public)
    return VerifyOut(
        valid=outcome.valid,
        reason=outcome.reason,
        detail=outcome.detail,
        kid=outcome.kid,
        receipt=outcome.receipt,
    )


@router.get(
    "/.well-known/jwks.json",
    operation_id="get_jwks",
    summary="The public keys that verify receipts (JWKS)",
    response_model=Jwks,
)
async def get_jwks(ring: KeyRingDep) -> Response:
    """Every public key a receipt may name: the current one and each retired one."""
    return Response(
        orjson.dumps(ring.jwks()),
        media_type="application/json",
        headers={"Cache-Control": JWKS_CACHE},
    )


@router.post(VERIFY_FORM_PATH, include_in_schema=False)
async def verify_receipt_form(request: Request, ring: KeyRingDep) -> Response:
    """The printable receipt's "verify this signature" form: the answer as a page."""
    form = await request.form(max_files=0, max_fields=5)
    token = form.get("jws")
    return verification_page(verify(token if isinstance(token, str) else "", ring.public))
