"""``handrail export`` of 1M stored steps: time, and peak memory that stays flat as it grows.

Run: .venv/bin/python bench/export.py [--events 1000000] [--stores sqlite,postgres]

For each store the script bulk-loads ``--events`` steps in runs of 100, then runs the real
``handrail export --records runs,steps --format jsonl`` as a subprocess twice: for the
first tenth of the runs (``--until``) and for all of them, printing each one's time, rate
and peak RSS. Flat memory means the two peaks are about equal although one export is ten
times the other; an empty export shows the command's own start-up. The baseline is the
floor for the same rows on SQLite: Python's own ``sqlite3`` cursor writing each row as a
JSON line, measured in the same run. A figure, not a test: it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from purge import EVENT_COLUMNS, RUN_COLUMNS, STEPS_PER_RUN, old_runs  # noqa: E402
from support import POSTGRES_URL, bulk_load, postgres_schema  # noqa: E402


def run_export(env: dict[str, str], out: Path, until: datetime | None) -> tuple[float, float]:
    """Run ``handrail export`` to ``out``; (seconds, peak RSS in MB) of that process."""
    args = [sys.executable, "-m", "bot.cli.main", "export", "--records", "runs,steps",
            "--output", str(out)]  # fmt: skip
    if until is not None:
        args += ["--until", until.isoformat()]
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"handrail export failed with {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def sqlite_floor(path: Path, out: Path) -> float:
    """The same runs and steps read with a plain cursor and written as JSON lines."""
    started = time.perf_counter()
    with closing(sqlite3.connect(path)) as db, out.open("wb") as sink:
        for table in ("runs", "events"):
            cursor = db.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed names)
            names = [column[0] for column in cursor.description]
            for row in cursor:
                sink.write(orjson.dumps(dict(zip(names, row, strict=True))) + b"\n")
    return time.perf_counter() - started


async def bench_store(store: str, events: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"handrail-bench-export-{store}-"))
    raw = yaml.safe_load((ROOT / "workflows.example.yml").read_text())
    (workdir / "workflows.yml").write_text(yaml.safe_dump(raw))
    schema = None
    if store == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'handrail.db'}"
    else:
        url, schema = POSTGRES_URL, f"handrail_bench_{uuid.uuid4().hex[:8]}"
        await postgres_schema(schema, create=True)
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": url,
        "HANDRAIL_CONFIG": str(workdir / "workflows.yml"),
        **({"HANDRAIL_DATABASE_SCHEMA": schema} if schema else {}),
    }
    now = datetime.now(UTC)
    try:
        await bulk_load(
            url, schema, workflows=list(raw["workflows"]), now=now,
            tables=(("runs", RUN_COLUMNS), ("events", EVENT_COLUMNS)),
            batches=old_runs(events, now=now),
        )  # fmt: skip
        runs = events // STEPS_PER_RUN
        tenth = now - timedelta(days=200) + timedelta(seconds=(runs // 10) * 60)
        results = []
        empty = now - timedelta(days=365)  # before every run: the command's start-up alone
        sizes = (("0 (start-up)", empty), (f"{events // 10:,} steps", tenth),
                 (f"{events:,} steps", None))  # fmt: skip
        for label, until in sizes:
            out = workdir / "export.jsonl"
            seconds, rss = await asyncio.to_thread(run_export, env, out, until)
            lines = sum(1 for _ in out.open("rb"))
            results.append((label, seconds, rss, lines, out.stat().st_size))
            out.unlink()
        floor = None
        if store == "sqlite":
            floor = await asyncio.to_thread(
                sqlite_floor, workdir / "handrail.db", workdir / "floor.jsonl"
            )
    finally:
        if schema:
            await postgres_schema(schema, create=False)
        shutil.rmtree(workdir, ignore_errors=True)
    for label, seconds, rss, lines, size in results:
        print(
            f"{store:<9} export {label:>16}: {lines:>9,} records, {size / 1e6:7.0f} MB in "
            f"{seconds:6.1f} s ({lines / seconds:>8,.0f} records/s), peak RSS {rss:5.0f} MB"
            if lines
            else f"{store:<9} export {label:>16}: start-up and exit {seconds:6.1f} s, "
            f"peak RSS {rss:5.0f} MB"
        )
    if floor is not None:
        total = results[-1][3]
        print(
            f"{'':<9} baseline: plain sqlite3 cursor to JSON lines, same rows: {floor:6.1f} s "
            f"({total / floor:>8,.0f} records/s)"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"export of runs and steps: {args.events:,} steps in runs of {STEPS_PER_RUN}")
    for store in args.stores.split(","):
        await bench_store(store, args.events)


if __name__ == "__main__":
    asyncio.run(main())
