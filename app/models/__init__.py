"""All ORM models, one module per domain, imported here so Alembic sees every table and
callers import from one place (`from app.models import Organisation`).

A new domain adds its module below and its names to `__all__`.
"""

from app.models.auth import ApiKey
from app.models.base import NAMING_CONVENTION, Base, UTCDateTime, utcnow
from app.models.ops import SchedulerHeartbeat
from app.models.receipts import Receipt
from app.models.register import (
    EventKind,
    Organisation,
    OrganisationEvent,
    OrganisationStatus,
    RegistryState,
    SyncArtifact,
    SyncLease,
    SyncOutcome,
    SyncRun,
)
from app.models.watches import Watch, WatchEvent
from app.models.webhooks import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "NAMING_CONVENTION",
    "ApiKey",
    "Base",
    "DeliveryStatus",
    "EventKind",
    "Organisation",
    "OrganisationEvent",
    "OrganisationStatus",
    "Receipt",
    "RegistryState",
    "SchedulerHeartbeat",
    "SyncArtifact",
    "SyncLease",
    "SyncOutcome",
    "SyncRun",
    "UTCDateTime",
    "Watch",
    "WatchEvent",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "utcnow",
]
