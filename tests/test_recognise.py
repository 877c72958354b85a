"""Recognising OpenStack APIs among Services, as a table of named cases."""

from __future__ import annotations

from typing import Any

import pytest

from nexus_gitops.discover.manifest import service_from_manifest
from nexus_gitops.discover.recognise import recognise, recognise_service
from nexus_gitops.model import Api, Skip, Trust
from tests.conftest import config, manifest, service

DEFAULT = config()

# name, ports -> (service type, route name, prefix, port) or a fragment of the skip reason
RECOGNISED: list[tuple[str, str, list[tuple[str | None, int]], tuple[str, str, str, int]]] = [
    (
        "openstack-helm keystone",
        "keystone-api",
        [("ks-pub", 5000)],
        ("identity", "keystone", "identity", 5000),
    ),
    (
        "openstack-helm neutron",
        "neutron-server",
        [("q-api", 9696)],
        ("network", "neutron", "network", 9696),
    ),
    (
        "kolla-helm neutron",
        "neutron-api",
        [("http", 9696)],
        ("network", "neutron", "network", 9696),
    ),
    (
        "openstack-helm horizon",
        "horizon-int",
        [("web", 80)],
        ("dashboard", "horizon", "horizon", 80),
    ),
    ("kolla-helm horizon", "horizon-api", [("http", 80)], ("dashboard", "horizon", "horizon", 80)),
    (
        "kolla-helm novnc",
        "novncproxy-api",
        [("http", 6080)],
        ("novncproxy", "novncproxy", "novncproxy", 6080),
    ),
    (
        "openstack-helm novnc",
        "nova-novncproxy",
        [("n-novnc", 6080)],
        ("novncproxy", "novncproxy", "novncproxy", 6080),
    ),
    (
        "cinder is volumev3",
        "cinder-api",
        [("c-api", 8776)],
        ("block-storage", "cinder", "volumev3", 8776),
    ),
    (
        "heat cfn",
        "heat-cfn",
        [("h-cfn", 8000)],
        ("cloudformation", "cloudformation", "cloudformation", 8000),
    ),
    (
        "octavia by official type",
        "octavia-api",
        [("o-api", 9876)],
        ("load-balancer", "octavia", "load-balancer", 9876),
    ),
    (
        "API port chosen among several",
        "keystone-api",
        [("metrics", 9000), ("admin", 35357), ("ks-pub", 5000)],
        ("identity", "keystone", "identity", 5000),
    ),
    (
        "http-named port chosen",
        "glance-api",
        [("debug", 9999), ("http", 8080)],
        ("image", "glance", "image", 8080),
    ),
]


@pytest.mark.parametrize(
    ("name", "ports", "expected"),
    [case[1:] for case in RECOGNISED],
    ids=[case[0] for case in RECOGNISED],
)
def test_recognised(
    name: str, ports: list[tuple[str | None, int]], expected: tuple[str, str, str, int]
) -> None:
    outcome = recognise_service(service(name, ports=ports), DEFAULT)
    assert isinstance(outcome, Api), outcome
    assert (outcome.service_type, outcome.route_name, outcome.prefix, outcome.port) == expected


SKIPPED: list[tuple[str, dict[str, Any], str, bool]] = [
    ("database", manifest("mariadb", ports=[("mysql", 3306)]), "not an OpenStack API", False),
    (
        "queue",
        manifest("rabbitmq", ports=[("amqp", 5672), ("http", 15672)]),
        "not an OpenStack",
        False,
    ),
    ("cache", manifest("memcached", ports=[("memcache", 11211)]), "not an OpenStack", False),
    ("queue named after a project", manifest("rabbitmq-keystone"), "not an OpenStack", False),
    ("public alias Service", manifest("keystone"), "no role suffix", False),
    ("non-API role", manifest("designate-mdns", ports=[("d-mdns", 5354)]), "role 'mdns'", False),
    ("headless", manifest("keystone-api", clusterIP="None"), "headless", False),
    (
        "ExternalName",
        manifest("keystone-api", type="ExternalName", externalName="x.example.com"),
        "ExternalName",
        False,
    ),
    ("other namespace", manifest("keystone-api", namespace="kube-system"), "outside", False),
    (
        "metadata hidden by default",
        manifest("nova-metadata", ports=[("n-meta", 8775)]),
        "metadata API",
        False,
    ),
    (
        "UDP only",
        manifest("keystone-api", ports=[])
        | {"spec": {"ports": [{"port": 5000, "protocol": "UDP"}]}},
        "no TCP port",
        True,
    ),
    (
        "grpc appProtocol",
        manifest("keystone-api")
        | {"spec": {"ports": [{"port": 5000, "protocol": "TCP", "appProtocol": "grpc"}]}},
        "no TCP port",
        True,
    ),
    (
        "ambiguous ports",
        manifest("glance-api", ports=[("a", 1), ("b", 2)]),
        "several HTTP ports",
        True,
    ),
    (
        "expose without a type",
        manifest("my-thing", annotations={"nexus-gitops.io/expose": "true"}),
        "no service type",
        True,
    ),
    (
        "unknown annotation",
        manifest("keystone-api", annotations={"nexus-gitops.io/hots": "a"}),
        "unknown annotation",
        True,
    ),
    (
        "hostile path",
        manifest("keystone-api", annotations={"nexus-gitops.io/path": "a;b"}),
        "path prefix",
        True,
    ),
    (
        "hostile hosts",
        manifest(
            "keystone-api",
            annotations={"nexus-gitops.io/hosts": "ok.example.com,evil.com\n$INCLUDE /etc/passwd"},
        ),
        "hosts",
        True,
    ),
    (
        "bad expose",
        manifest("keystone-api", annotations={"nexus-gitops.io/expose": "yes"}),
        "expose",
        True,
    ),
    (
        "annotated port missing",
        manifest("keystone-api", annotations={"nexus-gitops.io/port": "81"}),
        "port 81",
        True,
    ),
]


@pytest.mark.parametrize(
    ("item", "reason", "problem"),
    [case[1:] for case in SKIPPED],
    ids=[case[0] for case in SKIPPED],
)
def test_skipped(item: dict[str, Any], reason: str, problem: bool) -> None:
    outcome = recognise_service(service_from_manifest(item), DEFAULT)
    assert isinstance(outcome, Skip), outcome
    assert reason in outcome.reason
    assert outcome.problem is problem
    assert "\n" not in outcome.reason


def test_annotations_override_and_lower_trust() -> None:
    annotated = service(
        "cinder-api",
        ports=[("c-api", 8776)],
        annotations={
            "nexus-gitops.io/path": "block-storage",
            "nexus-gitops.io/hosts": "volume.example.com, Block.Example.com",
        },
    )
    api = recognise_service(annotated, DEFAULT)
    assert isinstance(api, Api)
    assert api.prefix == "block-storage"
    assert api.extra_hosts == ("block.example.com", "volume.example.com")
    assert (api.name_trust, api.prefix_trust, api.hosts_trust) == (
        Trust.RECOGNISED,
        Trust.ANNOTATION,
        Trust.ANNOTATION,
    )


def test_annotated_hosts_leave_the_recognised_prefix_trusted() -> None:
    item = service(
        "keystone-api",
        ports=[("ks-pub", 5000)],
        annotations={
            "nexus-gitops.io/hosts": "keystone.example.com",
            "nexus-gitops.io/port": "5000",
        },
    )
    api = recognise_service(item, DEFAULT)
    assert isinstance(api, Api)
    assert (api.name_trust, api.prefix_trust, api.hosts_trust) == (
        Trust.RECOGNISED,
        Trust.RECOGNISED,
        Trust.ANNOTATION,
    )


@pytest.mark.parametrize("port", ["²", "٣", "5000x", "-1", "65536"])
def test_odd_port_annotations_skip_instead_of_crashing(port: str) -> None:
    item = service(
        "keystone-api", ports=[("ks-pub", 5000)], annotations={"nexus-gitops.io/port": port}
    )
    outcome = recognise_service(item, DEFAULT)
    assert isinstance(outcome, Skip) and outcome.problem


def test_annotation_exposes_an_unrecognised_service() -> None:
    item = service(
        "billing",
        ports=[("http", 8080)],
        annotations={"nexus-gitops.io/expose": "true", "nexus-gitops.io/service-type": "rating"},
    )
    api = recognise_service(item, DEFAULT)
    assert isinstance(api, Api)
    assert (api.service_type, api.route_name, api.prefix) == ("rating", "cloudkitty", "rating")


def test_service_type_alias_is_normalised() -> None:
    item = service(
        "storage-api",
        ports=[("http", 8776)],
        annotations={"nexus-gitops.io/expose": "true", "nexus-gitops.io/service-type": "volumev3"},
    )
    api = recognise_service(item, DEFAULT)
    assert isinstance(api, Api)
    assert (api.service_type, api.prefix) == ("block-storage", "volumev3")


def test_config_override_wins_over_annotation() -> None:
    cfg = config(services={"cinder-api": {"path": "volume", "expose": True}})
    item = service(
        "cinder-api",
        ports=[("c-api", 8776)],
        annotations={"nexus-gitops.io/path": "evil", "nexus-gitops.io/expose": "false"},
    )
    api = recognise_service(item, cfg)
    assert isinstance(api, Api)
    assert api.prefix == "volume"
    assert api.prefix_trust is Trust.CONFIG


def test_config_can_hide_a_recognised_api() -> None:
    cfg = config(services={"openstack/heat-cfn": {"expose": False}})
    assert isinstance(recognise_service(service("heat-cfn", ports=[("h", 8000)]), cfg), Skip)


def test_expose_metadata_on_request() -> None:
    item = service(
        "nova-metadata", ports=[("n-meta", 8775)], annotations={"nexus-gitops.io/expose": "true"}
    )
    api = recognise_service(item, DEFAULT)
    assert isinstance(api, Api) and api.service_type == "compute-metadata"


def test_https_backend_detected() -> None:
    api = recognise_service(service("keystone-api", ports=[("https", 5000)]), DEFAULT)
    assert isinstance(api, Api) and api.backend_https


def test_results_sorted_whatever_the_input_order() -> None:
    items = [service(n, ports=[("http", 80)]) for n in ("placement-api", "cinder-api", "mariadb")]
    forward = recognise(items, DEFAULT)
    backward = recognise(list(reversed(items)), DEFAULT)
    assert forward == backward
    assert [a.service for a in forward.apis] == ["cinder-api", "placement-api"]
