"""The sync loop under fire, with real git: racing writers, kills at every publishing step and at
random instants, stale locks, overlapping runs, an HTTP remote with a token and a hook, and
credentials that must never show."""

from __future__ import annotations

import fcntl
import os
import random
import re
import sys
import time
from pathlib import Path

import pytest

from nexus_gitops import commands
from nexus_gitops.commit.publish import Change, Published
from nexus_gitops.commit.store import CommitResult, PushRejected
from nexus_gitops.config import load_config
from nexus_gitops.discover.snapshot import SnapshotSource
from nexus_gitops.errors import GitError
from tests.conftest import EXAMPLE_CONFIG, EXAMPLE_SNAPSHOT, OPTIONS, git
from tests.git_harness import (
    DROPPED_FILE,
    ArgvSampler,
    bare_remote,
    checkout,
    config_file,
    env_for,
    fsck,
    hook,
    http_remote,
    is_ancestor,
    kill,
    killing_git,
    run,
    snapshots,
    start,
    sync_command,
    tree_has,
)

GAVE_UP = re.compile(
    r"^error: gave up after \d+ tries: origin/main kept moving while this run pushed"
)
COMMITTED = re.compile(r"^committed ([0-9a-f]{12}) on main, pushed to origin/main: ")


def _after_a_push_in_another_second(remote: Path, work: Path) -> None:
    """When the killed run's push landed, wait for the clock's next second: a rebuilt commit is
    then not byte-identical to the pushed one, as it never is when the next run comes minutes
    later (within one second, a run that ignores the remote would pass by luck)."""
    if git(remote, "rev-parse", "main") != git(work, "rev-parse", "main"):
        time.sleep(1.02 - time.time() % 1.0)


def _converged(remote: Path, work: Path, expect_dropped: bool) -> None:
    """The checkout is clean, on the remote's commit, with the last run's change in it."""
    assert git(work, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(work, "rev-parse", "main") == git(remote, "rev-parse", "main")
    assert tree_has(remote, "main", f"nexus/{DROPPED_FILE}") is not expect_dropped
    assert (work / "nexus" / DROPPED_FILE).exists() is not expect_dropped
    assert not (work / ".git" / "nexus-gitops.journal").exists()
    fsck(remote)
    fsck(work)


@pytest.mark.slow
def test_racing_writers_all_land_or_say_why(tmp_path: Path) -> None:
    """8 writers, several rounds, one remote: 6 clone by URL, 2 share one local checkout (so
    they also wait for each other's lock). Every run lands its change or says it gave up."""
    remote = bare_remote(tmp_path)
    shared = checkout(remote, tmp_path / "shared")
    a, b = snapshots(tmp_path)
    config = config_file(tmp_path)
    env = env_for(tmp_path)
    writers = [(remote.as_uri(), f"url{i}") for i in range(6)]
    writers += [(str(shared), "local0"), (str(shared), "local1")]
    landed = gave_up = 0
    for round_number in range(3):
        source = a if round_number % 2 == 0 else b
        runs = [
            (path, start(sync_command(source, config, repo, path), env)) for repo, path in writers
        ]
        for path, process in runs:
            stdout, stderr = process.communicate(timeout=120)
            if process.returncode == 0:
                found = COMMITTED.match(stdout)
                assert found, (path, stdout, stderr)
                assert is_ancestor(remote, found[1], "main"), (path, found[1])
                landed += 1
            else:
                assert process.returncode == 1 and GAVE_UP.match(stderr), (path, stderr)
                assert stderr.count("\n") == 1
                gave_up += 1
        for _, path in writers:
            done = [p for p, proc in runs if p == path and proc.returncode == 0]
            if done:
                dropped = source == b
                assert tree_has(remote, "main", f"{path}/{DROPPED_FILE}") is not dropped, path
        assert git(shared, "status", "--porcelain", "--untracked-files=all") == ""
    assert landed + gave_up == 24 and landed >= 20, (landed, gave_up)
    fsck(remote)
    fsck(shared)


def test_a_remote_that_stays_locked_exhausts_the_retries(tmp_path: Path) -> None:
    """A ref lock on the remote is a lost race (another push is updating it): retried, then one
    clear line naming the branch and the number of tries."""
    remote = bare_remote(tmp_path)
    a, _ = snapshots(tmp_path)
    (remote / "refs" / "heads" / "main.lock").write_text("")
    config = config_file(tmp_path, push_retries=2)
    result = run(sync_command(a, config, remote.as_uri()), env_for(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: gave up after 3 tries: origin/main kept moving while this run pushed"
    ), result.stderr
    assert result.stderr.count("\n") == 1
    assert (remote / "refs" / "heads" / "main.lock").exists()  # never removed: not ours


STEPS = [
    ("fetch", "after"),
    ("fast-import", "before"),
    ("fast-import", "after"),
    ("push", "before"),
    ("push", "after"),
    ("update-ref", "before"),
    ("update-ref", "after"),
    ("update-index", "before"),
    ("update-index", "after"),
]


@pytest.mark.parametrize(("subcommand", "when"), STEPS, ids=[f"{s}-{w}" for s, w in STEPS])
def test_a_kill_at_each_publishing_step_is_finished_by_the_next_run(
    tmp_path: Path, subcommand: str, when: str
) -> None:
    remote = bare_remote(tmp_path)
    work = checkout(remote, tmp_path / "work")
    a, b = snapshots(tmp_path)
    config = config_file(tmp_path)
    assert run(sync_command(a, config, work), env_for(tmp_path)).returncode == 0
    wrapper = killing_git(tmp_path, subcommand, when)
    killed = run(sync_command(b, config, work), env_for(tmp_path, wrapper))
    assert killed.returncode == -9, (killed.stdout, killed.stderr)
    _after_a_push_in_another_second(remote, work)
    again = run(sync_command(b, config, work), env_for(tmp_path))
    assert again.returncode == 0, again.stderr
    _converged(remote, work, expect_dropped=True)
    assert run(sync_command(b, config, work), env_for(tmp_path)).stdout.startswith("up to date")


def test_a_work_tree_behind_its_branch_is_caught_up_without_a_journal(tmp_path: Path) -> None:
    """As an older version left a checkout killed after it moved the branch: the work tree and
    index one commit behind, only this tool's files differing."""
    remote = bare_remote(tmp_path)
    work = checkout(remote, tmp_path / "work")
    a, b = snapshots(tmp_path)
    config = config_file(tmp_path)
    assert run(sync_command(a, config, work), env_for(tmp_path)).returncode == 0
    wrapper = killing_git(tmp_path, "update-ref", "after")
    assert run(sync_command(b, config, work), env_for(tmp_path, wrapper)).returncode == -9
    (work / ".git" / "nexus-gitops.journal").unlink()
    assert git(work, "status", "--porcelain") != ""
    again = run(sync_command(b, config, work), env_for(tmp_path))
    assert again.returncode == 0 and again.stdout.startswith("up to date"), again.stderr
    _converged(remote, work, expect_dropped=True)


def test_a_killed_url_run_leaves_its_clone_only_until_the_next_run(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    a, _ = snapshots(tmp_path)
    config = config_file(tmp_path)
    scratch = tmp_path / "tmp" / "nexus-gitops"
    wrapper = killing_git(tmp_path, "push", "after")
    killed = run(sync_command(a, config, remote.as_uri()), env_for(tmp_path, wrapper))
    assert killed.returncode == -9
    assert len(list(scratch.iterdir())) == 1
    again = run(sync_command(a, config, remote.as_uri()), env_for(tmp_path))
    assert again.returncode == 0 and again.stdout.startswith("up to date"), again.stderr
    assert list(scratch.iterdir()) == []
    fsck(remote)


@pytest.mark.parametrize("planted", ["symlink", "shared folder"])
def test_a_clone_folder_planted_by_someone_else_is_refused(tmp_path: Path, planted: str) -> None:
    """$TMPDIR is shared: a nexus-gitops folder another user made (or a symlink to one) would
    receive the clone; the run refuses it in one line and clones nothing."""
    remote = bare_remote(tmp_path)
    a, _ = snapshots(tmp_path)
    config = config_file(tmp_path)
    env = env_for(tmp_path)  # makes $TMPDIR
    scratch = tmp_path / "tmp" / "nexus-gitops"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if planted == "symlink":
        scratch.symlink_to(elsewhere)
    else:
        scratch.mkdir()
        scratch.chmod(0o777)
    result = run(sync_command(a, config, remote.as_uri()), env)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"error: refusing {scratch} for the temporary clone")
    assert list(elsewhere.iterdir()) == []


@pytest.mark.slow
def test_kills_at_random_instants_never_wedge(tmp_path: Path) -> None:
    """30 runs killed at random instants (half of them with their git children): after each,
    the next run converges and the checkout is clean."""
    remote = bare_remote(tmp_path)
    work = checkout(remote, tmp_path / "work")
    a, b = snapshots(tmp_path)
    config = config_file(tmp_path)
    env = env_for(tmp_path)
    assert run(sync_command(a, config, work), env).returncode == 0
    rng = random.Random(6)
    for number in range(30):
        source = b if number % 2 == 0 else a
        process = start(sync_command(source, config, work), env)
        time.sleep(rng.uniform(0.05, 0.4))
        kill(process, with_children=number % 4 < 2)
        _after_a_push_in_another_second(remote, work)
        again = run(sync_command(source, config, work), env)
        assert again.returncode == 0, (number, again.stderr)
        _converged(remote, work, expect_dropped=source == b)


def test_a_stale_index_lock_stops_the_run_before_it_pushes(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    work = checkout(remote, tmp_path / "work")
    a, b = snapshots(tmp_path)
    config = config_file(tmp_path)
    assert run(sync_command(a, config, work), env_for(tmp_path)).returncode == 0
    before = git(remote, "rev-parse", "main")
    lock = work / ".git" / "index.lock"
    lock.write_text("")
    result = run(sync_command(b, config, work), env_for(tmp_path))
    assert result.returncode == 1
    assert "index.lock exists" in result.stderr and result.stderr.count("\n") == 1
    assert git(remote, "rev-parse", "main") == before  # nothing was pushed
    assert lock.exists()  # git's lock is never removed by nexus-gitops
    lock.unlink()
    assert run(sync_command(b, config, work), env_for(tmp_path)).returncode == 0
    _converged(remote, work, expect_dropped=True)


def test_a_human_commit_on_the_remote_is_adopted(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    work = checkout(remote, tmp_path / "work")
    human = checkout(remote, tmp_path / "human")
    a, b = snapshots(tmp_path)
    config = config_file(tmp_path)
    assert run(sync_command(a, config, work), env_for(tmp_path)).returncode == 0
    git(human, "pull", "-q")
    (human / "README.md").write_text("edited by a person\n")
    git(human, "commit", "-qam", "by hand")
    git(human, "push", "-q")
    result = run(sync_command(b, config, work), env_for(tmp_path))
    assert result.returncode == 0, result.stderr
    _converged(remote, work, expect_dropped=True)
    assert (work / "README.md").read_text() == "edited by a person\n"


def test_overlapping_runs_on_one_checkout_wait_then_give_up_cleanly(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    work = checkout(remote, tmp_path / "work")
    a, _ = snapshots(tmp_path)
    config = config_file(tmp_path, lock_timeout=1)
    with (work / ".git" / "nexus-gitops.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = run(sync_command(a, config, work), env_for(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"error: another nexus-gitops run is still working on --repo {work}: waited 1s"
    ), result.stderr
    assert run(sync_command(a, config, work), env_for(tmp_path)).returncode == 0


TOKEN = "tok-s3cr3t-value"
URL_PASSWORD = "url-pa55word"


@pytest.mark.slow
def test_http_remote_token_hook_and_credentials_never_shown(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    remote = bare_remote(served, "gitops.git")
    a, b = snapshots(tmp_path)
    config = config_file(tmp_path)
    accepted = [f"x-access-token:{TOKEN}", f"bot:{URL_PASSWORD}"]
    with http_remote(served, accepted) as base:
        url = f"{base}/gitops.git"
        missing = run(sync_command(a, config, url), env_for(tmp_path))
        assert missing.returncode == 1
        assert "the remote asked for credentials and none were given" in missing.stderr
        refused = run(
            sync_command(a, config, url), env_for(tmp_path, NEXUS_GITOPS_GIT_TOKEN="wrong")
        )
        assert refused.returncode == 1
        assert "refused the credentials given in $NEXUS_GITOPS_GIT_TOKEN" in refused.stderr
        with ArgvSampler() as argv:
            ok = run(sync_command(a, config, url), env_for(tmp_path, NEXUS_GITOPS_GIT_TOKEN=TOKEN))
        assert ok.returncode == 0, ok.stderr
        hook(
            remote,
            "pre-receive",
            "#!/bin/sh\necho 'changes under nexus/ need a review (policy GITOPS-7)' >&2\nexit 1\n",
        )
        with_url = url.replace("http://", f"http://bot:{URL_PASSWORD}@")
        with ArgvSampler() as more:
            declined = run(sync_command(b, config, with_url), env_for(tmp_path))
        assert declined.returncode == 1
        assert "refused by the remote: changes under nexus/ need a review (policy GITOPS-7)" in (
            declined.stderr
        ), declined.stderr
    # The run's own argv holds the URL as the operator typed it; its git children's never do.
    children = {line for line in argv.seen | more.seen if not line.startswith(sys.executable)}
    assert any("remote-http" in line for line in children)
    shown = [missing, refused, ok, declined]
    for secret in (TOKEN, URL_PASSWORD):
        assert not [line for line in children if secret in line]
        for result in shown:
            assert secret not in result.stdout + result.stderr
    assert list((tmp_path / "tmp" / "nexus-gitops").iterdir()) == []
    fsck(remote)


def test_url_credentials_never_reach_the_clone_config(tmp_path: Path) -> None:
    """While a run works, its clone's .git/config holds the bare URL only."""
    served = tmp_path / "served"
    served.mkdir()
    bare_remote(served, "gitops.git")
    a, _ = snapshots(tmp_path)
    config = config_file(tmp_path)
    wrapper = killing_git(tmp_path, "push", "before")  # stop with the clone still there
    with http_remote(served, [f"bot:{URL_PASSWORD}"]) as base:
        url = f"{base}/gitops.git".replace("http://", f"http://bot:{URL_PASSWORD}@")
        killed = run(sync_command(a, config, url), env_for(tmp_path, wrapper))
    assert killed.returncode == -9
    (clone,) = (tmp_path / "tmp" / "nexus-gitops").iterdir()
    text = (clone / "repo" / ".git" / "config").read_text()
    assert f"url = {base}/gitops.git\n" in text and URL_PASSWORD not in text
    assert os.environ.get("NEXUS_GITOPS_GIT_TOKEN") is None


def test_plan_sees_the_remotes_commit_without_moving_the_checkout(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path)
    work = checkout(remote, tmp_path / "work")
    a, b = snapshots(tmp_path)
    config = config_file(tmp_path)
    assert run(sync_command(a, config, work), env_for(tmp_path)).returncode == 0
    assert run(sync_command(b, config, remote.as_uri()), env_for(tmp_path)).returncode == 0
    before = git(work, "rev-parse", "main")
    planned = run(
        [*sync_command(b, config, work, command="plan"), "--detailed-exitcode"],
        env_for(tmp_path),
    )
    assert planned.returncode == 0, planned.stdout + planned.stderr  # nothing left to do
    assert git(work, "rev-parse", "main") == before
    assert git(work, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("url", "bare", "user", "password"),
    [
        (
            "https://bot:p%40ss@git.example.com/r.git",
            "https://git.example.com/r.git",
            "bot",
            "p@ss",
        ),
        ("https://git.example.com/r.git", "https://git.example.com/r.git", None, None),
        ("http://tok@host:8080/r", "http://host:8080/r", "tok", ""),
    ],
)
def test_credentials_are_taken_out_of_the_url(
    url: str, bare: str, user: str | None, password: str | None
) -> None:
    from nexus_gitops.commit.git import split_credentials

    found, credentials = split_credentials(url)
    assert found == bare
    assert (credentials.user if credentials else None) == user
    assert (credentials.password if credentials else None) == password


class _LosingPublisher:
    """Loses ``losses`` races, then lands: the retry loop's contract without a remote."""

    target = "origin/main"

    def __init__(self, losses: int) -> None:
        self.losses = losses
        self.refreshes = 0
        self.published = 0

    def listing(self) -> dict[str, str]:
        return {}

    def read(self, paths: object = None) -> dict[str, bytes]:
        return {}

    def publish(self, change: Change) -> Published:
        self.published += 1
        if self.published <= self.losses:
            raise PushRejected("push to origin main was rejected: the branch moved on")
        return Published(commit=CommitResult("0" * 40, "main", "origin/main"))

    def refresh(self) -> None:
        self.refreshes += 1


@pytest.mark.parametrize(("losses", "lands"), [(0, True), (3, True), (10, True), (11, False)])
def test_the_retry_loop_refreshes_backs_off_and_gives_up_naming_the_tries(
    losses: int, lands: bool
) -> None:
    cfg = load_config(EXAMPLE_CONFIG)
    discovery = commands.discover(cfg, SnapshotSource.load(EXAMPLE_SNAPSHOT))
    publisher = _LosingPublisher(losses)
    pauses: list[float] = []
    if lands:
        outcome = commands.publish_with_retries(
            publisher, discovery, cfg, OPTIONS, sleep=pauses.append
        )
        assert outcome.commit is not None
    else:
        with pytest.raises(GitError, match=r"^gave up after 11 tries: origin/main kept moving"):
            commands.publish_with_retries(publisher, discovery, cfg, OPTIONS, sleep=pauses.append)
    assert publisher.refreshes == len(pauses) == min(losses, 10)
    assert all(
        0 <= p <= min(commands.BACKOFF_CAP, commands.BACKOFF_BASE * 2 ** (n + 1))
        for n, p in enumerate(pauses)
    )
