"""The API fixtures (site, app, synced_client, ...) for the file tests that compare with the API."""

from tests.api.conftest import (  # noqa: F401
    api_settings,
    app,
    client,
    sample_synced,
    site,
    synced_client,
)
