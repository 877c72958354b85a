"""The ingress-nginx dialect: Kubernetes Ingress objects (networking.k8s.io/v1).

This is the only module that knows ingress-nginx's annotation names. It maps the neutral
:class:`~nexus_gitops.model.Tuning` of each route onto them; every value it writes is an int,
a bool or an enum from the model, or a name that passed its grammar on the way in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nexus_gitops.config import Config
from nexus_gitops.model import HostRoute, PathRoute, Route, Tuning
from nexus_gitops.render.tls import MANAGED_BY, certificates, object_name, tls_binding
from nexus_gitops.render.yaml import dump

NGINX = "nginx.ingress.kubernetes.io/"


def path_pattern(prefix: str) -> str:
    """kolla-helm's path: ``/<prefix>`` alone, or followed by ``/`` and anything (captured as $2).

    The regex needs ``pathType: ImplementationSpecific``: ingress-nginx refuses regex paths with
    ``Prefix`` since 1.12 ("path ... cannot be used with pathType Prefix").
    """
    return f"/{prefix}(/|$)(.*)"


def _size(limit: int) -> str:
    for unit, factor in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if limit and limit % factor == 0:
            return f"{limit // factor}{unit}"
    return str(limit)


def _switch(value: bool) -> str:
    return "on" if value else "off"


def tuning_annotations(tuning: Tuning) -> dict[str, str]:
    """The neutral tuning as ingress-nginx annotations; fields left at None are not written."""
    result: dict[str, str] = {}
    if tuning.body_limit is not None:
        result["proxy-body-size"] = _size(tuning.body_limit)
    if tuning.request_buffering is not None:
        result["proxy-request-buffering"] = _switch(tuning.request_buffering)
    if tuning.response_buffering is not None:
        result["proxy-buffering"] = _switch(tuning.response_buffering)
    for name, seconds in (
        ("proxy-read-timeout", tuning.read_timeout),
        ("proxy-send-timeout", tuning.send_timeout),
        ("proxy-connect-timeout", tuning.connect_timeout),
    ):
        if seconds is not None:
            result[name] = str(seconds)
    if tuning.backend_protocol is not None:
        result["backend-protocol"] = tuning.backend_protocol.value
    if tuning.source_ranges:
        result["whitelist-source-range"] = ",".join(tuning.source_ranges)
    if tuning.https_redirect is not None:
        result["ssl-redirect"] = "true" if tuning.https_redirect else "false"
    if tuning.rate_limit is not None:
        result["limit-rps"] = str(tuning.rate_limit)
    if tuning.connection_limit is not None:
        result["limit-connections"] = str(tuning.connection_limit)
    return {NGINX + key: value for key, value in result.items()}


def _backend(route: Route) -> dict[str, Any]:
    backend = route.backend
    return {"service": {"name": backend.service, "port": {"number": backend.port}}}


def _annotations(route: Route) -> dict[str, str]:
    annotations = {
        "nexus-gitops.io/service-type": route.service_type,
        "nexus-gitops.io/source": route.backend.ref,
        **tuning_annotations(route.tuning),
    }
    if isinstance(route, PathRoute):
        annotations[NGINX + "rewrite-target"] = "/$2"
        annotations[NGINX + "use-regex"] = "true"
        annotations[NGINX + "x-forwarded-prefix"] = f"/{route.prefix}"
    return dict(sorted(annotations.items()))


def _rules(route: Route, tls: bool) -> list[dict[str, Any]]:
    if isinstance(route, HostRoute):
        path = {"path": "/", "pathType": "Prefix", "backend": _backend(route)}
        return [{"host": host, "http": {"paths": [path]}} for host in route.hosts]
    path = {
        "path": path_pattern(route.prefix),
        "pathType": "ImplementationSpecific",
        "backend": _backend(route),
    }
    rules: list[dict[str, Any]] = []
    # A host rule for the shared path host: required outside the primary namespace, and with
    # TLS, because ingress-nginx picks a certificate only for hosts that have a rule.
    if tls or not route.catch_all:
        rules.append({"host": route.host, "http": {"paths": [path]}})
    if route.catch_all:
        rules.append({"http": {"paths": [path]}})
    return rules


def _object(name: str, route: Route, annotations: dict[str, str], spec: dict[str, Any]) -> Any:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": name,
            "namespace": route.namespace,
            "labels": dict(MANAGED_BY),
            "annotations": annotations,
        },
        "spec": spec,
    }


LOCAL_SUFFIX = "-local"
"""The Ingress of a TLS host route's in-cluster short names (``keystone``, ``keystone.openstack``).

No public CA signs those names, so they have no ``tls`` entry; ingress-nginx would still
redirect them to HTTPS (onto its fake certificate) if they shared the route's Ingress, and
in-cluster clients of ``http://keystone.openstack/`` would break. On their own Ingress, with
``ssl-redirect: "false"``, they keep plain HTTP. (A route name always ends in ``-path`` or
``-host``, so this name cannot collide with another route's.)"""


def ingresses(route: Route, config: Config) -> list[tuple[str, dict[str, Any]]]:
    """The Ingress objects of one route, by name. Host rules never share an Ingress with the
    rewrite annotations, which would apply to them too."""
    binding = tls_binding(route, config)
    spec: dict[str, Any] = {"ingressClassName": config.routing.ingress_class}
    annotations = _annotations(route)
    if binding is None:
        spec["rules"] = _rules(route, tls=False)
        return [(object_name(route), _object(object_name(route), route, annotations, spec))]
    spec["tls"] = [{"hosts": list(binding.hosts), "secretName": binding.secret}]
    rules = _rules(route, tls=True)
    local = [r for r in rules if "host" in r and r["host"] not in binding.hosts]
    spec["rules"] = [r for r in rules if r not in local]
    objects = [(object_name(route), _object(object_name(route), route, annotations, spec))]
    if local:
        name = object_name(route) + LOCAL_SUFFIX
        plain = dict(sorted({**annotations, NGINX + "ssl-redirect": "false"}.items()))
        local_spec = {"ingressClassName": config.routing.ingress_class, "rules": local}
        objects.append((name, _object(name, route, plain, local_spec)))
    return objects


class IngressNginx:
    """Renders routes as Ingress objects for ingress-nginx (and its Certificates)."""

    name = "ingress-nginx"

    def render(self, routes: Sequence[Route], config: Config, marker: str) -> dict[str, bytes]:
        files = {
            f"ingress/{route.namespace}/{name}.yaml": dump(document, marker)
            for route in routes
            for name, document in ingresses(route, config)
        }
        for path, document in certificates(routes, config).items():
            files[path] = dump(document, marker)
        return files
