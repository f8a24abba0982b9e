"""``handrail export``: runs, their steps, handoffs and decisions as JSON lines or CSV.

Filters choose runs (workflow, status, start time); every step, handoff and decision
exported belongs to a chosen run. Each line (or CSV row) carries ``record`` — ``run``,
``step``, ``handoff`` or ``decision`` — then that record's fields; in CSV the columns are
the union of the kinds asked for, and JSON values (inputs, outputs, metadata) are JSON
text. Everything was redacted when it was stored, so the export holds nothing the store
did not. Rows stream from the store a page at a time and are written as they come.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TextIO

import orjson

from store.engine import Sessions
from store.repositories.export import RunFilter, stream_records

#: The fields of each record kind, in output order; names are the API's where it has one.
FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "runs": (
        ("run_id", "id"), ("workflow", "workflow"), ("status", "status"),
        ("input_source", "input_source"), ("prompt_version", "prompt_version"),
        ("model", "model"), ("metadata", "meta"), ("result", "result"), ("error", "error"),
        ("started_at", "started_at"), ("ended_at", "ended_at"), ("steps", "event_count"),
    ),
    "steps": (
        ("run_id", "run_id"), ("seq", "seq"), ("id", "client_id"), ("type", "type"),
        ("name", "name"), ("status", "status"), ("started_at", "started_at"),
        ("ended_at", "ended_at"), ("duration_ms", "duration_ms"), ("input", "input"),
        ("output", "output"), ("error", "error"), ("model", "model"),
        ("tokens_in", "tokens_in"), ("tokens_out", "tokens_out"),
        ("recorded_at", "recorded_at"),
    ),
    "handoffs": (
        ("handoff_id", "id"), ("run_id", "run_id"), ("workflow", "workflow"),
        ("kind", "kind"), ("status", "status"), ("action", "action"),
        ("summary", "summary"), ("draft", "draft"), ("confidence", "confidence"),
        ("reasons", "reasons"), ("shadow", "shadow"), ("created_at", "created_at"),
        ("decided_at", "decided_at"),
    ),
    "decisions": (
        ("handoff_id", "handoff_id"), ("run_id", "run_id"), ("outcome", "outcome"),
        ("reviewer", "reviewer"), ("final_text", "final_text"), ("reason", "reason"),
        ("category", "category"), ("decided_at", "decided_at"), ("latency_ms", "latency_ms"),
    ),
}  # fmt: skip
RECORD = {"runs": "run", "steps": "step", "handoffs": "handoff", "decisions": "decision"}
DEFAULT_KINDS = ("runs", "handoffs", "decisions")


def record_json(kind: str, row: Any) -> dict[str, Any]:
    """One stored row as an export record (times in ISO 8601, UTC)."""
    record: dict[str, Any] = {"record": RECORD[kind]}
    for name, attribute in FIELDS[kind]:
        value = getattr(row, attribute)
        record[name] = value.isoformat() if isinstance(value, datetime) else value
    return record


async def export(
    sessions: Sessions,
    out: TextIO,
    *,
    kinds: Sequence[str],
    runs: RunFilter,
    csv_format: bool,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every record of ``kinds`` for the runs ``runs`` selects; returns how many."""
    write = _csv_writer(out, kinds) if csv_format else _jsonl_writer(out)
    written = 0
    for kind in kinds:
        columns = [attribute for _, attribute in FIELDS[kind]]
        async for row in stream_records(sessions, kind, runs, columns=columns):
            write(record_json(kind, row))
            written += 1
            if progress is not None and written % 10_000 == 0:
                progress(written)
    return written


def _jsonl_writer(out: TextIO) -> Callable[[dict[str, Any]], None]:
    def write(record: dict[str, Any]) -> None:
        out.write(orjson.dumps(record).decode())
        out.write("\n")

    return write


def _csv_writer(out: TextIO, kinds: Sequence[str]) -> Callable[[dict[str, Any]], None]:
    columns = ["record"]
    for kind in kinds:
        columns += [name for name, _ in FIELDS[kind] if name not in columns]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="raise")
    writer.writeheader()

    def write(record: dict[str, Any]) -> None:
        writer.writerow({name: _cell(value) for name, value in record.items()})

    return write


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return "" if value is None else value
