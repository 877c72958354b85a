"""The command line contract: output, one-line errors, exit codes, hostile input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import (
    EXAMPLE_CONFIG,
    EXAMPLE_SNAPSHOT,
    git,
    load_balancer,
    manifest,
    run_cli,
    snapshot_text,
)

HOSTILE_VALUES = {
    "nexus-gitops.io/path": "identity\n$INCLUDE /etc/passwd",
    "nexus-gitops.io/hosts": "ok.example.com,evil.example.com;rm -rf",
}
MARKERS = [
    "$INCLUDE",
    "/etc/passwd",
    "/etc/shadow",
    "evil",
    "rm -rf",
    "proxy_pass",
    "attacker",
    "lua",
    "ngx.",
    "location /",
]


def _hostile_snapshot(path: Path) -> Path:
    items: list[dict[str, Any]] = [
        load_balancer("public-openstack", "192.0.2.10"),
        manifest("keystone-api", ports=[("ks-pub", 5000)]),
        manifest("cinder-api", ports=[("c-api", 8776)], annotations=HOSTILE_VALUES),
        manifest(
            "glance-api",
            ports=[("g-api", 9292)],
            annotations={
                "nexus-gitops.io/path": "image } location / { proxy_pass http://attacker; }"
            },
        ),
        manifest(
            "heat-api",
            ports=[("h-api", 8004)],
            annotations={"nexus-gitops.io/hosts": "heat.example.com\n$INCLUDE /etc/shadow"},
        ),
        manifest(
            "octavia-api",
            ports=[("o-api", 9876)],
            annotations={"nexus-gitops.io/service-type": "lua;ngx.exit(200)"},
        ),
        manifest(
            "barbican-api",
            ports=[("b-api", 9311)],
            annotations={"nexus-gitops.io/path": "identity"},
        ),  # tries to take keystone's prefix
    ]
    path.write_text(snapshot_text(items))
    return path


def test_hostile_annotations_are_skipped_and_never_written(tmp_path: Path) -> None:
    snap = _hostile_snapshot(tmp_path / "snap.json")
    config = tmp_path / "config.yaml"
    config.write_text(
        "discovery:\n  public_service_name: public-openstack\ndns:\n  loadbalancer_ip: 192.0.2.53\n"
    )
    out = tmp_path / "out"
    result = run_cli("render", "--source", str(snap), "--config", str(config), "--out", str(out))
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.splitlines()
    skipped = sorted(line.split(": ")[0] + ": " + line.split(": ")[1] for line in warnings)
    assert skipped == [
        f"warning: skipped openstack/{name}"
        for name in ("barbican-api", "cinder-api", "glance-api", "heat-api", "octavia-api")
    ]
    assert (
        "path /identity on openstack.openstack.svc.cluster.local is already taken by "
        "openstack/keystone-api" in result.stderr
    )
    written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    for marker in MARKERS:
        assert marker.encode() not in written, marker
    assert sorted(p.name for p in (out / "ingress" / "openstack").iterdir()) == [
        "nexus-keystone-path.yaml"
    ]


def test_discover_table_and_formats() -> None:
    common = ["--source", str(EXAMPLE_SNAPSHOT), "--config", str(EXAMPLE_CONFIG)]
    table = run_cli("discover", *common)
    assert table.returncode == 0
    assert table.stdout.startswith(
        "ingress address: 172.18.30.166 (LoadBalancer of openstack/public-openstack)\nROUTE"
    )
    assert "skipped openstack/mariadb: not an OpenStack API name" in table.stdout
    as_json = json.loads(run_cli("discover", *common, "-o", "json").stdout)
    as_yaml = YAML(typ="safe").load(run_cli("discover", *common, "-o", "yaml").stdout)
    assert as_json == as_yaml
    assert len(as_json["routes"]) == 13


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["discover", "--output", "xml"], 2, "Invalid value for '-o' / '--output'"),
        (["sync", "--source", str(EXAMPLE_SNAPSHOT)], 2, "Missing option '--repo'"),
        (["frobnicate"], 2, "No such command"),
        (["discover", "--source", "/nonexistent.yaml"], 1, "error: cannot read snapshot"),
        (["discover", "--source", str(EXAMPLE_CONFIG)], 1, "is not a Kubernetes List"),
        (
            ["discover", "--source", str(EXAMPLE_SNAPSHOT)],
            1,
            "error: no ingress address: discovery.public_service_name is not set",
        ),
    ],
)
def test_errors_and_exit_codes(args: list[str], code: int, message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_config_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("discovery:\n  public_service: public-openstack\n")
    result = run_cli("discover", "--source", str(EXAMPLE_SNAPSHOT), "--config", str(config))
    assert result.returncode == 1
    assert result.stderr == (
        "error: config: unknown key 'discovery.public_service' "
        "(hint: see the configuration reference in README.md)\n"
    )


def test_fallback_target_when_the_load_balancer_is_pending(tmp_path: Path) -> None:
    snap = tmp_path / "s.json"
    pending = manifest("public-openstack", type="LoadBalancer")
    snap.write_text(snapshot_text([pending, manifest("keystone-api", ports=[("ks", 5000)])]))
    config = tmp_path / "c.yaml"
    config.write_text(
        "discovery:\n  public_service_name: public-openstack\n  fallback_target: 10.0.30.110\n"
    )
    result = run_cli("discover", "--source", str(snap), "--config", str(config))
    assert result.stdout.startswith(
        "ingress address: 10.0.30.110 (fallback target (Service "
        "openstack/public-openstack has no LoadBalancer IP yet))"
    )


def test_demo_command_from_the_readme(tmp_path: Path) -> None:
    """The README's demo, minus the install: sync the example into a fresh local repository."""
    repo = tmp_path / "demo-repo"
    git(tmp_path, "init", "-q", "--initial-branch=main", str(repo))
    root = Path(__file__).resolve().parent.parent
    result = run_cli(
        "sync",
        "--source",
        "examples/openstack-helm-services.yaml",
        "--config",
        "examples/nexus-gitops.yaml",
        "--repo",
        str(repo),
        cwd=root,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("committed ") and "+13 routes, DNS 2 records" in result.stdout
    assert git(repo, "log", "--format=%s") == "nexus-gitops: +13 routes, DNS 2 records"


def test_internal_errors_are_one_line_without_data(tmp_path: Path) -> None:
    """A bug must not dump a traceback (with whatever data it holds) into CI logs."""
    code = (
        "import nexus_gitops.commands as c, nexus_gitops.cli as cli\n"
        "def boom(*a, **k):\n    raise RuntimeError('secret-looking detail')\n"
        "c.discover = boom\n"
        "import sys\n"
        f"sys.argv = ['nexus-gitops', 'discover', '--source', {str(EXAMPLE_SNAPSHOT)!r}]\n"
        "cli.main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ["PATH"]},
    )
    assert result.returncode == 70
    assert result.stderr.startswith("internal error: RuntimeError (hint:")
    assert "secret-looking" not in result.stderr and "Traceback" not in result.stderr
