"""Discovery: read Services from a source and recognise the OpenStack APIs among them.

One interface, two sources: a live cluster (:mod:`.cluster`, imported only when asked for, so
the kubernetes client never slows down a snapshot run) and a ``kubectl get svc -o json|yaml``
snapshot file (:mod:`.snapshot`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from nexus_gitops.model import KubeService, Skip


@dataclass(frozen=True)
class Listing:
    """Services read from a source, and the items that could not be read (as skips).

    ``missing_namespaces`` are the namespaces asked for that do not exist, or that the source
    cannot tell from empty (a snapshot without any item in them, or a cluster that forbids
    reading the Namespace). A deletion guard needs this: an empty list must not read as "every
    API was removed" when the namespace itself is gone or unreadable.
    """

    services: tuple[KubeService, ...]
    problems: tuple[Skip, ...] = ()
    missing_namespaces: tuple[str, ...] = ()
    """Namespaces asked for that do not exist (or hold no Service at all): a misspelt
    namespace must not read as "every API was deleted"."""


class Source(Protocol):
    """Where Services come from."""

    @property
    def description(self) -> str:
        """Names the source in messages and commit messages."""
        ...

    def list_services(self, namespaces: Sequence[str]) -> Listing:
        """All Services in these namespaces, and which of them are missing."""
        ...

    def get_service(self, namespace: str, name: str) -> KubeService | None:
        """One Service, or None when it does not exist."""
        ...


def open_source(
    spec: str,
    *,
    kubeconfig: Path | None = None,
    context: str | None = None,
    request_timeout: float = 30.0,
) -> Source:
    """``kubernetes`` for the live cluster, anything else is a snapshot file path.

    ``request_timeout`` is the deadline in seconds for all of a cluster's API calls together.
    """
    if spec == "kubernetes":
        from nexus_gitops.discover.cluster import ClusterSource

        return ClusterSource.connect(
            kubeconfig=kubeconfig, context=context, request_timeout=request_timeout
        )
    from nexus_gitops.discover.snapshot import SnapshotSource

    return SnapshotSource.load(Path(spec))
