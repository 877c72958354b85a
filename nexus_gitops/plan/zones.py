"""Which names each DNS zone publishes, and where they point."""

from __future__ import annotations

from collections.abc import Iterable

from nexus_gitops.config import Config
from nexus_gitops.model import Record, Route, RouteKind, Zone
from nexus_gitops.validate.names import subdomain_of

NAMESERVER_LABEL = "ns"


def zone_origins(config: Config) -> tuple[str, ...]:
    """``<ns>.svc.<cluster_domain>`` for each configured namespace, and the public domain."""
    cluster = config.routing.cluster_domain
    origins = [f"{ns}.svc.{cluster}" for ns in config.discovery.namespaces]
    if config.routing.public_domain:
        origins.append(config.routing.public_domain)
    return tuple(dict.fromkeys(origins))


def nameserver_names(config: Config) -> dict[str, str]:
    """The in-zone name server host of every zone, as claims the routes may not take."""
    return {
        f"host {NAMESERVER_LABEL}.{origin}": f"the name server of zone {origin}"
        for origin in zone_origins(config)
    }


def published_names(routes: Iterable[Route], config: Config) -> list[str]:
    """Fully qualified names clients will use: the shared path host and each route's DNS names."""
    routes = list(routes)
    names = [name for route in routes for name in route.dns_names]
    if any(route.kind is RouteKind.PATH for route in routes):
        names.append(config.path_host())
    return sorted(set(names))


def plan_zones(
    routes: Iterable[Route], address: str, config: Config
) -> tuple[tuple[Zone, ...], tuple[str, ...]]:
    """Zones with their records (serial still 0), and the names that fall in no zone."""
    origins = zone_origins(config)
    by_zone: dict[str, list[Record]] = {origin: [] for origin in origins}
    unpublished: list[str] = []
    for name in published_names(routes, config):
        matching = [o for o in origins if subdomain_of(name, o)]
        if not matching:
            unpublished.append(name)
            continue
        by_zone[max(matching, key=len)].append(Record(name, address))
    ns_address = config.dns.loadbalancer_ip or address
    zones = tuple(
        Zone(
            origin=origin,
            nameserver=f"{NAMESERVER_LABEL}.{origin}",
            nameserver_address=ns_address,
            records=tuple(sorted(records, key=lambda r: r.name)),
            ttl=config.dns.ttl,
        )
        for origin, records in sorted(by_zone.items())
    )
    return zones, tuple(unpublished)
