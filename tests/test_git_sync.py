"""sync against real Git repositories and a bare remote; never a mocked git."""

from __future__ import annotations

import dataclasses
import shutil
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from nexus_gitops import commands
from nexus_gitops.commit.git import Identity, redact
from nexus_gitops.config import Config
from nexus_gitops.discover.snapshot import SnapshotSource
from nexus_gitops.errors import GitError, OwnershipError
from tests.conftest import (
    EXAMPLE_CONFIG,
    EXAMPLE_SNAPSHOT,
    OPTIONS,
    TODAY,
    git,
    repo_state,
    run_cli,
)

IDENTITY = Identity("Sync Bot", "sync-bot@example.com")


def _sync(
    cfg: Config, source: SnapshotSource, repo: Path | str, **kwargs: object
) -> commands.Outcome:
    return commands.sync(cfg, source, str(repo), "nexus", OPTIONS, IDENTITY, **kwargs)  # type: ignore[arg-type]


def _without(source: SnapshotSource, name: str) -> SnapshotSource:
    return dataclasses.replace(source, services=tuple(s for s in source.services if s.name != name))


def test_first_sync_commits_and_pushes(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    remote, work = remote_and_clone
    outcome = _sync(example_config, example_source, work)
    assert outcome.commit is not None and outcome.commit.pushed_to == "origin/main"
    assert (
        git(remote, "rev-parse", "main") == outcome.commit.commit == git(work, "rev-parse", "HEAD")
    )
    assert git(work, "status", "--porcelain") == ""
    files = git(work, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert "nexus/ingress/openstack/nexus-cinder-path.yaml" in files
    assert "nexus/coredns/db.openstack.svc.cluster.local" in files
    assert all(f.startswith("nexus/") for f in files)
    assert git(work, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "Sync Bot <sync-bot@example.com>|Sync Bot <sync-bot@example.com>"
    )
    message = git(work, "log", "-1", "--format=%B")
    assert message.startswith("nexus-gitops: +13 routes, DNS 2 records")
    assert "  /volumev3 -> openstack/cinder-api:8776" in message
    assert (work / "README.md").read_text() == "cluster config\n"


def test_second_sync_changes_nothing(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    _, work = remote_and_clone
    _sync(example_config, example_source, work)
    before = repo_state(work)
    stamps = {p: p.stat().st_mtime_ns for p in (work / "nexus").rglob("*") if p.is_file()}
    outcome = _sync(example_config, example_source, work)
    assert outcome.commit is None and outcome.planned.files.empty
    assert repo_state(work) == before
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_removed_route_is_listed_and_serial_kept(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    _, work = remote_and_clone
    _sync(example_config, example_source, work)
    later = dataclasses.replace(example_config)
    outcome = commands.sync(
        later,
        _without(example_source, "heat-cfn"),
        str(work),
        "nexus",
        dataclasses.replace(OPTIONS, today=TODAY.replace(day=23)),
        IDENTITY,
    )
    assert outcome.commit is not None
    message = git(work, "log", "-1", "--format=%B")
    assert "Routes removed:\n  /cloudformation -> openstack/heat-cfn:8000" in message
    assert not (
        work / "nexus" / "ingress" / "openstack" / "nexus-cloudformation-path.yaml"
    ).exists()
    zone = (work / "nexus" / "coredns" / "db.openstack.svc.cluster.local").read_text()
    assert "( 2026112200 " in zone  # the records did not change, so neither did the serial


def test_address_change_bumps_the_serial(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    _, work = remote_and_clone
    _sync(example_config, example_source, work)
    moved = dataclasses.replace(
        example_source,
        services=tuple(
            dataclasses.replace(s, load_balancer_ips=("172.18.30.170",))
            if s.name == "public-openstack"
            else s
            for s in example_source.services
        ),
    )
    outcome = _sync(example_config, moved, work)
    assert outcome.commit is not None
    zone = (work / "nexus" / "coredns" / "db.openstack.svc.cluster.local").read_text()
    assert "( 2026112201 " in zone and "172.18.30.170" in zone
    assert (
        "host-record=openstack.openstack.svc.cluster.local,172.18.30.170,300"
        in (work / "nexus" / "dnsmasq" / "openstack.conf").read_text()
    )
    message = git(work, "log", "-1", "--format=%B")
    assert message.startswith("nexus-gitops: DNS 172.18.30.166 -> 172.18.30.170")
    assert "~ openstack.openstack.svc.cluster.local 172.18.30.166 -> 172.18.30.170" in message


def test_dirty_managed_folder_is_refused(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    _, work = remote_and_clone
    _sync(example_config, example_source, work)
    (work / "nexus" / "ingress" / "openstack" / "nexus-cinder-path.yaml").write_text(
        "edited by hand\n"
    )
    before = repo_state(work)
    with pytest.raises(GitError, match="uncommitted changes under nexus"):
        _sync(example_config, example_source, work)
    assert repo_state(work) == before


def test_dirty_files_elsewhere_are_left_alone(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    _, work = remote_and_clone
    (work / "README.md").write_text("work in progress\n")
    git(work, "add", "README.md")
    (work / "apps" / "new.yaml").write_text("untracked\n")
    outcome = _sync(example_config, example_source, work)
    assert outcome.commit is not None
    assert "README.md" not in git(work, "show", "--name-only", "--format=", "HEAD")
    assert git(work, "status", "--porcelain").splitlines() == ["M  README.md", "?? apps/new.yaml"]


def test_unowned_file_is_never_overwritten(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    remote, work = remote_and_clone
    (work / "nexus").mkdir()
    (work / "nexus" / "kustomization.yaml").write_text("resources: [mine.yaml]\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "user kustomization")
    git(work, "push", "-q")
    before, remote_before = repo_state(work), git(remote, "rev-parse", "main")
    with pytest.raises(OwnershipError, match=r"kustomization\.yaml"):
        _sync(example_config, example_source, work)
    assert repo_state(work) == before
    assert git(remote, "rev-parse", "main") == remote_before


def test_a_commit_on_the_remote_is_fetched_and_built_on(
    example_config: Config,
    example_source: SnapshotSource,
    remote_and_clone: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    """A local checkout fetches first: someone else's commit is fast-forwarded into the work
    tree, and the sync lands on top of it (it used to be rejected on every run)."""
    remote, work = remote_and_clone
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    (other / "README.md").write_text("someone else\n")
    git(other, "commit", "-q", "-am", "meanwhile")
    git(other, "push", "-q")
    outcome = _sync(example_config, example_source, work)
    assert outcome.commit is not None
    assert git(remote, "rev-parse", "main") == outcome.commit.commit
    assert git(remote, "log", "-1", "--format=%s", "main^") == "meanwhile"
    assert (work / "README.md").read_text() == "someone else\n"
    assert git(work, "status", "--porcelain") == ""


def test_a_diverged_checkout_is_refused_and_left_as_it_was(
    example_config: Config,
    example_source: SnapshotSource,
    remote_and_clone: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    remote, work = remote_and_clone
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    (other / "README.md").write_text("someone else\n")
    git(other, "commit", "-q", "-am", "meanwhile")
    git(other, "push", "-q")
    (work / "apps" / "app.yaml").write_text("kind: Local\n")
    git(work, "commit", "-q", "-am", "local work")
    git(work, "fetch", "-q")
    before, remote_head = repo_state(work), git(remote, "rev-parse", "main")
    with pytest.raises(GitError, match="have diverged"):
        _sync(example_config, example_source, work)
    assert repo_state(work) == before
    assert git(remote, "rev-parse", "main") == remote_head


def test_broken_remote_leaves_everything_as_it_was(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    remote, work = remote_and_clone
    shutil.rmtree(remote)
    before = repo_state(work)
    with pytest.raises(GitError, match="fetch"):
        _sync(example_config, example_source, work)
    assert repo_state(work) == before


def test_local_repository_without_remote_or_commits(
    example_config: Config, example_source: SnapshotSource, tmp_path: Path
) -> None:
    work = tmp_path / "fresh"
    git(tmp_path, "init", "-q", "--initial-branch=main", str(work))
    outcome = _sync(example_config, example_source, work)
    assert outcome.commit is not None and outcome.commit.pushed_to is None
    assert git(work, "rev-list", "--count", "HEAD") == "1"
    assert git(work, "status", "--porcelain") == ""
    assert (work / "nexus" / "kustomization.yaml").is_file()


def test_url_is_cloned_committed_and_pushed(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    remote, _ = remote_and_clone
    url = remote.as_uri()
    outcome = _sync(example_config, example_source, url)
    assert outcome.commit is not None and outcome.commit.pushed_to == "origin/main"
    assert git(remote, "rev-parse", "main") == outcome.commit.commit
    assert _sync(example_config, example_source, url).commit is None


def test_url_with_a_new_branch(
    example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    from nexus_gitops.config import load_config

    remote, _ = remote_and_clone
    cfg = dataclasses.replace(load_config(EXAMPLE_CONFIG))
    cfg = dataclasses.replace(cfg, git=dataclasses.replace(cfg.git, branch="nexus-proposal"))
    outcome = _sync(cfg, example_source, remote.as_uri())
    assert outcome.commit is not None
    assert git(remote, "rev-parse", "nexus-proposal^") == git(remote, "rev-parse", "main")


def test_wrong_branch_and_detached_head_refused(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    _, work = remote_and_clone
    cfg = dataclasses.replace(
        example_config, git=dataclasses.replace(example_config.git, branch="release")
    )
    with pytest.raises(GitError, match=r"on branch main, but git\.branch is release"):
        _sync(cfg, example_source, work)
    git(work, "checkout", "-q", "--detach")
    with pytest.raises(GitError, match="detached HEAD"):
        _sync(example_config, example_source, work)


@pytest.mark.parametrize(
    "bad",
    ["/abs", "../up", "a/../../b", ".git/hooks", "a:b", ".", "./", "", ".GIT", "a/.Git/x", "a\nb"],
)
def test_path_outside_the_repository_refused(
    example_config: Config,
    example_source: SnapshotSource,
    remote_and_clone: tuple[Path, Path],
    bad: str,
) -> None:
    _, work = remote_and_clone
    before = repo_state(work)
    with pytest.raises(GitError, match="--path"):
        commands.sync(example_config, example_source, str(work), bad, OPTIONS, IDENTITY)
    assert repo_state(work) == before


def test_redact() -> None:
    assert redact("cannot clone https://bot:ghp_secret@git.example.com/r.git") == (
        "cannot clone https://***@git.example.com/r.git"
    )
    assert redact("fatal: tok-123 rejected", ["tok-123"]) == "fatal: *** rejected"


class _RecordingGitServer(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Authorization", ""))
        self.send_response(403)
        self.end_headers()
        self.wfile.write(b"forbidden\n")

    def log_message(self, *args: object) -> None:
        pass


def test_token_is_sent_as_header_and_never_shown(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _RecordingGitServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://user:url-secret@127.0.0.1:{server.server_port}/repo.git"
        result = run_cli(
            "sync",
            "--source",
            str(EXAMPLE_SNAPSHOT),
            "--config",
            str(EXAMPLE_CONFIG),
            "--repo",
            url,
            env={"NEXUS_GITOPS_GIT_TOKEN": "tok-very-secret", "HOME": str(tmp_path)},
        )
    finally:
        server.shutdown()
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot clone http://***@127.0.0.1")
    assert result.stderr.count("\n") == 1
    for secret in ("tok-very-secret", "url-secret", "dG9r"):
        assert secret not in result.stderr + result.stdout
    assert any(h.startswith("Basic ") for h in _RecordingGitServer.seen)


def test_cli_sync_ignores_the_machines_git_config(
    remote_and_clone: tuple[Path, Path], tmp_path: Path
) -> None:
    _, work = remote_and_clone
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Global User\n\temail = global@example.com\n[commit]\n\tgpgSign = true\n"
    )
    hooks = work / ".git" / "hooks"
    (hooks / "pre-commit").write_text("#!/bin/sh\nexit 1\n")
    (hooks / "pre-commit").chmod(0o755)
    args = ["sync", "--source", str(EXAMPLE_SNAPSHOT), "--config", str(EXAMPLE_CONFIG)]
    first = run_cli(*args, "--repo", str(work), env={"HOME": str(home)})
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("committed ") and "pushed to origin/main" in first.stdout
    assert git(work, "log", "-1", "--format=%an <%ae>") == (
        "nexus-gitops <nexus-gitops@example.com>"
    )
    second = run_cli(*args, "--repo", str(work), env={"HOME": str(home)})
    assert second.returncode == 0 and second.stdout.startswith("up to date")


def test_pushes_to_the_upstream_branch_by_its_own_name(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    remote, work = remote_and_clone
    git(work, "push", "-q", "origin", "main:production")
    git(work, "branch", "-q", "--set-upstream-to=origin/production")
    outcome = _sync(example_config, example_source, work)
    assert outcome.commit is not None and outcome.commit.pushed_to == "origin/production"
    assert git(remote, "rev-parse", "production") == outcome.commit.commit
    assert git(remote, "rev-parse", "main") != outcome.commit.commit


@pytest.mark.parametrize(
    ("setup", "path", "message"),
    [
        ("file", "README.md", "README.md is a file"),
        ("symlink", "link", "link is a symlink"),
        ("symlink-inside", "nexus", "a symlink in the managed folder"),
        ("other-owner", "clusters", "belongs to owner clusters/prod/nexus"),
    ],
    ids=["a file", "a symlink", "a symlink inside", "a parent of another owner's folder"],
)
def test_managed_folder_must_be_a_folder_of_its_own(
    example_config: Config,
    example_source: SnapshotSource,
    remote_and_clone: tuple[Path, Path],
    setup: str,
    path: str,
    message: str,
) -> None:
    """``--path`` never reaches another owner's files, a file or what a symlink points to."""
    _, work = remote_and_clone
    if setup == "symlink":
        (work / "link").symlink_to("apps")
    elif setup == "symlink-inside":
        (work / "nexus").mkdir()
        (work / "nexus" / "kustomization.yaml").symlink_to("../apps/app.yaml")
    elif setup == "other-owner":
        prod = dataclasses.replace(OPTIONS, owner="clusters/prod/nexus")
        commands.sync(example_config, example_source, str(work), "clusters/prod/nexus", prod)
    if setup in ("symlink", "symlink-inside"):
        git(work, "add", ".")
        git(work, "commit", "-q", "-m", "setup")
    before = repo_state(work)
    options = dataclasses.replace(OPTIONS, owner=path)
    with pytest.raises((GitError, OwnershipError), match=message):
        commands.sync(example_config, example_source, str(work), path, options, IDENTITY)
    assert repo_state(work) == before


def test_owners_side_by_side(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    _, work = remote_and_clone
    for name in ("clusters/prod/nexus", "clusters/staging/nexus"):
        options = dataclasses.replace(OPTIONS, owner=name)
        outcome = commands.sync(example_config, example_source, str(work), name, options)
        assert outcome.commit is not None
    first_line = (work / "clusters/prod/nexus/kustomization.yaml").read_text().splitlines()[0]
    assert first_line.startswith("# Managed by nexus-gitops (owner: clusters/prod/nexus).")
    again = commands.sync(
        example_config,
        example_source,
        str(work),
        "clusters/prod/nexus",
        dataclasses.replace(OPTIONS, owner="clusters/prod/nexus"),
    )
    assert again.commit is None


def test_cli_owner_id_defaults_to_the_path_and_can_be_set(
    remote_and_clone: tuple[Path, Path],
) -> None:
    _, work = remote_and_clone
    common = ["--source", str(EXAMPLE_SNAPSHOT), "--config", str(EXAMPLE_CONFIG), "--repo"]
    result = run_cli("sync", *common, str(work), "--path", "prod/nexus")
    assert result.returncode == 0, result.stderr
    assert "(owner: prod/nexus)" in (work / "prod/nexus/state.json").read_text().split("\n")[0]
    result = run_cli("sync", *common, str(work), "--path", "other", "--owner-id", "team-a")
    assert result.returncode == 0, result.stderr
    assert "(owner: team-a)" in (work / "other/kustomization.yaml").read_text()
    bad = run_cli("sync", *common, str(work), "--path", "x", "--owner-id", "a b")
    assert bad.returncode == 1 and bad.stderr.startswith("error: --owner-id")


def test_a_run_with_the_same_inputs_stops_early_but_never_misses_a_hand_edit(
    example_config: Config, example_source: SnapshotSource, remote_and_clone: tuple[Path, Path]
) -> None:
    _, work = remote_and_clone
    assert _sync(example_config, example_source, work).commit is not None
    again = _sync(example_config, example_source, work)
    assert again.commit is None and again.planned.unchanged
    assert len(again.planned.desired.routes) == 13
    # A hand edit in the managed folder takes the full path, which puts the file back.
    edited = work / "nexus" / "ingress" / "openstack" / "nexus-cinder-path.yaml"
    original = edited.read_bytes()
    edited.write_bytes(original.replace(b"8776", b"9999"))
    git(work, "commit", "-qam", "hand edit")
    repaired = _sync(example_config, example_source, work)
    assert not repaired.planned.unchanged and repaired.commit is not None
    assert edited.read_bytes() == original
    # Other inputs (here the config) take the full path too.
    other = dataclasses.replace(example_config, dns=dataclasses.replace(example_config.dns, ttl=60))
    changed = _sync(other, example_source, work)
    assert not changed.planned.unchanged and changed.commit is not None


def test_an_early_stop_still_warns_about_conflicts(remote_and_clone: tuple[Path, Path]) -> None:
    import json

    import yaml

    _, work = remote_and_clone
    items = yaml.safe_load(EXAMPLE_SNAPSHOT.read_text())["items"]
    squatter = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "neutron-api", "namespace": "openstack"},
        "spec": {"clusterIP": "10.96.0.9", "ports": [{"name": "http", "port": 9696}]},
    }
    first = work.parent / "first.json"
    first.write_text(json.dumps({"kind": "List", "items": items}))
    second = work.parent / "second.json"
    second.write_text(json.dumps({"kind": "List", "items": [*items, squatter]}))
    common = ["--config", str(EXAMPLE_CONFIG), "--repo", str(work)]
    assert run_cli("sync", "--source", str(first), *common).returncode == 0
    for _ in range(2):  # the second run stops early: the warning must not get lost
        result = run_cli("sync", "--source", str(second), *common)
        assert result.returncode == 0, result.stderr
        assert "warning: skipped openstack/neutron-api: " in result.stderr
