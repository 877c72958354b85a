"""What the tool decided: recognised APIs, the routes for them and the DNS zones that name them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class Trust(enum.IntEnum):
    """Where a claim (a route name, a prefix, a host) came from; lower wins a conflict.

    The operator's config outranks built-in recognition, which outranks Service annotations,
    because anyone who may create a Service may write annotations: an annotation must never be
    able to take ``/identity`` away from Keystone. Trust is kept per claim, so annotating extra
    hosts on Keystone does not weaken its hold on ``/identity``.
    """

    CONFIG = 0
    RECOGNISED = 1
    ANNOTATION = 2


@dataclass(frozen=True)
class Api:
    """An OpenStack API found behind a Service, with everything routing needs to know."""

    namespace: str
    service: str
    port: int
    service_type: str
    route_name: str
    prefix: str
    extra_hosts: tuple[str, ...] = ()
    backend_https: bool = False
    name_trust: Trust = Trust.RECOGNISED
    """Of the route name and the host names made from it (set by the service type)."""
    prefix_trust: Trust = Trust.RECOGNISED
    hosts_trust: Trust = Trust.RECOGNISED
    """Of ``extra_hosts``."""

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.service}"


@dataclass(frozen=True)
class Skip:
    """A Service that produced no route, and why. ``problem`` marks a user error to report."""

    ref: str
    reason: str
    problem: bool = False


class RouteKind(enum.StrEnum):
    PATH = "path"
    HOST = "host"


@dataclass(frozen=True)
class Route:
    """One Ingress: either path rules (with rewrite) or host rules (without), never both."""

    kind: RouteKind
    name: str
    namespace: str
    service: str
    port: int
    service_type: str
    prefix: str | None = None
    hosts: tuple[str, ...] = ()
    dns_names: tuple[str, ...] = ()
    """The hosts that are DNS names; openstack-helm's short forms (``keystone``,
    ``keystone.openstack``) are Ingress hosts for in-cluster clients only."""
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def backend(self) -> str:
        return f"{self.namespace}/{self.service}:{self.port}"

    def describe(self) -> str:
        """A one-line description used in commit messages and tables."""
        front = f"/{self.prefix}" if self.kind is RouteKind.PATH else ", ".join(self.hosts)
        return f"{front} -> {self.backend}"


@dataclass(frozen=True)
class Record:
    """An address record: A for IPv4, AAAA for IPv6 (chosen from the address)."""

    name: str
    address: str

    @property
    def rdtype(self) -> str:
        return "AAAA" if ":" in self.address else "A"


@dataclass(frozen=True)
class Zone:
    """A DNS zone nexus-gitops is authoritative for. ``serial`` is 0 until planned."""

    origin: str
    nameserver: str
    nameserver_address: str
    records: tuple[Record, ...]
    ttl: int
    serial: int = 0

    @property
    def filename(self) -> str:
        return f"db.{self.origin}"


@dataclass(frozen=True)
class DesiredState:
    """Everything the render stage turns into files."""

    address: str
    routes: tuple[Route, ...]
    zones: tuple[Zone, ...]
    skipped: tuple[Skip, ...] = ()
    unpublished: tuple[str, ...] = ()
