"""Recovering redacted values from the draft the automation sent, only where certain."""

from __future__ import annotations

from handrail_client.unredact import Slot, recover_slots, restore

ORIGINAL = "A: 111-222 B: 333-444."
REDACTED = "A: [REDACTED:phone] B: [REDACTED:phone]."


def test_each_value_is_recovered_from_the_aligned_draft() -> None:
    """The original values line up with the placeholders in the redacted draft, in order."""
    assert recover_slots(ORIGINAL, REDACTED) == [Slot("phone", "111-222"), Slot("phone", "333-444")]


def test_adjacent_placeholders_have_no_certain_boundary() -> None:
    """Two placeholders with nothing between them could split anywhere: neither is guessed."""
    slots = recover_slots("mail a@b.io c@d.io", "mail [REDACTED:email][REDACTED:email]")
    assert slots == [Slot("email", None), Slot("email", None)]


def test_a_draft_that_does_not_match_recovers_nothing() -> None:
    """If the stored draft is not a redaction of the original, no value is taken from it."""
    assert recover_slots("something else", REDACTED) == [Slot("phone", None), Slot("phone", None)]


def test_a_kept_placeholder_is_tied_to_its_neighbouring_words() -> None:
    """With two values of a kind, the words next to a kept placeholder say which it was."""
    assert restore("Only B: [REDACTED:phone].", original=ORIGINAL, redacted=REDACTED) == (
        "Only B: 333-444.",
        (),
    )


def test_a_placeholder_in_new_words_is_left_and_reported() -> None:
    """A placeholder moved into new words, with two candidate values, stays and is flagged."""
    assert restore("Ring [REDACTED:phone]", original=ORIGINAL, redacted=REDACTED) == (
        "Ring [REDACTED:phone]",
        ("phone",),
    )
