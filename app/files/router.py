"""POST /v1/check/file: a CSV or XLSX of providers in, the same sheet with answers out."""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.auth.dependencies import ReadAccess
from app.checks.inputs import validate_as_of, validate_setting
from app.checks.verdicts import Clock
from app.deps import SettingsDep, SnapshotDep
from app.errors import ServiceError
from app.files.examples import FILE_REQUEST_BODY, FILE_RESPONSES
from app.files.service import CheckedFile, FileOptions, check_upload
from app.files.upload import MAX_FILE_BYTES, MULTIPART_OVERHEAD, FileKind, Upload, read_upload
from app.receipts.service import issuer_for, receipt_hook

router = APIRouter(prefix="/v1", tags=["checks"])
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def output_kind(accept: str | None, uploaded: FileKind) -> FileKind:
    """The kind of file to answer with: what Accept prefers, else the upload's own kind."""
    ranges: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept or "").split(",")):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media.strip():
            ranges.append((-quality, position, media.strip().lower()))
    if not ranges:
        return uploaded
    for negative_quality, _, media in sorted(ranges):
        if negative_quality >= 0:
            break  # q=0: not acceptable, and every later range is q=0 too
        for kind in (uploaded, *FileKind):
            if media in ("*/*", kind.media_type, kind.media_type.split("/")[0] + "/*"):
                return kind
    raise ServiceError(
        f"this operation answers {FileKind.CSV.media_type} or {FileKind.XLSX.media_type}; "
        f"Accept asked for {accept}",
        code="not_acceptable",
        status=406,
    )


def _download_name(upload: Upload, extension: str) -> str:
    stem = _UNSAFE_FILENAME.sub("_", PurePath(upload.filename or "").stem).strip("._")
    return f"{stem[:100] or 'providers'}-checked.{extension}"


def _text_parameter(description: str) -> Any:
    return Query(max_length=300, description=description)


@router.post(
    "/check/file",
    operation_id="check_file",
    summary="Check every provider in a CSV or XLSX file",
    response_class=Response,
    responses=FILE_RESPONSES,
    openapi_extra={"requestBody": FILE_REQUEST_BODY},
    # Above the JSON default (CERTLOOKUP_MAX_BODY_BYTES): app/route_guard.py enforces it
    # before the body is read; read_upload still checks the file's own size.
    max_body_size=MAX_FILE_BYTES + MULTIPART_OVERHEAD,
)
async def check_file(
    request: Request,
    snapshot: SnapshotDep,
    settings: SettingsDep,
    client: ReadAccess,
    column: Annotated[
        str | None,
        _text_parameter(
            "The name column: its header text or 1-based position. Default: a "
            "header such as Provider, Supplier, Organisation or Name, else column 1."
        ),
    ] = None,
    certificate_column: Annotated[
        str | None,
        _text_parameter(
            "The certificate number column (header text or 1-based position). "
            "Default: a header such as Certificate number, if there is one."
        ),
    ] = None,
    website_column: Annotated[
        str | None,
        _text_parameter(
            "The website column (header text or 1-based position). Default: a "
            "header such as Website or URL, if there is one."
        ),
    ] = None,
    sheet: Annotated[
        str | None, _text_parameter("XLSX: the sheet to check (default: the first).")
    ] = None,
    as_of: Annotated[
        str | None, _text_parameter("YYYY-MM-DD: answer every row for that date.")
    ] = None,
    setting: Annotated[
        str | None, _text_parameter("cqc (default) or ofsted_only, for every row.")
    ] = None,
    receipts: Annotated[
        bool,
        Query(
            description="Issue a signed receipt for every answered row, its id in a "
            "`receipt_id` column (GET /v1/receipts/{id}). Needs an API key."
        ),
    ] = False,
) -> Response:
    """Answer every row of a spreadsheet; the same sheet comes back with answer columns."""
    clock = Clock.for_settings(settings)
    validate_as_of(as_of, clock.now.date())
    validate_setting(setting)
    out_kind = output_kind(request.headers.get("accept"), FileKind.CSV)  # refuse early
    issuer = issuer_for(request, client, clock) if receipts else None  # 401 without a key
    engine = request.app.state.engine
    upload = await read_upload(request)
    out_kind = output_kind(request.headers.get("accept"), upload.kind)
    options = FileOptions(column, certificate_column, website_column, as_of, setting)

    def work() -> CheckedFile:
        with receipt_hook(engine, issuer, upload.filename) as hook:
            checked = check_upload(upload, sheet, out_kind, options, snapshot, clock, receipts=hook)
        request.state.verdicts = checked.report.verdicts  # counted like GET checks (metrics)
        return checked

    # Reading, deciding and writing up to 10,000 rows is CPU work: off the event loop.
    checked = await run_in_threadpool(work)
    disposition = f'attachment; filename="{_download_name(upload, checked.extension)}"'
    return Response(
        checked.data, media_type=checked.media_type, headers={"Content-Disposition": disposition}
    )
