"""Propose a change as one pull request that stays current, instead of committing to the branch.

The head branch is the bot's own (``git.pr_branch``, by default ``nexus-gitops/<owner-id>``) and
is always one commit on top of the base branch's current tip. Each run decides from two facts:

* Git: is the head branch already that one commit on today's base, for this very change? The
  head commit carries the change's key in a ``Nexus-Gitops-Change:`` trailer, so the answer
  needs no API call and does not depend on the date (zone serials carry it).
* The forge: which pull requests from the head into the base exist, open or closed? Each body
  ends with a hidden marker that holds the key; a pull request closed without merging is a
  reviewer's "no" to that key, and the same change is never proposed again.

Then, in order: push the head (a lease on the exact old head, never a blind force), open the pull
request or update its title and body when they differ, and nothing at all when nothing differs.
When the base already holds everything, an open bot pull request is obsolete: it is closed with a
comment and its branch deleted (``forge.close_obsolete``). Two runs at once end with one pull
request: the head push is a compare-and-swap, and the forge itself refuses a second open pull
request for the same head and base, which the loser answers by taking the winner's.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nexus_gitops.commit.fastimport import build_commit
from nexus_gitops.commit.forge import Forge, PullRequest, PullState
from nexus_gitops.commit.forge.http import ForgeRejected
from nexus_gitops.commit.publish import Change, Published
from nexus_gitops.commit.remote import delete, fetch, push
from nexus_gitops.commit.store import GitStore
from nexus_gitops.errors import GitError

_LOG = logging.getLogger(__name__)

TRAILER = "Nexus-Gitops-Change"
_TRAILER_LINE = re.compile(rf"^{TRAILER}: ([0-9a-f]{{64}})$", re.MULTILINE)
_MARKER = re.compile(
    r"<!-- nexus-gitops:pull-request owner=([A-Za-z0-9._/-]+) change=([0-9a-f]{64}) -->"
)


class Action(enum.StrEnum):
    """What a run did to the bot's pull request; the CLI's exit status follows from it."""

    OPENED = "opened"
    UPDATED = "updated"
    """New title or body, or the head rebuilt on a base that moved."""
    CLOSED = "closed"
    """The base holds the change now (or it was superseded): the PR was closed."""
    UNCHANGED = "unchanged"
    """The open PR already proposes exactly this change."""
    DECLINED = "declined"
    """A reviewer closed a PR for this very change: it is not proposed again."""
    NOTHING = "nothing"
    """Nothing to change and no PR open."""

    @property
    def changed(self) -> bool:
        return self in (Action.OPENED, Action.UPDATED, Action.CLOSED)


@dataclass(frozen=True)
class Review:
    action: Action
    pull_request: PullRequest | None
    head_commit: str | None = None
    """The head commit pushed by this run, if any."""


@dataclass(frozen=True)
class Settings:
    """The ``forge.*`` keys that shape the pull request."""

    head: str
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    draft: bool = False
    close_obsolete: bool = True
    owner: str = "nexus"


_LIVE = "<!-- nexus-gitops:pull-request owner="
_RETIRED = "<!-- nexus-gitops:closed-pull-request owner="


def marker(owner: str, key: str) -> str:
    return f"<!-- nexus-gitops:pull-request owner={owner} change={key} -->"


def body_key(body: str, owner: str) -> str | None:
    """The change key a pull request's body proposes, when it is this owner's: the last
    marker, the one nexus-gitops appends after everything else it wrote."""
    keys = [found.group(2) for found in _MARKER.finditer(body) if found.group(1) == owner]
    return keys[-1] if keys else None


def _normalised(text: str) -> str:
    """Forges store bodies with their own line endings and trailing blanks."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()


class PullRequestPublisher:
    """A :class:`~nexus_gitops.commit.publish.Publisher` that proposes instead of committing:
    the plan is made against the remote base branch, the commit goes to the head branch."""

    def __init__(self, store: GitStore, forge: Forge, settings: Settings) -> None:
        if store.remote is None:
            raise GitError(
                "a pull request needs a remote: the checkout's branch has no upstream",
                hint="give --repo a URL, or a checkout whose branch tracks the forge's",
            )
        self._store = store
        self._forge = forge
        self._settings = settings
        self._head_ref = f"refs/heads/{settings.head}"
        self._head_tracking = f"refs/remotes/{store.remote}/{settings.head}"
        self._follow_remote()

    @property
    def target(self) -> str:
        return f"pull request from {self._settings.head} into {self._store.branch}"

    @property
    def base_branch(self) -> str:
        return self._store.remote_ref.removeprefix("refs/heads/")

    def listing(self) -> Mapping[str, str]:
        return self._store.listing()

    def read(self, paths: Iterable[str] | None = None) -> dict[str, bytes]:
        return self._store.read(paths)

    def refresh(self) -> None:
        self._store.refresh()
        self._follow_remote()

    def _follow_remote(self) -> None:
        if self._store.remote_tip is None:
            raise GitError(
                f"{self._store.pushed_to} does not exist: a pull request needs a base branch",
                hint="push the base branch first, or set git.branch to an existing one",
            )
        self._store.use_remote_tip()

    # -- one run ------------------------------------------------------------------------------

    def publish(self, change: Change) -> Published:
        base = self.base_branch
        pulls = [p for p in self._forge.pull_requests(self._settings.head, base) if p.base == base]
        current = next((p for p in pulls if p.state is PullState.OPEN), None)
        if change.files.empty:
            return Published(review=self._nothing_to_do(current))
        declined = next(
            (
                p
                for p in pulls
                if p.state is PullState.CLOSED
                and body_key(p.body, self._settings.owner) == change.key
            ),
            None,
        )
        if declined is not None and (
            current is None or body_key(current.body, self._settings.owner) != change.key
        ):
            return Published(review=self._declined(declined, current))
        pushed = self._push_head(change)
        title = change.title
        body = f"{change.body.rstrip()}\n\n{marker(self._settings.owner, change.key)}\n"
        if current is None:
            return Published(review=self._open(title, body, pushed))
        if _normalised(current.title) != _normalised(title) or _normalised(
            current.body
        ) != _normalised(body):
            updated = self._forge.update_pull_request(current.number, title=title, body=body)
            return Published(review=Review(Action.UPDATED, updated, pushed))
        if pushed is not None:
            return Published(review=Review(Action.UPDATED, current, pushed))
        return Published(review=Review(Action.UNCHANGED, current))

    def _head_tip(self) -> str | None:
        assert self._store.remote is not None
        return fetch(
            self._store.git, self._store.remote, self._head_ref, self._head_tracking, depth=1
        )

    def _is_current(self, head: str, key: str) -> bool:
        """The head is one commit on the base's tip and proposes ``key``. Read from the commit
        object itself, which a shallow fetch has even when its parent is not fetched."""
        raw = self._store.git.out("cat-file", "commit", head)
        header, _, message = raw.partition("\n\n")
        parents = [line.split()[1] for line in header.splitlines() if line.startswith("parent ")]
        found = _TRAILER_LINE.findall(message)
        return parents == [self._store.remote_tip] and found[-1:] == [key]

    def _push_head(self, change: Change) -> str | None:
        """Build the head commit on the base's tip and push it with a lease on the exact old
        head; None when the head already is that commit for this change (nothing pushed)."""
        assert self._store.remote is not None
        old = self._head_tip()
        if old is not None and self._is_current(old, change.key):
            return None
        message = f"{change.message.rstrip()}\n\n{TRAILER}: {change.key}\n"
        new = build_commit(
            self._store.git, self._store.remote_tip, self._store.subdir, change.files, message
        )
        push(self._store.git, self._store.remote, new, self._head_ref, old)
        _LOG.debug("pushed %s to %s", new[:12], self._settings.head)
        return new

    def _open(self, title: str, body: str, pushed: str | None) -> Review:
        try:
            opened = self._forge.create_pull_request(
                self._settings.head,
                self.base_branch,
                title,
                body,
                draft=self._settings.draft,
            )
        except ForgeRejected:
            # A racing run opened it between our list and our create: take that one.
            raced = self._open_pull()
            if raced is None:
                raise
            if _normalised(raced.title) == _normalised(title) and _normalised(
                raced.body
            ) == _normalised(body):
                return Review(Action.UNCHANGED if pushed is None else Action.UPDATED, raced, pushed)
            updated = self._forge.update_pull_request(raced.number, title=title, body=body)
            return Review(Action.UPDATED, updated, pushed)
        if self._settings.labels:
            self._forge.add_labels(opened.number, self._settings.labels)
        if self._settings.reviewers:
            self._forge.request_reviewers(opened.number, self._settings.reviewers)
        return Review(Action.OPENED, opened, pushed)

    def _open_pull(self) -> PullRequest | None:
        pulls = self._forge.pull_requests(self._settings.head, self.base_branch)
        return next((p for p in pulls if p.state is PullState.OPEN), None)

    def _nothing_to_do(self, current: PullRequest | None) -> Review:
        if current is None:
            return Review(Action.NOTHING, None)
        if not self._settings.close_obsolete:
            return Review(Action.UNCHANGED, current)
        return self._close(
            current,
            f"{self.base_branch} already holds everything this pull request proposed, so "
            "nexus-gitops closed it and deleted its branch.",
        )

    def _declined(self, declined: PullRequest, current: PullRequest | None) -> Review:
        _LOG.info(
            "a reviewer closed #%d without merging it: the same change is not proposed again",
            declined.number,
        )
        if current is not None and self._settings.close_obsolete:
            closed = self._close(
                current,
                f"Superseded: discovery now wants the change of #{declined.number}, which a "
                "reviewer closed without merging, so nexus-gitops does not propose it again.",
            )
            return Review(Action.CLOSED, closed.pull_request)
        return Review(Action.DECLINED, declined)

    def _close(self, pull: PullRequest, why: str) -> Review:
        """Close a pull request the bot itself found obsolete. Its marker is retired first: a
        pull request closed by the bot is not a reviewer's "no", and the same change may be
        proposed again later (the base reverted, say)."""
        self._forge.create_comment(pull.number, why)
        self._forge.update_pull_request(
            pull.number, title=pull.title, body=pull.body.replace(_LIVE, _RETIRED)
        )
        closed = self._forge.close_pull_request(pull.number)
        tip = self._head_tip()
        if tip is not None:
            assert self._store.remote is not None
            delete(self._store.git, self._store.remote, self._head_ref, tip)
        return Review(Action.CLOSED, closed)


def head_branch(configured: str | None, owner: str) -> str:
    """``git.pr_branch``, else ``nexus-gitops/<owner-id>``: one head per owner, so two
    nexus-gitops instances writing to one repository never share a pull request."""
    return configured or f"nexus-gitops/{owner}"
