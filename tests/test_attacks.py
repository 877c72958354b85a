"""Attacks by whoever may create a Service, end to end: sync through the CLI, serve what was
committed in real nginx, and check where Keystone's passwords go.

Each case first commits the bundled example (the incumbents), then adds the attacker's Service
and syncs again, as the scheduled job would. The attack must be reported naming the Service, and
``/identity`` (and every other route) must still reach the Service it reached before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLE_SNAPSHOT, git, manifest, run_cli
from tests.nginx_harness import backends, free_port, nginx, nginx_config, request
from tests.tools import require

pytestmark = pytest.mark.slow

PATH_HOST = "openstack.openstack.svc.cluster.local"
KEYSTONE_FQDN = "keystone.openstack.svc.cluster.local"
CONFIG = """\
discovery:
  public_service_name: public-openstack
routing:
  style: {style}
  public_domain: cloud.example.com
"""


def _example_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load(EXAMPLE_SNAPSHOT.read_text())["items"]
    return items


def _write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


def _ingresses(repo: Path) -> list[dict[str, Any]]:
    found = []
    for file in sorted((repo / "nexus").rglob("*.yaml")):
        document = yaml.safe_load(file.read_text())
        if document.get("kind") == "Ingress":
            found.append(document)
    return found


ATTACKS = [
    (
        "host annotation on the shared path host",
        "path",
        manifest(
            "zun-api",
            ports=[("http", 9517)],
            annotations={"nexus-gitops.io/hosts": PATH_HOST},
        ),
        [(PATH_HOST, "/identity/v3/auth/tokens", "keystone-api")],
    ),
    (
        "host annotation on the shared path host, both styles",
        "both",
        manifest(
            "zun-api",
            ports=[("http", 9517)],
            annotations={"nexus-gitops.io/hosts": PATH_HOST},
        ),
        [
            (PATH_HOST, "/identity/v3/auth/tokens", "keystone-api"),
            (KEYSTONE_FQDN, "/v3/auth/tokens", "keystone-api"),
        ],
    ),
    (
        "host annotation on keystone's name in path style",
        "path",
        manifest(
            "zun-api",
            ports=[("http", 9517)],
            annotations={"nexus-gitops.io/hosts": f"{KEYSTONE_FQDN},identity.cloud.example.com"},
        ),
        [
            (KEYSTONE_FQDN, "/identity/v3/auth/tokens", "keystone-api"),
            ("identity.cloud.example.com", "/identity/v3/auth/tokens", "keystone-api"),
        ],
    ),
    (
        "host annotation on keystone's name in host style",
        "host",
        manifest(
            "zun-api",
            ports=[("http", 9517)],
            annotations={"nexus-gitops.io/hosts": "keystone.openstack"},
        ),
        [("keystone.openstack", "/v3/auth/tokens", "keystone-api")],
    ),
    (
        "squatted name: neutron-api after neutron-server",
        "path",
        manifest("neutron-api", ports=[("http", 9696)]),
        [(PATH_HOST, "/network/v2.0/networks", "neutron-server")],
    ),
    (
        "squatted name: horizon-api after horizon-int",
        "path",
        manifest("horizon-api", ports=[("http", 80)]),
        [(PATH_HOST, "/horizon/auth/login/", "horizon-int")],
    ),
    (
        "squatted name in host style",
        "host",
        manifest("neutron-api", ports=[("http", 9696)]),
        [("neutron.openstack.svc.cluster.local", "/v2.0/networks", "neutron-server")],
    ),
    (
        "path annotation for keystone's prefix",
        "path",
        manifest(
            "zun-api",
            ports=[("http", 9517)],
            annotations={"nexus-gitops.io/path": "identity"},
        ),
        [(PATH_HOST, "/identity/v3/auth/tokens", "keystone-api")],
    ),
]


@pytest.mark.parametrize(
    ("style", "attacker", "requests"), [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS]
)
def test_attack_changes_no_route(
    tmp_path: Path,
    style: str,
    attacker: dict[str, Any],
    requests: list[tuple[str, str, str]],
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(style=style))
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "--initial-branch=main", str(repo))
    items = _example_items()
    common = ["--config", str(config), "--repo", str(repo)]
    before = run_cli("sync", "--source", str(_write(tmp_path / "a.json", items)), *common)
    assert before.returncode == 0, before.stderr
    after = run_cli(
        "sync", "--source", str(_write(tmp_path / "b.json", [*items, attacker])), *common
    )
    assert after.returncode == 0, after.stderr
    name = attacker["metadata"]["name"]
    assert f"warning: skipped openstack/{name}: " in after.stderr
    ingresses = _ingresses(repo)
    assert name not in json.dumps(ingresses)
    services = sorted(
        {
            p["backend"]["service"]["name"]
            for i in ingresses
            for r in i["spec"]["rules"]
            for p in r["http"]["paths"]
        }
        | {name}
    )
    port = free_port()
    with backends(services) as ports:
        text = nginx_config(ingresses, ports, port, tmp_path)
        with nginx(require("nginx"), text, tmp_path, port) as base:
            for host, path, expected in requests:
                status, seen = request(base + path, host=host)
                assert (status, seen.get("service")) == (200, expected), (host, path)
