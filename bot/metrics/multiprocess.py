"""The directory where ``serve --workers N`` processes share their metrics.

prometheus_client's multiprocess mode is chosen when the library is imported, from
``PROMETHEUS_MULTIPROC_DIR``; so the supervising process sets it up before it starts the
workers (which start fresh, by spawn, and inherit it). Files left from an earlier start
would add a dead process's counts to the new ones, so the directory is emptied first: an
operator's own directory is cleaned, and otherwise a new temporary one is made per start
and removed at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def shared_metrics_dir() -> Path | None:
    """The directory this process writes its metrics to, or None (single process)."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


@contextmanager
def metrics_dir_for_workers() -> Iterator[Path]:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory for the workers started inside."""
    chosen = shared_metrics_dir()
    if chosen is not None:
        chosen.mkdir(parents=True, exist_ok=True)
        for stale in chosen.glob("*.db"):
            stale.unlink()
        yield chosen
        return
    made = Path(tempfile.mkdtemp(prefix="handrail-metrics-"))
    os.environ[ENV] = str(made)
    try:
        yield made
    finally:
        os.environ.pop(ENV, None)
        shutil.rmtree(made, ignore_errors=True)
