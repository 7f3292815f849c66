"""Webhook tests run the API with private targets allowed (the receiver is on 127.0.0.1)
and the short retry schedule the issue names for tests (1, 2, 4 seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.config import Settings
from tests.api.conftest import (  # noqa: F401
    app,
    client,
    sample_synced,
    site,
    sync_site,
    synced_client,
)
from tests.conftest import make_settings
from tests.support.httpserver import LocalServer
from tests.support.receiver import Receiver, receiving


@pytest.fixture
def api_settings(database_url: str, site: LocalServer) -> Settings:  # noqa: F811
    return make_settings(
        database_url,
        source_url=site.url,
        webhook_allow_private=True,
        webhook_retry_schedule="1,2,4",
        webhook_disable_after=2,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running
