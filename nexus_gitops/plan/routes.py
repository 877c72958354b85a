"""Routes from recognised APIs: one Ingress per API and style, conflicts resolved by trust."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from nexus_gitops.config import Config, Style
from nexus_gitops.discover.catalog import CONSOLE_TYPES, UPLOAD_TYPES
from nexus_gitops.model import Api, Route, RouteKind, Skip
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


def host_names(api: Api, config: Config) -> tuple[str, ...]:
    """openstack-helm's host rules for an API, plus its public name and any extra hosts."""
    name, ns = api.route_name, api.namespace
    hosts = [name, f"{name}.{ns}", f"{name}.{ns}.svc.{config.routing.cluster_domain}"]
    if config.routing.public_domain:
        hosts.append(f"{api.service_type}.{config.routing.public_domain}")
    return tuple(dict.fromkeys([*hosts, *api.extra_hosts]))


def _claims(api: Api, config: Config, style: Style) -> list[str]:
    claims = [f"route name {api.route_name!r}"]
    if style in (Style.PATH, Style.BOTH):
        claims.append(f"path /{api.prefix}")
    hosts = host_names(api, config) if style in (Style.HOST, Style.BOTH) else api.extra_hosts
    claims.extend(f"host {host}" for host in hosts)
    return claims


def plan_routes(
    apis: Iterable[Api], config: Config, reserved: Mapping[str, str] | None = None
) -> tuple[tuple[Route, ...], tuple[Skip, ...]]:
    """Decide the routes. When two APIs claim the same prefix, host or name, the one with the
    stronger trust (config > recognised > annotation) wins, then the first by namespace/name;
    the loser is skipped whole and reported, never half-routed.

    ``reserved`` maps claims that are already taken (the zones' name server names) to their owner.
    """
    style = config.routing.style
    owners: dict[str, str] = dict(reserved or {})
    routes: list[Route] = []
    skipped: list[Skip] = []
    for api in sorted(apis, key=lambda a: (a.trust, a.namespace, a.service)):
        claims = _claims(api, config, style)
        taken = [(claim, owners[claim]) for claim in claims if claim in owners]
        if taken:
            claim, owner = taken[0]
            skipped.append(Skip(api.ref, f"{claim} is already taken by {owner}", problem=True))
            continue
        owners.update(dict.fromkeys(claims, api.ref))
        routes.extend(_routes_for(api, config, style))
    return tuple(sorted(routes, key=lambda r: (r.name, r.kind))), tuple(skipped)


def _routes_for(api: Api, config: Config, style: Style) -> list[Route]:
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
    routes = [path_route] if style in (Style.PATH, Style.BOTH) else []
    hosts = host_names(api, config) if style in (Style.HOST, Style.BOTH) else api.extra_hosts
    if hosts:
        routes.append(
            dataclasses.replace(
                path_route,
                kind=RouteKind.HOST,
                name=f"{api.route_name}-host",
                prefix=None,
                hosts=hosts,
            )
        )
    return routes
