"""The publisher seam: how a planned change reaches the repository Argo CD or Flux syncs.

A change is either committed to the branch (:class:`BranchPublisher`) or proposed as one pull
request (:class:`~nexus_gitops.commit.pull_request.PullRequestPublisher`), with the same calls.

``publish`` raises :class:`~nexus_gitops.commit.remote.PushRejected` when the branch moved on
meanwhile; the caller then calls ``refresh`` (fetch the new tip), plans again against what
``listing``/``read`` now return, and publishes again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from nexus_gitops.commit.store import CommitResult, GitStore
from nexus_gitops.plan.files import FilePlan

if TYPE_CHECKING:
    from nexus_gitops.commit.pull_request import Review


@dataclass(frozen=True)
class Change:
    """One planned change in every form a publisher needs. ``files`` may be empty: the base
    holds everything, which a pull-request publisher answers by closing its obsolete PR."""

    files: FilePlan
    message: str
    """The commit message."""
    title: str
    """One line that names the change (the headline)."""
    body: str
    """The plan in markdown, for a reviewer."""
    key: str
    """A hash of what the change does (:func:`nexus_gitops.plan.summary.change_key`)."""


@dataclass(frozen=True)
class Published:
    """What a publisher did: a commit on the branch, or what happened to the pull request."""

    commit: CommitResult | None = None
    review: Review | None = None


class Publisher(Protocol):
    def listing(self) -> Mapping[str, str]:
        """Path -> blob id of the committed files of the managed folder (cheap)."""
        ...

    def read(self, paths: Iterable[str] | None = None) -> dict[str, bytes]:
        """The committed files of the managed folder: the state the plan is made against."""
        ...

    def publish(self, change: Change) -> Published:
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

    def publish(self, change: Change) -> Published:
        if change.files.empty:
            return Published()
        return Published(commit=self._store.commit(change.files, change.message))

    def refresh(self) -> None:
        self._store.refresh()

    @property
    def target(self) -> str:
        return self._store.pushed_to or self._store.branch
