"""The data model that crosses stage boundaries; frozen so no stage can change another's input.

The model imports nothing else of the package: every layer may use it, it uses none of them.
"""

from nexus_gitops.model.kube import KubeService, ServicePort
from nexus_gitops.model.routing import (
    CATCH_ALL,
    STATE_FILE,
    STATE_VERSION,
    Api,
    Backend,
    BackendProtocol,
    Claim,
    CommittedState,
    DesiredState,
    Hold,
    HostRoute,
    PathRoute,
    Record,
    Route,
    Skip,
    Trust,
    Tuning,
    Zone,
    route_key,
)

__all__ = [
    "CATCH_ALL",
    "STATE_FILE",
    "STATE_VERSION",
    "Api",
    "Backend",
    "BackendProtocol",
    "Claim",
    "CommittedState",
    "DesiredState",
    "Hold",
    "HostRoute",
    "KubeService",
    "PathRoute",
    "Record",
    "Route",
    "ServicePort",
    "Skip",
    "Trust",
    "Tuning",
    "Zone",
    "route_key",
]
