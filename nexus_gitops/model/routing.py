"""What the tool decided: recognised APIs, the routes for them and the DNS zones that name them.

A route is a tagged union (:class:`PathRoute` | :class:`HostRoute`) carrying neutral facts:
where it is served (hosts, prefix), where it goes (:class:`Backend`) and how it is tuned
(:class:`Tuning`). No output dialect's vocabulary appears here: the ingress-nginx annotation
names live in its renderer, so a Gateway API renderer can read the same routes.

Every host, prefix and name a route takes is listed by :meth:`PathRoute.claims` /
:meth:`HostRoute.claims`, the one source the conflict check, the DNS zones and the plan use.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Literal

CATCH_ALL = "*"
"""The scope of host-less rules: any Host header that reaches the ingress (``http://<lb>/``)."""


class Trust(enum.IntEnum):
    """Where a claim (a route name, a prefix, a host) came from; lower wins a conflict.

    The operator's config outranks built-in recognition, which outranks Service annotations,
    because anyone who may create a Service may write annotations. Trust is kept per claim, so
    annotating extra hosts on Keystone does not weaken its hold on ``/identity``.
    """

    CONFIG = 0
    RECOGNISED = 1
    ANNOTATION = 2


class BackendProtocol(enum.StrEnum):
    HTTP = "HTTP"
    HTTPS = "HTTPS"
    GRPC = "GRPC"
    GRPCS = "GRPCS"


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


@dataclass(frozen=True)
class Backend:
    """Where a route sends requests: a Service port in the route's own namespace."""

    namespace: str
    service: str
    port: int

    @property
    def ref(self) -> str:
        """``namespace/name`` of the Service: the identity that holds a route's claims."""
        return f"{self.namespace}/{self.service}"

    def __str__(self) -> str:
        return f"{self.ref}:{self.port}"


@dataclass(frozen=True)
class Tuning:
    """How the proxy treats a route's traffic, in neutral terms; ``None`` is the proxy's default.

    Each renderer maps these onto its own vocabulary (ingress-nginx annotations today, Gateway
    API policies next), so OpenStack's needs are stated once.
    """

    body_limit: int | None = None
    """Largest request body in bytes; 0 means unlimited (image and volume uploads)."""
    request_buffering: bool | None = None
    response_buffering: bool | None = None
    read_timeout: int | None = None
    """Seconds; console websockets sit idle far longer than the usual 60 s."""
    send_timeout: int | None = None
    connect_timeout: int | None = None
    backend_protocol: BackendProtocol | None = None
    source_ranges: tuple[str, ...] = ()
    """CIDRs allowed to reach the route; empty means everyone."""
    https_redirect: bool | None = None
    rate_limit: int | None = None
    """Requests per second per client address."""
    connection_limit: int | None = None
    """Concurrent connections per client address."""


ClaimKind = Literal["name", "path", "host"]


@dataclass(frozen=True, order=True)
class Claim:
    """One thing a route takes exclusively.

    * ``name``: the Ingress object name in a namespace (``scope``);
    * ``path``: a prefix under one host scope (a path host, or :data:`CATCH_ALL`);
    * ``host``: every path of a host name, as a host rule serves it.
    """

    kind: ClaimKind
    scope: str
    value: str

    def __str__(self) -> str:
        if self.kind == "name":
            return f"route name {self.value!r} in {self.scope}"
        if self.kind == "path":
            where = "any host" if self.scope == CATCH_ALL else self.scope
            return f"path /{self.value} on {where}"
        return f"host {self.value}"


@dataclass(frozen=True)
class PathRoute:
    """kolla-helm style: ``/<prefix>`` under the shared path host, the prefix stripped.

    ``catch_all`` routes are also served for any Host header (host-less rules), so
    ``http://<lb>/volumev3/v3`` works; only the primary namespace's routes are.
    """

    kind: ClassVar[str] = "path"
    name: str
    backend: Backend
    service_type: str
    prefix: str
    host: str
    catch_all: bool
    tuning: Tuning = Tuning()

    @property
    def namespace(self) -> str:
        return self.backend.namespace

    @property
    def dns_names(self) -> tuple[str, ...]:
        return (self.host,)

    @property
    def tls_hosts(self) -> tuple[str, ...]:
        return (self.host,)

    def claims(self) -> tuple[Claim, ...]:
        scopes = (self.host, CATCH_ALL) if self.catch_all else (self.host,)
        return (
            Claim("name", self.namespace, self.name),
            *(Claim("path", scope, self.prefix) for scope in scopes),
        )

    def describe(self) -> str:
        """A one-line description used in commit messages, plans and tables."""
        return f"/{self.prefix} -> {self.backend}"


@dataclass(frozen=True)
class HostRoute:
    """openstack-helm style: every path of some host names, unchanged.

    ``dns_names`` are the fully qualified hosts; openstack-helm's short forms (``keystone``,
    ``keystone.openstack``) are Ingress hosts for in-cluster clients only, never DNS names and
    never in a certificate.
    """

    kind: ClassVar[str] = "host"
    name: str
    backend: Backend
    service_type: str
    hosts: tuple[str, ...]
    dns_names: tuple[str, ...]
    tuning: Tuning = Tuning()

    @property
    def namespace(self) -> str:
        return self.backend.namespace

    @property
    def tls_hosts(self) -> tuple[str, ...]:
        return self.dns_names

    def claims(self) -> tuple[Claim, ...]:
        return (
            Claim("name", self.namespace, self.name),
            *(Claim("host", "", host) for host in self.hosts),
        )

    def describe(self) -> str:
        return f"{', '.join(self.hosts)} -> {self.backend}"


Route = PathRoute | HostRoute


def route_key(route: Route) -> tuple[str, str]:
    """``(namespace, name)``: what identifies a route across runs."""
    return route.namespace, route.name


@dataclass(frozen=True)
class Hold:
    """A claim the committed state gave to a Service that is gone, kept while it is contested.

    Without it, deleting (or redeploying) Keystone's Service for one run would let any Service
    that claims ``/identity`` take it on the next.
    """

    claim: Claim
    holder: str


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


STATE_FILE = "state.json"
"""Where the committed state lives in the managed folder (written by render, read by discover)."""
STATE_VERSION = 1


@dataclass(frozen=True)
class CommittedState:
    """What the last run committed: the input that makes incumbents keep their routes."""

    owner: str | None = None
    routes: tuple[Route, ...] = ()
    holds: tuple[Hold, ...] = ()
    records: tuple[Record, ...] = ()
    conflicts: tuple[Skip, ...] = ()
    """The Services the last run refused a claim, so a run that stops early still warns."""
    inputs: str | None = None
    """:func:`nexus_gitops.plan.digest.inputs_digest` of the run that wrote the state."""
    files: str | None = None
    """:func:`nexus_gitops.plan.digest.files_digest` of the files that run wrote."""


@dataclass(frozen=True)
class DesiredState:
    """Everything the render stage turns into files."""

    address: str | None
    routes: tuple[Route, ...]
    zones: tuple[Zone, ...]
    holds: tuple[Hold, ...] = ()
    skipped: tuple[Skip, ...] = ()
    unpublished: tuple[str, ...] = ()
