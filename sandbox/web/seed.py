"""The local Slack's people and channels, read from workflows.yml.

Everyone the file names (reviewers, admins, on-call, owners, and the members of the
usergroups it names) becomes a person, labelled with their roles so the page's user
switcher says who may do what; one stranger with no role is added, to try a refusal.
Every review and alert channel becomes a channel, named after its ID (``C0REVIEW`` is
``#review``), since workflows.yml knows IDs, not names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sandbox.models import Channel, User
from workflows.config.brief import HandrailConfig

STRANGER_ID = "U0STRANGER"
STRANGER_NAME = "Sam Stranger"


@dataclass
class Person:
    """A seeded user and what workflows.yml lets them do."""

    id: str
    name: str
    real_name: str
    roles: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "real_name": self.real_name, "roles": self.roles}


@dataclass
class Room:
    """A seeded channel and why it exists (``review`` / ``alert`` of which workflows)."""

    id: str
    name: str
    purposes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "purposes": self.purposes}


@dataclass
class Seed:
    """What the emulator is started with, and the labels the page shows."""

    people: dict[str, Person]
    rooms: dict[str, Room]
    usergroups: dict[str, list[str]]

    @property
    def users(self) -> list[User]:
        return [User(p.id, p.name, p.real_name) for p in self.people.values()]

    @property
    def channels(self) -> list[Channel]:
        return [Channel(r.id, r.name) for r in self.rooms.values()]


def readable_name(slack_id: str) -> str:
    """``U0ALICE`` -> ``alice``; ``C0REVIEW`` -> ``review``: the ID without its prefix."""
    tail = slack_id[1:]
    tail = tail[1:] if tail.startswith("0") and len(tail) > 1 else tail
    return tail.lower().replace("_", "-")


def _person(people: dict[str, Person], slack_id: str) -> Person:
    if slack_id not in people:
        name = readable_name(slack_id)
        people[slack_id] = Person(slack_id, name, name.replace("-", " ").title())
    return people[slack_id]


def _add_role(
    people: dict[str, Person], groups: dict[str, list[str]], ids: Iterable[str], role: str
) -> None:
    """Give ``role`` to each ID; a usergroup (``S…``) gets one member of its own."""
    for slack_id in ids:
        members = [slack_id]
        if slack_id.startswith("S"):
            members = groups.setdefault(slack_id, [f"U{slack_id[1:]}M"])
        for member in members:
            person = _person(people, member)
            if role not in person.roles:
                person.roles.append(role)


def _add_room(rooms: dict[str, Room], channel_id: str | None, purpose: str) -> None:
    if channel_id is None:
        return
    room = rooms.setdefault(channel_id, Room(channel_id, readable_name(channel_id)))
    if purpose not in room.purposes:
        room.purposes.append(purpose)


def seed_from_config(config: HandrailConfig) -> Seed:
    """People, channels and usergroups for every workflow, plus a stranger."""
    people: dict[str, Person] = {}
    rooms: dict[str, Room] = {}
    groups: dict[str, list[str]] = {}
    for name, workflow in config.workflows.items():
        _add_role(people, groups, workflow.reviewers, f"reviewer of {name}")
        _add_role(people, groups, workflow.admins, f"admin of {name}")
        _add_role(people, groups, workflow.oncall, f"on-call for {name}")
        _add_role(people, groups, [workflow.owner] if workflow.owner else [], f"owner of {name}")
        _add_room(rooms, workflow.review_channel, f"review: {name}")
        _add_room(rooms, workflow.alert_channel, f"alerts: {name}")
    if STRANGER_ID not in people:
        people[STRANGER_ID] = Person(STRANGER_ID, "stranger", STRANGER_NAME)
    return Seed(people=people, rooms=rooms, usergroups=groups)
