"""Signing and verifying receipts: tampering, unknown keys, bad formats, key rotation."""

from __future__ import annotations

import json

import pytest

from app.receipts.keys import (
    ReceiptKeyError,
    generate_pem,
    key_ring,
    keys_from_jwks,
    parse_key,
    public_pem,
)
from app.receipts.signing import Reason, sign, verify
from tests.receipts import tampered

RECEIPT = {"id": "rcpt_1", "issued_at": "2026-12-02T10:00:00.000Z", "result": {"verdict": "x"}}


def _ring():  # type: ignore[no-untyped-def]
    return key_ring(parse_key(generate_pem(), private=True))


def test_a_signed_receipt_verifies_with_its_key_and_gives_back_the_receipt() -> None:
    ring = _ring()
    token = sign(ring, json.dumps(RECEIPT).encode())
    outcome = verify(token, ring.public)
    assert outcome.valid
    assert outcome.reason is Reason.VALID
    assert outcome.receipt == RECEIPT
    assert outcome.kid == ring.kid


def test_the_header_names_eddsa_and_the_key_id() -> None:
    from joserfc import jws

    ring = _ring()
    header = jws.extract_compact(sign(ring, b"{}").encode()).headers()
    assert header["alg"] == "EdDSA"
    assert header["kid"] == ring.kid


def test_one_changed_character_of_the_payload_is_detected() -> None:
    ring = _ring()
    token = sign(ring, json.dumps(RECEIPT).encode())
    outcome = verify(tampered(token), ring.public)
    assert not outcome.valid
    assert outcome.reason is Reason.BAD_SIGNATURE
    assert outcome.receipt is None


def test_a_receipt_re_signed_with_another_key_under_our_kid_is_refused() -> None:
    ours, theirs = _ring(), _ring()
    from joserfc import jws

    forged = jws.serialize_compact(
        {"alg": "EdDSA", "kid": ours.kid},
        json.dumps(RECEIPT).encode(),
        theirs.signing,
        algorithms=["EdDSA"],
    )
    assert verify(forged, ours.public).reason is Reason.BAD_SIGNATURE


def test_a_key_the_key_set_does_not_hold_is_unknown() -> None:
    token = sign(_ring(), json.dumps(RECEIPT).encode())
    outcome = verify(token, _ring().public)
    assert outcome.reason is Reason.UNKNOWN_KEY
    assert not outcome.valid


@pytest.mark.parametrize(
    "token",
    ["", "not a jws", "a.b.c", "a.b", "é.b.c", "....", "eyJhbGciOiJFZERTQSJ9..", "x" * 2_000_000],
)
def test_malformed_tokens_are_an_answer_not_an_exception(token: str) -> None:
    outcome = verify(token, _ring().public)
    assert not outcome.valid
    assert outcome.reason in {Reason.MALFORMED, Reason.UNKNOWN_KEY}


def test_another_algorithm_is_refused() -> None:
    from joserfc import jws
    from joserfc.jwk import OctKey

    token = jws.serialize_compact({"alg": "HS256", "kid": "k"}, b"{}", OctKey.generate_key(256))
    assert verify(token, _ring().public).reason is Reason.UNSUPPORTED_ALGORITHM


def test_a_rotated_ring_still_verifies_what_the_retired_key_signed() -> None:
    old = parse_key(generate_pem(), private=True)
    old_token = sign(key_ring(old), json.dumps(RECEIPT).encode())
    retired_public = parse_key(public_pem(old), private=False)
    rotated = key_ring(parse_key(generate_pem(), private=True), [retired_public])
    assert verify(old_token, rotated.public).valid
    new_token = sign(rotated, json.dumps(RECEIPT).encode())
    assert (
        verify(new_token, rotated.public).kid
        == rotated.kid
        != verify(old_token, rotated.public).kid
    )
    kids = [key["kid"] for key in rotated.jwks()["keys"]]
    assert kids[0] == rotated.kid
    assert len(kids) == 2


def test_the_jwks_holds_public_keys_only_and_reads_back() -> None:
    ring = _ring()
    document = ring.jwks()
    assert all("d" not in key for key in document["keys"])
    token = sign(ring, json.dumps(RECEIPT).encode())
    assert verify(token, keys_from_jwks(json.loads(json.dumps(document)))).valid


def test_a_public_key_cannot_sign_and_a_non_key_is_refused() -> None:
    key = parse_key(generate_pem(), private=True)
    with pytest.raises(ReceiptKeyError, match="public key"):
        parse_key(public_pem(key), private=True)
    with pytest.raises(ReceiptKeyError, match="not an Ed25519"):
        parse_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", private=True)
