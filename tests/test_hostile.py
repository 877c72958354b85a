"""A hostile corpus fed through the command line, one named case per value.

Every case must end in one of two ways: exit 1 with one line on stderr, ``error: ...``, that
names the file, key or Service at fault; or exit 0 with ``warning: skipped <ns>/<name>: ...``
for the Service whose annotation is bad. Never exit 70, never a traceback, and no hostile value
may reach a rendered file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_balancer, manifest, run_cli, snapshot_text

LB_IP = "192.0.2.10"
BASE_CONFIG: dict[str, Any] = {
    "discovery": {"public_service_name": "public-openstack"},
    "dns": {"loadbalancer_ip": "192.0.2.53"},
}
SNAPSHOT = "<snapshot>"
CONFIG = "<config>"


@dataclass(frozen=True)
class Case:
    """One hostile input: the snapshot and config bytes, and what the run must say.

    ``expect`` is ``error`` (exit 1, one ``error:`` line) or ``skip`` (exit 0, warnings only).
    ``names`` must all appear in stderr; ``<snapshot>`` and ``<config>`` stand for the paths.
    ``hostile`` must appear in no rendered file.
    """

    snapshot: bytes
    config: bytes
    expect: str
    names: tuple[str, ...]
    hostile: tuple[bytes, ...] = ()


KEYSTONE = manifest("keystone-api", ports=[("ks-pub", 5000)])


def _items(annotations: dict[str, str] | None = None, **port: Any) -> list[dict[str, Any]]:
    cinder = manifest("cinder-api", ports=[("http", 8776)], annotations=annotations)
    cinder["spec"]["ports"][0].update(port)
    # Keystone stays routed, so a skipped cinder-api never trips the empty-discovery guard.
    return [load_balancer("public-openstack", LB_IP), KEYSTONE, cinder]


def _snapshot(items: list[dict[str, Any]] | None = None) -> bytes:
    return snapshot_text(_items() if items is None else items).encode()


def _config(**sections: Any) -> bytes:
    merged = {**BASE_CONFIG, **sections}
    merged["discovery"] = {**BASE_CONFIG["discovery"], **sections.get("discovery", {})}
    return json.dumps(merged).encode()  # JSON is YAML; \n and \u2028 arrive as escapes


def annotation(key: str, value: str, *hostile: bytes) -> Case:
    """A Service annotation that must skip cinder-api with a warning, and nothing else."""
    return Case(
        _snapshot(_items({f"nexus-gitops.io/{key}": value})),
        _config(),
        "skip",
        ("openstack/cinder-api",),
        hostile,
    )


def bad_port(raw: bytes) -> Case:
    """cinder-api's port spelt as raw JSON: the item is skipped, naming the Service."""
    text = _snapshot().replace(b'"port": 8776', b'"port": ' + raw)
    assert raw in text
    return Case(text, _config(), "skip", ("cinder-api", "port"), (b"cinder",))


def bad_snapshot(text: bytes, *names: str) -> Case:
    return Case(text, _config(), "error", (SNAPSHOT, *names))


def bad_config(text: bytes, *names: str, hostile: tuple[bytes, ...] = ()) -> Case:
    return Case(_snapshot(), text, "error", names or (CONFIG,), hostile)


DEEP = 100_000
DIGITS = b"9" * 5000

CASES = [
    # Annotations: every grammar is a full match, so a trailing newline is not forgiven.
    pytest.param(annotation("path", "share\n", b"share"), id="path-trailing-newline"),
    pytest.param(annotation("path", "share\r", b"share"), id="path-cr"),
    pytest.param(annotation("path", "share\x00", b"share"), id="path-nul"),
    pytest.param(annotation("path", "share\t", b"share"), id="path-tab"),
    pytest.param(annotation("path", "share\u2028", b"share"), id="path-u2028"),
    pytest.param(annotation("path", "share\u2029", b"share"), id="path-u2029"),
    pytest.param(annotation("service-type", "compute\n", b"compute"), id="service-type-newline"),
    pytest.param(annotation("expose", "true\n"), id="expose-newline"),
    pytest.param(
        annotation("hosts", "extra.example.com\n", b"extra.example.com"), id="host-newline"
    ),
    pytest.param(
        annotation("hosts", "a.example.com,extra.example.com\n", b"extra.example.com"),
        id="second-host-newline",
    ),
    pytest.param(annotation("hosts", "198.51.100.7", b"198.51.100.7"), id="host-is-an-ip"),
    pytest.param(annotation("hosts", "10.1", b"10.1"), id="host-all-digit-last-label"),
    pytest.param(
        annotation("hosts", "\u212aeystone.example.com", b"keystone.example.com"),
        id="host-kelvin-sign-lowercases-to-ascii",
    ),
    pytest.param(annotation("port", "\u00b2"), id="port-superscript-two"),
    pytest.param(annotation("port", "9" * 5000, b"99999"), id="port-5000-digits"),
    pytest.param(annotation("port", "8776\n"), id="port-newline"),
    pytest.param(annotation("path\n", "x"), id="unknown-annotation-key-newline"),
    # Snapshot files: one error line naming the file.
    pytest.param(
        bad_snapshot(b'{"kind": "List", "items": [], "x": "\xff\xfe"}', "UTF-8"),
        id="snapshot-not-utf8",
    ),
    pytest.param(
        bad_snapshot(b'{"kind": "List", "items": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
        id="snapshot-json-100k-deep",
    ),
    pytest.param(
        bad_snapshot(b"kind: List\nitems: " + b"[" * DEEP + b"]" * DEEP + b"\n"),
        id="snapshot-yaml-100k-deep",
    ),
    pytest.param(bad_snapshot(b"- kind: List\n- items: []\n"), id="snapshot-yaml-a-list"),
    pytest.param(bad_snapshot(b"just some text\n"), id="snapshot-yaml-a-scalar"),
    pytest.param(
        bad_snapshot(b'{"kind": "List", "items": [], "items": []}', "items"),
        id="snapshot-json-duplicate-key",
    ),
    pytest.param(
        bad_snapshot(b"kind: List\nitems: []\nitems: []\n", "items"),
        id="snapshot-yaml-duplicate-key",
    ),
    pytest.param(bad_snapshot(b'{"kind": "List", "items": [], "x": NaN}'), id="snapshot-json-nan"),
    pytest.param(
        bad_snapshot(b"kind: List\nitems: !!python/object:os.system {}\n"),
        id="snapshot-yaml-python-tag",
    ),
    pytest.param(bad_snapshot(b"kind: List\nitems: []\n---\nkind: List\n"), id="snapshot-two-docs"),
    pytest.param(bad_snapshot(b'{"kind": "List", "items": {}}', "items"), id="items-not-a-list"),
    # A bad item is skipped with its reason, naming the Service.
    pytest.param(bad_port(DIGITS), id="json-port-5000-digits"),
    pytest.param(bad_port(b"8776.0"), id="json-port-float"),
    pytest.param(bad_port(b"1e999"), id="json-port-huge-float"),
    pytest.param(bad_port(b'"8776"'), id="json-port-string"),
    pytest.param(bad_port(b"true"), id="json-port-bool"),
    pytest.param(bad_port(b"-8776"), id="json-port-negative"),
    pytest.param(
        Case(
            b"kind: List\nitems:\n- kind: Service\n  metadata: {name: cinder-api, namespace: "
            b"openstack}\n  spec:\n    ports:\n    - port: " + DIGITS + b"\n"
            b"- kind: Service\n  metadata: {name: keystone-api, namespace: openstack}\n"
            b"  spec:\n    ports:\n    - port: 5000\n",
            _config(discovery={"fallback_target": LB_IP}),
            "skip",
            ("cinder-api", "port"),
            (b"cinder",),
        ),
        id="yaml-port-5000-digits",
    ),
    pytest.param(
        Case(
            _snapshot(
                [
                    load_balancer("public-openstack", LB_IP),
                    manifest("cinder-api", ports=[("api\nwarning: forged", 8776), ("b", 80)]),
                    KEYSTONE,
                ]
            ),
            _config(),
            "skip",
            ("openstack/cinder-api", "port name"),
            (b"cinder", b"forged"),
        ),
        id="port-name-newline",
    ),
    pytest.param(
        Case(
            _snapshot(
                [load_balancer("public-openstack", LB_IP), manifest("cinder-api\n"), KEYSTONE]
            ),
            _config(),
            "skip",
            ("cinder-api",),
            (b"cinder",),
        ),
        id="service-name-newline",
    ),
    pytest.param(
        Case(
            _snapshot(
                [
                    load_balancer("public-openstack", LB_IP),
                    manifest("cinder-api", "os\u2028"),
                    KEYSTONE,
                ]
            ),
            _config(),
            "skip",
            ("cinder-api",),
            (b"cinder",),
        ),
        id="namespace-u2028",
    ),
    pytest.param(
        Case(
            _snapshot([load_balancer("public-openstack", "::ffff:192.0.2.10")]),
            _config(),
            "error",
            ("openstack/public-openstack", "IPv4"),
        ),
        id="load-balancer-ipv4-mapped",
    ),
    # Config files: one error line naming the file or the key.
    pytest.param(bad_config(b"routing:\n  style: \xff\n", CONFIG, "UTF-8"), id="config-not-utf8"),
    pytest.param(
        bad_config(b"routing: " + b"[" * DEEP + b"]" * DEEP + b"\n", CONFIG), id="config-100k-deep"
    ),
    pytest.param(
        bad_config(b"dns:\n  ttl: " + DIGITS + b"\n", CONFIG), id="config-ttl-5000-digits"
    ),
    pytest.param(
        bad_config(b"services:\n  cinder-api:\n    port: " + DIGITS + b"\n", CONFIG),
        id="config-port-5000-digits",
    ),
    pytest.param(
        bad_config(_config(services={"Keystone-API": {"path": "x"}}), "services", "Keystone-API"),
        id="config-services-key-uppercase",
    ),
    pytest.param(
        bad_config(_config(services={"cinder-api\n": {"path": "x"}}), "services"),
        id="config-services-key-newline",
    ),
    pytest.param(
        bad_config(
            _config(routing={"service_types": {"imgae": {"body_limit": "0"}}}),
            "routing.service_types.imgae",
            "did you mean 'image'",
        ),
        id="config-service-type-misspelt",
    ),
    pytest.param(
        bad_config(
            _config(routing={"service_types": {"image\n": {"body_limit": "0"}}}),
            "routing.service_types",
        ),
        id="config-service-type-newline",
    ),
    pytest.param(
        bad_config(
            _config(
                routing={
                    "service_types": {
                        "volumev3": {"body_limit": "0"},
                        "block-storage": {"body_limit": "1g"},
                    }
                }
            ),
            "routing.service_types",
            "block-storage",
        ),
        id="config-service-type-alias-twice",
    ),
    pytest.param(
        bad_config(
            _config(routing={"ingress_class": "openstack-nginx\n"}),
            "routing.ingress_class",
            hostile=(b"nginx\n",),
        ),
        id="config-ingress-class-newline",
    ),
    pytest.param(
        bad_config(_config(routing={"path_host": "192.0.2.1"}), "routing.path_host"),
        id="config-path-host-ip",
    ),
    pytest.param(
        bad_config(_config(routing={"path_host": "api.example.com\n"}), "routing.path_host"),
        id="config-path-host-newline",
    ),
    pytest.param(
        bad_config(
            _config(routing={"cluster_domain": "cluster.local\n"}), "routing.cluster_domain"
        ),
        id="config-cluster-domain-newline",
    ),
    pytest.param(
        bad_config(_config(routing={"public_domain": "example.com\r"}), "routing.public_domain"),
        id="config-public-domain-cr",
    ),
    pytest.param(
        bad_config(
            _config(routing={"tuning": {"read_timeout": "60\n"}}),
            "routing.tuning",
        ),
        id="config-annotation-value-newline",
    ),
    pytest.param(
        bad_config(
            _config(routing={"tuning": {"read_timeout\n": 60}}),
            "routing.tuning",
        ),
        id="config-annotation-key-newline",
    ),
    pytest.param(
        bad_config(
            _config(routing={"tuning": {"read_timeout": 10**40}}),
            "routing.tuning",
        ),
        id="config-annotation-huge-number",
    ),
    pytest.param(
        bad_config(
            _config(routing={"service_types": {"image": {"body_limit": "0\n"}}}),
            "routing.service_types.image",
        ),
        id="config-tuning-value-newline",
    ),
    pytest.param(
        bad_config(
            _config(proxy={"ssl": {"enabled": True, "secret_name": "tls\n"}}),
            "proxy.ssl.secret_name",
        ),
        id="config-secret-name-newline",
    ),
    pytest.param(
        bad_config(
            _config(proxy={"ssl": {"enabled": True, "cluster_issuer": "le\u2028"}}),
            "proxy.ssl.cluster_issuer",
        ),
        id="config-issuer-u2028",
    ),
    pytest.param(
        bad_config(
            _config(discovery={"fallback_target": "::ffff:192.0.2.10"}),
            "discovery.fallback_target",
            "IPv4",
        ),
        id="config-fallback-ipv4-mapped",
    ),
    pytest.param(
        bad_config(
            _config(discovery={"fallback_target": "fe80::1%eth0"}), "discovery.fallback_target"
        ),
        id="config-fallback-zone-id",
    ),
    pytest.param(
        bad_config(_config(dns={"upstream": ["192.0.2.53\n"]}), "dns.upstream"),
        id="config-upstream-newline",
    ),
    pytest.param(
        bad_config(_config(discovery={"public_service_name": "lb\n"}), "public_service_name"),
        id="config-public-service-newline",
    ),
    pytest.param(
        bad_config(_config(discovery={"extra_namespaces": ["storage\n"]}), "extra_namespaces"),
        id="config-namespace-newline",
    ),
    pytest.param(
        bad_config(_config(dns={"namespace": "dns\u2029"}), "dns.namespace"),
        id="config-dns-namespace-u2029",
    ),
    pytest.param(bad_config(_config(dns={"ttl": True}), "dns.ttl"), id="config-ttl-bool"),
    pytest.param(bad_config(_config(dns={"ttl": 1.5}), "dns.ttl"), id="config-ttl-float"),
    pytest.param(bad_config(_config(dns={"ttl": 10**40}), "dns.ttl"), id="config-ttl-huge"),
    pytest.param(bad_config(_config(git={"branch": "main\n"}), "git.branch"), id="git-branch-nl"),
    pytest.param(
        bad_config(_config(git={"author_email": "a@example.com\u2028"}), "git.author_email"),
        id="git-email-u2028",
    ),
    pytest.param(
        bad_config(_config(git={"author_name": "Bot\u0085"}), "git.author_name"),
        id="git-author-nel",
    ),
    pytest.param(
        bad_config(_config(git={"author_name": "Bot\t"}), "git.author_name"), id="git-author-tab"
    ),
    pytest.param(
        bad_config(_config(services={"cinder-api": {"path": "share\n"}}), "services.cinder-api"),
        id="config-override-path-newline",
    ),
    pytest.param(
        bad_config(
            _config(services={"cinder-api": {"service_type": "compute\n"}}), "services.cinder-api"
        ),
        id="config-override-service-type-newline",
    ),
    pytest.param(
        bad_config(
            _config(services={"cinder-api": {"hosts": ["198.51.100.7"]}}), "services.cinder-api"
        ),
        id="config-override-host-ip",
    ),
    pytest.param(
        bad_config(_config(services={"cinder-api": {"port": 8776.0}}), "services.cinder-api"),
        id="config-override-port-float",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_hostile_input_gives_one_line_and_never_reaches_a_file(case: Case, tmp_path: Path) -> None:
    snapshot_file = tmp_path / "snapshot.json"
    config_file = tmp_path / "nexus.yaml"
    snapshot_file.write_bytes(case.snapshot)
    config_file.write_bytes(case.config)
    out = tmp_path / "out"
    result = run_cli(
        "render",
        "--source",
        str(snapshot_file),
        "--config",
        str(config_file),
        "--out",
        str(out),
    )
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert result.returncode != 70, result.stderr
    names = [
        n.replace(SNAPSHOT, str(snapshot_file)).replace(CONFIG, str(config_file))
        for n in case.names
    ]
    if case.expect == "error":
        assert result.returncode == 1, result.stderr
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert result.stderr.count("\n") == 1
    else:
        assert result.returncode == 0, result.stderr
        assert lines, "the skipped Service must be named"
        assert all(line.startswith("warning: skipped ") for line in lines), result.stderr
    for name in names:
        assert name in result.stderr, result.stderr
    rendered = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    for path in rendered:
        content = path.read_bytes()
        for value in case.hostile:
            assert value not in content, f"{value!r} reached {path}"
        assert b"\r" not in content and b"\x00" not in content
        assert "\u2028" not in content.decode() and "\u2029" not in content.decode()


@pytest.mark.parametrize("variable", ["GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"])
def test_hostile_identity_in_the_environment(variable: str, tmp_path: Path) -> None:
    """The author reaches a commit header, where a newline would forge another header."""
    snapshot_file = tmp_path / "snapshot.json"
    snapshot_file.write_bytes(_snapshot())
    repo = tmp_path / "repo"
    repo.mkdir()
    result = run_cli(
        "sync",
        "--source",
        str(snapshot_file),
        "--repo",
        str(repo),
        env={variable: "Bot\ncommitter evil <e@example.com>"},
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(f"error: ${variable} 'Bot\\n")
    assert result.stderr.count("\n") == 1
