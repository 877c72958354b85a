"""Forges: the web services around a Git remote that hold pull requests (GitHub, GitLab, Gitea).

This module is the seam between the pull-request publisher (:mod:`nexus_gitops.commit.pull_request`)
and the per-forge clients (``github``, ``gitlab``, ``gitea``). The publisher speaks only this
protocol, in forge-neutral words: a *pull request* is a GitLab merge request too, its *number* is
GitLab's ``iid``. Each client is a thin typed layer over the forge's REST API; nothing here knows
about routes or plans, and no client ever prints, logs or puts its token in an error.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class ForgeKind(enum.StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"
    GITEA = "gitea"  # Forgejo speaks the same API


class PullState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    """Closed without being merged: a reviewer's "no"."""
    MERGED = "merged"


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    """The page a person opens (``html_url`` / ``web_url``)."""
    state: PullState
    title: str
    body: str
    head: str
    """The head branch's name, without ``refs/heads/``."""
    base: str
    draft: bool = False
    """Opened as a draft (GitHub's flag; a ``Draft:``/``WIP:`` title prefix on GitLab and
    Gitea, which :attr:`title` never includes)."""


@dataclass(frozen=True)
class Comment:
    id: int
    body: str


@dataclass(frozen=True)
class ForgeRepository:
    """Where the API calls go: the forge, its API root and the repository's path on it."""

    kind: ForgeKind
    api_url: str
    """e.g. ``https://api.github.com``, ``https://gitlab.com/api/v4``,
    ``https://gitea.example/api/v1``; never carries credentials."""
    repository: str
    """``owner/name``, or a GitLab project path such as ``group/sub/name``."""


def split_draft(title: str, prefixes: Sequence[str]) -> tuple[str, bool]:
    """The title without a draft prefix, and whether it had one."""
    for prefix in prefixes:
        if title.upper().startswith(prefix.upper()):
            return title[len(prefix) :].lstrip(), True
    return title, False


class Forge(Protocol):
    """The few calls the publisher and ``plan --comment`` make. Every call raises
    :class:`nexus_gitops.errors.ForgeError` (one line, token redacted) on failure."""

    repository: ForgeRepository

    def pull_requests(self, head: str, base: str) -> Sequence[PullRequest]:
        """Every pull request from ``head`` into ``base``, in any state, newest first."""
        ...

    def create_pull_request(
        self, head: str, base: str, title: str, body: str, *, draft: bool
    ) -> PullRequest: ...

    def update_pull_request(self, number: int, *, title: str, body: str) -> PullRequest: ...

    def close_pull_request(self, number: int) -> PullRequest: ...

    def add_labels(self, number: int, labels: Sequence[str]) -> None: ...

    def request_reviewers(self, number: int, reviewers: Sequence[str]) -> None: ...

    def comments(self, number: int) -> Sequence[Comment]:
        """The pull request's conversation comments (issue comments / MR notes), oldest first."""
        ...

    def create_comment(self, number: int, body: str) -> Comment: ...

    def edit_comment(self, number: int, comment_id: int, body: str) -> Comment: ...

    def close(self) -> None:
        """Release the HTTP connections."""
        ...
