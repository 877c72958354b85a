"""What an OpenStack API Service looks like, as data.

Service names are not hard-coded. A Service name is read as ``<word>-<role>`` (``keystone-api``,
``neutron-server``, ``horizon-int``, ``nova-metadata``, kolla-helm's ``novncproxy-api``):

* ``<word>`` is an OpenStack project known to os-service-types (the same data the OpenStack SDK
  uses), or one of the few words in :data:`EXTRA_WORDS` for APIs it does not list (Horizon, the
  console proxies, Heat's CloudFormation API);
* ``<role>`` says which of the project's endpoints it is: :data:`API_ROLES` for the main API,
  :data:`SPECIAL_ROLES` for the others. Anything else (``designate-mdns``, ``glance-registry``)
  is not an API.

The official service type then gives the route: openstack-helm's public host name is the project
name (``cinder`` -> ``cinder.openstack.svc.cluster.local``) and kolla-helm's path prefix is the
catalog name it has always used (``block-storage`` -> ``/volumev3``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

import os_service_types


@dataclass(frozen=True)
class Component:
    """A kind of OpenStack API endpoint and how it is routed by default."""

    service_type: str
    route_name: str
    prefix: str
    port: int | None = None
    expose: bool = True
    why_hidden: str = ""


API_ROLES = frozenset({"api", "server", "int", "public", "osapi", "wsgi"})
"""Roles that name a project's main API (``keystone-api``, ``neutron-server``, ``horizon-int``)."""

EXTRA_WORDS: Mapping[str, Component] = {
    "horizon": Component("dashboard", "horizon", "horizon", 80),
    "novncproxy": Component("novncproxy", "novncproxy", "novncproxy", 6080),
    "spiceproxy": Component("spiceproxy", "spiceproxy", "spiceproxy", 6082),
    "serialproxy": Component("serialproxy", "serialproxy", "serialproxy", 6083),
}
"""Front words that os-service-types does not know: Horizon and kolla-helm's console proxies."""

SPECIAL_ROLES: Mapping[tuple[str, str], Component] = {
    ("nova", "novncproxy"): EXTRA_WORDS["novncproxy"],
    ("nova", "spiceproxy"): EXTRA_WORDS["spiceproxy"],
    ("nova", "serialproxy"): EXTRA_WORDS["serialproxy"],
    ("heat", "cfn"): Component("cloudformation", "cloudformation", "cloudformation", 8000),
    ("swift", "proxy"): Component("object-store", "swift", "object-store", 8080),
    ("nova", "metadata"): Component(
        "compute-metadata",
        "metadata",
        "metadata",
        8775,
        expose=False,
        why_hidden="the metadata API is for instances via the Neutron metadata agent, "
        'not for API clients; set nexus-gitops.io/expose: "true" to route it anyway',
    ),
}
"""Endpoints of a project other than its main API (``nova-metadata``, ``heat-cfn``)."""

KOLLA_PREFIXES: Mapping[str, str] = {
    "identity": "identity",
    "image": "image",
    "block-storage": "volumev3",
    "placement": "placement",
    "compute": "compute",
    "network": "network",
    "dashboard": "horizon",
}
"""kolla-helm's path prefixes by official service type; other APIs use their service type."""

DEFAULT_PORTS: Mapping[str, int] = {
    "identity": 5000,
    "image": 9292,
    "compute": 8774,
    "network": 9696,
    "block-storage": 8776,
    "placement": 8778,
    "orchestration": 8004,
    "load-balancer": 9876,
    "key-manager": 9311,
    "dns": 9001,
    "baremetal": 6385,
    "container-infrastructure-management": 9511,
    "shared-file-system": 8786,
    "alarm": 8042,
    "metric": 8041,
    "object-store": 8080,
    "instance-ha": 15868,
    "reservation": 1234,
    "workflow": 8989,
    "clustering": 8778,
}
"""Upstream default API ports, used to pick the API port of a Service with several ports."""

UPLOAD_TYPES = frozenset({"image", "block-storage", "object-store"})
CONSOLE_TYPES = frozenset({"novncproxy", "spiceproxy", "serialproxy"})


@cache
def _service_types() -> os_service_types.ServiceTypes:
    # os-service-types ships its data file; it does not go to the network unless asked to.
    return os_service_types.ServiceTypes()


# os-service-types deep-copies its whole table on every lookup; these are asked once per
# Service, so they are cached (bounded: the words come from untrusted Service names).
@lru_cache(maxsize=4096)
def official_type(name: str) -> str | None:
    """The official service type for a type or alias (``volumev3`` -> ``block-storage``)."""
    extra = {c.service_type for c in (*EXTRA_WORDS.values(), *SPECIAL_ROLES.values())}
    if name in extra:
        return name
    data = _service_types().get_service_data(name)
    return str(data["service_type"]) if data else None


@cache
def known_types() -> tuple[str, ...]:
    """Every official service type, and the extra ones above: what ``official_type`` knows
    without its aliases, for "did you mean" hints."""
    extra = {c.service_type for c in (*EXTRA_WORDS.values(), *SPECIAL_ROLES.values())}
    return tuple(sorted({*_service_types().all_types_by_service_type, *extra}))


@lru_cache(maxsize=4096)
def component_for_type(service_type: str, route_name: str | None = None) -> Component:
    """The routing defaults for a service type, e.g. from an annotation or override."""
    for component in (*EXTRA_WORDS.values(), *SPECIAL_ROLES.values()):
        if component.service_type == service_type:
            return component
    data = _service_types().get_service_data(service_type)
    project = str(data["project"]) if data else None
    return Component(
        service_type=service_type,
        route_name=route_name or project or service_type,
        prefix=KOLLA_PREFIXES.get(service_type, service_type),
        port=DEFAULT_PORTS.get(service_type),
    )


@cache
def _type_by_project() -> dict[str, str]:
    """Project name -> its primary service type, copied out of os-service-types once: its
    ``get_service_data_for_project`` deep-copies the whole project table on every call, which
    cost 7 of 11 seconds of a no-op sync over 10,000 distinct Service names (a cache by name
    does not help when every name is new, and untrusted names can all be new)."""
    table = _service_types().primary_service_by_project
    return {str(project): str(data["service_type"]) for project, data in table.items()}


@lru_cache(maxsize=4096)
def _project_component(project: str) -> Component | None:
    service_type = _type_by_project().get(project.rpartition("/")[-1])
    if service_type is None:
        return None
    return component_for_type(service_type, route_name=project)


def recognise_name(name: str) -> tuple[Component | None, str]:
    """Read a Service name as ``<word>-<role>``; returns the component or why it is none."""
    word, _, role = name.partition("-")
    if (word, role) in SPECIAL_ROLES:
        return SPECIAL_ROLES[(word, role)], ""
    component = EXTRA_WORDS.get(word) or _project_component(word)
    if component is None:
        return None, "not an OpenStack API name"
    if role not in API_ROLES:
        if not role:
            return None, f"'{name}' has no role suffix (openstack-helm's public alias Services)"
        return None, f"role '{role}' of {word} is not an API endpoint"
    return component, ""
