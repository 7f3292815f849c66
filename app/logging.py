"""Structured logging: JSON lines in production, readable console output in development.

Every line goes to stderr through one writer per stream (structlog's `BytesLogger`: one lock,
one write and flush per whole line), rendered by the same processors, by two ways in:

- the access log (`access_logger`, a line per HTTP request) runs the same processors itself
  and writes straight to the stream (`AccessLogger`). Through stdlib logging each line cost
  about as much as the lookup it logged (a LogRecord, a copy of it in ProcessorFormatter,
  the stdlib JSON encoder; benchmarks/reports/check.md);
- everything else, structlog loggers in app code and stdlib loggers in libraries, goes
  through stdlib logging and structlog's ProcessorFormatter, so levels stay adjustable per
  logger.

JSON is rendered by orjson: UTF-8 (non-ASCII characters are not \\u-escaped), datetimes and
UUIDs as strings, other unknown objects as their repr.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, BinaryIO, TextIO, cast

import orjson
import structlog
from structlog.contextvars import merge_contextvars
from structlog.processors import format_exc_info
from structlog.typing import EventDict, Processor, WrappedLogger

from app.config import Settings

ACCESS_LOGGER = "app.access"


class UtcTimestamp:
    """Adds `timestamp`, ISO 8601 in UTC with microseconds (2026-01-31T09:05:00.123456Z).

    What structlog's TimeStamper(fmt="iso", utc=True) writes, at half its cost (callgrind:
    17,000 fewer instructions per request line): the date and time are formatted once a
    second, not per line.
    """

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")  # one tuple: threads read a matching pair

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        second, micro = divmod(time.time_ns() // 1000, 1_000_000)
        cached, prefix = self._second
        if second != cached:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, prefix)
        event_dict["timestamp"] = f"{prefix}.{micro:06d}Z"
        return event_dict


_TIMESTAMP = UtcTimestamp()
_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    _TIMESTAMP,
]


def _json_default(obj: Any) -> Any:
    """What orjson cannot encode: the object's `__structlog__()` if it has one, else its repr."""
    to_log = getattr(obj, "__structlog__", None)
    return to_log() if callable(to_log) else repr(obj)


def render_json(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> bytes:
    """The event as one line of JSON, without the newline.

    The stdlib encoder takes what orjson refuses (integers over 64 bits, lone surrogates), so
    every event becomes a line.
    """
    try:
        return orjson.dumps(event_dict, default=_json_default, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(event_dict, default=_json_default, skipkeys=True).encode()


def wants_json(settings: Settings, stream: TextIO | None = None) -> bool:
    """JSON lines unless asked for console lines, or unless unset and `stream` (stderr) is a
    terminal: a person at `certlookup sync` reads lines, a log collector parses JSON."""
    if settings.log_json is not None:
        return settings.log_json
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


Renderer = Callable[[WrappedLogger, str, EventDict], bytes]


def _render_bytes(settings: Settings) -> Renderer:
    """The final processor: the event rendered to bytes, as JSON or as a console line."""
    if wants_json(settings):
        return render_json
    console = structlog.dev.ConsoleRenderer(colors=False)

    def render_console(logger: WrappedLogger, method: str, event_dict: EventDict) -> bytes:
        return console(logger, method, event_dict).encode("utf-8", "backslashreplace")

    return render_console


def _binary(stream: TextIO) -> BinaryIO:
    """Where whole lines for this text stream go, as bytes.

    For the process's own stderr, a buffered writer of our own on its file descriptor: it
    finishes a write that a signal cut short, where the raw file under an unbuffered stderr
    (PYTHONUNBUFFERED, as the Docker image runs) would leave half a line; on a terminal,
    `sys.stderr` as it is at each write. For any other stream (pytest's capture), its binary
    layer.
    """
    stream.flush()  # text already written to the stream comes out first
    if stream is sys.__stderr__ and stream.isatty():
        return cast(BinaryIO, _CurrentStderr())
    if stream is sys.__stderr__:
        return _stderr_writer()
    binary = getattr(stream, "buffer", None)
    return binary if binary is not None else cast(BinaryIO, _TextSink(stream))


@functools.cache
def _stderr_writer() -> BinaryIO:
    """One writer per process, so that every logger shares its lock (BytesLogger's, per file)."""
    assert sys.__stderr__ is not None
    return open(sys.__stderr__.fileno(), "wb", closefd=False)


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written, for a person at a terminal: a live
    display that has taken stderr over (the spinner of `certlookup sync`) prints the line
    above itself instead of the line landing in the middle of the spinner's."""

    def write(self, data: bytes) -> int:
        return sys.stderr.write(data.decode("utf-8", "backslashreplace"))

    def flush(self) -> None:
        sys.stderr.flush()


class _TextSink:
    """Bytes into a text stream that has no binary layer (io.StringIO)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        return self._stream.write(data.decode("utf-8", "backslashreplace"))

    def flush(self) -> None:
        self._stream.flush()


class _LineHandler(logging.Handler):
    """Writes each stdlib record as one whole line through the stream's shared writer."""

    def __init__(self, out: structlog.BytesLogger) -> None:
        super().__init__()
        self._out = out

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._out.msg(self.format(record).encode("utf-8", "backslashreplace"))
        except Exception:
            self.handleError(record)


def configure_logging(settings: Settings) -> None:
    """Route structlog and stdlib logging through one renderer on stderr."""
    render = _render_bytes(settings)

    def render_text(logger: WrappedLogger, method: str, event_dict: EventDict) -> str:
        # ProcessorFormatter wants text; _LineHandler encodes it back.
        rendered = render(logger, method, event_dict)
        return rendered.decode("utf-8") if isinstance(rendered, bytes) else str(rendered)

    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _LineHandler(structlog.BytesLogger(_binary(sys.stderr)))
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                render_text,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


_LEVEL_NAMES = {
    logging.CRITICAL: "critical",
    logging.ERROR: "error",
    logging.WARNING: "warning",
    logging.INFO: "info",
    logging.DEBUG: "debug",
}
"""Method names by level, as structlog's filtering loggers name them."""


class AccessLogger:
    """The access log: each line exactly as a structlog logger with the shared processors
    (`_SHARED`, then format_exc_info and the renderer) would write it, keys in the same order,
    through the same stream writer and lock.

    It runs those processors itself, without structlog's bound logger (a copy of its
    context, the processor loop, the method lookup on the wrapped logger) per line; callgrind
    counted about 28,000 fewer instructions per GET /v1/check, within its noise at 300
    requests (benchmarks/reports/check.md). Its level is fixed when it is made, as for
    structlog's filtering loggers.
    """

    def __init__(self, level: int, render: Renderer) -> None:
        self._min_level = level
        self._render = render
        self._out = structlog.BytesLogger(_binary(sys.stderr), name=ACCESS_LOGGER)

    def log(self, level: int, event: str, **fields: Any) -> None:
        """Write one line at `level` (a stdlib level number), unless it is below the logger's."""
        if level < self._min_level:
            return
        method = _LEVEL_NAMES[level]
        out = self._out
        fields["event"] = event
        merge_contextvars(out, method, fields)  # _SHARED, inlined
        fields["level"] = method
        fields["logger"] = ACCESS_LOGGER
        _TIMESTAMP(out, method, fields)
        if "exc_info" in fields:
            format_exc_info(out, method, fields)
        out.msg(self._render(out, method, fields))

    def info(self, event: str, **fields: Any) -> None:
        """`log` at INFO."""
        self.log(logging.INFO, event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        """`log` at WARNING."""
        self.log(logging.WARNING, event, **fields)


def access_logger(settings: Settings) -> AccessLogger:
    """The access log: the same processors and stream as `configure_logging`, minus stdlib.

    Make it after `configure_logging`, once per app.
    """
    level = logging.getLevelNamesMapping()[settings.log_level.upper()]
    return AccessLogger(level, _render_bytes(settings))
