"""A spreadsheet upload: the request body read within its limit, raw or as a multipart
`file` field, and what kind of file it is (CSV or XLSX)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

from fastapi import Request
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from app.errors import InvalidInput, ServiceError

MAX_FILE_BYTES = 10 * 1024 * 1024
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"
MULTIPART = "multipart/form-data"
MULTIPART_OVERHEAD = 64 * 1024
"""Room for a multipart body's boundaries and part headers beyond the file's own limit."""


class FileKind(StrEnum):
    """The spreadsheet formats read and written."""

    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        """The media type a file of this kind is sent with."""
        return XLSX_MEDIA_TYPE if self is FileKind.XLSX else CSV_MEDIA_TYPE


# Declared media types that name a kind. Browsers on Windows label a .csv upload
# application/vnd.ms-excel, so that one (and the generic ones) defer to the file name.
_MEDIA_KINDS = {
    CSV_MEDIA_TYPE: FileKind.CSV,
    "application/csv": FileKind.CSV,
    "text/tab-separated-values": FileKind.CSV,
    XLSX_MEDIA_TYPE: FileKind.XLSX,
}
_GENERIC_MEDIA = {"", "application/octet-stream", "application/vnd.ms-excel", "text/plain"}
_EXTENSION_KINDS = {
    ".csv": FileKind.CSV,
    ".tsv": FileKind.CSV,
    ".txt": FileKind.CSV,
    ".xlsx": FileKind.XLSX,
}


@dataclass(frozen=True, slots=True)
class Upload:
    """The bytes of an uploaded spreadsheet, its kind and (from a multipart form) its name."""

    data: bytes
    kind: FileKind
    filename: str | None = None


def too_large(limit: int) -> ServiceError:
    """The 413 for a file over the limit, saying what the limit is."""
    return ServiceError(
        f"the file is larger than the limit of {limit:,} bytes ({limit // (1024 * 1024)} MB)",
        code="file_too_large",
        status=413,
        limit_bytes=limit,
    )


def _unsupported(media_type: str) -> ServiceError:
    return ServiceError(
        f"send a CSV ({CSV_MEDIA_TYPE}) or an XLSX workbook ({XLSX_MEDIA_TYPE}), raw or as "
        f"the multipart field 'file'; got {media_type or 'no Content-Type'}",
        code="unsupported_media_type",
        status=415,
    )


def media_type_of(content_type: str | None) -> str:
    """The bare, lower-case media type of a Content-Type value."""
    return (content_type or "").split(";")[0].strip().lower()


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def kind_of(media_type: str, filename: str | None) -> FileKind | None:
    """The kind a declared media type (or, for a generic one, the file name) names."""
    if media_type in _MEDIA_KINDS:
        return _MEDIA_KINDS[media_type]
    if media_type in _GENERIC_MEDIA and filename:
        return _EXTENSION_KINDS.get(PurePath(filename).suffix.lower())
    return None


async def _once(data: bytes) -> AsyncGenerator[bytes, None]:
    yield data


async def _file_field(headers: Headers, body: bytes) -> UploadFile:
    parser = MultiPartParser(headers, _once(body), max_files=1, max_fields=20)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput(f"the multipart body is malformed: {exc}", code="invalid_file") from None
    field = form.get("file")
    if not isinstance(field, UploadFile):
        await form.close()
        raise InvalidInput("the multipart body has no file field named 'file'", code="file_missing")
    others = sorted({name for name in form if name != "file"})
    if others:
        await form.close()
        raise InvalidInput(
            f"the multipart body may hold only the field 'file', not {', '.join(others)}",
            code="invalid_file",
        )
    return field


async def read_upload(request: Request, limit: int = MAX_FILE_BYTES) -> Upload:
    """The uploaded spreadsheet: 415 for a type that is not CSV or XLSX, 413 past `limit`."""
    media_type = media_type_of(request.headers.get("content-type"))
    if media_type != MULTIPART:
        kind = kind_of(media_type, None)
        if kind is None:
            raise _unsupported(media_type)
        return Upload(await read_limited(request, limit), kind)
    body = await read_limited(request, limit + MULTIPART_OVERHEAD)
    field = await _file_field(request.headers, body)
    del body
    kind = kind_of(media_type_of(field.content_type), field.filename)
    if kind is None:
        await field.close()
        raise _unsupported(media_type_of(field.content_type))
    try:
        data = await field.read()
    finally:
        await field.close()
    if len(data) > limit:
        raise too_large(limit)
    return Upload(data, kind, field.filename)
