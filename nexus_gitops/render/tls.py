"""TLS that works with ingress-nginx and public CAs, for every dialect.

* One certificate per shared path host (per namespace), referenced by every path route: not
  one per Ingress for the same name, which would hit public CAs' duplicate-certificate limits.
* Only fully qualified names go into a certificate (``keystone.openstack`` is refused by
  every public CA).
* With a cert-manager issuer, the Certificate objects are written here, explicitly, instead of
  asking cert-manager's ingress-shim for one per Ingress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nexus_gitops.config import Config
from nexus_gitops.model import HostRoute, PathRoute, Route

MANAGED_BY = {"app.kubernetes.io/managed-by": "nexus-gitops"}
PATH_HOST_CERTIFICATE = "nexus-path-host"


def object_name(route: Route) -> str:
    """The Kubernetes name of a route's object, unique within its namespace."""
    return f"nexus-{route.name}"


@dataclass(frozen=True)
class TlsBinding:
    """The certificate a route presents: for these hosts, from this secret."""

    hosts: tuple[str, ...]
    secret: str


def tls_binding(route: Route, config: Config) -> TlsBinding | None:
    ssl = config.proxy.ssl
    if not ssl.enabled or not route.tls_hosts:
        return None
    if ssl.secret_name:
        return TlsBinding(route.tls_hosts, ssl.secret_name)
    if isinstance(route, PathRoute):
        return TlsBinding(route.tls_hosts, f"{PATH_HOST_CERTIFICATE}-tls")
    return TlsBinding(route.tls_hosts, f"{object_name(route)}-tls")


def certificates(routes: Sequence[Route], config: Config) -> dict[str, dict[str, Any]]:
    """cert-manager Certificates (path relative to the folder -> object) for the secrets the
    routes reference, when an issuer is configured; none for a secret the operator provides."""
    ssl = config.proxy.ssl
    issuer = ssl.cluster_issuer or ssl.issuer
    if not ssl.enabled or ssl.secret_name or not issuer:
        return {}
    kind = "ClusterIssuer" if ssl.cluster_issuer else "Issuer"
    wanted: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    for route in routes:
        binding = tls_binding(route, config)
        if binding is None:
            continue
        name = PATH_HOST_CERTIFICATE if isinstance(route, PathRoute) else object_name(route)
        wanted[(route.namespace, name)] = (binding.secret, binding.hosts)
    return {
        f"certificate/{namespace}/{name}.yaml": {
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_BY)},
            "spec": {
                "secretName": secret,
                "dnsNames": list(hosts),
                "issuerRef": {"group": "cert-manager.io", "kind": kind, "name": issuer},
            },
        }
        for (namespace, name), (secret, hosts) in sorted(wanted.items())
    }


__all__ = ["MANAGED_BY", "HostRoute", "TlsBinding", "certificates", "object_name", "tls_binding"]
