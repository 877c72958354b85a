"""The pure planners, each as a table of named cases."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from nexus_gitops.errors import OwnershipError
from nexus_gitops.model import Api, Record, Route, RouteKind, Trust, Zone
from nexus_gitops.plan.files import Action, plan_files
from nexus_gitops.plan.routes import plan_routes
from nexus_gitops.plan.serials import next_serial, zone_from_text
from nexus_gitops.plan.zones import nameserver_names, plan_zones
from nexus_gitops.render.dns import zone_file
from tests.conftest import config

KEYSTONE = Api("openstack", "keystone-api", 5000, "identity", "keystone", "identity")
CINDER = Api("openstack", "cinder-api", 8776, "block-storage", "cinder", "volumev3")
NOVNC = Api("openstack", "nova-novncproxy", 6080, "novncproxy", "novncproxy", "novncproxy")
PREFIX = "nginx.ingress.kubernetes.io/"
ANNOTATED = Trust.ANNOTATION


def _names(routes: tuple[Route, ...]) -> list[str]:
    return [r.name for r in routes]


def test_path_style_one_route_per_api() -> None:
    routes, skipped = plan_routes([CINDER, KEYSTONE], config())
    assert not skipped
    assert _names(routes) == ["cinder-path", "keystone-path"]
    assert routes[0].kind is RouteKind.PATH and routes[0].prefix == "volumev3"
    assert routes[0].hosts == ()


def test_host_style_openstack_helm_names() -> None:
    routes, _ = plan_routes(
        [KEYSTONE], config(routing={"style": "host", "public_domain": "cloud.example.com"})
    )
    assert _names(routes) == ["keystone-host"]
    assert routes[0].hosts == (
        "keystone",
        "keystone.openstack",
        "keystone.openstack.svc.cluster.local",
        "identity.cloud.example.com",
    )
    assert routes[0].prefix is None


def test_both_styles_never_share_an_ingress() -> None:
    routes, _ = plan_routes([KEYSTONE], config(routing={"style": "both"}))
    assert [(r.kind, r.prefix is None, bool(r.hosts)) for r in routes] == [
        (RouteKind.HOST, True, True),
        (RouteKind.PATH, False, False),
    ]


def test_extra_hosts_get_a_host_route_in_path_style() -> None:
    api = dataclasses.replace(CINDER, extra_hosts=("volume.example.com",))
    routes, _ = plan_routes([api], config())
    assert [(r.name, r.hosts) for r in routes] == [
        ("cinder-host", ("volume.example.com",)),
        ("cinder-path", ()),
    ]


CONFLICTS = [
    (
        "annotation cannot take keystone's prefix",
        [KEYSTONE, Api("openstack", "evil", 80, "x", "evil", "identity", prefix_trust=ANNOTATED)],
        "openstack/evil",
        "path /identity is already taken by openstack/keystone-api",
    ),
    (
        "annotation cannot take a host",
        [
            KEYSTONE,
            Api(
                "openstack",
                "evil",
                80,
                "x",
                "evil",
                "evil",
                extra_hosts=("openstack.openstack.svc.cluster.local", "keystone.openstack"),
                hosts_trust=ANNOTATED,
            ),
        ],
        "openstack/evil",
        None,
    ),
    (
        "config outranks recognition",
        [
            KEYSTONE,
            dataclasses.replace(KEYSTONE, service="keystone-v2", prefix_trust=Trust.CONFIG),
        ],
        "openstack/keystone-api",
        "already taken by openstack/keystone-v2",
    ),
    (
        "same trust: first by namespace/name wins",
        [
            dataclasses.replace(KEYSTONE, namespace="zeta"),
            dataclasses.replace(KEYSTONE, namespace="alpha"),
        ],
        "zeta/keystone-api",
        "already taken by alpha/keystone-api",
    ),
    (
        "extra hosts on keystone do not weaken its prefix",
        [
            dataclasses.replace(
                KEYSTONE, extra_hosts=("keystone.example.com",), hosts_trust=ANNOTATED
            ),
            Api("aaa", "aaa-api", 80, "x", "aaa", "identity", prefix_trust=ANNOTATED),
        ],
        "aaa/aaa-api",
        "path /identity is already taken by openstack/keystone-api",
    ),
    (
        "an annotated service type weakens the name, not a configured prefix",
        [
            dataclasses.replace(KEYSTONE, name_trust=ANNOTATED, prefix_trust=Trust.CONFIG),
            Api("aaa", "aaa-api", 80, "x", "aaa", "identity"),
        ],
        "aaa/aaa-api",
        "path /identity is already taken by openstack/keystone-api",
    ),
]


@pytest.mark.parametrize(
    ("apis", "loser", "reason"), [c[1:] for c in CONFLICTS], ids=[c[0] for c in CONFLICTS]
)
def test_conflicts(apis: list[Api], loser: str, reason: str | None) -> None:
    cfg = config(routing={"style": "both"}) if reason is None else config()
    routes, skipped = plan_routes(apis, cfg)
    assert [s.ref for s in skipped] == [loser]
    assert skipped[0].problem
    if reason:
        assert reason in skipped[0].reason
    assert all(f"{r.namespace}/{r.service}" != loser for r in routes)


def test_only_a_routed_api_can_beat_another() -> None:
    """glance-v2 loses /image to glance-api but beats glance-api's annotated host; glance-api
    then loses its host to cinder. glance-v2, beaten only by a skipped API, keeps /image."""
    glance = Api(
        "openstack",
        "glance-api",
        9292,
        "image",
        "glance",
        "image",
        extra_hosts=("volume.example.com",),
        hosts_trust=ANNOTATED,
    )
    glance_v2 = Api(
        "openstack", "glance-v2", 9292, "image", "glance2", "image", prefix_trust=ANNOTATED
    )
    cinder = dataclasses.replace(
        CINDER, extra_hosts=("volume.example.com",), hosts_trust=Trust.CONFIG
    )
    routes, skipped = plan_routes([glance, glance_v2, cinder], config())
    assert [(s.ref, s.reason) for s in skipped] == [
        ("openstack/glance-api", "host volume.example.com is already taken by openstack/cinder-api")
    ]
    assert {(r.service, r.kind) for r in routes} == {
        ("cinder-api", RouteKind.PATH),
        ("cinder-api", RouteKind.HOST),
        ("glance-v2", RouteKind.PATH),
    }


def test_nameserver_name_is_reserved() -> None:
    cfg = config(routing={"style": "host"})
    api = dataclasses.replace(
        CINDER, extra_hosts=("ns.openstack.svc.cluster.local",), hosts_trust=ANNOTATED
    )
    routes, skipped = plan_routes([api], cfg, nameserver_names(cfg))
    assert not routes and "name server" in skipped[0].reason


TUNING = [
    (
        "uploads unlimited and streamed",
        CINDER,
        {},
        {PREFIX + "proxy-body-size": "0", PREFIX + "proxy-request-buffering": "off"},
    ),
    (
        "console timeouts",
        NOVNC,
        {},
        {PREFIX + "proxy-read-timeout": "3600", PREFIX + "proxy-send-timeout": "3600"},
    ),
    ("nothing for identity", KEYSTONE, {}, {}),
    (
        "https backend",
        dataclasses.replace(KEYSTONE, backend_https=True),
        {},
        {PREFIX + "backend-protocol": "HTTPS"},
    ),
    (
        "type override beats global, null removes",
        CINDER,
        {
            "annotations": {"proxy-body-size": "1m", "limit-rps": "50"},
            "service_types": {
                "block-storage": {"proxy-body-size": "20g", "proxy-request-buffering": None}
            },
        },
        {PREFIX + "proxy-body-size": "20g", PREFIX + "limit-rps": "50"},
    ),
]


@pytest.mark.parametrize(
    ("api", "routing", "expected"), [c[1:] for c in TUNING], ids=[c[0] for c in TUNING]
)
def test_tuning(api: Api, routing: dict[str, object], expected: dict[str, str]) -> None:
    routes, _ = plan_routes([api], config(routing=routing))
    assert dict(routes[0].annotations) == expected


def test_zones_publish_full_names_only() -> None:
    cfg = config(
        routing={"style": "both", "public_domain": "cloud.example.com"},
        dns={"loadbalancer_ip": "192.0.2.53"},
    )
    routes, _ = plan_routes([KEYSTONE], cfg)
    zones, unpublished = plan_zones(routes, "192.0.2.10", cfg)
    assert [z.origin for z in zones] == ["cloud.example.com", "openstack.svc.cluster.local"]
    assert [r.name for r in zones[0].records] == ["identity.cloud.example.com"]
    assert [r.name for r in zones[1].records] == [
        "keystone.openstack.svc.cluster.local",
        "openstack.openstack.svc.cluster.local",
    ]
    assert zones[1].nameserver_address == "192.0.2.53"
    assert unpublished == ()


def test_names_outside_every_zone_are_reported() -> None:
    cfg = config(routing={"path_host": "api.example.org"})
    routes, _ = plan_routes([KEYSTONE], cfg)
    zones, unpublished = plan_zones(routes, "192.0.2.10", cfg)
    assert unpublished == ("api.example.org",)
    assert zones[0].records == ()


def test_ipv6_address_gives_aaaa() -> None:
    routes, _ = plan_routes([KEYSTONE], config())
    zones, _ = plan_zones(routes, "2001:db8::10", config())
    assert zones[0].records[0].rdtype == "AAAA"


ZONE = Zone(
    "openstack.svc.cluster.local",
    "ns.openstack.svc.cluster.local",
    "192.0.2.53",
    (Record("openstack.openstack.svc.cluster.local", "192.0.2.10"),),
    300,
)
CHANGED = dataclasses.replace(
    ZONE, records=(Record("openstack.openstack.svc.cluster.local", "192.0.2.11"),)
)
DAY = dt.date(2026, 11, 22)

SERIALS = [
    ("first zone starts today at 00", None, ZONE, DAY, 2026112200),
    (
        "unchanged keeps its serial",
        dataclasses.replace(ZONE, serial=2026112005),
        ZONE,
        DAY,
        2026112005,
    ),
    (
        "changed later the same day counts up",
        dataclasses.replace(ZONE, serial=2026112203),
        CHANGED,
        DAY,
        2026112204,
    ),
    (
        "changed on a later day jumps to the day",
        dataclasses.replace(ZONE, serial=2026111907),
        CHANGED,
        DAY,
        2026112200,
    ),
    (
        "never decreases past 99 changes a day",
        dataclasses.replace(ZONE, serial=2026112299),
        CHANGED,
        DAY,
        2026112300,
    ),
    (
        "never decreases when the clock goes back",
        dataclasses.replace(ZONE, serial=2026120101),
        CHANGED,
        DAY,
        2026120102,
    ),
    (
        "a TTL change is a change",
        dataclasses.replace(ZONE, serial=2026112201),
        dataclasses.replace(ZONE, ttl=60),
        DAY,
        2026112202,
    ),
]


@pytest.mark.parametrize(
    ("previous", "desired", "today", "expected"),
    [c[1:] for c in SERIALS],
    ids=[c[0] for c in SERIALS],
)
def test_next_serial(previous: Zone | None, desired: Zone, today: dt.date, expected: int) -> None:
    assert next_serial(previous, desired, today) == expected


def test_zone_reads_back_exactly() -> None:
    zone = dataclasses.replace(ZONE, serial=2026112207)
    assert zone_from_text(zone_file(zone).decode(), zone.origin) == zone


@pytest.mark.parametrize("text", ["", "garbage {", "$ORIGIN other.example.\n@ IN A 1.2.3.4\n"])
def test_unreadable_previous_zone_is_none(text: str) -> None:
    assert zone_from_text(text, ZONE.origin) is None


MANAGED = b"# Managed by nexus-gitops. Do not edit.\nold\n"


def test_plan_files_create_update_delete_keep() -> None:
    current = {
        "a.yaml": MANAGED,
        "b.yaml": MANAGED,
        "gone.yaml": MANAGED,
        "mine.yaml": b"user file\n",
    }
    desired = {"a.yaml": MANAGED, "b.yaml": MANAGED + b"new\n", "c.yaml": MANAGED}
    plan = plan_files(current, desired)
    assert [(c.path, c.action) for c in plan.changes] == [
        ("b.yaml", Action.UPDATE),
        ("c.yaml", Action.CREATE),
        ("gone.yaml", Action.DELETE),
    ]


def test_plan_files_refuses_to_overwrite_unowned() -> None:
    with pytest.raises(OwnershipError, match=r"mine\.yaml"):
        plan_files({"mine.yaml": b"user file\n"}, {"mine.yaml": MANAGED})


def test_plan_files_empty_when_equal() -> None:
    assert plan_files({"a": MANAGED}, {"a": MANAGED}).empty
