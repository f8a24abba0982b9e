"""Error fingerprints group the same failure and keep different failures apart."""

from __future__ import annotations

import pytest

from workflows.fingerprint import NORMALISED_MAX, fingerprint, normalise_error


def test_numbers_do_not_split_an_error() -> None:
    """The issue's example: two invoices, one timeout, one fingerprint."""
    assert fingerprint("timeout after 30 s for invoice 123") == fingerprint(
        "timeout after 30 s for invoice 456"
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "run 7f1c2a3e-1234-4abc-9def-0123456789ab failed",
            "run 0b9c1d2e-aaaa-4bbb-8ccc-ddddeeeeffff failed",
        ),
        ("run_01JDZ3K6Q4J1P6Y5M2T8W9X0AB failed", "run_01JDZ3ZZZZJ1P6Y5M2T8W9X0CD failed"),
        ("bad checksum 0xdeadbeef", "bad checksum 0x1f"),
        ("blob 9f86d081884c7d65 mismatch", "blob 2c26b46b68ffc68f mismatch"),
        ("stale at 2026-01-05T09:00:00Z", "stale at 2026-02-11 17:45:12.123+01:00"),
        ("no slot at 10:42", "no slot at 09:05:33"),
        ("user bob@example.com not found", "user alice.smith+x@mail.example.org not found"),
        ("GET https://api.example.com/orders/991?x=1 failed", "GET http://other.host/a failed"),
        ("KeyError: 'total_amount'", "KeyError: 'due_date'"),
        ('bad value "abc" in field 4', 'bad value "x y z" in field 12'),
        ("took 1.5s", "took 200ms"),
        ("INV-2024-0042 rejected", "INV-2025-0107 rejected"),
    ],
)
def test_changing_values_are_ignored(first: str, second: str) -> None:
    """IDs, UUIDs, hex, timestamps, e-mails, URLs, quoted values and units all normalise away."""
    assert fingerprint(first) == fingerprint(second), (
        normalise_error(first),
        normalise_error(second),
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("timeout after 30 s from order_lookup", "permission denied from order_lookup"),
        ("order_lookup timed out", "invoice_parser timed out"),
        ("model returned invalid JSON", "model refused the request"),
    ],
)
def test_different_wording_stays_apart(first: str, second: str) -> None:
    """Errors that say different things never share a fingerprint."""
    assert fingerprint(first) != fingerprint(second)


def test_case_and_spacing_do_not_matter() -> None:
    """Line breaks, repeated spaces and case are not what identifies an error."""
    assert fingerprint("Timeout  after\n30 s") == fingerprint("timeout after 31 s")


def test_a_long_trace_is_cut_before_hashing() -> None:
    """Only the start of a long error counts, so a longer stack trace is the same error."""
    head = "worker crashed: " + "frame in module; " * 40
    assert len(normalise_error(head + "a")) == NORMALISED_MAX
    assert fingerprint(head + "tail one") == fingerprint(head + "another tail")


def test_the_fingerprint_is_short_and_stable() -> None:
    """A fingerprint fits the alert's key and does not change between runs of Handrail."""
    assert fingerprint("timeout after 30 s") == "98c4b3a7e62056b8"
