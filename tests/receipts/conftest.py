"""The API fixtures (site, app, client, synced_client, sync_site) for the receipt tests."""

from tests.api.conftest import (  # noqa: F401
    api_settings,
    app,
    as_admin,
    client,
    sample_synced,
    site,
    sync_site,
    synced_client,
)
