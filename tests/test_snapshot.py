"""Snapshot files: read fast (libyaml), strictly (duplicate keys, deep nesting, huge numbers),
and with every problem named."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ruamel.yaml import YAML

from nexus_gitops.discover.snapshot import SnapshotSource
from nexus_gitops.errors import SourceError
from tests.conftest import EXAMPLE_SNAPSHOT, manifest, snapshot_text


def _yaml_text(items: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items})


def test_yaml_and_json_snapshots_read_the_same() -> None:
    document = YAML(typ="safe").load(EXAMPLE_SNAPSHOT.read_text())
    from_json = SnapshotSource.parse(json.dumps(document), "example.json")
    from_yaml = SnapshotSource.load(EXAMPLE_SNAPSHOT)
    assert from_yaml.services == from_json.services
    assert from_yaml.problems == from_json.problems
    assert len(from_yaml.services) > 10


def test_yaml_snapshot_reads_much_faster_than_pure_python_yaml() -> None:
    """The pure-Python YAML reader took 65 times as long as json for the same snapshot; libyaml
    takes a fraction of that. Compared on the same machine and text, so load does not matter."""
    items = [
        manifest(f"svc-{i}", annotations={"a": "true", "b": "2026-10-02T08:14:01Z"})
        for i in range(1000)
    ]
    as_json, as_yaml = snapshot_text(items), _yaml_text(items)

    def best(read: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            read()
            times.append(time.perf_counter() - started)
        return min(times)

    from_yaml = SnapshotSource.parse(as_yaml, "y")
    assert from_yaml.services == SnapshotSource.parse(as_json, "j").services
    libyaml = best(lambda: SnapshotSource.parse(as_yaml, "y"))
    pure = best(lambda: YAML(typ="safe", pure=True).load(as_yaml))
    assert libyaml * 3 < pure


def test_kubectl_yaml_quoting_keeps_strings() -> None:
    """kubectl quotes what YAML 1.1 would read as another type; unquoted, it is refused."""
    quoted = (
        "kind: List\nitems:\n- metadata:\n    name: cinder-api\n    namespace: openstack\n"
        "    annotations:\n      nexus-gitops.io/expose: 'true'\n      when: '2026-10-02'\n"
        "  spec:\n    ports:\n    - port: 8776\n"
    )
    (service,) = SnapshotSource.parse(quoted, "q").services
    assert service.annotations == {"nexus-gitops.io/expose": "true", "when": "2026-10-02"}
    unquoted = SnapshotSource.parse(quoted.replace("'true'", "yes"), "u")
    assert not unquoted.services
    assert unquoted.problems[0].ref == "openstack/cinder-api"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "kind: List\nitems:\n- metadata: {name: a, name: b}\n",
            "has a duplicate key 'name'",
            id="nested-duplicate-yaml",
        ),
        pytest.param(
            '{"kind": "List", "items": [{"metadata": {"name": "a", "name": "b"}}]}',
            "has a duplicate key 'name'",
            id="nested-duplicate-json",
        ),
        pytest.param('{"kind": "List", "items": [Infinity]}', "not valid JSON", id="infinity"),
        pytest.param("kind: List\nitems: 2026-13-45\n", "not valid YAML", id="bad-timestamp"),
        pytest.param("kind: [List\n", "not valid YAML", id="unclosed"),
    ],
)
def test_broken_snapshots_name_the_file(text: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        SnapshotSource.parse(text, "snap.yaml")
    assert "snapshot snap.yaml" in str(caught.value)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "port", ["9" * 5000, "8776.0", "1e999", '"8776"', "true", "null", "[8776]"]
)
def test_a_bad_port_skips_only_its_service(port: str) -> None:
    text = snapshot_text([manifest("cinder-api"), manifest("glance-api")])
    text = text.replace('"port": 80', f'"port": {port}', 1)
    source = SnapshotSource.parse(text, "snap.json")
    assert [s.name for s in source.services] == ["glance-api"]
    (problem,) = source.problems
    assert problem.ref == "openstack/cinder-api"
    assert "port" in problem.reason and len(problem.reason) < 200


def test_missing_namespaces_are_those_without_any_item() -> None:
    text = snapshot_text([manifest("cinder-api"), manifest("x\n", namespace="broken")])
    listing = SnapshotSource.parse(text, "s").list_services(["openstack", "broken", "gone"])
    assert listing.missing_namespaces == ("gone",)
    assert [s.name for s in listing.services] == ["cinder-api"]


def test_an_unreadable_public_service_is_an_error_not_absent(tmp_path: Path) -> None:
    item = manifest("public-openstack", type="LoadBalancer")
    item["status"] = {"loadBalancer": {"ingress": [{"ip": "::ffff:192.0.2.10"}]}}
    source = SnapshotSource.parse(snapshot_text([item]), "s")
    with pytest.raises(SourceError, match=r"write the IPv4 address 192\.0\.2\.10"):
        source.get_service("openstack", "public-openstack")
    assert source.get_service("openstack", "nope") is None
