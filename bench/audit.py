"""The audit chain's cost: decisions per second with and without it, and verify over 1M entries.

Run: .venv/bin/python bench/audit.py [--stores sqlite,postgres] [--decisions 400]
                                     [--entries 1000000] [--parts decisions,verify]

Decision path: for each store, a fresh database with ``--decisions`` pending handoffs is
decided one after another through ``workflows.review.decisions.record_decision`` (each in its own
transaction, as a click is), once with the decision's audit entry appended (as shipped) and
once with that append switched off in this process only (the baseline), on separate
handoffs of the same store, in alternating rounds so drift hits both alike.

Verify: ``--entries`` chained entries are bulk-loaded (hashes computed as the server does),
then ``workflows.audit.verify.verify_audit_log`` runs in a fresh child process, which
reports its time and peak resident memory; the baseline is a child that streams the same
rows in the same order without checking anything. A figure, not a test: it never fails on
time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from support import POSTGRES_URL, postgres_schema, sqlite_value  # noqa: E402

import workflows.review.decisions as decisions_module  # noqa: E402
from store.audit_chain import GENESIS_HASH, entry_hash  # noqa: E402
from store.engine import create_engine, create_sessions  # noqa: E402
from store.migrate import upgrade_database  # noqa: E402
from workflows.audit.verify import verify_audit_log  # noqa: E402
from workflows.config.brief import parse_config  # noqa: E402
from workflows.review.decisions import DecisionInput, record_decision  # noqa: E402

WORKFLOW = "bench-audit"
CONFIG = parse_config(
    {
        "workflows": {
            WORKFLOW: {
                "reviewers": ["U0ALICE"],
                "admins": ["U0OWNER"],
                "review_channel": "C0REVIEW",
                "mode": "review",
                "allowed_actions": ["send_reply"],
                "require_approval": ["send_reply"],
            }
        }
    }
)
NOW = datetime(2026, 12, 6, 7, tzinfo=UTC)


async def _no_entry(*_args: Any, **_kwargs: Any) -> None:
    """The baseline: the decision path with its audit append switched off."""


async def _seed_handoffs(url: str, schema: str | None, count: int) -> list[str]:
    engine = create_engine(url, schema=schema)
    await upgrade_database(engine, schema=schema)
    sqlite = url.startswith("sqlite")
    ids = [f"hof_{n:08d}" for n in range(count)]

    def at(value: datetime) -> Any:
        return sqlite_value(value) if sqlite else value

    from sqlalchemy import text

    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO workflows (name, created_at) VALUES (:n, :t)"),
            {"n": WORKFLOW, "t": at(NOW)},
        )
        await connection.execute(
            text(
                "INSERT INTO runs (id, workflow, status, started_at, event_count)"
                " VALUES (:id, :w, 'running', :t, 0)"
            ),
            [{"id": f"run_{n}", "w": WORKFLOW, "t": at(NOW)} for n in range(count)],
        )
        await connection.execute(
            text(
                "INSERT INTO handoffs (id, run_id, workflow, kind, status, action, summary,"
                " draft, payload, shadow, created_at, expires_at)"
                " VALUES (:id, :run, :w, 'draft', 'pending', 'send_reply', 'a reply',"
                " 'Your refund is on its way.', :payload, :shadow, :t, :e)"
            ),
            [
                {
                    "id": handoff_id,
                    "run": f"run_{n}",
                    "w": WORKFLOW,
                    "payload": json.dumps({"order": n}),
                    "shadow": False,
                    "t": at(NOW),
                    "e": at(NOW + timedelta(days=1)),
                }
                for n, handoff_id in enumerate(ids)
            ],
        )
    await engine.dispose()
    return ids


async def _decide(url: str, schema: str | None, handoffs: list[str], *, chained: bool) -> float:
    """Decisions per second over ``handoffs``, one transaction each."""
    engine = create_engine(url, schema=schema)
    sessions = create_sessions(engine)
    shipped = decisions_module.append_decision_entries
    if not chained:
        decisions_module.append_decision_entries = _no_entry  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        for handoff_id in handoffs:
            async with sessions() as db, db.begin():
                await record_decision(
                    db,
                    handoff_id=handoff_id,
                    policy=CONFIG.workflows[WORKFLOW],
                    decision=DecisionInput(outcome="approved", reviewer="U0ALICE"),
                    now=NOW + timedelta(minutes=1),
                )
        elapsed = time.perf_counter() - started
    finally:
        decisions_module.append_decision_entries = shipped
        await engine.dispose()
    return len(handoffs) / elapsed


async def decision_path(store: str, url: str, schema: str | None, count: int) -> None:
    handoffs = await _seed_handoffs(url, schema, count * 2)
    rounds = 4
    size = count // rounds
    rates: dict[bool, list[float]] = {True: [], False: []}
    for number in range(rounds):
        for chained in (False, True) if number % 2 == 0 else (True, False):
            chunk, handoffs = handoffs[:size], handoffs[size:]
            rates[chained].append(await _decide(url, schema, chunk, chained=chained))
    without = sum(rates[False]) / rounds
    with_chain = sum(rates[True]) / rounds
    print(
        f"{store:<9} decisions/s without chain {without:7.1f} | with chain {with_chain:7.1f} "
        f"| cost {100 * (1 - with_chain / without):5.1f}%  ({size * rounds} decisions each)"
    )


async def load_chain(url: str, schema: str | None, entries: int) -> float:
    """Fill ``audit_log`` with a valid chain of ``entries``, in batches (memory stays flat)."""
    from sqlalchemy import text

    started = time.perf_counter()
    engine = create_engine(url, schema=schema)
    await upgrade_database(engine, schema=schema)
    sqlite = url.startswith("sqlite")
    prev = GENESIS_HASH
    batch = 20_000
    for first in range(1, entries + 1, batch):
        rows = []
        for sequence in range(first, min(first + batch, entries + 1)):
            at = NOW + timedelta(milliseconds=sequence)
            details = {"handoff_id": f"hof_{sequence}", "reason": "bench"}
            digest = entry_hash(
                sequence=sequence,
                at=at,
                actor="U0ALICE",
                action="workflow.pause",
                workflow=WORKFLOW,
                details=details,
                prev_hash=prev,
            )
            rows.append((sequence, at, details, prev, digest))
            prev = digest
        async with engine.begin() as connection:
            if sqlite:
                await connection.exec_driver_sql(
                    "INSERT INTO audit_log (sequence, at, actor, action, workflow, details,"
                    " prev_hash, hash) VALUES (?, ?, 'U0ALICE', 'workflow.pause', ?, ?, ?, ?)",
                    [(s, sqlite_value(a), WORKFLOW, json.dumps(d), p, h) for s, a, d, p, h in rows],
                )
            else:
                raw = (await connection.get_raw_connection()).driver_connection
                await raw.copy_records_to_table(
                    "audit_log",
                    records=[
                        (s, a, "U0ALICE", "workflow.pause", WORKFLOW, json.dumps(d), p, h)
                        for s, a, d, p, h in rows
                    ],
                    columns=(
                        "sequence",
                        "at",
                        "actor",
                        "action",
                        "workflow",
                        "details",
                        "prev_hash",
                        "hash",
                    ),
                )
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))
    await engine.dispose()
    return time.perf_counter() - started


async def _child(url: str, schema: str | None, mode: str) -> None:
    """In a fresh process: verify (or only stream) and report seconds and peak RSS."""
    from sqlalchemy import select

    from store.models import AuditEntry

    engine = create_engine(url, schema=schema)
    sessions = create_sessions(engine)
    started = time.perf_counter()
    async with sessions() as db, db.begin():
        if mode == "verify":
            result = await verify_audit_log(db)
            assert result.broken is None, result.broken
            count = result.entries
        else:
            stream = await db.stream(
                select(AuditEntry.__table__)
                .order_by(AuditEntry.id)
                .execution_options(yield_per=2000)
            )
            count = 0
            async for _row in stream:
                count += 1
    elapsed = time.perf_counter() - started
    await engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "entries": count}))


def _run_child(url: str, schema: str | None, mode: str) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--url", url, "--schema", schema or ""],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


async def verify_figure(store: str, url: str, schema: str | None, entries: int) -> None:
    loaded = await load_chain(url, schema, entries)
    baseline = _run_child(url, schema, "stream")
    verify = _run_child(url, schema, "verify")
    print(
        f"{store:<9} verify {verify['entries']:,} entries: {verify['seconds']:6.1f} s, "
        f"peak {verify['peak_mb']:5.0f} MB | baseline (stream only): "
        f"{baseline['seconds']:6.1f} s, peak {baseline['peak_mb']:5.0f} MB  (load {loaded:.0f} s)"
    )


async def main(args: argparse.Namespace) -> None:
    stores = args.stores.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        for part in args.parts.split(","):
            for store in stores:
                if store == "sqlite":
                    url, schema = f"sqlite+aiosqlite:///{tmp}/{part}.db", None
                else:
                    url, schema = POSTGRES_URL, f"bench_audit_{uuid.uuid4().hex[:8]}"
                    await postgres_schema(schema, create=True)
                try:
                    if part == "decisions":
                        await decision_path(store, url, schema, args.decisions)
                    else:
                        await verify_figure(store, url, schema, args.entries)
                finally:
                    if schema is not None:
                        await postgres_schema(schema, create=False)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--parts", default="decisions,verify", help="either or both")
    parser.add_argument("--decisions", type=int, default=400)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--child", choices=("verify", "stream"))
    parser.add_argument("--url")
    parser.add_argument("--schema", default="")
    parsed = parser.parse_args()
    if parsed.child:
        asyncio.run(_child(parsed.url, parsed.schema or None, parsed.child))
    else:
        asyncio.run(main(parsed))
