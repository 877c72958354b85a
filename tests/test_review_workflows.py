"""The shipped workflow examples do what they say: the scheduled one (through the composite
action's own Sync step) opens and then keeps one pull request, and the pull-request one posts
the plan as one comment. Their scripts run as GitHub runs them (bash -eo pipefail) against the
fake forge and a real bare repository; only the secrets, the cluster and the URLs are swapped
for the test's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nexus_gitops.commit.forge import ForgeKind
from tests.conftest import EXAMPLE_CONFIG
from tests.fake_forge import FakeForge, FakePull
from tests.git_harness import bare_remote, env_for, snapshots

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / ".github" / "actions" / "sync" / "action.yml"
SCHEDULED = ROOT / "examples" / "github" / "sync-pull-request.yml"
COMMENTING = ROOT / "examples" / "github" / "plan-comment.yml"
TOKEN = "forge-secret-token"


def load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)


def steps(doc: Any) -> list[dict[str, Any]]:
    if "runs" in doc:
        return list(doc["runs"]["steps"])
    return [step for job in doc["jobs"].values() for step in job["steps"]]


def run_step(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """As GitHub runs a ``shell: bash`` step."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def forge(tmp_path: Path) -> Iterator[FakeForge]:
    with FakeForge(ForgeKind.GITHUB, bare_remote(tmp_path), token=TOKEN) as fake:
        yield fake
        assert fake.errors == []


def _config(tmp_path: Path, forge: FakeForge) -> Path:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    data.setdefault("git", {})["branch"] = "main"
    data["forge"] = {"kind": "github", "api_url": forge.api_url, "repository": "ops/gitops"}
    path = tmp_path / "nexus-gitops.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return env_for(tmp_path, Path(sys.executable).parent, **extra)


def test_the_scheduled_example_opens_then_keeps_one_pull_request(
    tmp_path: Path, forge: FakeForge
) -> None:
    [nexus] = [s for s in steps(load(SCHEDULED)) if s.get("id") == "nexus"]
    inputs = {name: spec.get("default", "") for name, spec in load(ACTION)["inputs"].items()}
    inputs.update(nexus["with"])
    [sync] = [s for s in steps(load(ACTION)) if s.get("id") == "sync"]
    assert inputs["pull-request"] == "true"
    a, _ = snapshots(tmp_path)
    inputs.update(
        source=str(a),
        config=str(_config(tmp_path, forge)),
        repo=f"file://{forge.bare}",
        **{"forge-token": TOKEN, "git-token": ""},
    )
    env = {
        name: re.sub(r"\$\{\{ inputs\.([a-z-]+) \}\}", lambda m: inputs[m.group(1)], value)
        for name, value in sync["env"].items()
    }
    output = tmp_path / "github-output"
    for attempt in ("opened", "unchanged"):
        result = run_step(
            sync["run"], {**_env(tmp_path, GITHUB_OUTPUT=str(output)), **env}, tmp_path
        )
        assert result.returncode == 0, result.stderr
        assert (
            f"pull-request-action={attempt}\n"
            in output.read_text().splitlines(keepends=True)[-3:][0]
        )
        assert TOKEN not in result.stdout + result.stderr
    assert len(forge.open_pulls()) == 1


def test_the_pull_request_example_posts_the_plan_as_one_comment(
    tmp_path: Path, forge: FakeForge
) -> None:
    forge.pulls.append(FakePull(1, "Add a public domain", "", "feature", "main"))
    [step] = [s for s in steps(load(COMMENTING)) if "--comment" in s.get("run", "")]
    a, _ = snapshots(tmp_path)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 1}}))
    env = dict(step["env"])
    env.update(
        NEXUS_GITOPS_SOURCE=str(a),
        NEXUS_GITOPS_CONFIG=str(_config(tmp_path, forge)),
        NEXUS_GITOPS_REPO=f"file://{forge.bare}",
        NEXUS_GITOPS_GIT_TOKEN="",
        NEXUS_GITOPS_FORGE_TOKEN=TOKEN,
    )
    assert not any("${{" in value for value in env.values())  # every expression was swapped
    summary = tmp_path / "summary.md"
    for _ in range(2):
        result = run_step(
            step["run"],
            {
                **_env(tmp_path, GITHUB_EVENT_PATH=str(event), GITHUB_STEP_SUMMARY=str(summary)),
                **env,
            },
            tmp_path,
        )
        assert result.returncode == 0, result.stderr
    [comment] = forge.pull(1).comments
    assert "+13 routes" in comment.body
    assert os.path.getsize(summary) > 0
