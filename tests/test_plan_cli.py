"""``plan`` in its three formats and exit codes, and the guards against mass deletion, through the
CLI on real Git repositories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLE_CONFIG, EXAMPLE_SNAPSHOT, git, repo_state, run_cli

API_SERVICES = [
    "barbican-api",
    "cinder-api",
    "designate-api",
    "glance-api",
    "heat-api",
    "heat-cfn",
    "horizon-int",
    "keystone-api",
    "neutron-server",
    "nova-api",
    "nova-novncproxy",
    "octavia-api",
    "placement-api",
]


def _items(drop: tuple[str, ...] = (), address: str | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load(EXAMPLE_SNAPSHOT.read_text())["items"]
    kept = [i for i in items if i["metadata"]["name"] not in drop]
    if address:
        for item in kept:
            if item["metadata"]["name"] == "public-openstack":
                item["status"]["loadBalancer"]["ingress"] = [{"ip": address}]
    return kept


def _snapshot(path: Path, items: list[dict[str, Any]]) -> str:
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return str(path)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with the example committed by a first sync."""
    work = tmp_path / "repo"
    git(tmp_path, "init", "-q", "--initial-branch=main", str(work))
    (work / "README.md").write_text("cluster config\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "initial")
    return work


def _run(command: str, source: str, repo: Path, *extra: str, config: Path = EXAMPLE_CONFIG) -> Any:
    return run_cli(
        command, "--source", source, "--config", str(config), "--repo", str(repo), *extra
    )


def test_detailed_exitcode_0_2_1(tmp_path: Path, repo: Path) -> None:
    source = _snapshot(tmp_path / "s.json", _items())
    first = _run("plan", source, repo, "--detailed-exitcode")
    assert first.returncode == 2, first.stderr
    assert first.stdout.startswith("nexus-gitops: +13 routes")
    assert "  + openstack/keystone-path  /identity -> openstack/keystone-api:5000" in first.stdout
    assert git(repo, "rev-list", "--count", "HEAD") == "1"  # plan writes nothing
    assert _run("sync", source, repo).returncode == 0
    same = _run("plan", source, repo, "--detailed-exitcode")
    assert (same.returncode, same.stderr) == (0, "")
    assert "no route or DNS change" in same.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("routing: {style: sideways}\n")
    failed = _run("plan", source, repo, "--detailed-exitcode", config=bad)
    assert failed.returncode == 1 and failed.stderr.startswith("error: config: routing.style")


def test_plan_without_detailed_exitcode_exits_0(tmp_path: Path, repo: Path) -> None:
    result = _run("plan", _snapshot(tmp_path / "s.json", _items()), repo)
    assert result.returncode == 0, result.stderr


def test_dns_change_in_every_format(tmp_path: Path, repo: Path) -> None:
    assert _run("sync", _snapshot(tmp_path / "a.json", _items()), repo).returncode == 0
    moved = _snapshot(tmp_path / "b.json", _items(address="172.18.30.170"))
    table = _run("plan", moved, repo, "--detailed-exitcode")
    assert table.returncode == 2
    assert table.stdout.startswith("nexus-gitops: DNS 172.18.30.166 -> 172.18.30.170")
    assert (
        "DNS ~ openstack.openstack.svc.cluster.local 172.18.30.166 -> 172.18.30.170" in table.stdout
    )
    markdown = _run("plan", moved, repo, "-o", "markdown").stdout
    assert markdown.startswith("### nexus-gitops: DNS 172.18.30.166 -> 172.18.30.170\n")
    assert "**DNS records**" in markdown
    assert (
        "| `openstack.openstack.svc.cluster.local` | `172.18.30.166` | `172.18.30.170` |"
        in markdown
    )
    document = json.loads(_run("plan", moved, repo, "-o", "json").stdout)
    assert document["dns"] == [
        {
            "name": "openstack.openstack.svc.cluster.local",
            "before": "172.18.30.166",
            "after": "172.18.30.170",
        }
    ]
    assert document["routes"]["added"] == [] and document["changed"] is True
    dry = _run("sync", moved, repo, "--dry-run", "-o", "json")
    assert json.loads(dry.stdout) == document
    assert git(repo, "rev-list", "--count", "HEAD") == "2"


def test_markdown_of_the_first_plan(tmp_path: Path, repo: Path) -> None:
    markdown = _run("plan", _snapshot(tmp_path / "s.json", _items()), repo, "-o", "markdown")
    text = markdown.stdout
    assert "| change | route | match | backend |" in text
    assert (
        "| added | `openstack/keystone-path` | `/identity` | `openstack/keystone-api:5000` |"
        in text
    )


GUARDED = [
    ("misspelt namespace", {"openstack_namespace": "openstak"}, (), "namespace openstak"),
    ("empty Service list", {}, (*API_SERVICES, "public-openstack"), "no OpenStack API"),
    ("77% of the routes lost", {}, tuple(API_SERVICES[:10]), "10 of 13 committed routes"),
]


@pytest.mark.parametrize(
    ("discovery", "drop", "message"), [g[1:] for g in GUARDED], ids=[g[0] for g in GUARDED]
)
def test_mass_deletion_is_refused(
    tmp_path: Path, repo: Path, discovery: dict[str, str], drop: tuple[str, ...], message: str
) -> None:
    assert _run("sync", _snapshot(tmp_path / "a.json", _items()), repo).returncode == 0
    config: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text())
    config["discovery"].update(discovery)
    changed = tmp_path / "config.yaml"
    changed.write_text(yaml.safe_dump(config))
    source = _snapshot(tmp_path / "b.json", _items(drop=drop))
    before = repo_state(repo)
    refused = _run("sync", source, repo, config=changed)
    assert refused.returncode == 1
    [line] = refused.stderr.splitlines()[-1:]
    assert line.startswith("error: refusing to commit: ") and message in line
    assert "--allow-deletions" in line
    assert repo_state(repo) == before
    plan = _run("plan", source, repo, config=changed)
    assert plan.returncode == 1 and "sync would refuse: " in plan.stdout and message in plan.stdout
    allowed = _run("sync", source, repo, "--allow-deletions", config=changed)
    assert allowed.returncode == 0, allowed.stderr
    assert "warning: allowed by --allow-deletions" in allowed.stderr
    assert git(repo, "rev-list", "--count", "HEAD") == "3"


def test_upsert_only_keeps_routes_that_would_go(tmp_path: Path, repo: Path) -> None:
    assert _run("sync", _snapshot(tmp_path / "a.json", _items()), repo).returncode == 0
    fewer = _snapshot(tmp_path / "b.json", _items(drop=tuple(API_SERVICES[:10])))
    kept = _run("sync", fewer, repo, "--policy", "upsert-only")
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.startswith("up to date: 13 routes")
    assert git(repo, "rev-list", "--count", "HEAD") == "2"


def test_create_only_adds_but_never_changes(tmp_path: Path, repo: Path) -> None:
    assert _run("sync", _snapshot(tmp_path / "a.json", _items()), repo).returncode == 0
    moved = _snapshot(tmp_path / "b.json", _items(address="172.18.30.170"))
    routes_only = _run("plan", moved, repo, "--policy", "create-only", "-o", "json")
    assert json.loads(routes_only.stdout)["routes"]["changed"] == []
