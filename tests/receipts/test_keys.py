"""Where the signing key comes from: production demands one, development makes one once,
a configured key (PEM text or file) is used, retired keys stay published."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.main import create_app
from app.receipts.keys import (
    DEV_KEY_FILE,
    ReceiptKeyError,
    generate_pem,
    kid_of,
    load_key_ring,
    parse_key,
    public_pem,
)


def _settings(**env: object) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[arg-type]


def test_production_refuses_to_start_without_a_signing_key(tmp_path: Path) -> None:
    settings = _settings(
        environment="production",
        key_pepper="a-real-secret",
        database_url=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    with pytest.raises(ReceiptKeyError, match="CERTLOOKUP_RECEIPT_SIGNING_KEY"):
        create_app(settings)


def test_development_generates_one_key_under_the_data_dir_and_reuses_it(tmp_path: Path) -> None:
    first = load_key_ring(_settings(environment="development", data_dir=tmp_path))
    second = load_key_ring(_settings(environment="development", data_dir=tmp_path))
    assert first.kid == second.kid
    key_file = tmp_path / DEV_KEY_FILE
    assert key_file.stat().st_mode & 0o077 == 0, "the private key is readable by others"
    assert list(tmp_path.iterdir()) == [key_file], "a temporary file was left behind"


def test_the_key_is_taken_from_pem_text_or_a_file(tmp_path: Path) -> None:
    pem = generate_pem()
    kid = kid_of(parse_key(pem, private=True))
    path = tmp_path / "signing.pem"
    path.write_text(pem)
    for given in (pem, str(path)):
        settings = _settings(
            environment="production", key_pepper="a-real-secret", receipt_signing_key=given
        )
        ring = load_key_ring(settings)
        assert ring.kid == kid


def test_a_missing_or_public_signing_key_is_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ReceiptKeyError, match="cannot read the key file"):
        load_key_ring(_settings(receipt_signing_key=str(tmp_path / "missing.pem")))
    public = public_pem(parse_key(generate_pem(), private=True))
    with pytest.raises(ReceiptKeyError, match="public key"):
        load_key_ring(_settings(receipt_signing_key=public))


def test_retired_keys_are_published_beside_the_current_one(tmp_path: Path) -> None:
    retired = [parse_key(generate_pem(), private=True) for _ in range(2)]
    files = []
    for i, key in enumerate(retired):
        files.append(tmp_path / f"old-{i}.pem")
        files[-1].write_text(public_pem(key))
    ring = load_key_ring(
        _settings(
            receipt_signing_key=generate_pem(),
            receipt_retired_keys=f"{files[0]}, {files[1]}",
        )
    )
    kids = [key["kid"] for key in ring.jwks()["keys"]]
    assert kids == [ring.kid, *(kid_of(key) for key in retired)]
