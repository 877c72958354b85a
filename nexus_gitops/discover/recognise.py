"""Turn discovered Services into recognised APIs, applying config and annotation overrides.

Every decision about a Service ends either in an :class:`~nexus_gitops.model.Api` or in a
:class:`~nexus_gitops.model.Skip` that says why, so ``nexus-gitops discover`` can explain itself.
An invalid override skips only its own Service; the rest of the run goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nexus_gitops.config import Config, ServiceOverride
from nexus_gitops.discover.service_types import Component, component_for_type, official_type
from nexus_gitops.discover.service_types import recognise_name as recognise_service_name
from nexus_gitops.model import Api, KubeService, ServicePort, Skip, Trust
from nexus_gitops.validate.names import (
    InvalidValue,
    boolean_text,
    dns_label,
    hostname,
    path_prefix,
    port_name,
    port_number,
    shown,
)

ANNOTATION_PREFIX = "nexus-gitops.io/"
EXPOSE, PATH, HOSTS, SERVICE_TYPE, PORT = (
    ANNOTATION_PREFIX + key for key in ("expose", "path", "hosts", "service-type", "port")
)
KNOWN_ANNOTATIONS = frozenset({EXPOSE, PATH, HOSTS, SERVICE_TYPE, PORT})
MAX_EXTRA_HOSTS = 16

HTTP_APP_PROTOCOLS = frozenset(
    {"http", "https", "kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss"}
)
NON_HTTP_PORT_NAMES = frozenset(
    {
        "mysql",
        "amqp",
        "amqps",
        "epmd",
        "clustering",
        "memcache",
        "memcached",
        "dns",
        "dns-tcp",
        "ovsdb",
        "grpc",
        "metrics",
    }
)
PREFERRED_PORT_NAMES = ("https", "http", "api", "web")


@dataclass(frozen=True)
class Recognition:
    apis: tuple[Api, ...]
    skipped: tuple[Skip, ...]


def _annotation_overrides(annotations: Mapping[str, str]) -> ServiceOverride:
    """Parse the ``nexus-gitops.io/*`` annotations; raises :class:`InvalidValue`."""
    for key in annotations:
        if key.startswith(ANNOTATION_PREFIX) and key not in KNOWN_ANNOTATIONS:
            raise InvalidValue(
                f"unknown annotation {shown(key)}; known: {', '.join(sorted(KNOWN_ANNOTATIONS))}"
            )
    expose = annotations.get(EXPOSE)
    path = annotations.get(PATH)
    hosts = annotations.get(HOSTS)
    service_type = annotations.get(SERVICE_TYPE)
    port = annotations.get(PORT)
    parsed_hosts: tuple[str, ...] = ()
    if hosts is not None:
        # Only spaces are stripped: a newline is refused by the grammar, not cleaned up.
        parts = [part.strip(" ") for part in hosts.split(",")]
        if len(parts) > MAX_EXTRA_HOSTS:
            raise InvalidValue(f"{HOSTS} lists more than {MAX_EXTRA_HOSTS} hosts")
        parsed_hosts = tuple(hostname(part, f"{HOSTS} entry") for part in parts)
    parsed_port: int | str | None = None
    if port is not None:
        # isdigit() also accepts digits such as "²" that int() refuses: ASCII only. The length
        # is checked first, because int() of over 4300 digits raises ValueError.
        is_number = port.isascii() and port.isdigit()
        if is_number and len(port) > 5:
            raise InvalidValue(f"{PORT} {shown(port)} must be a port number from 1 to 65535")
        parsed_port = port_number(int(port)) if is_number else port_name(port)
    return ServiceOverride(
        expose=boolean_text(expose, EXPOSE) if expose is not None else None,
        path=path_prefix(path) if path is not None else None,
        hosts=parsed_hosts,
        service_type=dns_label(service_type, SERVICE_TYPE) if service_type is not None else None,
        port=parsed_port,
    )


def _http_ports(ports: Iterable[ServicePort]) -> list[ServicePort]:
    return [
        p
        for p in ports
        if p.protocol == "TCP"
        and (p.app_protocol is None or p.app_protocol.lower() in HTTP_APP_PROTOCOLS)
        and (p.name or "") not in NON_HTTP_PORT_NAMES
    ]


def _choose_port(
    service: KubeService, wanted: int | str | None, default: int | None
) -> ServicePort:
    """Pick the API port: the override, else the only HTTP port, else the API's usual port,
    else the one with a conventional name."""
    candidates = _http_ports(service.ports)
    if wanted is not None:
        for port in candidates:
            if wanted in (port.port, port.name):
                return port
        raise InvalidValue(f"port {shown(wanted)} is not an HTTP port of the Service")
    if not candidates:
        raise InvalidValue("no TCP port that speaks HTTP")
    if len(candidates) == 1:
        return candidates[0]
    for port in candidates:
        if port.port == default:
            return port
    for name in PREFERRED_PORT_NAMES:
        for port in candidates:
            if port.name == name:
                return port
    listed = ", ".join(f"{p.name or '-'}:{p.port}" for p in candidates)
    raise InvalidValue(f"several HTTP ports ({listed}); choose one with {PORT}")


def _backend_https(port: ServicePort) -> bool:
    return port.name == "https" or (port.app_protocol or "").lower() == "https" or port.port == 443


def _layer(
    config: ServiceOverride | None, annotations: ServiceOverride
) -> tuple[ServiceOverride, dict[str, Trust]]:
    """Lay config overrides over annotation ones, and say where each claimed field came from.

    A Service the config names under ``services:`` holds every claim with the config's trust:
    the operator has vouched for it, and this is how a route is moved to another Service.
    """
    if config is not None:
        fields = ("path", "hosts", "service_type")
        sources = dict.fromkeys(fields, Trust.CONFIG)
    else:
        config = ServiceOverride()
        sources = {
            field: Trust.ANNOTATION if getattr(annotations, field) else Trust.RECOGNISED
            for field in ("path", "hosts", "service_type")
        }
    merged = ServiceOverride(
        expose=config.expose if config.expose is not None else annotations.expose,
        path=config.path or annotations.path,
        hosts=config.hosts or annotations.hosts,
        service_type=config.service_type or annotations.service_type,
        port=config.port or annotations.port,
    )
    return merged, sources


def recognise_service(service: KubeService, config: Config) -> Api | Skip:
    """Decide whether one Service is an API to route, and how."""
    if service.namespace not in config.discovery.namespaces:
        return Skip(service.ref, "outside the configured namespaces")
    if service.type == "ExternalName":
        return Skip(service.ref, "ExternalName Service (no endpoints of its own)")
    if service.headless:
        return Skip(service.ref, "headless Service (no virtual IP to route to)")
    try:
        from_annotations = _annotation_overrides(service.annotations)
    except InvalidValue as exc:
        return Skip(service.ref, f"invalid annotation: {exc}", problem=True)
    wanted, sources = _layer(config.override_for(service.namespace, service.name), from_annotations)

    recognised, why_not = recognise_service_name(service.name)
    component: Component | None = recognised
    if wanted.service_type:
        service_type = official_type(wanted.service_type) or wanted.service_type
        route_name = recognised.route_name if recognised else None
        component = component_for_type(service_type, route_name=route_name)
    if component is None:
        if wanted.expose:
            return Skip(
                service.ref,
                f"expose is true but no service type is known; set {SERVICE_TYPE}",
                problem=True,
            )
        return Skip(service.ref, why_not)
    expose = wanted.expose if wanted.expose is not None else component.expose
    if not expose:
        return Skip(service.ref, component.why_hidden or "expose is false")
    try:
        port = _choose_port(service, wanted.port, component.port)
    except InvalidValue as exc:
        return Skip(service.ref, str(exc), problem=True)  # an API that should be routed is not
    return Api(
        namespace=service.namespace,
        service=service.name,
        port=port.port,
        service_type=component.service_type,
        route_name=component.route_name,
        prefix=wanted.path or component.prefix,
        extra_hosts=tuple(sorted(set(wanted.hosts))),
        backend_https=_backend_https(port),
        name_trust=sources["service_type"],
        prefix_trust=sources["path"] if wanted.path else sources["service_type"],
        hosts_trust=sources["hosts"],
    )


def recognise(services: Iterable[KubeService], config: Config) -> Recognition:
    """Classify every Service; results are sorted so output never depends on API order."""
    apis: list[Api] = []
    skipped: list[Skip] = []
    for service in sorted(services, key=lambda s: (s.namespace, s.name)):
        outcome = recognise_service(service, config)
        if isinstance(outcome, Api):
            apis.append(outcome)
        else:
            skipped.append(outcome)
    return Recognition(tuple(apis), tuple(skipped))
