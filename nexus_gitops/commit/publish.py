"""The publisher seam: how a planned change reaches the repository Argo CD or Flux syncs.

Today a change is committed to the branch (:class:`BranchPublisher`); a pull-request publisher
(push a review branch, open or update one PR) plugs in here with the same two calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from nexus_gitops.commit.store import CommitResult, GitStore
from nexus_gitops.plan.files import FilePlan


class Publisher(Protocol):
    def listing(self) -> Mapping[str, str]:
        """Path -> blob id of the committed files of the managed folder (cheap)."""
        ...

    def read(self, paths: Iterable[str] | None = None) -> dict[str, bytes]:
        """The committed files of the managed folder: the state the plan is made against."""
        ...

    def publish(self, plan: FilePlan, message: str) -> CommitResult:
        """Make the change visible to the cluster's GitOps controller (or to its reviewers)."""
        ...


class BranchPublisher:
    """Commit straight to the branch the GitOps controller syncs."""

    def __init__(self, store: GitStore) -> None:
        self._store = store

    def listing(self) -> Mapping[str, str]:
        return self._store.listing()

    def read(self, paths: Iterable[str] | None = None) -> dict[str, bytes]:
        return self._store.read(paths)

    def publish(self, plan: FilePlan, message: str) -> CommitResult:
        return self._store.commit(plan, message)
