"""`certlookup receipts keygen` and `certlookup receipts verify FILE --jwks URL_OR_FILE`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from app.receipts.keys import (
    ReceiptKeyError,
    generate_pem,
    keys_from_jwks,
    kid_of,
    parse_key,
    public_pem,
)
from app.receipts.signing import Verification, verify

receipts_cli = typer.Typer(
    help="Signed receipts: make a signing key, verify a receipt offline.", no_args_is_help=True
)
console = Console(stderr=True)
EXIT_INVALID, EXIT_UNUSABLE = 1, 2


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only; never overwrite a key."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        console.print(f"[red]{path} exists[/]: not overwriting a key")
        raise typer.Exit(EXIT_UNUSABLE) from None
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(text)


@receipts_cli.command("keygen")
def keygen(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the private key here (mode 0600)."),
    ] = None,
    public: Annotated[
        Path | None, typer.Option(help="Also write the public key here (for retiring it).")
    ] = None,
) -> None:
    """Make an Ed25519 signing key for CERTLOOKUP_RECEIPT_SIGNING_KEY (PEM)."""
    pem = generate_pem()
    key = parse_key(pem, private=True)
    if output is None:
        sys.stdout.write(pem)
    else:
        _write_private(output, pem)
    if public is not None:
        public.write_text(public_pem(key), encoding="ascii")
    console.print(f"kid {kid_of(key)}")


def _token_and_fields(path: Path) -> tuple[str, dict[str, Any] | None]:
    """The JWS in a file: a receipt as the API returns it (JSON with `jws`), or the bare JWS.

    For a receipt, also its other fields, to compare with what was signed.
    """
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except ValueError:
        return text.strip(), None
    if isinstance(document, dict) and isinstance(document.get("jws"), str):
        return document["jws"], {k: v for k, v in document.items() if k != "jws"}
    if isinstance(document, str):
        return document, None
    raise ValueError("the JSON holds no `jws` field")


def _jwks(source: str) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        response = httpx.get(source, timeout=30, follow_redirects=True)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document
    loaded: dict[str, Any] = json.loads(Path(source).read_text(encoding="utf-8"))
    return loaded


def _print_outcome(outcome: Verification, edited: bool) -> None:
    if outcome.valid and not edited:
        receipt = outcome.receipt or {}
        result = receipt.get("result", {})
        console.print(f"[bold green]valid[/]: {outcome.detail} (kid {outcome.kid})")
        console.print(
            f"receipt {receipt.get('id')} issued {receipt.get('issued_at')} to "
            f"{receipt.get('client')}: {result.get('verdict')} — {result.get('explanation')}"
        )
        return
    if outcome.valid:
        console.print(
            "[bold red]invalid[/]: edited: the JWS is intact, but the receipt's other fields "
            "in this file differ from what was signed"
        )
        return
    console.print(f"[bold red]invalid[/]: {outcome.reason.value}: {outcome.detail}")


@receipts_cli.command("verify")
def verify_command(
    file: Annotated[
        Path,
        typer.Argument(help="A receipt as the API returns it (JSON), or its JWS; - reads stdin."),
    ],
    jwks: Annotated[
        str,
        typer.Option(
            help="The service's /.well-known/jwks.json: a URL, or a saved file (offline)."
        ),
    ],
) -> None:
    """Check a receipt's signature against the published keys. Exit 0 valid, 1 invalid."""
    try:
        token, fields = _token_and_fields(file)
        keys = keys_from_jwks(_jwks(jwks))
    except (OSError, ValueError, httpx.HTTPError, ReceiptKeyError) as exc:
        console.print(f"[red]cannot verify[/]: {exc}")
        raise typer.Exit(EXIT_UNUSABLE) from None
    outcome = verify(token, keys)
    edited = outcome.valid and fields is not None and fields != outcome.receipt
    _print_outcome(outcome, edited)
    if not outcome.valid or edited:
        raise typer.Exit(EXIT_INVALID)
