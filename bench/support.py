"""What the benchmark scripts share: where PostgreSQL is, scratch schemas, ports, percentiles."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from store.engine import create_engine, create_sessions  # noqa: E402
from store.migrate import upgrade_database  # noqa: E402
from store.repositories.tallies import TallyFolder  # noqa: E402

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


Quantiles = tuple[float, float]  # p50 and p95, in ms


def print_growth(table: dict[str, dict[str, Quantiles]], sizes: list[str], *, by: str) -> None:
    """Each store's p50 and p95 at the smallest and largest size, and how ``by`` grew."""
    small, large = sizes[0], sizes[-1]
    print(
        f"\nstore      {small:>5} p50 {small:>5} p95 | {large:>5} p50 {large:>5} p95 | "
        f"{by} growth {small} to {large}"
    )
    column = 0 if by == "p50" else 1
    for store, result in table.items():
        (a50, a95), (b50, b95) = result[small], result[large]
        growth = result[large][column] / result[small][column]
        print(
            f"{store:<10} {a50:7.1f} ms {a95:7.1f} ms | {b50:7.1f} ms {b95:7.1f} ms | "
            f"{growth:5.2f}x"
        )


def sqlite_value(value: Any) -> Any:
    """A parameter as SQLite stores it through ``UTCDateTime`` (datetimes as UTC text)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


async def bulk_load(
    url: str,
    schema: str | None,
    *,
    workflows: Iterable[str],
    now: datetime,
    tables: Sequence[tuple[str, tuple[str, ...]]],
    batches: Iterable[Sequence[list[tuple[Any, ...]]]],
) -> float:
    """Migrate and fill a store, fast; returns the seconds taken. Each batch holds one list
    of rows per table of ``tables`` (name, columns), in that order.

    SQLite gets driver-level executemany, PostgreSQL COPY; then the stats tallies' deltas
    folded, ANALYZE, and on SQLite a WAL checkpoint, since a running server does all three
    as it goes and a bulk load does not.
    """
    started = time.perf_counter()
    engine = create_engine(url, schema=schema)
    await upgrade_database(engine)
    sqlite = url.startswith("sqlite")
    async with engine.begin() as connection:
        for name in workflows:
            await connection.execute(
                text("INSERT INTO workflows (name, created_at) VALUES (:n, :t)"),
                {"n": name, "t": sqlite_value(now) if sqlite else now},
            )
    for batch in batches:
        async with engine.begin() as connection:
            for (table, columns), rows in zip(tables, batch, strict=True):
                if sqlite:
                    await _sqlite_rows(connection, table, columns, rows)
                else:
                    raw = (await connection.get_raw_connection()).driver_connection
                    await raw.copy_records_to_table(table, records=rows, columns=columns)
    sessions = create_sessions(engine)
    async with sessions() as session, session.begin():
        await TallyFolder().fold(session)
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    await engine.dispose()
    if sqlite:
        with closing(sqlite3.connect(url.split("///", 1)[1])) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


async def _sqlite_rows(
    connection: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Core executemany at the driver level: one prepared INSERT, many parameter sets."""
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - fixed names
    await connection.exec_driver_sql(sql, [tuple(sqlite_value(v) for v in row) for row in rows])


@asynccontextmanager
async def scratch_store(store: str, *, name: str) -> AsyncIterator[tuple[str, str | None]]:
    """A fresh store for one measurement, removed afterwards: (URL, PostgreSQL schema)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"handrail-{name}-{store}-"))
    url, schema = f"sqlite+aiosqlite:///{workdir / 'handrail.db'}", None
    if store == "postgres":
        url, schema = POSTGRES_URL, f"bench_{name}_{uuid.uuid4().hex[:8]}"
        await postgres_schema(schema, create=True)
    try:
        yield url, schema
    finally:
        if schema is not None:
            await postgres_schema(schema, create=False)
        shutil.rmtree(workdir, ignore_errors=True)


def measure_in_fresh_process(
    script: str, url: str, schema: str | None, *, timeout: float
) -> dict[str, float]:
    """Run ``script --measure URL`` in a new process (its memory is its own, not the
    loader's) and read the JSON object it prints last."""
    args = [sys.executable, script, "--measure", url] + (["--schema", schema] if schema else [])
    result = subprocess.run(args, capture_output=True, text=True, check=True, timeout=timeout)
    figures: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def own_peak_rss_mb() -> float:
    """This process's peak RSS (``VmHWM``): unlike ``ru_maxrss``, not inherited across exec
    from the parent that loaded the rows, so it is the measuring process's own."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_process_bench(
    description: str,
    *,
    title: Callable[[int], str],
    measure: Callable[[str, str | None], Awaitable[dict[str, float]]],
    run_store: Callable[[str, int], Awaitable[None]],
) -> None:
    """The command line of a benchmark that loads each store and measures in a fresh
    process: ``[--rows N] [--stores sqlite,postgres]``; ``measure`` runs in the child
    (``--measure URL``, see :func:`measure_in_fresh_process`) and prints its figures."""

    async def _main() -> None:
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("--rows", type=int, default=1_000_000, help="gate questions (largest)")
        parser.add_argument("--stores", default="sqlite,postgres")
        parser.add_argument("--measure", help=argparse.SUPPRESS)
        parser.add_argument("--schema", help=argparse.SUPPRESS)
        args = parser.parse_args()
        if args.measure:
            print(json.dumps(await measure(args.measure, args.schema)))
            return
        print(title(args.rows))
        for store in args.stores.split(","):
            await run_store(store.strip(), args.rows)

    asyncio.run(_main())
