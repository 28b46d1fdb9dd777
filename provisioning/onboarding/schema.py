"""The organization file's shape. Values are checked again by the API's serializers and
the services when applied; this only catches what a file can get wrong on its own:
unknown or missing keys, wrong types, the same thing named twice."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    def given(self, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
        """The keys the file sets (what it leaves out stays as it is, or the default)."""
        return {
            key: value
            for key, value in self.model_dump(exclude_unset=True).items()
            if key not in leave_out
        }


def secret(value: str | None, env: str | None, *, where: str) -> str | None:
    """A secret from the environment variable ``env`` (the file names it, so the file
    itself may be shared or kept in version control), else ``value``, else None."""
    if env:
        found = os.environ.get(env)
        if not found:
            raise ValueError(f"{where}: the environment variable {env} is not set")
        return found
    return value


class OrganizationSpec(Section):
    name: str = Field(min_length=1)
    slug: str = Field(min_length=1)
    time_zone: str | None = None
    default_region: str | None = None


class PersonSpec(Section):
    username: str = Field(min_length=1)
    email: str = Field(min_length=3)
    role: Literal["admin", "supervisor", "agent"]
    first_name: str | None = None
    last_name: str | None = None
    agent: str | None = None  # the extension of the agent profile they take calls as


class AgentSpec(Section):
    extension: str = Field(min_length=1)
    name: str = Field(min_length=1)
    interface: str | None = None
    is_active: bool | None = None
    sip_username: str | None = None
    sip_password: str | None = None
    sip_password_env: str | None = None
    sip_domain: str | None = None
    sip_websocket_url: str | None = None


class QueueSpec(Section):
    pbx_queue_name: str = Field(min_length=1)
    name: str = Field(min_length=1)
    strategy: str | None = None
    service_level_seconds: int | None = None
    short_abandon_seconds: int | None = None
    max_wait_seconds: int | None = None
    is_active: bool | None = None
    members: list[str] = []  # extensions


class CategorySpec(Section):
    name: str = Field(min_length=1)
    children: list[str] = []


class DispositionSpec(Section):
    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    category: str | None = None
    requires_follow_up: bool | None = None
    requires_case_creation: bool | None = None
    default_case_category: str | None = None  # a category's name
    default_case_priority: str | None = None
    is_active: bool | None = None


def _unique(items: list[Any], key: str, section: str) -> None:
    seen: set[str] = set()
    for item in items:
        value = str(getattr(item, key)).casefold()
        if value in seen:
            raise ValueError(f"{section}: {key} {getattr(item, key)!r} is given twice")
        seen.add(value)


class OrganizationSetup(Section):
    organization: OrganizationSpec
    people: list[PersonSpec] = []
    agents: list[AgentSpec] = []
    queues: list[QueueSpec] = []
    case_categories: list[CategorySpec] = []
    dispositions: list[DispositionSpec] = []

    @model_validator(mode="after")
    def _references(self) -> OrganizationSetup:
        _unique(self.people, "username", "people")
        _unique(self.people, "email", "people")
        _unique(self.agents, "extension", "agents")
        _unique(self.queues, "pbx_queue_name", "queues")
        _unique(self.case_categories, "name", "case_categories")
        _unique(self.dispositions, "code", "dispositions")
        extensions = {agent.extension for agent in self.agents}
        for person in self.people:
            if person.agent is not None and person.agent not in extensions:
                raise ValueError(f"people[{person.username}]: no agent {person.agent!r} in agents")
        taken = [p.agent for p in self.people if p.agent is not None]
        if len(taken) != len(set(taken)):
            raise ValueError("people: two people are given the same agent")
        for queue in self.queues:
            for member in queue.members:
                if member not in extensions:
                    raise ValueError(f"queues[{queue.pbx_queue_name}]: no agent {member!r}")
        categories = {c.name for c in self.case_categories} | {
            child for c in self.case_categories for child in c.children
        }
        for disposition in self.dispositions:
            wanted = disposition.default_case_category
            if wanted is not None and wanted not in categories:
                raise ValueError(
                    f"dispositions[{disposition.code}]: no case category {wanted!r} "
                    "in case_categories"
                )
        return self
