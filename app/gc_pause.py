"""Pausing the cyclic garbage collector while a large, long-lived structure is built.

Building a snapshot or answering thousands of questions allocates hundreds of thousands of
objects that all stay alive. Each allocation burst triggers the collector, and its full
collections walk every live object again and again, finding nothing to free: a third of a
snapshot's build time and a tenth of a 10,000-row check (benchmarks/reports/files.md).
Reference counting still frees everything that is not in a cycle; the collector runs again
as soon as the last pause ends.

The switch is process-wide, so pauses are counted: overlapping pauses from several threads
end when the last one does, and the collector is re-enabled only if it was on before.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector off (see the module doc)."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
