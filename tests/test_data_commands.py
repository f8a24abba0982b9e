"""``handrail purge``, ``export`` and ``db backup`` on a real store, through the CLI's ``main``."""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.app import prepare_database
from bot.cli.data import backup_sqlite
from bot.cli.main import main
from bot.services import Services
from bot.settings import Settings
from store.engine import create_engine, create_read_sessions
from tests.conftest import TEST_WORKFLOWS
from tests.lifecycle_data import audit_entries, rows_of, seed_run
from workflows.clock import ManualClock
from workflows.ledger.story import read_run_story
from workflows.lifecycle.retention import ERASED


@pytest.fixture
async def store(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Services:
    """The test's store, with the ``handrail`` command pointed at it."""
    settings.config_path.write_text(yaml.safe_dump(TEST_WORKFLOWS))
    monkeypatch.setenv("HANDRAIL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HANDRAIL_CONFIG", str(settings.config_path))
    if settings.database_schema:
        monkeypatch.setenv("HANDRAIL_DATABASE_SCHEMA", settings.database_schema)
    await prepare_database(services, migrate=False)
    return services


async def handrail(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


async def test_purge_of_an_input_source_erases_its_runs_everywhere(
    store: Services, clock: ManualClock
) -> None:
    """``purge --input-source`` removes that person's runs from every table and leaves an
    audit entry with the reason, run IDs and counts, but not the source itself."""
    for run_id, source in (("r1", "ada@example.com"), ("r2", "ada@example.com"), ("r3", "bob")):
        await seed_run(store, run_id, started_at=clock(), input_source=source)
    code = await handrail(
        "purge", "--input-source", "ada@example.com", "--reason", "GDPR art. 17", "--yes"
    )
    assert code == 0
    assert set((await rows_of(store, ["r1", "r2"])).values()) == {0}
    assert (await rows_of(store, ["r3"]))["runs"] == 1
    (entry,) = await audit_entries(store, ERASED)
    assert entry.details is not None
    assert entry.details["reason"] == "GDPR art. 17"
    assert entry.details["run_ids"] == ["r1", "r2"]
    assert entry.details["deleted"]["events"] == 6
    assert "ada@example.com" not in json.dumps(entry.details)


async def test_purge_without_a_terminal_or_yes_refuses(
    store: Services, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not on a terminal and without ``--yes``, purge erases nothing and says so in one line."""
    await seed_run(store, "r1", started_at=clock())
    assert await handrail("purge", "--run", "r1") == 2
    assert (await rows_of(store, ["r1"]))["runs"] == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "--yes" in error


async def test_export_jsonl_writes_runs_handoffs_and_decisions(
    store: Services, clock: ManualClock, tmp_path: Path
) -> None:
    """A JSON-lines export has one record per run, handoff and decision, filtered by status."""
    await seed_run(store, "ok", started_at=clock())
    await seed_run(store, "bad", started_at=clock(), status="failed")
    out = tmp_path / "export.jsonl"
    assert await handrail("export", "--status", "succeeded", "--output", str(out)) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["record"], r["run_id"]) for r in records] == [
        ("run", "ok"),
        ("handoff", "ok"),
        ("decision", "ok"),
    ]
    assert records[0]["started_at"] == clock().isoformat()


async def test_export_csv_with_steps_and_a_time_window(
    store: Services, clock: ManualClock, tmp_path: Path
) -> None:
    """A CSV export of runs and steps keeps to ``--since``; JSON fields are JSON text."""
    await seed_run(store, "old", started_at=clock() - timedelta(days=10))
    await seed_run(store, "new", started_at=clock())
    since = (clock() - timedelta(days=1)).date().isoformat()
    out = tmp_path / "export.csv"
    code = await handrail(
        "export", "--format", "csv", "--records", "runs,steps", "--since", since,
        "--output", str(out),
    )  # fmt: skip
    assert code == 0
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["record"], row["run_id"]) for row in rows] == [("run", "new")] + [
        ("step", "new")
    ] * 3
    assert json.loads(rows[1]["input"]) == {"email": "ada@example.com"}


async def test_backup_taken_during_a_burst_of_writes_restores_whole(
    store: Services, clock: ManualClock, tmp_path: Path
) -> None:
    """A backup taken while runs are being written is a consistent store: restored, it
    passes SQLite's integrity check, every run has exactly its steps, and a trace reads."""
    if not store.settings.database_url.startswith("sqlite"):
        assert await handrail("db", "backup", str(tmp_path / "copy.db")) == 2  # says pg_dump
        return
    await seed_run(store, "before", started_at=clock(), steps=5)
    writing = True

    async def burst() -> None:
        n = 0
        while writing:
            await seed_run(store, f"burst-{n}", started_at=clock(), steps=20)
            n += 1

    writer = asyncio.create_task(burst())
    await asyncio.sleep(0.05)
    source = Path(store.settings.database_url.split("///", 1)[1])
    await asyncio.to_thread(backup_sqlite, source, tmp_path / "backup.db")
    writing = False
    await writer

    restored = tmp_path / "restored.db"
    shutil.copy(tmp_path / "backup.db", restored)
    with closing(sqlite3.connect(restored)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        mismatched = db.execute(
            "SELECT count(*) FROM runs WHERE event_count != "
            "(SELECT count(*) FROM events WHERE events.run_id = runs.id)"
        ).fetchone()
    assert mismatched == (0,)
    engine = create_engine(f"sqlite+aiosqlite:///{restored}")
    async with create_read_sessions(engine)() as db:
        story = await read_run_story(db, run_id="before")
    await engine.dispose()
    assert [event.seq for event in story.events] == [1, 2, 3, 4, 5]


async def test_backup_refuses_to_overwrite_a_file(
    store: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``db backup`` to an existing file stops with one line and leaves the file alone."""
    if not store.settings.database_url.startswith("sqlite"):
        pytest.skip("db backup copies SQLite stores; PostgreSQL uses pg_dump")
    existing = tmp_path / "kept.db"
    existing.write_text("precious")
    assert await handrail("db", "backup", str(existing)) == 1
    assert existing.read_text() == "precious"
    assert capsys.readouterr().err.count("\n") == 1
