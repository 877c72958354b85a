"""Which names each DNS zone publishes, and where they point."""

from __future__ import annotations

from collections.abc import Iterable

from nexus_gitops.config import Config
from nexus_gitops.model import Record, Route, Zone

NAMESERVER_LABEL = "ns"


def zone_origins(config: Config) -> tuple[str, ...]:
    """``<ns>.svc.<cluster_domain>`` for each configured namespace, and the public domain."""
    cluster = config.routing.cluster_domain
    origins = [f"{ns}.svc.{cluster}" for ns in config.discovery.namespaces]
    if config.routing.public_domain:
        origins.append(config.routing.public_domain)
    return tuple(dict.fromkeys(origins))


def nameserver_name(origin: str) -> str:
    """The in-zone name server host of a zone: reserved, no route may take it."""
    return f"{NAMESERVER_LABEL}.{origin}"


def published_names(routes: Iterable[Route]) -> list[str]:
    """Fully qualified names clients will use: every route's DNS names (the shared path hosts
    and the host routes' full names)."""
    return sorted({name for route in routes for name in route.dns_names})


def zone_of(name: str, origins: frozenset[str]) -> str | None:
    """The longest origin that ``name`` is in, found by walking its suffixes: linear in the
    number of names, whatever the number of zones."""
    labels = name.split(".")
    for start in range(len(labels)):
        candidate = ".".join(labels[start:])
        if candidate in origins:
            return candidate
    return None


def plan_zones(
    routes: Iterable[Route], address: str, config: Config
) -> tuple[tuple[Zone, ...], tuple[str, ...]]:
    """Zones with their records (serial still 0), and the names that fall in no zone."""
    origins = zone_origins(config)
    lookup = frozenset(origins)
    by_zone: dict[str, list[Record]] = {origin: [] for origin in origins}
    unpublished: list[str] = []
    for name in published_names(routes):
        origin = zone_of(name, lookup)
        if origin is None:
            unpublished.append(name)
        else:
            by_zone[origin].append(Record(name, address))
    ns_address = config.dns.loadbalancer_ip or address
    zones = tuple(
        Zone(
            origin=origin,
            nameserver=nameserver_name(origin),
            nameserver_address=ns_address,
            records=tuple(sorted(records, key=lambda r: r.name)),
            ttl=config.dns.ttl,
        )
        for origin, records in sorted(by_zone.items())
    )
    return zones, tuple(unpublished)
