"""Live discovery: the real kubernetes client over HTTP to a local test API server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from nexus_gitops import commands
from nexus_gitops.config import Config
from nexus_gitops.discover.cluster import ClusterSource
from nexus_gitops.discover.snapshot import SnapshotSource
from nexus_gitops.errors import SourceError
from tests.apiserver import FakeCluster, serve, write_kubeconfig
from tests.conftest import EXAMPLE_CONFIG, EXAMPLE_SNAPSHOT, run_cli


def _example_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = YAML(typ="safe").load(EXAMPLE_SNAPSHOT.read_text())["items"]
    return items


@pytest.fixture
def cluster() -> FakeCluster:
    return FakeCluster(_example_items())


@pytest.fixture
def kubeconfig(cluster: FakeCluster, tmp_path: Path) -> Iterator[Path]:
    with serve(cluster) as url:
        yield write_kubeconfig(tmp_path / "kubeconfig", url)


def _connect(kubeconfig: Path, page_size: int = 500) -> ClusterSource:
    return ClusterSource.connect(kubeconfig=kubeconfig, context="test", page_size=page_size)


def test_live_discovery_matches_the_snapshot(
    cluster: FakeCluster, kubeconfig: Path, example_config: Config, example_source: SnapshotSource
) -> None:
    live = commands.discover(example_config, _connect(kubeconfig, page_size=4))
    offline = commands.discover(example_config, example_source)
    assert (live.apis, live.skipped) == (offline.apis, offline.skipped)
    assert live.address == offline.address
    assert live.source.startswith("cluster http://127.0.0.1:")


def test_pagination_follows_continue_tokens(cluster: FakeCluster, kubeconfig: Path) -> None:
    listing = _connect(kubeconfig, page_size=4).list_services(["openstack"])
    assert len(listing.services) == len(cluster.namespace_items("openstack")) > 8
    pages = [r for r in cluster.requests if r.startswith("/api/v1/namespaces/openstack/services?")]
    assert len(pages) == -(-len(listing.services) // 4)
    assert all("limit=4" in r for r in pages)
    assert "continue=page-4" in pages[1]
    assert all(a == "Bearer kube-token-secret" for a in cluster.authorization)


def test_expired_continue_token_restarts_the_list(cluster: FakeCluster, kubeconfig: Path) -> None:
    cluster.expire_once.add("page-8")
    listing = _connect(kubeconfig, page_size=4).list_services(["openstack"])
    assert len(listing.services) == len(cluster.namespace_items("openstack"))
    assert sum("continue=page-8" in r for r in cluster.requests) == 2


def test_forbidden_namespace_is_a_clear_error(cluster: FakeCluster, kubeconfig: Path) -> None:
    cluster.forbidden.add("openstack")
    with pytest.raises(SourceError) as caught:
        _connect(kubeconfig).list_services(["openstack"])
    message = str(caught.value)
    assert message.startswith(
        "cannot list services in namespace openstack: 403 services is forbidden"
    )
    assert "hint: grant get and list on services" in message
    assert "kube-token-secret" not in message


def test_missing_public_service_reads_as_none(kubeconfig: Path) -> None:
    source = _connect(kubeconfig)
    assert source.get_service("openstack", "nope") is None
    found = source.get_service("openstack", "public-openstack")
    assert found is not None and found.load_balancer_ips == ("172.18.30.166",)


def test_unreachable_api_server(tmp_path: Path) -> None:
    config_file = write_kubeconfig(tmp_path / "kc", "http://127.0.0.1:9")
    with pytest.raises(SourceError, match="did not answer"):
        ClusterSource.connect(kubeconfig=config_file, context="test").list_services(["openstack"])


def test_bad_kubeconfig(tmp_path: Path) -> None:
    bad = tmp_path / "kc"
    bad.write_text("current-context: nowhere\n")
    with pytest.raises(SourceError, match="cannot load Kubernetes credentials"):
        ClusterSource.connect(kubeconfig=bad)


def test_cli_discovers_from_a_cluster(kubeconfig: Path) -> None:
    result = run_cli(
        "discover",
        "--source",
        "kubernetes",
        "--kubeconfig",
        str(kubeconfig),
        "--context",
        "test",
        "--config",
        str(EXAMPLE_CONFIG),
        "-o",
        "json",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert {
        "name": "cinder-path",
        "kind": "path",
        "namespace": "openstack",
        "service": "cinder-api",
        "port": 8776,
        "serviceType": "block-storage",
        "prefix": "volumev3",
        "host": "openstack.openstack.svc.cluster.local",
        "catchAll": True,
        "tuning": {"body_limit": 0, "request_buffering": False},
    } in document["routes"]


def test_cli_uses_kubeconfig_from_the_environment(kubeconfig: Path) -> None:
    result = run_cli(
        "discover",
        "--source",
        "kubernetes",
        "--context",
        "test",
        "--config",
        str(EXAMPLE_CONFIG),
        env={"KUBECONFIG": str(kubeconfig)},
    )
    assert result.returncode == 0, result.stderr
    assert "cinder-path" in result.stdout


def test_cli_forbidden_is_one_line_exit_1(cluster: FakeCluster, kubeconfig: Path) -> None:
    cluster.forbidden.add("openstack")
    result = run_cli(
        "discover", "--source", "kubernetes", "--kubeconfig", str(kubeconfig), "--context", "test"
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot list services in namespace openstack: 403")
    assert result.stderr.count("\n") == 1


def test_snapshot_runs_never_import_the_kubernetes_client() -> None:
    code = (
        "import sys\n"
        "from nexus_gitops.cli import cli\n"
        f"cli.main(['discover', '--source', {str(EXAMPLE_SNAPSHOT)!r}, '-o', 'json', "
        f"'--config', {str(EXAMPLE_CONFIG)!r}], standalone_mode=False)\n"
        "assert 'kubernetes' not in sys.modules, 'kubernetes was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
