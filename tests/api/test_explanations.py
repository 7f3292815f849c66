"""The explanation says what the verdict, warnings and meets_cqc_expectation say, for every
organisation of the sample register, asked by name and by certificate number, in a CQC and
an Ofsted-only setting, on fresh and on stale data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import RegistryState
from tests.api.conftest import register_dev

CLAIMS = ("a certified training service", "an affiliate of a certified provider")
# Warnings after which a certified or affiliate listing cannot be called certified training.
UNRELIABLE = {"certificate_expired", "parent_not_certified", "register_stale"}


def _questions() -> Iterator[dict[str, str]]:
    for organisation in register_dev():
        for setting in ("cqc", "ofsted_only"):
            yield {"name": organisation["name"], "setting": setting}
            if organisation.get("certificate_number"):
                yield {"certificate_number": organisation["certificate_number"], "setting": setting}


def _disagreements(answer: dict[str, Any]) -> list[str]:
    """What the explanation leaves out or contradicts (empty when it agrees)."""
    text, codes = answer["explanation"], {w["code"] for w in answer["warnings"]}
    found = [f"{w['code']} not said" for w in answer["warnings"] if w["message"] not in text]
    claims = any(claim in text for claim in CLAIMS)
    listed = answer["verdict"] in ("certified", "affiliate")
    if claims != (listed and not codes & UNRELIABLE):
        found.append("claims certified training" if claims else "does not say it is certified")
    if claims and answer["cqc_expectation_applies"] and answer["meets_cqc_expectation"] is not True:
        found.append("claims certified training, but meets_cqc_expectation is not true")
    if answer["meets_cqc_expectation"] is True and not claims:
        found.append("meets the CQC expectation, but does not say it is certified")
    return found


def _check_all(client: TestClient) -> dict[str, list[str]]:
    problems = {}
    for params in _questions():
        answer = client.get("/v1/check", params=params).json()
        found = _disagreements(answer)
        if found:
            problems[f"{params} -> {answer['explanation']}"] = found
    return problems


def test_every_explanation_agrees_with_its_warnings(synced_client: TestClient) -> None:
    assert _check_all(synced_client) == {}


def test_an_expired_certificate_is_not_called_certified_training(
    synced_client: TestClient,
) -> None:
    answer = synced_client.get("/v1/check", params={"name": "Medway NHS Foundation Trust"}).json()
    assert answer["verdict"] == "certified"
    assert answer["meets_cqc_expectation"] is None
    assert "certified training service" not in answer["explanation"]
    assert "valid until 2025-12-23" in answer["explanation"]


def test_explanations_agree_on_stale_data(app: FastAPI, synced_client: TestClient) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    with Session(app.state.engine) as session, session.begin():
        session.execute(update(RegistryState).values(last_synced_at=long_ago))
    app.state.holder.refresh(force=True)
    answer = synced_client.get("/v1/check", params={"name": "Severn NHS FT"}).json()
    assert {w["code"] for w in answer["warnings"]} == {"register_stale"}
    assert _check_all(synced_client) == {}
