"""compose.yaml names the proxy it trusts; nothing tells uvicorn to trust everyone."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import yaml

from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[1]


def test_compose_trusts_forwarded_headers_from_its_own_gateway_only() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    api = compose["services"]["api"]["environment"]
    assert "FORWARDED_ALLOW_IPS" not in api
    trusted = make_settings("sqlite://", trusted_proxies=api["CERTLOOKUP_TRUSTED_PROXIES"])
    [pool] = compose["networks"]["default"]["ipam"]["config"]
    subnet = ipaddress.ip_network(pool["subnet"])
    assert trusted.trusted_proxies == [pool["gateway"]]
    assert ipaddress.ip_address(pool["gateway"]) in subnet


def test_no_deployment_file_trusts_every_address() -> None:
    for path in ("compose.yaml", "docs/deploy.md", "README.md", "Dockerfile"):
        text = (ROOT / path).read_text()
        assert 'FORWARDED_ALLOW_IPS="*"' not in text, path
        assert 'FORWARDED_ALLOW_IPS: "*"' not in text, path
