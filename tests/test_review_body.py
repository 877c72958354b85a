"""The bot pull request's body reads as a routing review: the example change, rendered, is
compared with a golden file that a person has read (tests/golden/pr-body.md)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from nexus_gitops import commands, report
from nexus_gitops.config import load_config
from nexus_gitops.discover.snapshot import SnapshotSource
from nexus_gitops.plan.files import Action
from tests.conftest import EXAMPLE_CONFIG, EXAMPLE_SNAPSHOT, OPTIONS, snapshot_text

GOLDEN = Path(__file__).parent / "golden" / "pr-body.md"


def _changed_cluster(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The example cluster after a day: heat-cfn is gone and the ingress got a new address."""
    changed = []
    for item in copy.deepcopy(items):
        if item["metadata"]["name"] == "heat-cfn":
            continue
        for ingress in item.get("status", {}).get("loadBalancer", {}).get("ingress", []):
            if ingress.get("ip") == "172.18.30.166":
                ingress["ip"] = "172.18.30.167"
        changed.append(item)
    return changed


def test_the_example_change_reads_as_a_routing_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the body names the snapshot as given: a relative path
    config = load_config(EXAMPLE_CONFIG)
    items = yaml.safe_load(EXAMPLE_SNAPSHOT.read_text())["items"]
    before = commands.plan(
        commands.discover(config, SnapshotSource.load(EXAMPLE_SNAPSHOT)), config, {}, OPTIONS
    )
    committed = {c.path: c.content for c in before.files.changes if c.action is not Action.DELETE}
    after_file = Path("cluster-tomorrow.json")
    after_file.write_text(snapshot_text(_changed_cluster(items)))
    after = commands.plan(
        commands.discover(config, SnapshotSource.load(after_file)),
        config,
        {p: c for p, c in committed.items() if c is not None},
        OPTIONS,
    )
    body = report.review_body(after, OPTIONS.owner)
    if os.environ.get("NEXUS_GITOPS_REGENERATE"):
        GOLDEN.write_text(body)
    assert body == GOLDEN.read_text(), "regenerate with NEXUS_GITOPS_REGENERATE=1, then read it"
