"""The pure planners, each as a table of named cases."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from nexus_gitops.config import Config, Policy
from nexus_gitops.errors import ConfigError, OwnershipError
from nexus_gitops.model import (
    Api,
    BackendProtocol,
    Claim,
    CommittedState,
    HostRoute,
    PathRoute,
    Record,
    Route,
    Trust,
    Tuning,
    Zone,
)
from nexus_gitops.plan import guards
from nexus_gitops.plan.changes import diff
from nexus_gitops.plan.files import Action, file_owner, marker, plan_files
from nexus_gitops.plan.policy import POLICIES
from nexus_gitops.plan.routes import plan_routes
from nexus_gitops.plan.serials import assign_serials, committed_serial, next_serial
from nexus_gitops.plan.zones import plan_zones
from nexus_gitops.render import render_zone
from tests.conftest import config

KEYSTONE = Api("openstack", "keystone-api", 5000, "identity", "keystone", "identity")
CINDER = Api("openstack", "cinder-api", 8776, "block-storage", "cinder", "volumev3")
NOVNC = Api("openstack", "nova-novncproxy", 6080, "novncproxy", "novncproxy", "novncproxy")
NEUTRON_SERVER = Api("openstack", "neutron-server", 9696, "network", "neutron", "network")
NEUTRON_API = dataclasses.replace(NEUTRON_SERVER, service="neutron-api")
HORIZON_INT = Api("openstack", "horizon-int", 80, "dashboard", "horizon", "horizon")
HORIZON_API = dataclasses.replace(HORIZON_INT, service="horizon-api")
ANNOTATED = Trust.ANNOTATION
CONFIGURED: dict[str, Any] = {
    "name_trust": Trust.CONFIG,
    "prefix_trust": Trust.CONFIG,
    "hosts_trust": Trust.CONFIG,
}
"""A Service named under ``services:`` in the config holds every claim with the config's trust."""
PATH_HOST = "openstack.openstack.svc.cluster.local"


def _evil(**fields: Any) -> Api:
    """An untrusted Service (a recognised name, annotated by whoever created it)."""
    base = Api("openstack", "zun-api", 9517, "container", "zun", "container")
    return dataclasses.replace(base, **fields)


def _names(routes: tuple[Route, ...]) -> list[str]:
    return [r.name for r in routes]


def _committed(apis: list[Api], cfg: Config) -> CommittedState:
    """The state a previous run with these APIs would have committed."""
    return CommittedState(routes=plan_routes(apis, cfg).routes)


def test_path_style_one_route_per_api() -> None:
    planned = plan_routes([CINDER, KEYSTONE], config())
    assert not planned.skipped
    assert _names(planned.routes) == ["cinder-path", "keystone-path"]
    route = planned.routes[0]
    assert isinstance(route, PathRoute)
    assert (route.prefix, route.host, route.catch_all) == ("volumev3", PATH_HOST, True)


def test_host_style_openstack_helm_names() -> None:
    cfg = config(routing={"style": "host", "public_domain": "cloud.example.com"})
    [route] = plan_routes([KEYSTONE], cfg).routes
    assert isinstance(route, HostRoute)
    assert route.name == "keystone-host"
    assert route.hosts == (
        "keystone",
        "keystone.openstack",
        "keystone.openstack.svc.cluster.local",
        "identity.cloud.example.com",
    )
    assert route.dns_names == route.tls_hosts == route.hosts[2:]


def test_both_styles_never_share_a_route() -> None:
    routes = plan_routes([KEYSTONE], config(routing={"style": "both"})).routes
    assert [type(r) for r in routes] == [HostRoute, PathRoute]


def test_extra_hosts_get_a_host_route_in_path_style() -> None:
    api = dataclasses.replace(CINDER, extra_hosts=("volume.example.com",))
    routes = plan_routes([api], config()).routes
    assert [(r.name, getattr(r, "hosts", None)) for r in routes] == [
        ("cinder-host", ("volume.example.com",)),
        ("cinder-path", None),
    ]


def test_one_api_in_many_namespaces_is_routed_in_each() -> None:
    """One OpenStack per namespace: each gets its own names and its own shared path host."""
    region2 = dataclasses.replace(KEYSTONE, namespace="region2")
    cfg = config(discovery={"extra_namespaces": ["region2"]}, routing={"style": "both"})
    planned = plan_routes([KEYSTONE, region2], cfg)
    assert not planned.skipped
    by_ns = {(r.namespace, r.kind): r for r in planned.routes}
    path2 = by_ns[("region2", "path")]
    assert isinstance(path2, PathRoute)
    assert (path2.host, path2.catch_all) == ("openstack.region2.svc.cluster.local", False)
    host2 = by_ns[("region2", "host")]
    assert isinstance(host2, HostRoute)
    assert host2.hosts == ("keystone.region2", "keystone.region2.svc.cluster.local")


# name, style, committed APIs, APIs now, losers, fragment of the first loser's reason
CLAIMS: list[tuple[str, str, list[Api], list[Api], list[str], str]] = [
    (
        "annotated host cannot take the shared path host (hijack of every path route)",
        "path",
        [],
        [KEYSTONE, _evil(extra_hosts=(PATH_HOST,), hosts_trust=ANNOTATED)],
        ["openstack/zun-api"],
        f"host {PATH_HOST} is reserved: it is the shared path host of namespace openstack",
    ),
    (
        "annotated host cannot take the shared path host in both style",
        "both",
        [],
        [KEYSTONE, _evil(extra_hosts=(PATH_HOST,), hosts_trust=ANNOTATED)],
        ["openstack/zun-api"],
        "shared path host",
    ),
    (
        "annotated host cannot take keystone's name in path style",
        "path",
        [],
        [
            KEYSTONE,
            _evil(extra_hosts=("keystone.openstack.svc.cluster.local",), hosts_trust=ANNOTATED),
        ],
        ["openstack/zun-api"],
        "host keystone.openstack.svc.cluster.local is already taken by openstack/keystone-api",
    ),
    (
        "annotated host cannot take keystone's short name in host style",
        "host",
        [],
        [KEYSTONE, _evil(extra_hosts=("keystone.openstack",), hosts_trust=ANNOTATED)],
        ["openstack/zun-api"],
        "host keystone.openstack is already taken by openstack/keystone-api",
    ),
    (
        "annotation cannot take keystone's prefix",
        "path",
        [],
        [KEYSTONE, _evil(prefix="identity", prefix_trust=ANNOTATED)],
        ["openstack/zun-api"],
        "path /identity on",
    ),
    (
        "squat: neutron-api cannot take /network from the committed neutron-server",
        "path",
        [NEUTRON_SERVER],
        [NEUTRON_API, NEUTRON_SERVER],
        ["openstack/neutron-api"],
        "held by openstack/neutron-server, which has it committed",
    ),
    (
        "squat: horizon-api cannot take /horizon from the committed horizon-int",
        "path",
        [HORIZON_INT],
        [HORIZON_API, HORIZON_INT],
        ["openstack/horizon-api"],
        "held by openstack/horizon-int",
    ),
    (
        "squat in host style: the committed Service keeps its names",
        "host",
        [NEUTRON_SERVER],
        [NEUTRON_API, NEUTRON_SERVER],
        ["openstack/neutron-api"],
        "held by openstack/neutron-server",
    ),
    (
        "no incumbent: two recognised candidates are an ambiguity, not alphabetical order",
        "path",
        [],
        [NEUTRON_API, NEUTRON_SERVER],
        ["openstack/neutron-api", "openstack/neutron-server"],
        "claimed by openstack/neutron-api and openstack/neutron-server alike",
    ),
    (
        "config moves a committed route",
        "path",
        [KEYSTONE],
        [KEYSTONE, dataclasses.replace(KEYSTONE, service="keystone-v2", **CONFIGURED)],
        ["openstack/keystone-api"],
        "already taken by openstack/keystone-v2",
    ),
    (
        "the incumbent's Service is gone: its hold keeps the claims from a newcomer",
        "path",
        [KEYSTONE],
        [dataclasses.replace(KEYSTONE, service="keystone-wsgi")],
        ["openstack/keystone-wsgi"],
        "held by openstack/keystone-api in the committed state, and that Service is gone",
    ),
    (
        "a committed annotated route keeps its claim against a later recognised API",
        "path",
        [_evil(prefix="share", prefix_trust=ANNOTATED)],
        [
            _evil(prefix="share", prefix_trust=ANNOTATED),
            Api("openstack", "manila-api", 8786, "shared-file-system", "manila", "share"),
        ],
        ["openstack/manila-api"],
        "held by openstack/zun-api",
    ),
    (
        "extra hosts on keystone do not weaken its prefix",
        "path",
        [],
        [
            dataclasses.replace(
                KEYSTONE, extra_hosts=("keystone.example.com",), hosts_trust=ANNOTATED
            ),
            Api("openstack", "aaa-api", 80, "x", "aaa", "identity", prefix_trust=ANNOTATED),
        ],
        ["openstack/aaa-api"],
        "is already taken by openstack/keystone-api",
    ),
    (
        "name server names are reserved",
        "host",
        [],
        [
            dataclasses.replace(
                CINDER, extra_hosts=("ns.openstack.svc.cluster.local",), hosts_trust=ANNOTATED
            )
        ],
        ["openstack/cinder-api"],
        "the name server of zone openstack.svc.cluster.local",
    ),
]


@pytest.mark.parametrize(
    ("style", "before", "now", "losers", "reason"),
    [c[1:] for c in CLAIMS],
    ids=[c[0] for c in CLAIMS],
)
def test_claims(
    style: str, before: list[Api], now: list[Api], losers: list[str], reason: str
) -> None:
    cfg = config(
        routing={"style": style, "public_domain": "cloud.example.com"},
        discovery={"extra_namespaces": ["aaa"]},
    )
    planned = plan_routes(now, cfg, _committed(before, cfg))
    assert [s.ref for s in planned.skipped] == losers
    assert all(s.problem for s in planned.skipped)
    assert reason in planned.skipped[0].reason
    assert not {r.backend.ref for r in planned.routes} & set(losers)


def test_a_hold_lasts_while_it_is_contested_and_is_released_by_allow_takeover() -> None:
    cfg = config()
    committed = _committed([KEYSTONE], cfg)
    newcomer = dataclasses.replace(KEYSTONE, service="keystone-wsgi")
    first = plan_routes([newcomer], cfg, committed)
    assert not first.routes and first.holds
    # The next run reads the holds back: still refused.
    second = plan_routes([newcomer], cfg, CommittedState(holds=first.holds))
    assert not second.routes and second.holds == first.holds
    released = plan_routes([newcomer], cfg, CommittedState(holds=first.holds), allow_takeover=True)
    assert [r.backend.ref for r in released.routes] == ["openstack/keystone-wsgi"]
    assert not released.holds


def test_an_uncontested_hold_is_dropped() -> None:
    cfg = config()
    planned = plan_routes([CINDER], cfg, _committed([KEYSTONE, CINDER], cfg))
    assert planned.holds == () and _names(planned.routes) == ["cinder-path"]


def test_an_incumbent_refused_a_new_claim_keeps_its_committed_route() -> None:
    """An annotation added to Keystone that collides must not take Keystone off the air."""
    cfg = config()
    committed = _committed([KEYSTONE, CINDER], cfg)
    cinder = dataclasses.replace(CINDER, extra_hosts=("api.example.com",), hosts_trust=Trust.CONFIG)
    keystone = dataclasses.replace(
        KEYSTONE, extra_hosts=("api.example.com",), hosts_trust=ANNOTATED
    )
    planned = plan_routes([keystone, cinder], cfg, committed)
    assert [s.ref for s in planned.skipped] == ["openstack/keystone-api"]
    assert "committed routes are kept" in planned.skipped[0].reason
    assert PathRoute in {type(r) for r in planned.routes if r.backend.service == "keystone-api"}


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
    planned = plan_routes([glance, glance_v2, cinder], config())
    assert [(s.ref, s.reason) for s in planned.skipped] == [
        ("openstack/glance-api", "host volume.example.com is already taken by openstack/cinder-api")
    ]
    assert {(r.backend.service, r.kind) for r in planned.routes} == {
        ("cinder-api", "path"),
        ("cinder-api", "host"),
        ("glance-v2", "path"),
    }


def test_path_host_equal_to_a_name_server_is_a_config_error() -> None:
    cfg = config(routing={"path_host": "ns.openstack.svc.cluster.local"})
    with pytest.raises(ConfigError, match="name server"):
        plan_routes([KEYSTONE], cfg)


TUNING = [
    ("uploads unlimited and streamed", CINDER, {}, Tuning(body_limit=0, request_buffering=False)),
    ("console timeouts", NOVNC, {}, Tuning(read_timeout=3600, send_timeout=3600)),
    ("nothing for identity", KEYSTONE, {}, Tuning()),
    (
        "https backend",
        dataclasses.replace(KEYSTONE, backend_https=True),
        {},
        Tuning(backend_protocol=BackendProtocol.HTTPS),
    ),
    (
        "type layer beats the global one, null removes a default",
        CINDER,
        {
            "tuning": {"body_limit": "1m", "rate_limit": 50},
            "service_types": {"block-storage": {"body_limit": "20g", "request_buffering": None}},
        },
        Tuning(body_limit=20 * 1024**3, rate_limit=50),
    ),
]


@pytest.mark.parametrize(
    ("api", "routing", "expected"), [c[1:] for c in TUNING], ids=[c[0] for c in TUNING]
)
def test_tuning(api: Api, routing: dict[str, object], expected: Tuning) -> None:
    [route] = plan_routes([api], config(routing=routing)).routes
    assert route.tuning == expected


def test_zones_publish_full_names_only() -> None:
    cfg = config(
        routing={"style": "both", "public_domain": "cloud.example.com"},
        dns={"loadbalancer_ip": "192.0.2.53"},
    )
    routes = plan_routes([KEYSTONE], cfg).routes
    zones, unpublished = plan_zones(routes, "192.0.2.10", cfg)
    assert [z.origin for z in zones] == ["cloud.example.com", "openstack.svc.cluster.local"]
    assert [r.name for r in zones[0].records] == ["identity.cloud.example.com"]
    assert [r.name for r in zones[1].records] == [
        "keystone.openstack.svc.cluster.local",
        PATH_HOST,
    ]
    assert zones[1].nameserver_address == "192.0.2.53"
    assert unpublished == ()


def test_names_outside_every_zone_are_reported() -> None:
    cfg = config(routing={"path_host": "api.example.org"})
    routes = plan_routes([KEYSTONE], cfg).routes
    zones, unpublished = plan_zones(routes, "192.0.2.10", cfg)
    assert unpublished == ("api.example.org",)
    assert zones[0].records == ()


def test_the_longest_zone_wins() -> None:
    cfg = config(routing={"style": "host", "public_domain": "svc.cluster.local"})
    routes = plan_routes([KEYSTONE], cfg).routes
    zones, _ = plan_zones(routes, "192.0.2.10", cfg)
    by_origin = {z.origin: [r.name for r in z.records] for z in zones}
    assert by_origin["openstack.svc.cluster.local"] == ["keystone.openstack.svc.cluster.local"]


def test_ipv6_address_gives_aaaa() -> None:
    routes = plan_routes([KEYSTONE], config()).routes
    zones, _ = plan_zones(routes, "2001:db8::10", config())
    assert zones[0].records[0].rdtype == "AAAA"


ZONE = Zone(
    "openstack.svc.cluster.local",
    "ns.openstack.svc.cluster.local",
    "192.0.2.53",
    (Record(PATH_HOST, "192.0.2.10"),),
    300,
)
CHANGED = dataclasses.replace(ZONE, records=(Record(PATH_HOST, "192.0.2.11"),))
DAY = dt.date(2026, 11, 22)


def _zone_bytes(zone: Zone, serial: int) -> bytes:
    return render_zone(dataclasses.replace(zone, serial=serial), "nexus")


SERIALS = [
    ("first zone starts today at 00", None, ZONE, 2026112200),
    ("unchanged keeps its serial", _zone_bytes(ZONE, 2026112005), ZONE, 2026112005),
    ("changed later the same day counts up", _zone_bytes(ZONE, 2026112203), CHANGED, 2026112204),
    ("changed on a later day jumps to the day", _zone_bytes(ZONE, 2026111907), CHANGED, 2026112200),
    ("never decreases past 99 changes a day", _zone_bytes(ZONE, 2026112299), CHANGED, 2026112300),
    (
        "never decreases when the clock goes back",
        _zone_bytes(ZONE, 2026120101),
        CHANGED,
        2026120102,
    ),
    (
        "a TTL change is a change",
        _zone_bytes(ZONE, 2026112201),
        dataclasses.replace(ZONE, ttl=60),
        2026112202,
    ),
    (
        "a glue change is a change",
        _zone_bytes(ZONE, 2026112201),
        dataclasses.replace(ZONE, nameserver_address="192.0.2.54"),
        2026112202,
    ),
    ("an edited file is a change", _zone_bytes(ZONE, 2026112201) + b"; x\n", ZONE, 2026112202),
    ("an unreadable file starts today", b"garbage {", ZONE, 2026112200),
]


@pytest.mark.parametrize(
    ("before", "desired", "expected"), [c[1:] for c in SERIALS], ids=[c[0] for c in SERIALS]
)
def test_serials(before: bytes | None, desired: Zone, expected: int) -> None:
    committed = {} if before is None else {desired.filename: before}
    [zone] = assign_serials((desired,), committed, lambda z: render_zone(z, "nexus"), DAY)
    assert zone.serial == expected


def test_serial_read_from_the_soa_line() -> None:
    assert committed_serial(_zone_bytes(ZONE, 2026112207)) == 2026112207
    assert committed_serial(b"@\tIN\tSOA\tns. h. ( 99999999999 1 1 1 1 )") is None
    assert next_serial(None, DAY) == 2026112200


MANAGED = f"# {marker('nexus')}. Do not edit.\nold\n".encode()
LEGACY = b"# Managed by nexus-gitops. Do not edit.\nold\n"
OTHER = f"# {marker('clusters/prod')}. Do not edit.\nold\n".encode()


def test_plan_files_create_update_delete_keep() -> None:
    current = {
        "a.yaml": MANAGED,
        "b.yaml": MANAGED,
        "gone.yaml": MANAGED,
        "old.yaml": LEGACY,
        "mine.yaml": b"user file\n",
    }
    desired = {"a.yaml": MANAGED, "b.yaml": MANAGED + b"new\n", "c.yaml": MANAGED}
    plan = plan_files(current, desired, "nexus")
    assert [(c.path, c.action) for c in plan.changes] == [
        ("b.yaml", Action.UPDATE),
        ("c.yaml", Action.CREATE),
        ("gone.yaml", Action.DELETE),
        ("old.yaml", Action.DELETE),
    ]


def test_plan_files_refuses_to_overwrite_unowned() -> None:
    with pytest.raises(OwnershipError, match=r"mine\.yaml"):
        plan_files({"mine.yaml": b"user file\n"}, {"mine.yaml": MANAGED}, "nexus")


def test_plan_files_refuses_another_owners_files() -> None:
    """--path clusters would otherwise delete clusters/prod's files as stale."""
    with pytest.raises(OwnershipError, match="owner clusters/prod"):
        plan_files({"prod/nexus/a.yaml": OTHER}, {"b.yaml": MANAGED}, "clusters")


def test_file_owner() -> None:
    assert file_owner(MANAGED) == "nexus"
    assert file_owner(LEGACY) == ""
    assert file_owner(b"x\n# Managed by nexus-gitops\n") is None


def test_plan_files_empty_when_equal() -> None:
    assert plan_files({"a": MANAGED}, {"a": MANAGED}, "nexus").empty


def _routes(*apis: Api) -> tuple[Route, ...]:
    return plan_routes(list(apis), config()).routes


def test_diff_names_takeovers_and_dns() -> None:
    before = _routes(KEYSTONE, CINDER)
    after = _routes(dataclasses.replace(KEYSTONE, service="keystone-v2"), NOVNC)
    plan = diff(
        before,
        after,
        [Record(PATH_HOST, "192.0.2.80")],
        [Record(PATH_HOST, "192.0.2.81"), Record("x.openstack.svc.cluster.local", "192.0.2.81")],
    )
    assert _names(plan.added) == ["novncproxy-path"]
    assert _names(plan.removed) == ["cinder-path"]
    assert [(a.backend.service, b.backend.service) for a, b in plan.changed] == [
        ("keystone-api", "keystone-v2")
    ]
    assert {(str(t.claim), t.before, t.after) for t in plan.takeovers} == {
        (f"path /identity on {PATH_HOST}", "openstack/keystone-api", "openstack/keystone-v2"),
        ("path /identity on any host", "openstack/keystone-api", "openstack/keystone-v2"),
    }
    assert [(r.name, r.before, r.after) for r in plan.records] == [
        (PATH_HOST, "192.0.2.80", "192.0.2.81"),
        ("x.openstack.svc.cluster.local", None, "192.0.2.81"),
    ]


KEPT, NEW = _routes(KEYSTONE, CINDER), _routes(dataclasses.replace(KEYSTONE, port=5001), NOVNC)
POLICY_CASES = [
    ("sync makes the desired routes", Policy.SYNC, ["keystone-path:5001", "novncproxy-path:6080"]),
    (
        "upsert-only keeps what would be deleted",
        Policy.UPSERT_ONLY,
        ["cinder-path:8776", "keystone-path:5001", "novncproxy-path:6080"],
    ),
    (
        "create-only changes nothing committed",
        Policy.CREATE_ONLY,
        ["cinder-path:8776", "keystone-path:5000", "novncproxy-path:6080"],
    ),
]


@pytest.mark.parametrize(
    ("policy", "expected"), [c[1:] for c in POLICY_CASES], ids=[c[0] for c in POLICY_CASES]
)
def test_policies(policy: Policy, expected: list[str]) -> None:
    routes = POLICIES[policy].apply(KEPT, NEW)
    assert sorted(f"{r.name}:{r.backend.port}" for r in routes) == expected


def test_upsert_only_never_keeps_a_route_whose_claim_moved() -> None:
    moved = _routes(dataclasses.replace(CINDER, service="cinder-v2", route_name="cinder2"))
    routes = POLICIES[Policy.UPSERT_ONLY].apply(_routes(CINDER), moved)
    assert [r.backend.service for r in routes] == ["cinder-v2"]


GUARDS = [
    ("nothing removed", 13, 0, 13, [], 50, []),
    ("half removed is allowed at 50%", 10, 5, 5, [], 50, []),
    ("77% loss", 13, 10, 3, [], 50, ["10 of 13 committed routes would be removed (76%"]),
    ("empty discovery", 13, 13, 0, [], 50, ["no OpenStack API", "13 of 13"]),
    (
        "misspelt namespace",
        13,
        13,
        0,
        ["openstak"],
        50,
        ["namespace openstak", "no OpenStack", "13 of 13"],
    ),
    ("first run with nothing found", 0, 0, 0, [], 50, ["no OpenStack API"]),
    ("a stricter limit", 10, 2, 8, [], 10, ["2 of 10"]),
]


@pytest.mark.parametrize(
    ("committed", "removed", "found", "missing", "limit", "expected"),
    [c[1:] for c in GUARDS],
    ids=[c[0] for c in GUARDS],
)
def test_guards(
    committed: int, removed: int, found: int, missing: list[str], limit: int, expected: list[str]
) -> None:
    routes = _routes(KEYSTONE)
    plan = dataclasses.replace(diff((), (), (), ()), removed=routes * removed)
    refusals = guards.check(plan, committed, found, ("openstack",), missing, limit)
    assert len(refusals) == len(expected)
    for refusal, fragment in zip(refusals, expected, strict=True):
        assert fragment in refusal.reason


def test_claims_are_the_same_in_every_style() -> None:
    """What an API holds does not depend on what the style renders."""
    from nexus_gitops.plan.routes import claims_of

    styles = [config(routing={"style": s}) for s in ("path", "host", "both")]
    assert len({frozenset(claims_of(KEYSTONE, c)) for c in styles}) == 1
    assert Claim("host", "", "keystone.openstack.svc.cluster.local") in claims_of(
        KEYSTONE, styles[0]
    )
