"""Redaction benchmark: recall and false positives on the corpus, and throughput.

Run as ``.venv/bin/python bench/redaction_corpus.py``. It prints recall per kind and
overall on the positives of ``tests/redaction_corpus.py``, the false positives on its
negatives, and events per second redacting batches of 100 realistic ~1 KB events,
beside a baseline that only walks (copies) the same events, measured in the same run.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.redaction_corpus import NEGATIVES, POLICY, POSITIVES, false_positives, misses
from workflows.redaction import PERSONAL_KINDS, RedactionPolicy, Redactor

BATCH = 100
ROUNDS = 50
PASSES = 9

_PROSE = (
    "the customer says their order arrived damaged and asks whether we can send a "
    "replacement before the weekend ; the previous ticket was closed without a reply "
    "please check the shipping status and draft a polite answer that explains the next "
    "steps keep it under 120 words and do not promise a refund without approval"
)
_WORDS = _PROSE.split()
_SECRETS = (
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib3QtNDIifQ.c2lnbmF0dXJlLWZha2U",
    "retrying with key sk-proj-Fake0123456789abcdefGHIJKLmnop",
    "connect failed: postgres://svc:Fak3-Pa55word@db.internal:5432/orders",
    "customer wrote from jane.doe@example.org about order ORD-2024-118823",
)


def _prose(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def make_event(rng: random.Random, seq: int) -> dict[str, object]:
    """Build one realistic ~1 KB event; about one in ten carries a secret or an email."""
    note = _prose(rng, 12)
    if rng.random() < 0.1:
        note += " " + rng.choice(_SECRETS)
    return {
        "run_id": f"run-{uuid.UUID(int=rng.getrandbits(128))}",
        "seq": seq,
        "type": rng.choice(["prompt", "model_call", "tool_call", "action", "note"]),
        "at": f"2024-05-{rng.randint(1, 28):02d}T09:{rng.randint(0, 59):02d}:07.123456+00:00",
        "prompt": {"version": "triage-v12", "text": _prose(rng, 45)},
        "model": {
            "name": "gpt-4o-mini",
            "temperature": 0.2,
            "max_tokens": 512,
            "usage": {"prompt_tokens": rng.randint(200, 2000), "completion_tokens": 143},
        },
        "tool": {
            "name": "order_lookup",
            "input": {"order_id": f"ORD-2024-{rng.randint(0, 999999):06d}", "fields": ["items"]},
            "output": {
                "status": rng.choice(["shipped", "pending", "delivered"]),
                "tracking": "1Z999AA10123456784",
                "eta": "2024-05-16",
                "items": [{"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": 2, "price": 19.99}],
            },
        },
        "latency_ms": round(rng.uniform(100, 3000), 1),
        "note": note,
        "metadata": {"attempt": 1, "trace_id": f"{rng.getrandbits(64):016x}", "ok": True},
    }


def walk(value: object) -> object:
    """Copy a JSON-shaped value without redacting it: the floor redaction is compared to."""
    if isinstance(value, dict):
        return {walk(key): walk(item) for key, item in value.items()}
    if isinstance(value, list):
        return [walk(item) for item in value]
    return value


def throughput(
    fns: dict[str, Callable[[object], object]], batches: list[list[dict[str, object]]]
) -> dict[str, float]:
    """Return events per second for each function, the best of several interleaved passes.

    Interleaving and keeping the best pass shields the comparison from other processes
    that share the machine.
    """
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(PASSES):
        for label, fn in fns.items():
            started = time.process_time()
            for batch in batches:
                for event in batch:
                    fn(event)
            best[label] = min(best[label], time.process_time() - started)
    events = sum(len(batch) for batch in batches)
    return {label: events / seconds for label, seconds in best.items()}


def report_corpus() -> None:
    """Print recall per kind and overall, exact matches, and false positives."""
    redactor = Redactor(POLICY)
    found: dict[str, int] = {}
    expected: dict[str, int] = {}
    for value, kinds in POSITIVES:
        counts = redactor.redact(value).counts
        for kind, count in kinds.items():
            expected[kind] = expected.get(kind, 0) + count
            found[kind] = found.get(kind, 0) + min(count, counts.get(kind, 0))
    print(f"corpus: {len(POSITIVES)} positives, {len(NEGATIVES)} negatives, every kind on")
    print("recall per kind:")
    for kind in sorted(expected):
        share = found[kind] / expected[kind]
        print(f"  {kind:<16} {found[kind]:>3}/{expected[kind]:<3} {share:6.1%}")
    total_found, total_expected = sum(found.values()), sum(expected.values())
    print(f"overall recall: {total_found}/{total_expected} = {total_found / total_expected:.1%}")
    wrong = misses(redactor)
    exact = len(POSITIVES) - len(wrong)
    print(f"positives with exactly the expected counts: {exact}/{len(POSITIVES)}")
    for value, want, got in wrong:
        print(f"  {value!r}: expected {want}, got {got}")
    changed = false_positives(redactor)
    print(f"false positives on negatives: {len(changed)}/{len(NEGATIVES)}")
    for value, result in changed:
        print(f"  {value!r} -> {result!r}")


def report_throughput() -> None:
    """Print events per second for each policy, beside a walk that only copies."""
    rng = random.Random(7)
    batches = [[make_event(rng, i) for i in range(BATCH)] for _ in range(ROUNDS)]
    size = sum(len(orjson.dumps(event)) for batch in batches for event in batch) / (BATCH * ROUNDS)
    print(
        f"throughput ({ROUNDS} batches of {BATCH} events, mean {size:.0f} bytes of JSON, "
        f"CPU time, best of {PASSES} passes):"
    )
    fns: dict[str, Callable[[object], object]] = {
        "walk only (baseline)": walk,
        "secrets only (default)": Redactor().redact,
        "secrets + card_numbers": Redactor(
            RedactionPolicy(personal=frozenset({"card_numbers"}))
        ).redact,
        "secrets + all personal kinds": Redactor(
            RedactionPolicy(personal=frozenset(PERSONAL_KINDS))
        ).redact,
    }
    for label, rate in throughput(fns, batches).items():
        print(f"  {label:<30} {rate:>9,.0f} events/s  {BATCH / rate * 1e3:5.2f} ms per {BATCH}")


def report_adversarial() -> None:
    """Print the slowest of some hostile 100 KB strings: redaction must stay linear."""
    size = 100_000
    shapes = [
        "password=", "token: ", "eyJ", "eyJaaaaaaaaa.ey", "sk-", "xoxb-1", "ghp_", "AKIA1",
        "a@", "@a.", "://a:", "Bearer ", "1 ", "1-", "+1 ", "(12) ", "4111 ", "GB82 ",
        "-----BEGIN RSA PRIVATE KEY-----\n", "secret_key = ", "[REDACTED:x]",
        '"a":"', '"password": "', '{"name": "API_KEY", "value": "', '\\"k\\": \\"',
        "--password ", " --token=", "mysql -p", " -pa", "curl -u a:", "sshpass -p ",
        "Cookie: a=", "Set-Cookie: a=", "DD_API_KEY=", "AccountKey=", "sv=1&sig=",
        "pass%3D", "password%22%3A%22", "glpat-", "SG.", "AC0", "key-", "123456789:AA",
        "0123456789abcdef0123456789abcdef-",
    ]  # fmt: skip
    redactor = Redactor(POLICY)
    timings = []
    for shape in shapes:
        text = shape * (size // len(shape))
        started = time.perf_counter()
        redactor.redact(text)
        timings.append((time.perf_counter() - started, shape))
    slowest, shape = max(timings)
    print(
        f"adversarial: {len(shapes)} strings of {size // 1000} KB, "
        f"slowest {slowest * 1e3:.0f} ms ({shape!r} repeated), "
        f"median {sorted(timings)[len(timings) // 2][0] * 1e3:.0f} ms"
    )


def main() -> None:
    report_corpus()
    report_throughput()
    report_adversarial()


if __name__ == "__main__":
    main()
