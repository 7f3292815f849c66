"""Receipt signing keys: the current Ed25519 key, the public keys of retired ones, the JWKS.

A key's `kid` is its RFC 7638 thumbprint, so the same key always has the same id, whichever
process or machine loads it, and a rotated key keeps its id in the JWKS.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import OKPKey

from app.config import Environment, Settings

ALGORITHM = "EdDSA"
CURVE: Final = "Ed25519"
DEV_KEY_FILE = "receipt-signing-key.pem"
PEM_START = "-----BEGIN"

# RFC 9864 deprecates the polymorphic "EdDSA" for the fully specified "Ed25519"; receipts
# still name EdDSA (with an Ed25519 key), which every JOSE library verifies today. joserfc
# warns on each use, which would only repeat this comment in the logs.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)


class ReceiptKeyError(ValueError):
    """A signing or verification key that cannot be used, and why."""


def kid_of(key: OKPKey) -> str:
    """The key's id: its RFC 7638 JWK thumbprint (SHA-256, base64url)."""
    return str(key.thumbprint())


def public_jwk(key: OKPKey) -> dict[str, Any]:
    """The key's public half as a JWK, with kid, alg and use."""
    return {**key.as_dict(private=False), "kid": kid_of(key), "alg": ALGORITHM, "use": "sig"}


def parse_key(pem: str, *, private: bool, source: str = "the key") -> OKPKey:
    """An Ed25519 key from PEM text; `private` demands the private half."""
    try:
        key = OKPKey.import_key(pem.strip().encode())
    except (JoseError, ValueError, TypeError) as exc:
        raise ReceiptKeyError(f"{source} is not an Ed25519 PEM key: {exc}") from None
    if key.as_dict(private=False).get("crv") != CURVE:
        raise ReceiptKeyError(f"{source} is not an Ed25519 key")
    if private and not key.is_private:
        raise ReceiptKeyError(f"{source} is a public key: receipts need the private key")
    return key


def read_key_text(value: str) -> tuple[str, str]:
    """PEM text given inline or as a file path; returns the text and where it came from."""
    if value.lstrip().startswith(PEM_START):
        return value, "the PEM text given"
    path = Path(value).expanduser()
    try:
        return path.read_text(encoding="ascii"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ReceiptKeyError(f"cannot read the key file {path}: {exc}") from None


def generate_pem() -> str:
    """A new Ed25519 private key as PKCS#8 PEM."""
    key = OKPKey.generate_key(CURVE)
    return bytes(key.as_pem(private=True)).decode("ascii")


def public_pem(key: OKPKey) -> str:
    """The public half of a key, as SubjectPublicKeyInfo PEM."""
    return bytes(key.as_pem(private=False)).decode("ascii")


def development_key(data_dir: Path) -> Path:
    """The development signing key file under `data_dir`, generated the first time.

    Written to a temporary file and hard-linked into place, so several processes starting
    at once agree on one key and none reads a half-written file.
    """
    path = data_dir / DEV_KEY_FILE
    if path.exists():
        return path
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=data_dir, prefix=".receipt-key-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(generate_pem())
        os.chmod(temporary, 0o600)
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The key that signs new receipts and every public key a receipt may name."""

    signing: OKPKey
    public: Mapping[str, OKPKey]
    """kid -> public key: the signing key's and each retired key's."""

    @property
    def kid(self) -> str:
        """The id of the key that signs new receipts."""
        return kid_of(self.signing)

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set of every public key, the signing key's first."""
        return {"keys": [public_jwk(key) for key in self.public.values()]}


def key_ring(signing: OKPKey, retired: Iterable[OKPKey] = ()) -> KeyRing:
    """A ring signing with `signing`, that also verifies with the retired keys."""
    public = {kid_of(signing): OKPKey.import_key(signing.as_dict(private=False))}
    for key in retired:
        public.setdefault(kid_of(key), OKPKey.import_key(key.as_dict(private=False)))
    return KeyRing(signing, MappingProxyType(public))


def _signing_text(settings: Settings) -> tuple[str, str]:
    if settings.receipt_signing_key is not None:
        return read_key_text(settings.receipt_signing_key.get_secret_value())
    if settings.environment is Environment.PRODUCTION:
        raise ReceiptKeyError(
            "CERTLOOKUP_RECEIPT_SIGNING_KEY must be set in production (an Ed25519 private "
            "key as PEM text or a file path; `certlookup receipts keygen` makes one)"
        )
    if settings.environment is Environment.TEST:
        return generate_pem(), "a key generated for this test"
    return read_key_text(str(development_key(settings.data_dir)))


def load_key_ring(settings: Settings) -> KeyRing:
    """The key ring the settings describe; ReceiptKeyError says what is wrong with it."""
    text, source = _signing_text(settings)
    signing = parse_key(text, private=True, source=source)
    retired = []
    for entry in settings.receipt_retired_keys:
        retired_text, retired_source = read_key_text(entry)
        retired.append(parse_key(retired_text, private=False, source=retired_source))
    return key_ring(signing, retired)


def keys_from_jwks(document: object) -> dict[str, OKPKey]:
    """kid -> key of every Ed25519 key in a JWKS document (others are skipped)."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ReceiptKeyError('a JWKS is a JSON object with a "keys" list')
    found: dict[str, OKPKey] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("crv") != CURVE:
            continue
        try:
            key = OKPKey.import_key({k: v for k, v in entry.items() if k != "d"})
        except (JoseError, ValueError, TypeError):
            continue
        found[str(entry.get("kid") or kid_of(key))] = key
    return found
