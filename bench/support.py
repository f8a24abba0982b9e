"""What the benchmark scripts share: where PostgreSQL is, scratch schemas, ports, percentiles."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from store.engine import create_engine  # noqa: E402

POSTGRES_URL = os.environ.get(
    "HANDRAIL_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


async def postgres_schema(schema: str, *, create: bool) -> None:
    """Create (or drop, with everything in it) a scratch schema for one benchmark store."""
    engine = create_engine(POSTGRES_URL)
    async with engine.begin() as connection:
        verb = f'CREATE SCHEMA "{schema}"' if create else f'DROP SCHEMA "{schema}" CASCADE'
        await connection.execute(text(verb))
    await engine.dispose()


def free_port() -> int:
    """A port nothing listens on right now, for a server the benchmark starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
