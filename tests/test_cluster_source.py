"""Live discovery: the real kubernetes client over HTTP to a local test API server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
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
from tests.apiserver import FakeCluster, self_signed, serve, silent_server, write_kubeconfig
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
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        ClusterSource.connect(kubeconfig=config_file, context="test").list_services(["openstack"])
    assert str(caught.value).startswith(
        "cannot list services in namespace openstack: cannot reach the Kubernetes API at "
        "http://127.0.0.1:9"
    )
    assert time.monotonic() - started < 5  # refused at once, not retried


def test_unresolvable_api_server(tmp_path: Path) -> None:
    config_file = write_kubeconfig(tmp_path / "kc", "http://nexus-test.invalid:6443")
    source = ClusterSource.connect(kubeconfig=config_file, context="test", request_timeout=10)
    with pytest.raises(SourceError, match=r"cannot reach the Kubernetes API at http://nexus-test"):
        source.list_services(["openstack"])


def test_server_that_never_answers_fails_within_the_request_timeout(tmp_path: Path) -> None:
    """urllib3's default retries made this take four timeouts; the deadline is for the whole
    discovery, however many calls it makes."""
    with silent_server() as url:
        config_file = write_kubeconfig(tmp_path / "kc", url)
        started = time.monotonic()
        source = ClusterSource.connect(kubeconfig=config_file, context="test", request_timeout=1)
        with pytest.raises(SourceError) as caught:
            source.list_services(["openstack", "storage"])
        assert time.monotonic() - started < 2.5
        assert f"the Kubernetes API at {url} did not answer within 1s" in str(caught.value)
        started = time.monotonic()
        with pytest.raises(SourceError, match="did not answer within 1s"):
            source.get_service("openstack", "public-openstack")  # the budget is spent
        assert time.monotonic() - started < 0.5


def test_tls_with_the_right_ca(cluster: FakeCluster, tmp_path: Path) -> None:
    certificate = self_signed(tmp_path / "tls")
    with serve(cluster, tls=certificate) as url:
        config_file = write_kubeconfig(tmp_path / "kc", url, certificate_authority=certificate.cert)
        listing = _connect(config_file).list_services(["openstack"])
    assert url.startswith("https://")
    assert len(listing.services) == len(cluster.namespace_items("openstack"))


def test_unknown_ca_is_a_certificate_problem(cluster: FakeCluster, tmp_path: Path) -> None:
    certificate = self_signed(tmp_path / "tls")
    other = self_signed(tmp_path / "other")
    with serve(cluster, tls=certificate) as url:
        for ca in (None, other.cert):
            config_file = write_kubeconfig(tmp_path / "kc", url, certificate_authority=ca)
            started = time.monotonic()
            with pytest.raises(SourceError) as caught:
                _connect(config_file).list_services(["openstack"])
            message = str(caught.value)
            assert f"certificate problem with the Kubernetes API at {url}" in message
            assert "certificate-authority" in message
            assert "\\n" not in message and "\n" not in message
            assert time.monotonic() - started < 5


def test_refused_credentials_hint_at_the_token(cluster: FakeCluster, kubeconfig: Path) -> None:
    cluster.unauthorized = True
    with pytest.raises(SourceError) as caught:
        _connect(kubeconfig).list_services(["openstack"])
    message = str(caught.value)
    assert message.startswith("cannot list services in namespace openstack: 401 Unauthorized")
    assert "expired or invalid" in message
    assert "kube-token-secret" not in message


def test_missing_kubeconfig_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SourceError, match=f"--kubeconfig {missing}: no such file"):
        ClusterSource.connect(kubeconfig=missing)
    result = run_cli(
        "discover", "--source", "kubernetes", env={"KUBECONFIG": f"{missing}:{missing}2"}
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"error: $KUBECONFIG {missing}:{missing}2: no such file")
    assert result.stderr.count("\n") == 1


def test_missing_namespaces(cluster: FakeCluster, kubeconfig: Path) -> None:
    cluster.empty_namespaces.add("empty")
    listing = _connect(kubeconfig).list_services(["openstack", "empty", "gone"])
    assert listing.missing_namespaces == ("gone",)
    assert all("/namespaces/openstack?" not in r for r in cluster.requests)
    assert "/api/v1/namespaces/empty" in cluster.requests  # only empty lists are checked
    cluster.namespaces_forbidden = True
    listing = _connect(kubeconfig).list_services(["openstack", "empty", "gone"])
    assert listing.missing_namespaces == ("empty", "gone")  # cannot tell: reported missing


def test_cli_request_timeout(tmp_path: Path) -> None:
    with silent_server() as url:
        config_file = write_kubeconfig(tmp_path / "kc", url)
        common = ["discover", "--source", "kubernetes", "--kubeconfig", str(config_file)]
        started = time.monotonic()
        result = run_cli(*common, "--context", "test", "--request-timeout", "0.5s")
        assert time.monotonic() - started < 10
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: cannot list services in namespace openstack: ")
    assert "did not answer within 0.5s" in result.stderr
    assert result.stderr.count("\n") == 1
    bad = run_cli(*common, "--request-timeout", "soon")
    assert bad.returncode == 2
    assert "--request-timeout" in bad.stderr


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30.0), ("30s", 30.0), ("1m", 60.0), ("0.5s", 0.5), ("1m30s", 90.0), ("250ms", 0.25)],
)
def test_request_timeout_values(text: str, seconds: float) -> None:
    from nexus_gitops.cli import parse_duration

    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "-1s", "1d", "soon", "1e9", "30 s", "nan", "1s\n"])
def test_request_timeout_refuses(text: str) -> None:
    from nexus_gitops.cli import parse_duration

    with pytest.raises(ValueError):
        parse_duration(text)


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


GOOD_KUBECONFIG = (
    "current-context: x\n"
    "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
    'clusters: [{name: c, cluster: {server: "SERVER"}}]\n'
    'users: [{name: u, user: {token: "TOKEN"}}]\n'
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"- a\n", "the kubeconfig is malformed", id="a-list"),
        pytest.param(b"clusters: [\n", "the kubeconfig is malformed", id="invalid-yaml"),
        pytest.param(b"\xff\xfe", "the kubeconfig is malformed", id="not-utf8"),
        pytest.param(
            b"a: " + b"[" * 100_000 + b"]" * 100_000, "the kubeconfig is malformed", id="deep"
        ),
        pytest.param(
            GOOD_KUBECONFIG.replace("SERVER", "http://127.0.0.1:9\\n").encode(),
            "cannot use the Kubernetes API server 'http://127.0.0.1:9\\n'",
            id="server-newline",
        ),
        pytest.param(
            GOOD_KUBECONFIG.replace("SERVER", "http://127.0.0.1:9")
            .replace("TOKEN", "secret\\nX-Evil: 1")
            .encode(),
            "invalid HTTP header",
            id="token-newline",
        ),
    ],
)
def test_malformed_kubeconfig_is_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "kubeconfig"
    path.write_bytes(content)
    result = run_cli("discover", "--source", "kubernetes", "--kubeconfig", str(path))
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert "secret" not in result.stderr


def test_hostile_answers_skip_the_item_or_name_the_server(
    cluster: FakeCluster, kubeconfig: Path
) -> None:
    """The API answer goes through the same JSON reader as a snapshot: a port of 5000 digits
    skips its Service; a duplicate key or NaN fails the call, naming the server."""
    cinder = next(s for s in cluster.services if s["metadata"]["name"] == "cinder-api")
    port = cinder["spec"]["ports"][0]["port"]
    cluster.patch_body = {f'"port": {port}'.encode(): b'"port": ' + b"9" * 5000}
    listing = _connect(kubeconfig).list_services(["openstack"])
    assert "cinder-api" not in [s.name for s in listing.services]
    (problem,) = [p for p in listing.problems if p.ref == "openstack/cinder-api"]
    assert "5000-digit" in problem.reason
    for patch, message in (
        ({b'"kind": "ServiceList"': b'"kind": "ServiceList", "kind": "List"'}, "duplicate key"),
        ({b'"kind": "ServiceList"': b'"kind": NaN'}, "is not JSON"),
    ):
        cluster.patch_body = patch
        with pytest.raises(SourceError) as caught:
            _connect(kubeconfig).list_services(["openstack"])
        assert message in str(caught.value)
        assert "http://127.0.0.1:" in str(caught.value)
