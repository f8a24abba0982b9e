"""Every id Slack sends back to us is kebab-case and defined exactly once."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from handlers.ids import ActionId, BlockId, CallbackId, Command, InputId

KEBAB = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
ID_ENUMS: list[type[StrEnum]] = [ActionId, CallbackId, BlockId, InputId]


@pytest.mark.parametrize("enum", ID_ENUMS, ids=lambda e: e.__name__)
def test_ids_are_kebab_case(enum: type[StrEnum]) -> None:
    """Every action, callback, block and input id is a kebab-case string."""
    assert [m.value for m in enum if not KEBAB.fullmatch(m.value)] == []


@pytest.mark.parametrize("enum", [*ID_ENUMS, Command], ids=lambda e: e.__name__)
def test_ids_are_unique_within_their_enum(enum: type[StrEnum]) -> None:
    """No two names share a value (an Enum would silently make the second an alias)."""
    values = [member.value for member in enum.__members__.values()]
    assert len(values) == len(set(values))


def test_action_and_callback_ids_do_not_overlap() -> None:
    """A button and a modal never share an id, so a listener cannot catch the wrong one."""
    assert {m.value for m in ActionId} & {m.value for m in CallbackId} == set()


def test_commands_are_the_four_slash_commands() -> None:
    """The slash commands are exactly /trace, /pause, /resume and /handrail."""
    assert [m.value for m in Command] == ["/trace", "/pause", "/resume", "/handrail"]
