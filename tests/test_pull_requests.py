"""``sync --pull-request`` and ``plan --comment`` against the strict fake forge, over real bare
Git repositories and real CLI processes, for each forge whose API description we hold."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nexus_gitops.commit.forge import ForgeKind
from tests.conftest import EXAMPLE_CONFIG, git
from tests.fake_forge import FakeForge, FakePull
from tests.git_harness import bare_remote, env_for, run, snapshots, start, sync_command

TOKEN = "forge-secret-token"
GIT_TOKEN = "git-secret-token"
HEAD = "nexus-gitops/nexus"
KINDS = [ForgeKind.GITHUB, ForgeKind.GITEA]
if (Path(__file__).parent / "data" / "forges" / "gitlab.json").exists():
    KINDS.append(ForgeKind.GITLAB)


class Bench:
    """A bare GitOps repository, its fake forge, two snapshots and a config pointing at both."""

    def __init__(self, tmp: Path, forge: FakeForge, remote: Path) -> None:
        self.tmp = tmp
        self.forge = forge
        self.remote = remote
        self.a, self.b = snapshots(tmp)
        data: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text())
        data.setdefault("git", {}).update({"mode": "pull-request", "branch": "main"})
        data["forge"] = {
            "kind": forge.kind.value,
            "api_url": forge.api_url,
            "repository": "ops/gitops",
            "labels": ["routing"],
            "reviewers": ["alice"],
        }
        self.config = tmp / "nexus-gitops.yaml"
        self.config.write_text(yaml.safe_dump(data))
        self.output = tmp / "github-output"

    def env(self) -> dict[str, str]:
        return env_for(
            self.tmp,
            NEXUS_GITOPS_FORGE_TOKEN=TOKEN,
            NEXUS_GITOPS_GIT_TOKEN=GIT_TOKEN,
            GITHUB_OUTPUT=str(self.output),
        )

    def sync(self, snapshot: Path | None = None) -> tuple[int, str]:
        result = run(
            sync_command(snapshot or self.a, self.config, f"file://{self.remote}"), self.env()
        )
        text = result.stdout + result.stderr
        assert TOKEN not in text and GIT_TOKEN not in text
        assert result.returncode in (0, 2), text
        return result.returncode, text

    def head(self) -> str | None:
        out = git(self.remote, "for-each-ref", "--format=%(objectname)", f"refs/heads/{HEAD}")
        return out.strip() or None

    def main(self) -> str:
        return git(self.remote, "rev-parse", "refs/heads/main").strip()


@pytest.fixture(params=KINDS, ids=lambda k: k.value)
def bench(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Bench]:
    remote = bare_remote(tmp_path)
    with FakeForge(request.param, remote, token=TOKEN) as forge:
        yield Bench(tmp_path, forge, remote)
        assert forge.errors == []


def test_first_run_opens_one_pull_request_built_on_the_base(bench: Bench) -> None:
    status, text = bench.sync()
    assert status == 2
    [pull] = bench.forge.pulls
    assert (pull.state, pull.head, pull.base) == ("open", HEAD, "main")
    assert pull.title.startswith("nexus-gitops: +13 routes")
    assert "nexus-gitops:pull-request owner=nexus change=" in pull.body
    assert pull.labels == ["routing"] and pull.reviewers == ["alice"]
    head = bench.head()
    assert head is not None
    assert git(bench.remote, "rev-parse", f"{head}^").strip() == bench.main()
    assert git(bench.remote, "rev-list", "--count", "main").strip() == "1"  # main untouched
    outputs = bench.output.read_text()
    assert "pull-request-action=opened\n" in outputs
    assert f"pull-request-number={pull.number}\n" in outputs
    assert any(line.startswith("https://") for line in text.splitlines())  # the bare URL


def test_a_second_run_with_nothing_new_writes_nothing(bench: Bench) -> None:
    bench.sync()
    head, writes = bench.head(), len(bench.forge.writes())
    status, _ = bench.sync()
    assert status == 0
    assert bench.head() == head
    assert len(bench.forge.writes()) == writes
    assert "pull-request-action=unchanged" in bench.output.read_text()


def test_a_discovery_change_updates_the_same_pull_request(bench: Bench) -> None:
    bench.sync()
    first = bench.forge.pulls[0]
    old_head, old_title = bench.head(), first.title
    status, _ = bench.sync(bench.b)
    assert status == 2
    assert len(bench.forge.pulls) == 1 and first.state == "open"
    assert bench.head() != old_head
    assert first.title != old_title and "+12 routes" in first.title


def test_a_merged_change_leaves_nothing_to_do(bench: Bench) -> None:
    bench.sync()
    bench.forge.merge(1)
    writes = len(bench.forge.writes())
    status, _ = bench.sync()
    assert status == 0
    assert len(bench.forge.pulls) == 1 and len(bench.forge.writes()) == writes
    assert "pull-request-action=nothing" in bench.output.read_text().splitlines()[-1]


def test_a_declined_change_is_not_proposed_again_but_a_new_one_is(bench: Bench) -> None:
    bench.sync()
    bench.forge.close(1)
    writes = len(bench.forge.writes())
    status, text = bench.sync()
    assert status == 0 and "closed" in text
    assert len(bench.forge.pulls) == 1 and len(bench.forge.writes()) == writes
    status, _ = bench.sync(bench.b)
    assert status == 2
    assert [p.state for p in bench.forge.pulls] == ["closed", "open"]


def test_a_moved_base_rebuilds_the_head_on_it(bench: Bench) -> None:
    bench.sync()
    seed = bench.tmp / "human"
    git(bench.tmp, "clone", "-q", str(bench.remote), str(seed))
    (seed / "apps.yaml").write_text("someone else's change\n")
    git(seed, "add", ".")
    git(seed, "-c", "user.name=H", "-c", "user.email=h@example.invalid", "commit", "-qm", "apps")
    git(seed, "push", "-q", "origin", "main")
    status, _ = bench.sync()
    assert status == 2
    head = bench.head()
    assert head is not None
    assert git(bench.remote, "rev-parse", f"{head}^").strip() == bench.main()
    assert len(bench.forge.pulls) == 1


def test_the_base_holding_the_change_closes_the_bot_pull_request(bench: Bench) -> None:
    bench.sync()
    pull = bench.forge.pulls[0]
    # Someone commits the very same files to main by other means: the PR is obsolete.
    work = bench.tmp / "direct"
    git(bench.tmp, "clone", "-q", str(bench.remote), str(work))
    direct = yaml.safe_load(bench.config.read_text())
    direct["git"]["mode"] = "commit"
    plain = bench.tmp / "direct.yaml"
    plain.write_text(yaml.safe_dump(direct))
    result = run(sync_command(bench.a, plain, f"file://{bench.remote}"), bench.env())
    assert result.returncode == 0, result.stderr
    status, _ = bench.sync()
    assert status == 2
    assert pull.state == "closed" and bench.head() is None
    assert "already holds everything" in pull.comments[-1].body
    # The base is reverted: the same change again is proposed again (the bot's own close
    # is not a reviewer's "no").
    git(work, "pull", "-q", "--ff-only")
    git(
        work,
        "-c",
        "user.name=H",
        "-c",
        "user.email=h@example.invalid",
        "revert",
        "--no-edit",
        "HEAD",
    )
    git(work, "push", "-q", "origin", "main")
    status, _ = bench.sync()
    assert status == 2
    assert [p.state for p in bench.forge.pulls] == ["closed", "open"]


def test_two_runs_at_once_end_with_one_pull_request(bench: Bench) -> None:
    command = sync_command(bench.a, bench.config, f"file://{bench.remote}")
    runs = [start(command, bench.env()) for _ in range(3)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in runs]
    for code, out, err in results:
        assert code in (0, 2), err
        assert TOKEN not in out + err
    assert len(bench.forge.open_pulls()) == 1


def test_the_plan_comment_is_posted_once_then_edited(bench: Bench) -> None:
    work = bench.tmp / "plan.yaml"
    data = yaml.safe_load(bench.config.read_text())
    data["git"]["mode"] = "commit"
    work.write_text(yaml.safe_dump(data))
    git(bench.remote, "branch", "feature", "main")
    _human_pull(bench)
    summary = bench.tmp / "summary.md"
    env = {**bench.env(), "GITHUB_STEP_SUMMARY": str(summary)}
    command = [
        *sync_command(bench.a, work, f"file://{bench.remote}", command="plan"),
        "--comment",
        "--pr",
        "1",
    ]
    first = run(command, env)
    assert first.returncode == 0, first.stderr
    human = bench.forge.pull(1)
    assert len(human.comments) == 2
    assert "nexus-gitops: what merging this pull request does" in human.comments[1].body
    again = run(
        [
            *sync_command(bench.b, work, f"file://{bench.remote}", command="plan"),
            "--comment",
            "--pr",
            "1",
        ],
        env,
    )
    assert again.returncode == 0, again.stderr
    assert len(human.comments) == 2
    assert "+12 routes" in human.comments[1].body
    assert human.comments[0].body == "looks fine to me"
    assert "what merging this pull request does" in summary.read_text()
    assert TOKEN not in first.stdout + first.stderr + again.stdout + again.stderr


def _human_pull(bench: Bench) -> FakePull:
    """A person's pull request (number 1) that already has a person's comment."""
    pull = FakePull(len(bench.forge.pulls) + 1, "Add a public domain", "please", "feature", "main")
    bench.forge.pulls.append(pull)
    bench.forge.add_comment(pull.number, "looks fine to me")
    return pull


def test_the_event_file_names_the_pull_request(bench: Bench, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    result = run(
        [
            *sync_command(bench.a, bench.config, f"file://{bench.remote}", command="plan"),
            "--comment",
        ],
        {**bench.env(), "GITHUB_EVENT_PATH": str(event)},
    )
    assert result.returncode == 1
    # There is no pull request 7 on the fake: the number came from the event file.
    assert re.search(r"of (pull|merge) request [#!]7: the forge answered 404", result.stderr)
