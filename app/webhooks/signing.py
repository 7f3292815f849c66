"""Standard Webhooks secrets and signatures, through the `standardwebhooks` package."""

from __future__ import annotations

import base64
import datetime as dt
import math
import secrets

from standardwebhooks.webhooks import Webhook as StandardWebhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix the spec names, not a secret)
SECRET_BYTES = 32  # the spec asks for 24 to 64 random bytes


def new_secret() -> str:
    """A signing secret as receivers configure it: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(secret: str, message_id: str, body: str, now: dt.datetime) -> dict[str, str]:
    """The webhook-id, webhook-timestamp and webhook-signature headers for one attempt.

    Each attempt is signed afresh with its own timestamp (receivers refuse old ones); the id
    stays the same across attempts, so receivers can de-duplicate.
    """
    signature = StandardWebhook(secret).sign(message_id, now, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(math.floor(now.timestamp())),
        "webhook-signature": signature,
    }
