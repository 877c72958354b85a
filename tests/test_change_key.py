"""The change key behind a reviewer's "no": the same change has the same key on another day
(zone serials carry the date), a different change has another, and the bot finds its own
marker whatever its owner id looks like."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from nexus_gitops import commands
from nexus_gitops.commit.pull_request import body_key, marker
from nexus_gitops.config import Config
from nexus_gitops.discover.snapshot import SnapshotSource
from nexus_gitops.model import STATE_FILE
from nexus_gitops.plan.summary import change_key
from nexus_gitops.render import zone_path
from tests.conftest import OPTIONS


def _key(config: Config, source: SnapshotSource, today: dt.date) -> str:
    options = dataclasses.replace(OPTIONS, today=today)
    planned = commands.plan(commands.discover(config, source), config, {}, options)
    dated = {zone_path(z.filename) for z in planned.desired.zones} | {STATE_FILE}
    return change_key(planned.changes, planned.files, dated)


def test_the_same_change_on_another_day_has_the_same_key(
    example_config: Config, example_source: SnapshotSource
) -> None:
    today = _key(example_config, example_source, dt.date(2026, 12, 3))
    assert _key(example_config, example_source, dt.date(2026, 12, 4)) == today
    other = dataclasses.replace(example_config, dns=dataclasses.replace(example_config.dns, ttl=60))
    assert _key(other, example_source, dt.date(2026, 12, 3)) != today


@pytest.mark.parametrize("owner", ["nexus", "clusters/prod/nexus", "Team_A.prod-1"])
def test_the_bot_reads_back_its_own_marker(owner: str) -> None:
    key = "ab" * 32
    planted = marker(owner, "cd" * 32)  # inside the plan text, before the bot's own marker
    body = f"plan\n```text\n{planted}\n```\n\n{marker(owner, key)}\n"
    assert body_key(body, owner) == key
    assert body_key(body, "someone-else") is None
