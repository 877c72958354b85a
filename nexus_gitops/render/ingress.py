"""Kubernetes Ingress objects (networking.k8s.io/v1) for ingress-nginx."""

from __future__ import annotations

from typing import Any

from nexus_gitops.config import Config
from nexus_gitops.model import Route, RouteKind
from nexus_gitops.validate.annotations import NGINX_PREFIX

MANAGED_BY = {"app.kubernetes.io/managed-by": "nexus-gitops"}


def ingress_name(route: Route) -> str:
    return f"nexus-{route.name}"


def path_pattern(prefix: str) -> str:
    """kolla-helm's path: ``/<prefix>`` alone, or followed by ``/`` and anything (captured as $2).

    The regex needs ``pathType: ImplementationSpecific``: ingress-nginx refuses regex paths with
    ``Prefix`` since 1.12 ("path ... cannot be used with pathType Prefix").
    """
    return f"/{prefix}(/|$)(.*)"


def _backend(route: Route) -> dict[str, Any]:
    return {"service": {"name": route.service, "port": {"number": route.port}}}


def _annotations(route: Route, config: Config) -> dict[str, str]:
    annotations = {
        "nexus-gitops.io/service-type": route.service_type,
        "nexus-gitops.io/source": f"{route.namespace}/{route.service}",
        **route.annotations,
    }
    if route.kind is RouteKind.PATH:
        assert route.prefix is not None
        annotations[NGINX_PREFIX + "rewrite-target"] = "/$2"
        annotations[NGINX_PREFIX + "use-regex"] = "true"
        annotations[NGINX_PREFIX + "x-forwarded-prefix"] = f"/{route.prefix}"
    ssl = config.proxy.ssl
    if ssl.enabled and ssl.cluster_issuer:
        annotations["cert-manager.io/cluster-issuer"] = ssl.cluster_issuer
    elif ssl.enabled and ssl.issuer:
        annotations["cert-manager.io/issuer"] = ssl.issuer
    return dict(sorted(annotations.items()))


def _tls(route: Route, hosts: list[str], config: Config) -> list[dict[str, Any]]:
    ssl = config.proxy.ssl
    entry: dict[str, Any] = {"hosts": hosts}
    if ssl.secret_name:
        entry["secretName"] = ssl.secret_name
    elif ssl.cluster_issuer or ssl.issuer:
        entry["secretName"] = f"{ingress_name(route)}-tls"  # cert-manager creates it
    return [entry]


def ingress(route: Route, config: Config) -> dict[str, Any]:
    """One Ingress. Path routes carry no host, so ``http://<lb>/volumev3/v3`` works as well as
    the shared name; host routes carry no rewrite annotations, which would apply to them too."""
    if route.kind is RouteKind.PATH:
        assert route.prefix is not None
        path = {
            "path": path_pattern(route.prefix),
            "pathType": "ImplementationSpecific",
            "backend": _backend(route),
        }
        rules: list[dict[str, Any]] = [{"http": {"paths": [path]}}]
        tls_hosts = [config.path_host()]
    else:
        rules = [
            {
                "host": host,
                "http": {
                    "paths": [{"path": "/", "pathType": "Prefix", "backend": _backend(route)}]
                },
            }
            for host in route.hosts
        ]
        tls_hosts = list(route.hosts)
    spec: dict[str, Any] = {"ingressClassName": config.routing.ingress_class}
    if config.proxy.ssl.enabled:
        spec["tls"] = _tls(route, tls_hosts, config)
    spec["rules"] = rules
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": ingress_name(route),
            "namespace": route.namespace,
            "labels": dict(MANAGED_BY),
            "annotations": _annotations(route, config),
        },
        "spec": spec,
    }
