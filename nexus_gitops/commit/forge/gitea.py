"""Gitea and Forgejo (the same API): what differs from GitHub's pull requests.

Gitea's list call cannot filter by head branch, so the bot's pull requests are picked from the
base branch's list by head name. A draft is a pull request whose title starts with ``WIP:``
(Gitea's default ``WORK_IN_PROGRESS_PREFIXES``); the prefix is kept on updates, so a bot never
marks a draft ready or a ready one draft.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nexus_gitops.commit.forge import (
    PullRequest,
    PullState,
    split_draft,
)
from nexus_gitops.commit.forge.github import GitHub

DRAFT_PREFIXES = ("WIP:", "[WIP]")


def _pull(data: Any) -> PullRequest:
    if data.get("merged"):
        state = PullState.MERGED
    elif data.get("state") == "open":
        state = PullState.OPEN
    else:
        state = PullState.CLOSED
    title, draft = split_draft(str(data.get("title") or ""), DRAFT_PREFIXES)
    return PullRequest(
        number=int(data["number"]),
        url=str(data["html_url"]),
        state=state,
        title=title,
        body=str(data.get("body") or ""),
        head=str(data["head"]["ref"]),
        base=str(data["base"]["ref"]),
        draft=draft or bool(data.get("draft")),
    )


class Gitea(GitHub):
    AUTH_SCHEME = "token"
    HEADERS: Mapping[str, str] = {}
    COMMENT_PAGE: Mapping[str, str | int] = {}

    @staticmethod
    def _parse(data: Any) -> PullRequest:
        return _pull(data)

    def _get(self, number: int) -> PullRequest:
        answer = self._http.request(
            "GET", f"{self._root}/pulls/{number}", what=f"read pull request #{number}"
        )
        return self._parse(answer.data)

    def pull_requests(self, head: str, base: str) -> Sequence[PullRequest]:
        items = self._http.pages(
            f"{self._root}/pulls",
            {"state": "all", "base_branch": base, "limit": 50},
            what=f"list pull requests of {self.repository.repository}",
        )
        pulls = [_pull(item) for item in items]
        mine = [p for p in pulls if p.head == head and p.base == base]
        return sorted(mine, key=lambda p: p.number, reverse=True)

    def create_pull_request(
        self, head: str, base: str, title: str, body: str, *, draft: bool
    ) -> PullRequest:
        answer = self._http.request(
            "POST",
            f"{self._root}/pulls",
            json={
                "title": f"{DRAFT_PREFIXES[0]} {title}" if draft else title,
                "head": head,
                "base": base,
                "body": body,
            },
            what=f"open a pull request from {head} into {base}",
        )
        return self._parse(answer.data)

    def update_pull_request(self, number: int, *, title: str, body: str) -> PullRequest:
        current = self._get(number)
        answer = self._http.request(
            "PATCH",
            f"{self._root}/pulls/{number}",
            json={
                "title": f"{DRAFT_PREFIXES[0]} {title}" if current.draft else title,
                "body": body,
            },
            what=f"update pull request #{number}",
        )
        return self._parse(answer.data)
