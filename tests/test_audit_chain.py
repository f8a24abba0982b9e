"""The tamper-evident audit log: a clean chain verifies; every edit made behind its back is
named by ``handrail audit verify``, in SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import csv
import getpass
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, text

from bot.services import Services
from bot.settings import Settings
from store.audit_chain import entry_hash
from store.models import AuditEntry, Decision
from store.repositories.audit import create_audit_entry, get_chain_head
from tests.conftest import bearer
from tests.test_cli_pause import handrail
from workflows.audit.verify import verify_audit_log
from workflows.clock import ManualClock
from workflows.lifecycle.retention import erase_runs
from workflows.review.decisions import DecisionInput, record_decision
from workflows.review.handoffs import expire_overdue

Client = TestClient[Any, Any]


async def decided_handoff(
    client: Client, token: str, services: Services, outcome: str, **fields: Any
) -> str:
    """A draft handoff opened through the API and decided by a reviewer."""
    run = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    run_id = (await run.json())["run_id"]
    response = await client.post(
        f"/api/v1/runs/{run_id}/handoffs",
        json={"summary": "reply to the customer", "kind": "draft", "draft": "Hello"},
        headers=bearer(token),
    )
    handoff_id = str((await response.json())["handoff_id"])
    async with services.sessions() as db, db.begin():
        await record_decision(
            db,
            handoff_id=handoff_id,
            policy=services.config.workflows["ticket-triage"],
            decision=DecisionInput(outcome=outcome, reviewer="U0ALICE", **fields),
            now=services.clock(),
        )
    return handoff_id


@pytest.fixture
async def chain(client: Client, token: str, services: Services) -> list[AuditEntry]:
    """A token made (entry 1), an approval (2), a rejection (3), a pause (4)."""
    await decided_handoff(client, token, services, "approved")
    await decided_handoff(client, token, services, "rejected", reason="wrong tone")
    async with services.sessions() as db, db.begin():
        await create_audit_entry(
            db,
            actor="U0OWNER",
            action="workflow.pause",
            workflow="ticket-triage",
            details={"reason": "bad drafts"},
            now=services.clock(),
        )
    async with services.sessions() as db:
        return list((await db.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def tamper(services: Services, statement: str, **values: Any) -> None:
    """Change the store behind Handrail's back, as someone with database access could."""
    async with services.engine.begin() as connection:
        await connection.execute(text(statement), values)


async def broken_at(services: Services, published: tuple[int, str] | None = None) -> str:
    async with services.sessions() as db, db.begin():
        result = await verify_audit_log(db, published=published)
    return str(result.broken)


async def test_a_clean_chain_verifies(chain: list[AuditEntry], services: Services) -> None:
    """An untouched chain verifies, with every entry and both decisions counted."""
    async with services.sessions() as db, db.begin():
        result = await verify_audit_log(db)
    assert result.broken is None
    assert (result.entries, result.decisions) == (4, 2)
    assert [entry.action for entry in chain] == [
        "token.created",
        "handoff.decided",
        "handoff.decided",
        "workflow.pause",
    ]
    assert result.head == (4, chain[-1].hash)


async def test_decision_entries_hold_digests_not_texts(
    chain: list[AuditEntry], services: Services
) -> None:
    """A decision's entry records who decided what, with the text as a SHA-256 only."""
    details = chain[2].details or {}
    assert details["outcome"] == "rejected"
    assert details["reason_digest"] == hashlib.sha256(b"wrong tone").hexdigest()
    assert "wrong tone" not in json.dumps(details)


async def test_an_edited_entry_is_a_hash_mismatch(
    chain: list[AuditEntry], services: Services
) -> None:
    """Changing an entry's details shows as a hash mismatch on that entry."""
    await tamper(services, "UPDATE audit_log SET details = NULL WHERE id = :id", id=chain[3].id)
    assert await broken_at(services) == (
        f"entry {chain[3].id} (sequence 4): hash mismatch: "
        "the entry was changed after it was written"
    )


async def test_a_deleted_entry_is_a_missing_sequence_number(
    chain: list[AuditEntry], services: Services
) -> None:
    """Deleting an entry shows as a gap before the entry that followed it."""
    await tamper(services, "DELETE FROM audit_log WHERE id = :id", id=chain[0].id)
    assert await broken_at(services) == (
        f"entry {chain[1].id} (sequence 2): missing sequence number 1 before it: deleted"
    )


async def test_swapped_entries_are_out_of_order(
    chain: list[AuditEntry], services: Services
) -> None:
    """Swapping two entries' places shows as an entry out of order."""
    first, second = chain[1].id, chain[2].id
    move = "UPDATE audit_log SET id = :to WHERE id = :id"
    await tamper(services, move, id=first, to=1000)
    await tamper(services, move, id=second, to=first)
    await tamper(services, move, id=1000, to=second)
    assert await broken_at(services) == (
        f"entry {first} (sequence 3): out of order: sequence 3 where 2 belongs"
    )


async def test_entries_swapped_far_apart_are_out_of_order_not_deleted(
    chain: list[AuditEntry], services: Services
) -> None:
    """An entry moved past others is told apart from a deleted one by its number."""
    first, last = chain[0].id, chain[3].id
    move = "UPDATE audit_log SET id = :to WHERE id = :id"
    await tamper(services, move, id=first, to=1000)
    await tamper(services, move, id=last, to=first)
    await tamper(services, move, id=1000, to=last)
    assert await broken_at(services) == (
        f"entry {first} (sequence 4): out of order: sequence 4 where 1 belongs"
    )


async def test_a_rewritten_entry_breaks_the_next_link(
    chain: list[AuditEntry], services: Services
) -> None:
    """An entry edited and given a fresh hash no longer links to the entry after it."""
    edited = chain[1]
    async with services.sessions() as db, db.begin():
        forged = await create_audit_entry(
            db, actor="U0MALLORY", action=edited.action, workflow=None, details=None, now=edited.at
        )
    await tamper(services, "DELETE FROM audit_log WHERE id = :id", id=forged.id)
    await tamper(
        services,
        "UPDATE audit_log SET actor = 'U0MALLORY', details = NULL, workflow = NULL,"
        " hash = :hash WHERE id = :id",
        hash=_rehash(edited),
        id=edited.id,
    )
    assert await broken_at(services) == (
        f"entry {chain[2].id} (sequence 3): prev_hash does not link to "
        f"entry {edited.id} (sequence 2)"
    )


def _rehash(edited: AuditEntry) -> str:
    """The hash a forger would compute for ``edited`` with its actor and details changed."""
    return entry_hash(
        sequence=edited.sequence,
        at=edited.at,
        actor="U0MALLORY",
        action=edited.action,
        workflow=None,
        details=None,
        prev_hash=edited.prev_hash,
    )


async def test_an_edited_decision_row_no_longer_matches_its_entry(
    chain: list[AuditEntry], services: Services
) -> None:
    """A decision row changed after the fact is named with the fields that differ."""
    async with services.sessions() as db:
        decision = (await db.scalars(select(Decision).order_by(Decision.id))).first()
    assert decision is not None
    await tamper(services, "UPDATE decisions SET reviewer = 'U0BOB' WHERE id = :id", id=decision.id)
    assert await broken_at(services) == (
        f"decision {decision.id} (handoff {decision.handoff_id}): does not match entry "
        "sequence 2: reviewer differ"
    )


async def test_a_deleted_decision_row_leaves_its_entry_orphaned(
    chain: list[AuditEntry], services: Services
) -> None:
    """A decision row deleted after the fact is named through the entry that recorded it."""
    handoff_id = (chain[2].details or {})["handoff_id"]
    await tamper(services, "DELETE FROM decisions WHERE handoff_id = :id", id=handoff_id)
    assert await broken_at(services) == (
        f"entry {chain[2].id} (sequence 3): records a decision on handoff {handoff_id} "
        "whose row is gone"
    )


async def test_an_erased_run_leaves_a_chain_that_verifies(
    chain: list[AuditEntry], services: Services
) -> None:
    """Erasing a decided run removes its decision, and the erasure's entry accounts for it."""
    run_id = (chain[1].details or {})["run_id"]
    await erase_runs(
        services.sessions,
        [(run_id, "ticket-triage")],
        actor="cli:ops",
        reason="the customer asked",
        matched_by="run_id",
        now=services.clock(),
    )
    assert await broken_at(services) == "None"


async def test_an_erasure_of_another_run_does_not_excuse_a_deleted_decision(
    chain: list[AuditEntry], services: Services
) -> None:
    """A decision row deleted by hand is still named when an erasure removed some other run."""
    erased_run = (chain[1].details or {})["run_id"]
    handoff_id = (chain[2].details or {})["handoff_id"]
    await erase_runs(
        services.sessions,
        [(erased_run, "ticket-triage")],
        actor="cli:ops",
        reason="the customer asked",
        matched_by="run_id",
        now=services.clock(),
    )
    await tamper(services, "DELETE FROM decisions WHERE handoff_id = :id", id=handoff_id)
    assert await broken_at(services) == (
        f"entry {chain[2].id} (sequence 3): records a decision on handoff {handoff_id} "
        "whose row is gone"
    )


async def test_a_published_head_catches_a_chain_cut_short(
    chain: list[AuditEntry], services: Services
) -> None:
    """Deleting the newest entry leaves a valid chain, but not the head published before."""
    head = (chain[-1].sequence, chain[-1].hash)
    assert await broken_at(services, head) == "None"
    await tamper(services, "DELETE FROM audit_log WHERE id = :id", id=chain[-1].id)
    assert await broken_at(services) == "None"
    assert await broken_at(services, head) == (
        "published head 4: is no longer in the chain: the chain was cut or rewritten"
    )


async def test_verify_on_the_command_line_names_the_break_with_status_1(
    chain: list[AuditEntry], services: Services, settings: Settings, tmp_path: Path
) -> None:
    """``handrail audit verify`` exits 1 with one line naming the first broken entry."""
    clean = await asyncio.to_thread(handrail, settings, tmp_path, "audit", "verify")
    assert clean.returncode == 0, clean.stderr
    assert f"head 4:{chain[-1].hash}" in clean.stdout
    await tamper(services, "UPDATE audit_log SET actor = 'U0BOB' WHERE id = :id", id=chain[1].id)
    broken = await asyncio.to_thread(handrail, settings, tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert broken.stderr == (
        f"audit log broken at entry {chain[1].id} (sequence 2): hash mismatch: "
        "the entry was changed after it was written\n"
    )


async def test_an_export_lets_an_auditor_recompute_every_hash(
    chain: list[AuditEntry], settings: Settings, tmp_path: Path
) -> None:
    """Each exported line re-hashes, with nothing but json and hashlib, to its own hash."""
    output = tmp_path / "audit.jsonl"
    result = await asyncio.to_thread(
        handrail,
        settings,
        tmp_path,
        "audit",
        "export",
        "--since",
        "2000-01-01",
        "--output",
        str(output),
    )
    assert result.returncode == 0, result.stderr
    previous = "0" * 64
    lines = output.read_text(encoding="utf-8").splitlines()
    for line in lines:
        entry = json.loads(line)
        covered = {key: entry[key] for key in entry if key not in ("id", "hash")}
        canonical = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(canonical.encode()).hexdigest() == entry["hash"]
        assert entry["prev_hash"] == previous
        previous = entry["hash"]
    assert len(lines) == 4


async def test_concurrent_appends_never_fork_the_chain(services: Services) -> None:
    """Twenty transactions appending at once each get their own place in one chain."""

    async def append(number: int) -> None:
        async with services.sessions() as db, db.begin():
            await create_audit_entry(
                db,
                actor="U0ALICE",
                action="workflow.pause",
                workflow=None,
                details={"n": number},
                now=services.clock(),
            )

    await asyncio.gather(*(append(number) for number in range(20)))
    async with services.sessions() as db, db.begin():
        result = await verify_audit_log(db)
        head = await get_chain_head(db)
    assert result.broken is None
    assert head is not None
    assert head.sequence == result.entries == 20


async def test_token_changes_are_audited_with_the_cli_user(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    """``handrail token create`` and ``revoke`` append entries naming ``cli:<user>``, never
    the secret."""
    created = await asyncio.to_thread(
        handrail, settings, tmp_path, "token", "create", "ticket-triage"
    )
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    prefix = secret.removeprefix("hr_").partition("_")[0]
    revoked = await asyncio.to_thread(handrail, settings, tmp_path, "token", "revoke", prefix)
    assert revoked.returncode == 0, revoked.stderr
    async with services.sessions() as db:
        entries = (await db.scalars(select(AuditEntry).order_by(AuditEntry.sequence))).all()
    assert [(e.action, e.actor, (e.details or {})["prefix"]) for e in entries] == [
        ("token.created", f"cli:{getpass.getuser()}", prefix),
        ("token.revoked", f"cli:{getpass.getuser()}", prefix),
    ]
    # The secret part may itself hold underscores, so take everything after the prefix.
    secret_part = secret.removeprefix(f"hr_{prefix}_")
    assert len(secret_part) > 16
    assert secret_part not in json.dumps([e.details for e in entries])


async def test_an_expiry_is_audited_as_never_approved(
    client: Client, token: str, services: Services, clock: ManualClock
) -> None:
    """A handoff that runs out of review time appends an expiry entry, and the chain holds."""
    run = await client.post("/api/v1/runs", json={}, headers=bearer(token))
    run_id = (await run.json())["run_id"]
    response = await client.post(
        f"/api/v1/runs/{run_id}/handoffs",
        json={"summary": "reply", "kind": "draft", "draft": "Hello"},
        headers=bearer(token),
    )
    handoff_id = (await response.json())["handoff_id"]
    clock.advance(days=30)
    async with services.sessions() as db, db.begin():
        await expire_overdue(db, config=services.config, now=clock())
    async with services.sessions() as db, db.begin():
        head = await get_chain_head(db)
        result = await verify_audit_log(db)
    assert head is not None
    assert (head.action, head.actor, (head.details or {})["handoff_id"]) == (
        "handoff.expired",
        "handrail",
        handoff_id,
    )
    assert result.broken is None


async def test_head_prints_the_sequence_and_hash_to_publish(
    chain: list[AuditEntry], settings: Settings, tmp_path: Path
) -> None:
    """``handrail audit head`` prints ``SEQ:HASH`` of the newest entry."""
    result = await asyncio.to_thread(handrail, settings, tmp_path, "audit", "head")
    assert result.stdout == f"4:{chain[-1].hash}\n"


async def test_a_csv_export_holds_each_entry_with_its_hashes(
    chain: list[AuditEntry], settings: Settings, tmp_path: Path
) -> None:
    """The CSV export has one row per entry in the period, with prev_hash and hash."""
    result = await asyncio.to_thread(
        handrail, settings, tmp_path, "audit", "export", "--since", "2000-01-01", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["sequence"], row["hash"]) for row in rows] == [
        (str(entry.sequence), entry.hash) for entry in chain
    ]


async def test_an_export_to_an_unwritable_file_is_one_line(
    chain: list[AuditEntry], settings: Settings, tmp_path: Path
) -> None:
    """An --output that cannot be written fails on one line naming the fix."""
    target = str(tmp_path / "missing" / "audit.jsonl")
    result = await asyncio.to_thread(
        handrail, settings, tmp_path, "audit", "export", "--since", "2000-01-01", "--output", target
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"error: cannot write {target}: No such file or directory; choose another --output\n"
    )
