"""Routes from recognised APIs: one Ingress per API and style, conflicts resolved by trust."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from nexus_gitops.config import Config, Style
from nexus_gitops.discover.service_types import CONSOLE_TYPES, UPLOAD_TYPES
from nexus_gitops.model import Api, Route, RouteKind, Skip, Trust
from nexus_gitops.validate.annotations import NGINX_PREFIX

UPLOAD_TUNING = {"proxy-body-size": "0", "proxy-request-buffering": "off"}
"""Image and volume uploads are gigabytes: no size limit, streamed instead of buffered to disk."""

CONSOLE_TUNING = {"proxy-read-timeout": "3600", "proxy-send-timeout": "3600"}
"""Console websockets sit idle between key strokes; nginx's 60 s default cuts them off."""


def builtin_tuning(service_type: str) -> dict[str, str]:
    """The annotations OpenStack needs by default for a service type (short names)."""
    if service_type in UPLOAD_TYPES:
        return dict(UPLOAD_TUNING)
    if service_type in CONSOLE_TYPES:
        return dict(CONSOLE_TUNING)
    return {}


def tuning(api: Api, config: Config) -> dict[str, str]:
    """Built-in defaults, then ``routing.annotations``, then ``routing.service_types``."""
    result = {NGINX_PREFIX + k: v for k, v in builtin_tuning(api.service_type).items()}
    if api.backend_https:
        result[NGINX_PREFIX + "backend-protocol"] = "HTTPS"
    result.update(config.routing.annotations)
    for key, value in config.routing.service_types.get(api.service_type, {}).items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return dict(sorted(result.items()))


def short_forms(api: Api) -> tuple[str, str]:
    """openstack-helm's in-cluster host names (``keystone``, ``keystone.openstack``): Ingress
    hosts, never DNS names."""
    return api.route_name, f"{api.route_name}.{api.namespace}"


def host_names(api: Api, config: Config) -> tuple[str, ...]:
    """The host rules of an API: openstack-helm's names and its public name in the host styles,
    and its extra hosts in every style."""
    generated: list[str] = []
    if config.routing.style in (Style.HOST, Style.BOTH):
        generated = [
            *short_forms(api),
            f"{api.route_name}.{api.namespace}.svc.{config.routing.cluster_domain}",
        ]
        if config.routing.public_domain:
            generated.append(f"{api.service_type}.{config.routing.public_domain}")
    return tuple(dict.fromkeys([*generated, *api.extra_hosts]))


def _claims(api: Api, config: Config) -> dict[str, Trust]:
    """Everything an API's routes would take, each with the trust of where it came from."""
    claims = {f"route name {api.route_name!r}": api.name_trust}
    if config.routing.style in (Style.PATH, Style.BOTH):
        claims[f"path /{api.prefix}"] = api.prefix_trust
    for host in host_names(api, config):
        trust = api.hosts_trust if host in api.extra_hosts else api.name_trust
        claims[f"host {host}"] = min(trust, claims.get(f"host {host}", trust))
    return claims


Rank = tuple[int, str, str]
RESERVED: Rank = (-1, "", "")


def plan_routes(
    apis: Iterable[Api], config: Config, reserved: Mapping[str, str] | None = None
) -> tuple[tuple[Route, ...], tuple[Skip, ...]]:
    """Decide the routes. Each claim (route name, prefix, host) goes to the claimant with the
    stronger trust for that claim (config > recognised > annotation), then the first by
    namespace/name. An API that loses any claim is skipped whole and reported, never
    half-routed; an API is only ever beaten by one that is itself routed.

    ``reserved`` maps claims that are already taken (the zones' name server names) to their owner.
    """
    active = {api.ref: api for api in apis}
    claims = {ref: _claims(api, config) for ref, api in active.items()}
    skipped: list[Skip] = []
    while True:
        owners: dict[str, tuple[Rank, str]] = {
            claim: (RESERVED, owner) for claim, owner in (reserved or {}).items()
        }
        for ref, api in active.items():
            for claim, trust in claims[ref].items():
                rank = (int(trust), api.namespace, api.service)
                if claim not in owners or rank < owners[claim][0]:
                    owners[claim] = (rank, ref)
        lost = {
            ref: [(claim, owners[claim][1]) for claim in claims[ref] if owners[claim][1] != ref]
            for ref in sorted(active)
        }
        losers = [ref for ref, lost_claims in lost.items() if lost_claims]
        if not losers:
            break
        # Settle first the APIs beaten by a winner of everything (or a reserved name): a claim
        # must not be lost to an API that is skipped itself for losing another claim.
        settled = {ref for ref, lost_claims in lost.items() if not lost_claims}
        settled.update((reserved or {}).values())
        beaten = [ref for ref in losers if any(w in settled for _, w in lost[ref])]
        if not beaten:
            # A cycle: each loser is beaten only by other losers. Skip one, the API whose
            # strongest claim is weakest (last by namespace/name on a tie), and look again.
            beaten = [max(losers, key=lambda ref: (min(claims[ref].values()), ref))]
        for ref in beaten:
            claim, winner = next(((c, w) for c, w in lost[ref] if w in settled), lost[ref][0])
            skipped.append(Skip(ref, f"{claim} is already taken by {winner}", problem=True))
            del active[ref]
    routes = [route for api in active.values() for route in _routes_for(api, config)]
    return (
        tuple(sorted(routes, key=lambda r: (r.name, r.kind))),
        tuple(sorted(skipped, key=lambda s: s.ref)),
    )


def _routes_for(api: Api, config: Config) -> list[Route]:
    path_route = Route(
        kind=RouteKind.PATH,
        name=f"{api.route_name}-path",
        namespace=api.namespace,
        service=api.service,
        port=api.port,
        service_type=api.service_type,
        prefix=api.prefix,
        annotations=tuning(api, config),
    )
    routes = [path_route] if config.routing.style in (Style.PATH, Style.BOTH) else []
    hosts = host_names(api, config)
    if hosts:
        routes.append(
            dataclasses.replace(
                path_route,
                kind=RouteKind.HOST,
                name=f"{api.route_name}-host",
                prefix=None,
                hosts=hosts,
                dns_names=tuple(h for h in hosts if h not in short_forms(api)),
            )
        )
    return routes
