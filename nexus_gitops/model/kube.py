"""Kubernetes Services as discovery sees them (parsed by :mod:`nexus_gitops.discover.manifest`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServicePort:
    """One port of a Service."""

    port: int
    name: str | None = None
    protocol: str = "TCP"
    app_protocol: str | None = None


@dataclass(frozen=True)
class KubeService:
    """The facts about one Service that routing and DNS decisions depend on."""

    namespace: str
    name: str
    type: str = "ClusterIP"
    cluster_ip: str | None = None
    ports: tuple[ServicePort, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)
    selector: Mapping[str, str] = field(default_factory=dict)
    load_balancer_ips: tuple[str, ...] = ()
    load_balancer_hostnames: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """``namespace/name``, the way kubectl and error messages name a Service."""
        return f"{self.namespace}/{self.name}"

    @property
    def headless(self) -> bool:
        return self.cluster_ip == "None"
