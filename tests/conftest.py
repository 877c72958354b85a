"""Shared fixtures: the bundled example, Service builders, and real Git repositories."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nexus_gitops.commands import RunOptions
from nexus_gitops.config import Config, load_config, parse_config
from nexus_gitops.discover.manifest import service_from_manifest
from nexus_gitops.discover.snapshot import SnapshotSource
from nexus_gitops.model import KubeService

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SNAPSHOT = ROOT / "examples" / "openstack-helm-services.yaml"
EXAMPLE_CONFIG = ROOT / "examples" / "nexus-gitops.yaml"
TODAY = dt.date(2026, 11, 22)
SOURCE_DATE_EPOCH = "1795305600"  # 2026-11-22T00:00:00Z
OPTIONS = RunOptions(TODAY, "nexus")
"""What the CLI uses by default: today pinned, owner id from the default --path."""


def manifest(
    name: str,
    namespace: str = "openstack",
    ports: list[tuple[str | None, int]] | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A v1 Service as the API returns it."""
    port_list = [
        {"port": port, "protocol": "TCP", **({"name": pname} if pname else {})}
        for pname, port in (ports if ports is not None else [("http", 80)])
    ]
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.50", "ports": port_list, **spec},
    }


def service(name: str, *args: Any, **kwargs: Any) -> KubeService:
    return service_from_manifest(manifest(name, *args, **kwargs))


def load_balancer(name: str, ip: str, namespace: str = "openstack") -> dict[str, Any]:
    item = manifest(name, namespace, ports=[("http", 80), ("https", 443)], type="LoadBalancer")
    item["status"] = {"loadBalancer": {"ingress": [{"ip": ip}]}}
    return item


def snapshot_text(items: list[dict[str, Any]]) -> str:
    import json

    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


def snapshot(items: list[dict[str, Any]]) -> SnapshotSource:
    return SnapshotSource.parse(snapshot_text(items), "test")


def config(**sections: Any) -> Config:
    return parse_config(sections)


@pytest.fixture
def example_config() -> Config:
    return load_config(EXAMPLE_CONFIG)


@pytest.fixture
def example_source() -> SnapshotSource:
    return SnapshotSource.load(EXAMPLE_SNAPSHOT)


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m nexus_gitops`` as CI would: a minimal environment, a pinned date."""
    base = {
        "PATH": os.environ["PATH"],
        "HOME": "/nonexistent",
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
    }
    return subprocess.run(
        [sys.executable, "-m", "nexus_gitops", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd,
        check=False,
        timeout=120,
    )


def git(cwd: Path, *args: str) -> str:
    """Run git as a test user would, with its own throwaway identity."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test User",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test User",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.fixture
def remote_and_clone(tmp_path: Path) -> tuple[Path, Path]:
    """A bare remote with one commit on ``main`` and a checkout tracking it."""
    remote = tmp_path / "remote.git"
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", "--bare", "--initial-branch=main", str(remote))
    git(tmp_path, "clone", "-q", str(remote), str(work))
    git(work, "checkout", "-q", "-b", "main")
    (work / "README.md").write_text("cluster config\n")
    (work / "apps").mkdir()
    (work / "apps" / "app.yaml").write_text("kind: Something\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "initial")
    git(work, "push", "-q", "-u", "origin", "main")
    return remote, work


def repo_state(work: Path) -> dict[str, str]:
    """Everything a failed run must leave unchanged: refs, index, status and file contents."""
    files = {
        str(p.relative_to(work)): p.read_bytes().hex()
        for p in sorted(work.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(work).parts
    }
    return {
        "refs": git(work, "for-each-ref", "--format=%(refname) %(objectname)"),
        "head": git(work, "symbolic-ref", "HEAD"),
        "index": git(work, "ls-files", "-s"),
        "status": git(work, "status", "--porcelain", "--untracked-files=all"),
        "files": repr(files),
        "config": (work / ".git" / "config").read_text(),
    }
