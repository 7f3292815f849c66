"""Webhook endpoints of a key (the watch scope): register, list, delete, enable, test, attempts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.auth.dependencies import WatchAccess
from app.deps import SessionDep
from app.models import utcnow
from app.register.http import MAX_PAGE_SIZE, problem_doc
from app.schemas import example_value
from app.watches.router import WATCH_ERRORS
from app.watches.service import owner_of
from app.web import require_json
from app.webhooks import service
from app.webhooks.guard import AddressGuard
from app.webhooks.schemas import (
    AttemptPage,
    TestEventOut,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookOut,
)

router = APIRouter(prefix="/v1", tags=["webhooks"])
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: problem_doc("webhook_not_found: you have no webhook with this id.")}
URL_ERRORS = (
    "webhook_url_invalid (not https, malformed), webhook_url_not_allowed (resolves to a "
    "loopback, private, link-local or other non-public address), webhook_url_unresolvable"
)
WebhookId = Annotated[
    int,
    Path(
        ge=1,
        le=2**31 - 1,
        description="The webhook's id.",
        openapi_examples=example_value(1, "Your first webhook"),
    ),
]


def get_guard(request: Request) -> AddressGuard:
    """The app's address guard (tests may give it a resolver of their own)."""
    guard: AddressGuard = request.app.state.address_guard
    return guard


GuardDep = Annotated[AddressGuard, Depends(get_guard)]


@router.post(
    "/webhooks",
    operation_id="create_webhook",
    summary="Register a webhook for your watch events",
    status_code=201,
    response_model=WebhookCreated,
    dependencies=[Depends(require_json)],
    responses={
        **WATCH_ERRORS,
        409: problem_doc("webhook_limit_reached: a key may have at most 10 webhooks."),
        415: problem_doc("unsupported_media_type: the body is not application/json."),
        422: problem_doc(f"validation_error, {URL_ERRORS}."),
    },
)
def create_webhook(
    body: WebhookIn, session: SessionDep, client: WatchAccess, guard: GuardDep
) -> WebhookCreated:
    """Every event of your key goes to each of its webhooks, signed (Standard Webhooks)."""
    return service.create_webhook(session, owner_of(client), body, guard, utcnow())


@router.get(
    "/webhooks",
    operation_id="list_webhooks",
    summary="Your webhooks",
    response_model=WebhookList,
    responses=WATCH_ERRORS,
)
def list_webhooks(session: SessionDep, client: WatchAccess) -> WebhookList:
    """Every webhook of your key (secrets are never shown again)."""
    return WebhookList(items=service.list_webhooks(session, owner_of(client)))


@router.delete(
    "/webhooks/{id}",
    operation_id="delete_webhook",
    summary="Delete a webhook",
    status_code=204,
    response_class=Response,
    responses={**WATCH_ERRORS, **NOT_FOUND, 422: problem_doc("validation_error.")},
)
def delete_webhook(id: WebhookId, session: SessionDep, client: WatchAccess) -> Response:
    """Stop sending to it; its pending deliveries are dropped."""
    service.delete_webhook(session, owner_of(client), id)
    return Response(status_code=204)


@router.post(
    "/webhooks/{id}/enable",
    operation_id="enable_webhook",
    summary="Re-enable a disabled webhook",
    response_model=WebhookOut,
    responses={**WATCH_ERRORS, **NOT_FOUND, 422: problem_doc(f"validation_error, {URL_ERRORS}.")},
)
def enable_webhook(
    id: WebhookId, session: SessionDep, client: WatchAccess, guard: GuardDep
) -> WebhookOut:
    """Checks the URL again, then delivers what was held while it was disabled, in order."""
    return service.enable_webhook(session, owner_of(client), id, guard)


@router.post(
    "/webhooks/{id}/test",
    operation_id="test_webhook",
    summary="Send a webhook.test event",
    status_code=202,
    response_model=TestEventOut,
    responses={
        **WATCH_ERRORS,
        **NOT_FOUND,
        409: problem_doc("webhook_disabled: re-enable it first."),
        422: problem_doc("validation_error."),
    },
)
def test_webhook(id: WebhookId, session: SessionDep, client: WatchAccess) -> TestEventOut:
    """Queue a signed webhook.test event for this webhook; see its deliveries for the result."""
    return service.queue_test_event(session, owner_of(client), id, utcnow())


@router.get(
    "/webhooks/{id}/deliveries",
    operation_id="list_webhook_deliveries",
    summary="Delivery attempts of a webhook, newest first",
    response_model=AttemptPage,
    responses={**WATCH_ERRORS, **NOT_FOUND, 422: problem_doc("validation_error, invalid_cursor.")},
)
def list_webhook_deliveries(
    id: WebhookId,
    session: SessionDep,
    client: WatchAccess,
    after: Annotated[
        str | None, Query(max_length=100, description="A `next_cursor` from the previous page.")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, 1-{MAX_PAGE_SIZE}.")
    ] = 50,
) -> AttemptPage:
    """Each attempt: when, the status code or error, how long, the next retry."""
    return service.list_attempts(session, owner_of(client), id, after, limit)
