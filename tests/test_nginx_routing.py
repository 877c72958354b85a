"""Routing behaviour in real nginx: prefixes stripped, X-Forwarded-Prefix set, uploads unlimited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from nexus_gitops import commands
from nexus_gitops.config import Config, load_config
from nexus_gitops.discover.snapshot import SnapshotSource
from tests.conftest import (
    EXAMPLE_CONFIG,
    EXAMPLE_SNAPSHOT,
    OPTIONS,
    config,
    load_balancer,
    manifest,
    snapshot,
)
from tests.nginx_harness import backends, free_port, nginx, nginx_config, request
from tests.tools import require

pytestmark = pytest.mark.slow


def _ingresses(cfg: Config, source: SnapshotSource, out: Path) -> list[dict[str, Any]]:
    commands.render(cfg, source, out, OPTIONS)
    return [
        YAML(typ="safe").load(p.read_text())
        for p in sorted((out / "ingress" / "openstack").iterdir())
    ]


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nginx serving the example's Ingresses, started once for the module."""
    tmp_path = tmp_path_factory.mktemp("nginx")
    ingresses = _ingresses(
        load_config(EXAMPLE_CONFIG), SnapshotSource.load(EXAMPLE_SNAPSHOT), tmp_path / "out"
    )
    names = sorted(
        {
            p["backend"]["service"]["name"]
            for i in ingresses
            for r in i["spec"]["rules"]
            for p in r["http"]["paths"]
        }
    )
    port = free_port()
    with backends(names) as ports:
        text = nginx_config(ingresses, ports, port, tmp_path)
        with nginx(require("nginx"), text, tmp_path, port) as base:
            yield base


ROUTES = [
    (
        "/volumev3/v3/volumes/detail?all_tenants=1",
        "cinder-api",
        "/v3/volumes/detail?all_tenants=1",
        "/volumev3",
    ),
    ("/volumev3", "cinder-api", "/", "/volumev3"),
    ("/volumev3/", "cinder-api", "/", "/volumev3"),
    ("/identity/v3/auth/tokens", "keystone-api", "/v3/auth/tokens", "/identity"),
    ("/compute/v2.1/servers", "nova-api", "/v2.1/servers", "/compute"),
    ("/placement/resource_providers", "placement-api", "/resource_providers", "/placement"),
    ("/novncproxy/vnc_auto.html", "nova-novncproxy", "/vnc_auto.html", "/novncproxy"),
    ("/horizon/auth/login/", "horizon-int", "/auth/login/", "/horizon"),
]


@pytest.mark.parametrize(("path", "service", "upstream_path", "prefix"), ROUTES)
def test_prefix_is_stripped_and_announced(
    proxy: str, path: str, service: str, upstream_path: str, prefix: str
) -> None:
    status, seen = request(proxy + path)
    assert status == 200
    assert seen == {
        "service": service,
        "path": upstream_path,
        "prefix": prefix,
        "received": 0,
        "proto": "http",
    }


@pytest.mark.parametrize("path", ["/volumev3x/v3", "/volume/v3", "/", "/v3/volumes"])
def test_other_paths_are_not_routed(proxy: str, path: str) -> None:
    assert request(proxy + path)[0] == 404


def test_large_image_upload_is_not_refused(proxy: str) -> None:
    body = b"x" * (5 * 1024 * 1024)  # over nginx's 1 MiB default
    status, seen = request(proxy + "/image/v2/images/abc/file", "PUT", body)
    assert (status, seen["service"], seen["received"]) == (200, "glance-api", len(body))
    # The same body to an API without the upload defaults is refused: the test can tell.
    assert request(proxy + "/identity/v3/x", "PUT", body)[0] == 413


def test_host_routes(tmp_path: Path) -> None:
    cfg = config(discovery={"public_service_name": "lb"}, routing={"style": "host"})
    source = snapshot(
        [
            load_balancer("lb", "192.0.2.10"),
            manifest("keystone-api", ports=[("ks-pub", 5000)]),
            manifest("cinder-api", ports=[("c-api", 8776)]),
        ]
    )
    ingresses = _ingresses(cfg, source, tmp_path / "out")
    port = free_port()
    with backends(["keystone-api", "cinder-api"]) as ports:
        text = nginx_config(ingresses, ports, port, tmp_path)
        with nginx(require("nginx"), text, tmp_path, port) as base:
            keystone = request(base + "/v3", host="keystone.openstack.svc.cluster.local")
            cinder = request(base + "/v3/volumes", host="cinder")
            unknown = request(base + "/v3", host="glance.openstack.svc.cluster.local")
    assert keystone == (
        200,
        {"service": "keystone-api", "path": "/v3", "prefix": None, "received": 0, "proto": "http"},
    )
    assert cinder[1]["path"] == "/v3/volumes" and cinder[1]["service"] == "cinder-api"
    assert unknown[0] == 404
