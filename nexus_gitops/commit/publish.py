"""The publisher seam: how a planned change reaches the repository Argo CD or Flux syncs.

Today a change is committed to the branch (:class:`BranchPublisher`); a pull-request publisher
(push a review branch, open or update one PR) plugs in here with the same calls.

``publish`` raises :class:`~nexus_gitops.commit.remote.PushRejected` when the branch moved on
meanwhile; the caller then calls ``refresh`` (fetch the new tip), plans again against what
``listing``/``read`` now return, and publishes again.
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

    def refresh(self) -> None:
        """After a lost race: fetch the branch's new tip and plan against it from now on."""
        ...

    @property
    def target(self) -> str:
        """Where changes land, for messages (``origin/main``)."""
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

    def refresh(self) -> None:
        self._store.refresh()

    @property
    def target(self) -> str:
        return self._store.pushed_to or self._store.branch
