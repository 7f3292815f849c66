"""Commands run by a person print readable lines; run by a machine, log JSON lines.

`certlookup sync` runs in a pseudo-terminal as an operator would run it (and, for contrast,
with its output to a pipe): with CERTLOOKUP_LOG_JSON unset, its log lines on a terminal are
console lines, never JSON after the summary.
"""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import time
from pathlib import Path

from app.logging import wants_json
from tests.conftest import make_settings
from tests.support.httpserver import unused_port
from tests.support.processes import CERTLOOKUP, certlookup_env

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ")
DEADLINE_SECONDS = 60


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _env(database_url: str) -> dict[str, str]:
    # A person's terminal, whatever the test runner's environment has (CI may set no TERM).
    env = certlookup_env(database_url, COLUMNS="200", TERM="xterm-256color")
    del env["CERTLOOKUP_LOG_JSON"]  # unset, as an operator's shell leaves it
    return env


def _read_all(master: int, process: subprocess.Popen[bytes]) -> str:
    chunks = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the command exited and closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=DEADLINE_SECONDS)
    return b"".join(chunks).decode("utf-8", "replace")


def _screen_lines(raw: str) -> list[str]:
    """What a terminal shows line by line: a carriage return starts the line over."""
    return [ANSI.sub("", part) for part in re.split(r"[\r\n]+", raw) if part.strip()]


def _json_lines(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        try:
            if isinstance(json.loads(line.strip()), dict):
                found.append(line)
        except ValueError:
            continue
    return found


def test_json_unless_asked_otherwise_or_on_a_terminal(tmp_path: Path) -> None:
    unset = make_settings(f"sqlite:///{tmp_path / 'x.sqlite3'}", log_json=None)
    assert wants_json(unset, io.StringIO()) is True
    assert wants_json(unset, _Terminal()) is False
    assert wants_json(unset.model_copy(update={"log_json": True}), _Terminal()) is True
    assert wants_json(unset.model_copy(update={"log_json": False}), io.StringIO()) is False


def test_sync_on_a_terminal_prints_readable_lines(database_url: str, tmp_path: Path) -> None:
    master, slave = pty.openpty()
    source = f"http://127.0.0.1:{unused_port()}"  # robots.txt cannot be read
    process = subprocess.Popen(
        [*CERTLOOKUP, "sync", "--source-url", source],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_env(database_url),
        cwd=tmp_path,
        start_new_session=True,
    )
    os.close(slave)
    try:
        output = _read_all(master, process)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()

    lines = _screen_lines(output)
    assert process.returncode == 1, output
    assert _json_lines("\n".join(lines)) == [], output
    # The log line has a line of its own: not written into the spinner's.
    [logged] = [line for line in lines if "sync_failed" in line]
    assert TIMESTAMP.match(logged), logged
    assert re.search(r"\[warning\s*\] sync_failed .*pages_fetched=0", logged), logged
    assert any("failed (run 1, 0 pages, 0 rows" in line for line in lines), lines


def test_sync_into_a_pipe_logs_json(database_url: str, tmp_path: Path) -> None:
    source = f"http://127.0.0.1:{unused_port()}"
    done = subprocess.run(
        [*CERTLOOKUP, "sync", "--source-url", source],
        capture_output=True,
        env=_env(database_url),
        cwd=tmp_path,
        timeout=DEADLINE_SECONDS,
        check=False,
    )
    [line] = [json.loads(x) for x in _json_lines(done.stderr.decode())]
    assert (line["event"], line["pages_fetched"]) == ("sync_failed", 0)
    assert "failed (run 1, 0 pages" in done.stdout.decode()
