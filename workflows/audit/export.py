"""``handrail audit export``: the entries of a period, with their hashes, for an auditor.

Each entry is written with exactly the fields its hash covers (``at`` in the spelling the
hash uses), so the auditor can re-compute every hash and link from the file alone
(docs/audit.md). Streamed in sequence order: a year of entries never sits in memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.audit_chain import canonical_json, utc_stamp
from store.models import AuditEntry

FORMATS = ("jsonl", "csv")
COLUMNS = ("id", "sequence", "at", "actor", "action", "workflow", "details", "prev_hash", "hash")


async def exported_entries(
    db: AsyncSession, *, since: datetime, until: datetime | None
) -> AsyncIterator[dict[str, Any]]:
    """Entries at or after ``since`` and before ``until``, in chain order."""
    query = select(AuditEntry).where(AuditEntry.at >= since).order_by(AuditEntry.sequence)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    result = await db.stream_scalars(query.execution_options(yield_per=1000))
    async for entry in result:
        db.expunge(entry)
        yield {
            "id": entry.id,
            "sequence": entry.sequence,
            "at": utc_stamp(entry.at),
            "actor": entry.actor,
            "action": entry.action,
            "workflow": entry.workflow,
            "details": entry.details,
            "prev_hash": entry.prev_hash,
            "hash": entry.hash,
        }


async def write_export(
    db: AsyncSession, *, since: datetime, until: datetime | None, fmt: str, out: TextIO
) -> int:
    """Write the entries to ``out`` as JSON lines or CSV; returns how many."""
    count = 0
    writer = csv.DictWriter(out, fieldnames=COLUMNS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    async for entry in exported_entries(db, since=since, until=until):
        if writer is not None:
            writer.writerow({**entry, "details": canonical_json(entry["details"])})
        else:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        count += 1
    return count
