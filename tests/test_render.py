"""Rendered output: golden files for the example, the Kubernetes schema, and YAML 1.1 safety."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml as pyyaml  # PyYAML parses with YAML 1.1 rules, as kubectl and Argo CD do
from ruamel.yaml import YAML

from nexus_gitops import commands
from nexus_gitops.config import Config, parse_config
from nexus_gitops.discover.committed import read_state
from nexus_gitops.discover.snapshot import SnapshotSource
from nexus_gitops.errors import StateError
from nexus_gitops.plan.files import marker
from nexus_gitops.render.state import state_file
from nexus_gitops.validate.output import check_tree
from tests.conftest import (
    EXAMPLE_CONFIG,
    OPTIONS,
    TODAY,
    config,
    load_balancer,
    manifest,
    snapshot,
)

GOLDEN = Path(__file__).parent / "golden" / "example"


def _render(cfg: Config, source: SnapshotSource, out: Path) -> dict[str, bytes]:
    commands.render(cfg, source, out, OPTIONS)
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


GOLDEN_CASES: dict[str, dict[str, object]] = {
    "example": {},
    "host": {"routing": {"style": "host", "public_domain": "cloud.example.com"}},
    "both-tls": {
        "routing": {"style": "both", "public_domain": "cloud.example.com"},
        "proxy": {"ssl": {"enabled": True, "cluster_issuer": "letsencrypt"}},
    },
    "path-tls-secret": {"proxy": {"ssl": {"enabled": True, "secret_name": "openstack-tls"}}},
    "ipv6": {
        "discovery": {"fallback_target": "2001:db8::10", "public_service_name": "missing"},
        "dns": {"loadbalancer_ip": "2001:db8::53"},
    },
}
"""The example snapshot under each configuration; ``example`` is the bundled config itself."""


def _golden_config(case: str) -> Config:
    raw = YAML(typ="safe").load(EXAMPLE_CONFIG.read_text())
    for section, values in GOLDEN_CASES[case].items():
        assert isinstance(values, dict)
        raw.setdefault(section, {})
        for key, value in values.items():
            if isinstance(value, dict) and isinstance(raw[section].get(key), dict):
                raw[section][key].update(value)
            else:
                raw[section][key] = value
    return parse_config(raw)


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_golden_files(case: str, example_source: SnapshotSource, tmp_path: Path) -> None:
    """Set UPDATE_GOLDEN=1 to rewrite the golden files after an intended change; a person
    reads the diff."""
    golden_dir = GOLDEN.parent / case
    tree = _render(_golden_config(case), example_source, tmp_path / "out")
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(golden_dir, ignore_errors=True)
        shutil.copytree(tmp_path / "out", golden_dir)
    golden = {
        p.relative_to(golden_dir).as_posix(): p.read_bytes()
        for p in sorted(golden_dir.rglob("*"))
        if p.is_file()
    }
    assert sorted(tree) == sorted(golden)
    for path, content in tree.items():
        assert content == golden[path], f"{path} differs from tests/golden/{case}/{path}"


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def test_volumev3_routes_to_cinder(
    example_config: Config, example_source: SnapshotSource, tmp_path: Path
) -> None:
    _render(example_config, example_source, tmp_path)
    ingress = _load(tmp_path / "ingress" / "openstack" / "nexus-cinder-path.yaml")
    assert ingress["spec"]["ingressClassName"] == "openstack-nginx"
    [rule] = ingress["spec"]["rules"]
    assert "host" not in rule
    [path] = rule["http"]["paths"]
    assert path == {
        "path": "/volumev3(/|$)(.*)",
        "pathType": "ImplementationSpecific",
        "backend": {"service": {"name": "cinder-api", "port": {"number": 8776}}},
    }
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2"
    assert annotations["nginx.ingress.kubernetes.io/use-regex"] == "true"
    assert annotations["nginx.ingress.kubernetes.io/x-forwarded-prefix"] == "/volumev3"
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "0"
    assert not any("snippet" in key for key in annotations)


def test_no_ingress_for_infrastructure(
    example_config: Config, example_source: SnapshotSource, tmp_path: Path
) -> None:
    _render(example_config, example_source, tmp_path)
    backends: set[str] = set()
    for path in (tmp_path / "ingress" / "openstack").iterdir():
        for rule in _load(path)["spec"]["rules"]:
            backends.update(p["backend"]["service"]["name"] for p in rule["http"]["paths"])
    assert backends == {
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
    }
    kustomization = _load(tmp_path / "kustomization.yaml")
    assert [r for r in kustomization["resources"] if r.startswith("ingress/")] == sorted(
        f"ingress/openstack/{p.name}" for p in (tmp_path / "ingress" / "openstack").iterdir()
    )


def _all_styles_tree(tmp_path: Path) -> dict[str, bytes]:
    cfg = config(
        discovery={"public_service_name": "lb"},
        routing={"style": "both", "public_domain": "cloud.example.com"},
        proxy={"ssl": {"enabled": True, "cluster_issuer": "letsencrypt"}},
        dns={"upstream": ["192.0.2.1"]},
    )
    source = snapshot(
        [
            load_balancer("lb", "192.0.2.10"),
            manifest("keystone-api", ports=[("https", 5000)]),
            manifest("glance-api", ports=[("g-api", 9292)]),
            manifest("nova-novncproxy", ports=[("n-novnc", 6080)]),
        ]
    )
    return _render(cfg, source, tmp_path)


def test_every_ingress_passes_the_kubernetes_schema(
    example_config: Config, example_source: SnapshotSource, tmp_path: Path
) -> None:
    trees = [
        _render(example_config, example_source, tmp_path / "a"),
        _all_styles_tree(tmp_path / "b"),
    ]
    checked = 0
    for tree in trees:
        for path, content in tree.items():
            if path.startswith("ingress/"):
                document = YAML(typ="safe").load(content)
                kubernetes_validate.validate(document, "1.33.0", strict=True)
                checked += 1
    assert checked == 13 + 6 + 3  # the example; 3 APIs in both styles, each with -local


def test_schema_validation_would_catch_a_broken_ingress() -> None:
    broken = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "x"},
        "spec": {
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "backend": {"service": {"name": "a", "port": {"number": 1}}},
                            }
                        ]
                    }
                }
            ]
        },
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33.0", strict=True)  # pathType is required


def test_host_routes_and_tls(tmp_path: Path) -> None:
    tree = _all_styles_tree(tmp_path)
    host = YAML(typ="safe").load(tree["ingress/openstack/nexus-keystone-host.yaml"])
    assert [r["host"] for r in host["spec"]["rules"]] == [
        "keystone.openstack.svc.cluster.local",
        "identity.cloud.example.com",
    ]
    # The short names no CA signs keep plain HTTP on an Ingress of their own.
    local = YAML(typ="safe").load(tree["ingress/openstack/nexus-keystone-host-local.yaml"])
    assert [r["host"] for r in local["spec"]["rules"]] == ["keystone", "keystone.openstack"]
    assert "tls" not in local["spec"]
    assert local["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-redirect"] == "false"
    assert all(
        p["pathType"] == "Prefix" and p["path"] == "/"
        for r in host["spec"]["rules"]
        for p in r["http"]["paths"]
    )
    annotations = host["metadata"]["annotations"]
    assert not any(
        k.endswith(("rewrite-target", "use-regex", "x-forwarded-prefix")) for k in annotations
    )
    assert not any(k.startswith("cert-manager.io/") for k in annotations)  # no ingress-shim
    assert annotations["nginx.ingress.kubernetes.io/backend-protocol"] == "HTTPS"
    # Public CAs refuse the short forms: only fully qualified names are in the certificate.
    fqdns = ["keystone.openstack.svc.cluster.local", "identity.cloud.example.com"]
    assert host["spec"]["tls"] == [{"hosts": fqdns, "secretName": "nexus-keystone-host-tls"}]
    certificate = YAML(typ="safe").load(tree["certificate/openstack/nexus-keystone-host.yaml"])
    assert certificate["spec"] == {
        "secretName": "nexus-keystone-host-tls",
        "dnsNames": fqdns,
        "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "letsencrypt"},
    }
    path = YAML(typ="safe").load(tree["ingress/openstack/nexus-keystone-path.yaml"])
    # A host rule for the shared path host, so ingress-nginx selects its certificate, and the
    # host-less rule, so http(s)://<lb>/identity keeps working.
    assert [r.get("host") for r in path["spec"]["rules"]] == [
        "openstack.openstack.svc.cluster.local",
        None,
    ]
    assert path["spec"]["tls"] == [
        {"hosts": ["openstack.openstack.svc.cluster.local"], "secretName": "nexus-path-host-tls"}
    ]
    # One certificate for the shared name, referenced by every path Ingress.
    path_secrets = {
        YAML(typ="safe").load(content)["spec"]["tls"][0]["secretName"]
        for name, content in tree.items()
        if name.startswith("ingress/") and name.endswith("-path.yaml")
    }
    assert path_secrets == {"nexus-path-host-tls"}
    certificates = sorted(n for n in tree if n.startswith("certificate/"))
    assert certificates.count("certificate/openstack/nexus-path-host.yaml") == 1
    assert len([n for n in certificates if "path" in n]) == 1
    console = YAML(typ="safe").load(tree["ingress/openstack/nexus-novncproxy-path.yaml"])
    assert (
        console["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"]
        == "3600"
    )


def test_yaml_is_read_the_same_by_yaml_1_1(tmp_path: Path) -> None:
    """kubectl, kustomize and Argo CD parse YAML 1.1, where ``off`` is a boolean."""
    tree = _all_styles_tree(tmp_path)
    for path, content in tree.items():
        if path.endswith(".yaml"):
            assert pyyaml.safe_load(content) == YAML(typ="safe").load(content), path
    glance = pyyaml.safe_load(tree["ingress/openstack/nexus-glance-path.yaml"])
    assert (
        glance["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-request-buffering"]
        == "off"
    )


def test_render_is_deterministic(example_config: Config, tmp_path: Path) -> None:
    """Same inputs, byte-identical files, whatever the order the API listed Services in."""
    items = YAML(typ="safe").load(
        (Path(__file__).parent.parent / "examples" / "openstack-helm-services.yaml").read_text()
    )["items"]
    first = _render(example_config, snapshot(items), tmp_path / "a")
    second = _render(example_config, snapshot(list(reversed(items))), tmp_path / "b")
    assert first == second


def test_render_keeps_serial_and_removes_stale_files(
    example_config: Config, example_source: SnapshotSource, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _render(example_config, example_source, out)
    (out / "notes.txt").write_text("mine\n")
    fewer = dataclasses.replace(
        example_source,
        services=tuple(s for s in example_source.services if s.name != "heat-cfn"),
    )
    outcome = commands.render(
        example_config, fewer, out, dataclasses.replace(OPTIONS, today=TODAY.replace(day=23))
    )
    assert [(c.path, c.action.value) for c in outcome.planned.files.changes] == [
        ("kustomization.yaml", "update"),
        ("state.json", "update"),
        ("ingress/openstack/nexus-cloudformation-path.yaml", "delete"),
    ]
    assert not (out / "ingress" / "openstack" / "nexus-cloudformation-path.yaml").exists()
    assert (out / "notes.txt").read_text() == "mine\n"
    assert b"2026112200" in (out / "coredns" / "db.openstack.svc.cluster.local").read_bytes()


def test_dns_disabled_needs_no_ingress_address(tmp_path: Path) -> None:
    cfg = config(dns={"enabled": False})
    tree = _render(cfg, snapshot([manifest("keystone-api", ports=[("ks-pub", 5000)])]), tmp_path)
    assert sorted(tree) == [
        "ingress/openstack/nexus-keystone-path.yaml",
        "kustomization.yaml",
        "state.json",
    ]


def test_state_reads_back_what_was_rendered(tmp_path: Path) -> None:
    """The next run's incumbents are exactly the routes this run rendered."""
    tree = _all_styles_tree(tmp_path)
    state = read_state(tree)
    assert state.owner == "nexus"
    assert {r.name for r in state.routes} >= {"keystone-host", "keystone-path"}
    assert any(r.name == "ns.cloud.example.com" for r in state.records)
    again = state_file(
        marker("nexus"),
        "nexus",
        state.routes,
        state.holds,
        state.records,
        state.conflicts,
        state.inputs,
        state.files,
    )
    assert again == tree["state.json"]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"version": 2}',
        b'{"version": 1, "routes": [{"kind": "path", "name": "x\\n"}]}',
        b'{"version": 1, "routes": [{"kind": "gateway"}]}',
        b'{"version": 1, "records": [{"name": "a.example", "address": "::ffff:1.2.3.4x"}]}',
        b"[" * 100_000,
    ],
    ids=["not JSON", "another version", "a bad name", "a bad kind", "a bad address", "deep"],
)
def test_a_broken_state_is_one_clear_error(content: bytes) -> None:
    with pytest.raises(StateError, match=r"the committed state\.json cannot be read"):
        read_state({"state.json": content})


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_every_manifest_reads_back_the_same_in_yaml_1_1_and_1_2(case: str) -> None:
    """The emitter's promise (render/yaml.py): PyYAML (YAML 1.1, as kubectl and Argo CD) and
    ruamel (YAML 1.2) read every rendered manifest to the same data, and the data is what the
    renderer built: strings stay strings."""
    folder = GOLDEN.parent / case
    manifests = sorted(folder.rglob("*.yaml"))
    assert manifests
    for path in manifests:
        text = path.read_text()
        one_one = pyyaml.safe_load(text)
        assert one_one == YAML(typ="safe").load(text), path
        metadata = one_one.get("metadata", {})
        for field in ("labels", "annotations"):
            assert all(isinstance(v, str) for v in metadata.get(field, {}).values()), path


def test_the_emitter_output_reads_back_exactly() -> None:
    """Every shape and every kind of scalar that needs quoting reads back as it was built, in
    YAML 1.1 and 1.2. (The golden files, first written by PyYAML, are byte-identical too.)"""
    from nexus_gitops.render.yaml import EmitError, dump

    document = {
        "kind": "Test",
        "strings": {
            "plain": "nexus-cinder-path",
            "regex": "/volumev3(/|$)(.*)",
            "zero": "0",
            "off": "off",
            "true": "true",
            "null": "null",
            "y": "y",
            "version": "1.2",
            "octal": "0o17",
            "float": ".5",
            "quote": "it's",
            "space": "a b",
            "colon": "a:b",
            "comment": "a #b",
            "empty": "",
        },
        "numbers": [5000, 0],
        "flags": {"yes": True, "no": False},
        "items": [{"a": 1, "b": {"c": "d"}}, {"e": []}],
        "empty": {},
    }
    text = dump(document).decode()
    assert pyyaml.safe_load(text) == YAML(typ="safe").load(text) == document
    check_tree({"x.yaml": dump(document, "marker")})
    for bad in ("a\nb", "caf\u00e9", "\u2028"):
        with pytest.raises(EmitError):
            dump({"kind": bad})
