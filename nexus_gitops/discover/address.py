"""The ingress address: where every published DNS name points."""

from __future__ import annotations

from dataclasses import dataclass

from nexus_gitops.config import Config
from nexus_gitops.discover import Source
from nexus_gitops.errors import AddressError


@dataclass(frozen=True)
class IngressAddress:
    ip: str
    origin: str


def ingress_address(config: Config, source: Source) -> IngressAddress:
    """The LoadBalancer IP of ``discovery.public_service_name``, else the fallback target.

    IPv4 is preferred when the LoadBalancer has both families, so the result does not depend on
    the order the cloud provider reported them in.
    """
    reason = "discovery.public_service_name is not set"
    ref = config.discovery.public_service()
    if ref is not None:
        namespace, name = ref
        service = source.get_service(namespace, name)
        if service is None:
            reason = f"Service {namespace}/{name} was not found"
        elif service.load_balancer_ips:
            ip = sorted(service.load_balancer_ips, key=lambda a: (":" in a, a))[0]
            return IngressAddress(ip, f"LoadBalancer of {namespace}/{name}")
        elif service.load_balancer_hostnames:
            reason = (
                f"Service {namespace}/{name} has a LoadBalancer hostname "
                f"({service.load_balancer_hostnames[0]}) but no IP"
            )
        else:
            reason = f"Service {namespace}/{name} has no LoadBalancer IP yet"
    if config.discovery.fallback_target:
        return IngressAddress(config.discovery.fallback_target, f"fallback target ({reason})")
    raise AddressError(
        f"no ingress address: {reason} and discovery.fallback_target is not set",
        hint="set discovery.fallback_target, or check the LoadBalancer controller "
        "(README: troubleshooting)",
    )
