"""Kubernetes Services parsed from the API's JSON shape.

Both sources (a live cluster and a ``kubectl get svc -o json|yaml`` snapshot) hand the same
JSON objects to :func:`service_from_manifest`, so there is one parser and one set of checks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nexus_gitops.model import KubeService, ServicePort
from nexus_gitops.validate.names import (
    InvalidValue,
    dns_label,
    hostname,
    ip_address,
    port_number,
    shown,
)

MAX_INT_DIGITS = 30
"""Longer integers are kept as :class:`TooLong`: ``int()`` of over 4300 digits raises, and no
field of a Service needs more than a few digits."""


class TooLong:
    """Stands in for an integer too long to convert; every grammar refuses it, so only the item
    that holds it is skipped, with a readable reason, and not the whole file or API answer."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<a {self.digits}-digit number>"


class DuplicateKey(ValueError):
    """A JSON object or YAML mapping has a key twice: which one counts depends on the reader,
    so neither does."""


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return result


def _json_int(text: str) -> int | TooLong:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else TooLong(len(text))


def _json_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")  # json.loads accepts NaN and Infinity otherwise


def loads_json(text: str | bytes) -> Any:
    """``json.loads`` for both sources: refuses duplicate keys (:class:`DuplicateKey`) and
    NaN/Infinity (ValueError), keeps over-long integers as :class:`TooLong`. Nesting too deep
    raises RecursionError."""
    return json.loads(
        text, object_pairs_hook=_json_object, parse_int=_json_int, parse_constant=_json_constant
    )


def _mapping(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidValue(f"{what} must be a map of strings")
    return dict(value)


def _port(raw: Any) -> ServicePort:
    if not isinstance(raw, Mapping):
        raise InvalidValue(f"port entry {shown(raw)} is not a map")
    name = raw.get("name")
    app_protocol = raw.get("appProtocol")
    protocol = raw.get("protocol", "TCP")
    for value, what in ((name, "port name"), (app_protocol, "appProtocol")):
        if value is not None and not isinstance(value, str):
            raise InvalidValue(f"{what} {shown(value)} is not a string")
    if not isinstance(protocol, str):
        raise InvalidValue(f"port protocol {shown(protocol)} is not a string")
    if name is not None:
        # A Service port name is a DNS label; it is shown in messages, so it is checked here.
        dns_label(name, "port name")
    # port_number() refuses what JSON or YAML may hold in its place: a float (8776.0, 1e999),
    # a string ("8776"), a boolean, or a number too long to convert (snapshot.TooLong).
    return ServicePort(
        port=port_number(raw.get("port")),
        name=name,
        protocol=protocol,
        app_protocol=app_protocol,
    )


def service_from_manifest(obj: Any) -> KubeService:
    """Parse one ``v1.Service`` JSON object; raises :class:`InvalidValue` on a malformed one.

    The namespace and name are checked here because they reach file names, Ingress backends and
    DNS names; a snapshot file is not guaranteed to have passed the API server's validation.
    """
    if not isinstance(obj, Mapping):
        raise InvalidValue(f"item {shown(obj)} is not an object")
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if not isinstance(meta, Mapping) or not isinstance(spec, Mapping):
        raise InvalidValue("metadata and spec must be objects")
    namespace = dns_label(meta.get("namespace"), "namespace")
    name = dns_label(meta.get("name"), "Service name")
    raw_ports = spec.get("ports") or []
    if not isinstance(raw_ports, list):
        raise InvalidValue("spec.ports must be a list")
    lb = (status.get("loadBalancer") or {}) if isinstance(status, Mapping) else {}
    entries = lb.get("ingress") or [] if isinstance(lb, Mapping) else []
    ips: list[str] = []
    hostnames: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and entry.get("ip"):
            ips.append(ip_address(entry["ip"], "load balancer IP"))
        elif isinstance(entry, Mapping) and entry.get("hostname"):
            hostnames.append(hostname(entry["hostname"], "load balancer hostname"))
    svc_type = spec.get("type", "ClusterIP")
    cluster_ip = spec.get("clusterIP")
    return KubeService(
        namespace=namespace,
        name=name,
        type=svc_type if isinstance(svc_type, str) else "ClusterIP",
        cluster_ip=cluster_ip if isinstance(cluster_ip, str) else None,
        ports=tuple(_port(p) for p in raw_ports),
        annotations=_mapping(meta.get("annotations"), "metadata.annotations"),
        selector=_mapping(spec.get("selector"), "spec.selector"),
        load_balancer_ips=tuple(ips),
        load_balancer_hostnames=tuple(hostnames),
    )
