"""The data model that crosses stage boundaries; frozen so no stage can change another's input."""

from nexus_gitops.model.kube import KubeService, ServicePort
from nexus_gitops.model.routing import (
    Api,
    DesiredState,
    Record,
    Route,
    RouteKind,
    Skip,
    Trust,
    Zone,
)

__all__ = [
    "Api",
    "DesiredState",
    "KubeService",
    "Record",
    "Route",
    "RouteKind",
    "ServicePort",
    "Skip",
    "Trust",
    "Zone",
]
