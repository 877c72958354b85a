"""Configuration: an immutable tree of dataclasses, validated once, at the edge.

Keys follow the Nexus Helm values where they apply (``discovery.openstack_namespace``,
``proxy.ssl.enabled``, ``dns.enabled`` ...). Every key is checked; an unknown one is an error
that names its full path, because a misspelt key silently ignored is a production outage.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nexus_gitops.commit.forge import ForgeKind
from nexus_gitops.discover.service_types import known_types, official_type
from nexus_gitops.errors import ConfigError
from nexus_gitops.model import BackendProtocol
from nexus_gitops.validate.names import (
    InvalidValue,
    annotation_value,
    cidr,
    dns_label,
    hostname,
    image_reference,
    ip_address,
    label_key,
    label_value,
    object_name,
    path_prefix,
    port_number,
    quantity,
    shown,
    size_bytes,
)

T = TypeVar("T")

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_./-]{1,100}")


def _key_text(key: object) -> str:
    """A key as it is shown in a key path: plain when it is plain, else quoted and escaped."""
    return key if isinstance(key, str) and _PLAIN_KEY.fullmatch(key) else shown(key, 40)


class _At(InvalidValue):
    """An invalid value below the key being read; ``key`` is the rest of its path, so the
    error names ``routing.service_types.imgae`` and not just ``routing.service_types``."""

    key: str

    def __init__(self, key: object, problem: InvalidValue | str) -> None:
        inner = problem.key if isinstance(problem, _At) else None
        self.key = _key_text(key) + (f".{inner}" if inner else "")
        super().__init__(str(problem))


class Style(enum.StrEnum):
    PATH = "path"
    HOST = "host"
    BOTH = "both"

    @property
    def paths(self) -> bool:
        return self in (Style.PATH, Style.BOTH)

    @property
    def hosts(self) -> bool:
        return self in (Style.HOST, Style.BOTH)


class Policy(enum.StrEnum):
    """What a run may do to committed routes, as external-dns's ``--policy``."""

    SYNC = "sync"
    UPSERT_ONLY = "upsert-only"
    CREATE_ONLY = "create-only"


TuningLayer = Mapping[str, Any]
"""Neutral tuning fields (:class:`nexus_gitops.model.Tuning`) set by one config layer, each
already checked; ``None`` removes what a lower layer set."""


@dataclass(frozen=True)
class ServiceOverride:
    """Overrides for one Service, from the config file or its annotations; ``None`` and ``()``
    mean "not overridden". ``port`` is a number or a port name."""

    expose: bool | None = None
    path: str | None = None
    hosts: tuple[str, ...] = ()
    service_type: str | None = None
    port: int | str | None = None


@dataclass(frozen=True)
class DiscoveryConfig:
    openstack_namespace: str = "openstack"
    extra_namespaces: tuple[str, ...] = ()
    public_service_name: str | None = None
    fallback_target: str | None = None

    @property
    def namespaces(self) -> tuple[str, ...]:
        return (self.openstack_namespace, *self.extra_namespaces)

    def public_service(self) -> tuple[str, str] | None:
        """``(namespace, name)`` of the ingress LoadBalancer Service, if configured."""
        if self.public_service_name is None:
            return None
        namespace, _, name = self.public_service_name.rpartition("/")
        return namespace or self.openstack_namespace, name


@dataclass(frozen=True)
class SslConfig:
    enabled: bool = False
    secret_name: str | None = None
    cluster_issuer: str | None = None
    issuer: str | None = None


@dataclass(frozen=True)
class ProxyConfig:
    ssl: SslConfig = field(default_factory=SslConfig)


@dataclass(frozen=True)
class RoutingConfig:
    style: Style = Style.PATH
    dialect: str = "ingress-nginx"
    ingress_class: str = "openstack-nginx"
    cluster_domain: str = "cluster.local"
    public_domain: str | None = None
    path_host: str | None = None
    tuning: TuningLayer = field(default_factory=dict)
    service_types: Mapping[str, TuningLayer] = field(default_factory=dict)


class DnsServer(enum.StrEnum):
    COREDNS = "coredns"
    DNSMASQ = "dnsmasq"


class ServiceType(enum.StrEnum):
    LOAD_BALANCER = "LoadBalancer"
    NODE_PORT = "NodePort"


class TrafficPolicy(enum.StrEnum):
    CLUSTER = "Cluster"
    LOCAL = "Local"


class AddressField(enum.StrEnum):
    """Where the DNS Service asks for ``dns.loadbalancer_ip``. MetalLB refuses a Service that
    has both ``spec.loadBalancerIP`` and its ``loadBalancerIPs`` annotation
    (controller/service.go, getDesiredLbIPs), so exactly one is written."""

    SPEC = "spec"
    METALLB = "metallb-annotation"


@dataclass(frozen=True)
class DnsImages:
    """Pinned images of the DNS servers. dnsmasq: dockurr/dnsmasq, an Alpine build that
    follows dnsmasq releases (4km3/dnsmasq, the usual choice, stopped at 2.90)."""

    coredns: str = "registry.k8s.io/coredns/coredns:v1.12.1"
    dnsmasq: str = "docker.io/dockurr/dnsmasq:2.91"


@dataclass(frozen=True)
class Resources:
    """Container resources; ``None`` leaves one out. Defaults are CoreDNS's own manifest's."""

    requests_cpu: str | None = "100m"
    requests_memory: str | None = "70Mi"
    limits_cpu: str | None = None
    limits_memory: str | None = "170Mi"


@dataclass(frozen=True)
class DnsConfig:
    enabled: bool = True
    ttl: int = 300
    upstream: tuple[str, ...] = ()
    namespace: str = "openstack-proxy"
    loadbalancer_ip: str | None = None
    coredns_dir: str = "/etc/coredns"
    server: DnsServer = DnsServer.COREDNS
    service_type: ServiceType = ServiceType.LOAD_BALANCER
    loadbalancer_ip_field: AddressField = AddressField.SPEC
    external_traffic_policy: TrafficPolicy = TrafficPolicy.CLUSTER
    client_ranges: tuple[str, ...] = ()
    images: DnsImages = field(default_factory=DnsImages)
    resources: Resources = field(default_factory=Resources)


@dataclass(frozen=True)
class PodConfig:
    """Nexus's ``pod.replicas.dns``: how many DNS server pods run."""

    dns_replicas: int = 2


@dataclass(frozen=True)
class OutputConfig:
    """Labels and annotations for every generated object (Argo CD sync options, team labels)."""

    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


class GitMode(enum.StrEnum):
    COMMIT = "commit"
    """Commit to ``git.branch`` (the branch the GitOps controller syncs)."""
    PULL_REQUEST = "pull-request"
    """Propose the change as one pull request into ``git.branch``."""


@dataclass(frozen=True)
class ForgeConfig:
    """Where pull requests are opened and what they carry (``git.mode: pull-request``)."""

    kind: ForgeKind | None = None
    """Told from the remote URL when absent."""
    api_url: str | None = None
    repository: str | None = None
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    draft: bool = False
    close_obsolete: bool = True
    """Close the bot's open pull request (with a comment) once the base holds its change."""


@dataclass(frozen=True)
class GitConfig:
    author_name: str | None = None
    author_email: str | None = None
    branch: str | None = None
    owner_id: str | None = None
    # How a run publishes, not what it renders: kept out of repr, which the inputs digest
    # (plan/digest.py) hashes, so changing them does not make the next run plan everything again.
    push_retries: int = field(default=10, repr=False)
    """How often a push that lost a race (the branch moved) is planned and pushed again."""
    lock_timeout: int = field(default=60, repr=False)
    """Seconds a run waits for another run on the same checkout before giving up."""
    mode: GitMode = field(default=GitMode.COMMIT, repr=False)
    pr_branch: str | None = field(default=None, repr=False)
    """The pull request's head branch (default ``nexus-gitops/<owner-id>``)."""


@dataclass(frozen=True)
class SafetyConfig:
    policy: Policy = Policy.SYNC
    max_delete_percent: int = 50


@dataclass(frozen=True)
class Config:
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    dns: DnsConfig = field(default_factory=DnsConfig)
    git: GitConfig = field(default_factory=GitConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    services: Mapping[str, ServiceOverride] = field(default_factory=dict)
    pod: PodConfig = field(default_factory=PodConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    forge: ForgeConfig = field(default_factory=ForgeConfig, repr=False)

    def path_host(self, namespace: str | None = None) -> str:
        """The shared host name of a namespace's path routes (kolla-helm's ingress URI host).

        ``routing.path_host`` names the primary namespace's; every other namespace (one
        OpenStack per namespace or region) gets ``openstack.<ns>.svc.<cluster_domain>``.
        """
        ns = namespace or self.discovery.openstack_namespace
        if ns == self.discovery.openstack_namespace and self.routing.path_host:
            return self.routing.path_host
        return f"openstack.{ns}.svc.{self.routing.cluster_domain}"

    def override_for(self, namespace: str, name: str) -> ServiceOverride | None:
        """Overrides are keyed ``namespace/name``, or ``name`` for the OpenStack namespace."""
        found = self.services.get(f"{namespace}/{name}")
        if found is None and namespace == self.discovery.openstack_namespace:
            found = self.services.get(name)
        return found


class _Section:
    """Reads one mapping of the YAML tree, remembering which keys were used."""

    def __init__(self, raw: Any, path: str) -> None:
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"config: {path or 'the top level'} must be a mapping")
        self.raw = raw
        self.path = path
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def take(self, name: str, default: T, check: Callable[[Any], T]) -> T:
        self.used.add(name)
        if name not in self.raw or self.raw[name] is None:
            return default
        try:
            return check(self.raw[name])
        except _At as exc:
            raise ConfigError(f"config: {self.key(name)}.{exc.key}: {exc}") from None
        except InvalidValue as exc:
            raise ConfigError(f"config: {self.key(name)}: {exc}") from None

    def section(self, name: str) -> _Section:
        self.used.add(name)
        return _Section(self.raw.get(name), self.key(name))

    def done(self) -> None:
        for name in self.raw:
            if name not in self.used:
                raise ConfigError(
                    f"config: unknown key {shown(self.key(str(name)))}",
                    hint="see the configuration reference in README.md",
                )


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(f"must be true or false, not {shown(value)}")
    return value


def _text(value: Any) -> str:
    """A non-empty string of printable characters only.

    ``isprintable()`` refuses newlines, CR, NUL, tabs, DEL, U+0085 and U+2028/U+2029: each of
    them ends a line somewhere (a commit header, a YAML reader, a log viewer).
    """
    if not isinstance(value, str) or not value or not value.isprintable():
        raise InvalidValue(f"must be a non-empty single-line string, not {shown(value)}")
    return value


def _positive(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 2**31 - 1:
        raise InvalidValue(f"must be a positive whole number, not {shown(value)}")
    return value


def _whole(low: int, high: int, unit: str = "a whole number") -> Callable[[Any], int]:
    """A whole number from ``low`` to ``high`` (a bool is not a number here, though Python
    says it is one)."""

    def checked(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidValue(f"must be {unit} from {low} to {high}, not {shown(value)}")
        return value

    return checked


_seconds = _whole(1, 86400, "a number of seconds")
_count = _whole(1, 1_000_000)
_percent = _whole(0, 100)
_retries = _whole(0, 100)
_lock_seconds = _whole(0, 3600, "a number of seconds")
_replicas = _whole(1, 100)


E = TypeVar("E", bound=enum.StrEnum)


def _choice(kind: type[E]) -> Callable[[Any], E]:
    """One of an enum's values, or an error that lists them all."""

    def checked(value: Any) -> E:
        try:
            return kind(value)
        except ValueError:
            *rest, last = [member.value for member in kind]
            choices = f"{', '.join(rest)} or {last}" if rest else last
            raise InvalidValue(f"must be {choices}, not {shown(value)}") from None

    return checked


_style = _choice(Style)
_protocol = _choice(BackendProtocol)


def _list_of(check: Callable[[Any], T]) -> Callable[[Any], tuple[T, ...]]:
    def checked(value: Any) -> tuple[T, ...]:
        if not isinstance(value, list):
            raise InvalidValue(f"must be a list, not {shown(value)}")
        return tuple(check(item) for item in value)

    return checked


def _service_ref(value: Any) -> str:
    text = _text(value)
    namespace, _, name = text.rpartition("/")
    if namespace:
        dns_label(namespace, "namespace")
    dns_label(name, "Service name")
    return text


TUNING_FIELDS: Mapping[str, Callable[[Any], Any]] = {
    "body_limit": size_bytes,
    "request_buffering": _bool,
    "response_buffering": _bool,
    "read_timeout": _seconds,
    "send_timeout": _seconds,
    "connect_timeout": _seconds,
    "backend_protocol": _protocol,
    "source_ranges": _list_of(cidr),
    "https_redirect": _bool,
    "rate_limit": _count,
    "connection_limit": _count,
}
"""The neutral tuning keys (:class:`nexus_gitops.model.Tuning`) and the grammar of each."""


def _tuning_layer(raw: Any, path: str, *, allow_null: bool) -> dict[str, Any]:
    section = _Section(raw, path)
    layer: dict[str, Any] = {}
    for name in section.raw:
        if name not in TUNING_FIELDS:
            continue  # reported by done() with the list of known keys
        if section.raw[name] is None:
            section.used.add(name)
            if allow_null:
                layer[name] = None  # null removes a built-in default
            continue
        layer[name] = section.take(name, None, TUNING_FIELDS[name])
    unknown = [str(k) for k in section.raw if k not in TUNING_FIELDS]
    if unknown:
        raise ConfigError(
            f"config: unknown key {shown(section.key(unknown[0]))}",
            hint=f"tuning keys are {', '.join(TUNING_FIELDS)}",
        )
    return layer


def _service_type(value: Any) -> str:
    """A known service type; an alias is normalised (``volumev3`` -> ``block-storage``).

    An unknown type is refused, not ignored: tuning for ``imgae`` would silently never apply.
    """
    dns_label(value, "service type")
    official = official_type(value)
    if official is None:
        close = difflib.get_close_matches(value, known_types(), n=1)
        guess = f"; did you mean {close[0]!r}?" if close else ""
        raise InvalidValue(f"unknown service type{guess} (see os-service-types)")
    return official


def _tuning_types(raw: Any, path: str) -> dict[str, dict[str, Any]]:
    section = _Section(raw, path)
    result: dict[str, dict[str, Any]] = {}
    spelt: dict[str, object] = {}
    for given_type, given in section.raw.items():
        where = f"{path}.{_key_text(given_type)}"
        try:
            service_type = _service_type(given_type)
        except InvalidValue as exc:
            raise ConfigError(f"config: {where}: {exc}") from None
        if service_type in spelt:
            raise ConfigError(
                f"config: {where}: names service type {service_type}, "
                f"as {_key_text(spelt[service_type])} does"
            )
        spelt[service_type] = given_type
        result[service_type] = _tuning_layer(given, where, allow_null=True)
    return result


def _override(raw: Any, path: str) -> ServiceOverride:
    section = _Section(raw, path)
    result = ServiceOverride(
        expose=section.take("expose", None, _bool),
        path=section.take("path", None, path_prefix),
        hosts=section.take("hosts", (), _list_of(hostname)),
        service_type=section.take("service_type", None, lambda v: dns_label(v, "service type")),
        port=section.take("port", None, port_number),
    )
    section.done()
    return result


def parse_config(raw: Any) -> Config:
    """Build a :class:`Config` from a parsed YAML document; raises :class:`ConfigError`."""
    top = _Section(raw, "")

    disc = top.section("discovery")
    discovery = DiscoveryConfig(
        openstack_namespace=disc.take(
            "openstack_namespace", "openstack", lambda v: dns_label(v, "namespace")
        ),
        extra_namespaces=disc.take(
            "extra_namespaces", (), _list_of(lambda v: dns_label(v, "namespace"))
        ),
        public_service_name=disc.take("public_service_name", None, _service_ref),
        fallback_target=disc.take("fallback_target", None, ip_address),
    )
    disc.done()

    proxy_section = top.section("proxy")
    ssl_section = proxy_section.section("ssl")
    ssl = SslConfig(
        enabled=ssl_section.take("enabled", False, _bool),
        secret_name=ssl_section.take("secret_name", None, lambda v: object_name(v, "secret name")),
        cluster_issuer=ssl_section.take("cluster_issuer", None, lambda v: object_name(v, "issuer")),
        issuer=ssl_section.take("issuer", None, lambda v: object_name(v, "issuer")),
    )
    ssl_section.done()
    proxy_section.done()
    if ssl.cluster_issuer and ssl.issuer:
        raise ConfigError("config: proxy.ssl: set cluster_issuer or issuer, not both")

    route = top.section("routing")
    routing = RoutingConfig(
        style=route.take("style", Style.PATH, _style),
        ingress_class=route.take(
            "ingress_class", "openstack-nginx", lambda v: object_name(v, "ingress class")
        ),
        cluster_domain=route.take(
            "cluster_domain", "cluster.local", lambda v: hostname(v, "cluster domain")
        ),
        public_domain=route.take("public_domain", None, lambda v: hostname(v, "public domain")),
        path_host=route.take("path_host", None, hostname),
        dialect=route.take("dialect", "ingress-nginx", _dialect),
        tuning=_tuning_layer(route.raw.get("tuning"), route.key("tuning"), allow_null=False),
        service_types=_tuning_types(route.raw.get("service_types"), route.key("service_types")),
    )
    route.used.update({"tuning", "service_types"})
    if "annotations" in route.raw:
        raise ConfigError(
            "config: routing.annotations was replaced by routing.tuning",
            hint="tuning now uses neutral keys such as body_limit and read_timeout (README)",
        )
    route.done()

    dns_section = top.section("dns")
    images_section = dns_section.section("images")
    images = DnsImages(
        coredns=images_section.take("coredns", DnsImages.coredns, image_reference),
        dnsmasq=images_section.take("dnsmasq", DnsImages.dnsmasq, image_reference),
    )
    images_section.done()
    dns = DnsConfig(
        enabled=dns_section.take("enabled", True, _bool),
        ttl=dns_section.take("ttl", 300, _positive),
        upstream=dns_section.take("upstream", (), _list_of(ip_address)),
        namespace=dns_section.take(
            "namespace", "openstack-proxy", lambda v: dns_label(v, "namespace")
        ),
        loadbalancer_ip=dns_section.take("loadbalancer_ip", None, ip_address),
        coredns_dir=dns_section.take("coredns_dir", "/etc/coredns", _absolute_dir),
        server=dns_section.take("server", DnsServer.COREDNS, _choice(DnsServer)),
        service_type=dns_section.take(
            "service_type", ServiceType.LOAD_BALANCER, _choice(ServiceType)
        ),
        loadbalancer_ip_field=dns_section.take(
            "loadbalancer_ip_field", AddressField.SPEC, _choice(AddressField)
        ),
        external_traffic_policy=dns_section.take(
            "external_traffic_policy", TrafficPolicy.CLUSTER, _choice(TrafficPolicy)
        ),
        client_ranges=dns_section.take("client_ranges", (), _list_of(cidr)),
        images=images,
        resources=_resources(dns_section.section("resources")),
    )
    dns_section.done()

    pod_section = top.section("pod")
    replicas_section = pod_section.section("replicas")
    pod = PodConfig(dns_replicas=replicas_section.take("dns", 2, _replicas))
    replicas_section.done()
    pod_section.done()

    output_section = top.section("output")
    output = OutputConfig(
        labels=output_section.take("labels", {}, _metadata(label_value)),
        annotations=output_section.take("annotations", {}, _metadata(annotation_value)),
    )
    output_section.done()

    git_section = top.section("git")
    git = GitConfig(
        author_name=git_section.take("author_name", None, _text),
        author_email=git_section.take("author_email", None, _email),
        branch=git_section.take("branch", None, _branch),
        owner_id=git_section.take("owner_id", None, owner_id),
        push_retries=git_section.take("push_retries", 10, _retries),
        lock_timeout=git_section.take("lock_timeout", 60, _lock_seconds),
        mode=git_section.take("mode", GitMode.COMMIT, _choice(GitMode)),
        pr_branch=git_section.take("pr_branch", None, _branch),
    )
    git_section.done()

    forge_section = top.section("forge")
    forge = ForgeConfig(
        kind=forge_section.take("kind", None, _choice(ForgeKind)),
        api_url=forge_section.take("api_url", None, _api_url),
        repository=forge_section.take("repository", None, _repository),
        labels=forge_section.take("labels", (), _list_of(_label)),
        reviewers=forge_section.take("reviewers", (), _list_of(_username)),
        draft=forge_section.take("draft", False, _bool),
        close_obsolete=forge_section.take("close_obsolete", True, _bool),
    )
    forge_section.done()

    safety_section = top.section("safety")
    safety = SafetyConfig(
        policy=safety_section.take("policy", Policy.SYNC, policy),
        max_delete_percent=safety_section.take("max_delete_percent", 50, _percent),
    )
    safety_section.done()

    services_section = top.section("services")
    services: dict[str, ServiceOverride] = {}
    for key, value in services_section.raw.items():
        try:
            ref = _service_ref(key)
        except InvalidValue as exc:
            raise ConfigError(f"config: services.{_key_text(key)}: {exc}") from None
        services[ref] = _override(value, f"services.{ref}")
    services_section.used.update(services_section.raw)
    services_section.done()
    top.done()
    return Config(
        discovery, ProxyConfig(ssl), routing, dns, git, safety, services, pod, output, forge
    )


def _resources(section: _Section) -> Resources:
    """``requests``/``limits`` with ``cpu``/``memory`` each; ``null`` leaves a default out."""
    values: dict[str, str | None] = {}
    for kind in ("requests", "limits"):
        inner = section.section(kind)
        for name in ("cpu", "memory"):
            key = f"{kind}_{name}"
            if name in inner.raw and inner.raw[name] is None:
                inner.used.add(name)
                values[key] = None
            else:
                values[key] = inner.take(name, getattr(Resources, key), quantity)
        inner.done()
    section.done()
    return Resources(**values)


RESERVED_PREFIXES = ("nginx.ingress.kubernetes.io/", "cert-manager.io/", "app.kubernetes.io/")
"""Keys ``output.labels``/``output.annotations`` may not set: the ingress-nginx and
cert-manager vocabularies are the renderers' alone (a snippet annotation would reopen
CVE-2021-25742), and ``app.kubernetes.io/`` labels select the DNS pods."""


def _metadata(check_value: Callable[[Any], str]) -> Callable[[Any], dict[str, str]]:
    def checked(value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise InvalidValue(f"must be a mapping of keys to strings, not {shown(value)}")
        result: dict[str, str] = {}
        for key, item in value.items():
            try:
                name = label_key(key, "key")
            except InvalidValue as exc:
                raise _At(key, exc) from None
            if name.startswith(RESERVED_PREFIXES):
                raise _At(key, InvalidValue("is reserved for nexus-gitops' own renderers"))
            try:
                result[name] = check_value(item)
            except InvalidValue as exc:
                raise _At(key, exc) from None
        return dict(sorted(result.items()))

    return checked


def _dialect(value: Any) -> str:
    if value != "ingress-nginx":
        raise InvalidValue(f"must be ingress-nginx (the only output today), not {shown(value)}")
    return "ingress-nginx"


def policy(value: Any) -> Policy:
    """``sync``, ``upsert-only`` or ``create-only`` (for the config and ``--policy``)."""
    try:
        return Policy(value)
    except ValueError:
        raise InvalidValue(
            f"must be sync, upsert-only or create-only, not {shown(value)}"
        ) from None


_OWNER = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?")


def owner_id(value: Any) -> str:
    """An owner id, as external-dns's TXT owner: letters, digits, ``. _ / -``, 128 at most.

    It is written into the first line of every file, so it must be one plain token.
    """
    if not isinstance(value, str) or not _OWNER.fullmatch(value) or "//" in value:
        raise InvalidValue(
            f"owner id {shown(value)} must be letters, digits, '.', '_', '/' and '-' (128 at most)"
        )
    return value


def _absolute_dir(value: Any) -> str:
    text = _text(value)
    if not text.startswith("/") or any(c.isspace() or c in "{}#;\"'" for c in text):
        raise InvalidValue(f"must be an absolute path without spaces or quotes, not {shown(text)}")
    return text.rstrip("/") or "/"


def _email(value: Any) -> str:
    text = _text(value)
    if "@" not in text or any(c in text for c in "<> "):
        raise InvalidValue(f"must be an e-mail address, not {shown(text)}")
    return text


def _branch(value: Any) -> str:
    text = _text(value)
    if text.startswith(("-", "/")) or ".." in text or any(c in text for c in " ~^:?*[\\"):
        raise InvalidValue(f"is not a valid branch name: {shown(text)}")
    return text


_API_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*/?")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){1,20}")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.:/-]{0,48}[A-Za-z0-9]|[A-Za-z0-9]")
_USERNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?")


def _api_url(value: Any) -> str:
    """An API root without credentials, query or fragment: the token goes in a header, and
    nothing but the forge's own paths is ever appended."""
    text = _text(value)
    if not _API_URL.fullmatch(text):
        raise InvalidValue(
            f"must be an http(s) URL without credentials or query, e.g. "
            f"https://github.example.com/api/v3, not {shown(text)}"
        )
    return text.rstrip("/")


def _repository(value: Any) -> str:
    text = _text(value)
    if not _REPOSITORY.fullmatch(text) or any(p in (".", "..") for p in text.split("/")):
        raise InvalidValue(f"must be owner/name or a GitLab group/project path, not {shown(text)}")
    return text


def _label(value: Any) -> str:
    text = _text(value)
    if not _LABEL.fullmatch(text):
        raise InvalidValue(
            f"label {shown(text)} must be letters, digits, spaces and ' _.:/-' (50 at most)"
        )
    return text


def _username(value: Any) -> str:
    text = _text(value)
    if not _USERNAME.fullmatch(text):
        raise InvalidValue(f"reviewer {shown(text)} must be a username (no @)")
    return text


def load_config(path: Path | None) -> Config:
    """Read the config file, or return the defaults when no file is given."""
    if path is None:
        return Config()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config: {path} is not UTF-8 text (byte {exc.start})") from None
    # Imported here: ruamel costs ~10 ms, and --help or a run without --config reads no YAML.
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        raw = YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        raise ConfigError(f"config: {path} is not valid YAML: {_first_line(exc)}") from None
    except RecursionError:
        raise ConfigError(f"config: {path} is nested too deeply") from None
    except ValueError:  # int() of over 4300 digits, or a malformed timestamp
        raise ConfigError(
            f"config: {path} has a value that cannot be read (a number too long?)"
        ) from None
    return parse_config(raw)


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200]
