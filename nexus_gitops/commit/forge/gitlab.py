"""GitLab merge requests and their notes (GitLab.com and self-managed, REST API v4).

In forge-neutral words a merge request is a pull request and its ``iid`` is the number. A draft
is a merge request whose title starts with ``Draft:``; the prefix is kept on updates. Reviewers
are given as usernames in the config and looked up to user ids, which is what GitLab takes.
System notes ("added 1 commit") are not comments and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from nexus_gitops.commit.forge import (
    Comment,
    ForgeRepository,
    PullRequest,
    PullState,
    split_draft,
)
from nexus_gitops.commit.forge.http import Http, message_field
from nexus_gitops.errors import ForgeError

DRAFT_PREFIXES = ("Draft:", "[Draft]", "(Draft)")
_STATES = {"opened": PullState.OPEN, "locked": PullState.OPEN, "merged": PullState.MERGED}


def _pull(data: Any) -> PullRequest:
    title, draft = split_draft(str(data.get("title") or ""), DRAFT_PREFIXES)
    return PullRequest(
        number=int(data["iid"]),
        url=str(data["web_url"]),
        state=_STATES.get(str(data.get("state")), PullState.CLOSED),
        title=title,
        body=str(data.get("description") or ""),
        head=str(data["source_branch"]),
        base=str(data["target_branch"]),
        draft=draft,  # the title prefix: ``draft`` is a string in some versions
    )


def _note(data: Any) -> Comment:
    return Comment(int(data["id"]), str(data.get("body") or ""))


class GitLab:
    def __init__(self, repository: ForgeRepository, token: str) -> None:
        self.repository = repository
        self._http = Http(repository.api_url, {"PRIVATE-TOKEN": token}, token, message_field)
        self._root = f"/projects/{quote(repository.repository, safe='')}"

    def close(self) -> None:
        self._http.close()

    def _get(self, number: int) -> PullRequest:
        answer = self._http.request(
            "GET",
            f"{self._root}/merge_requests/{number}",
            what=f"read merge request !{number}",
        )
        return _pull(answer.data)

    def _put(self, number: int, fields: dict[str, Any], what: str) -> PullRequest:
        answer = self._http.request(
            "PUT", f"{self._root}/merge_requests/{number}", json=fields, what=what
        )
        return _pull(answer.data)

    def pull_requests(self, head: str, base: str) -> Sequence[PullRequest]:
        items = self._http.pages(
            f"{self._root}/merge_requests",
            {
                "state": "all",
                "source_branch": head,
                "target_branch": base,
                "order_by": "created_at",
                "sort": "desc",
                "per_page": 100,
            },
            what=f"list merge requests of {self.repository.repository}",
        )
        return [_pull(item) for item in items]

    def create_pull_request(
        self, head: str, base: str, title: str, body: str, *, draft: bool
    ) -> PullRequest:
        answer = self._http.request(
            "POST",
            f"{self._root}/merge_requests",
            json={
                "source_branch": head,
                "target_branch": base,
                "title": f"{DRAFT_PREFIXES[0]} {title}" if draft else title,
                "description": body,
            },
            what=f"open a merge request from {head} into {base}",
        )
        return _pull(answer.data)

    def update_pull_request(self, number: int, *, title: str, body: str) -> PullRequest:
        current = self._get(number)
        shown = f"{DRAFT_PREFIXES[0]} {title}" if current.draft else title
        return self._put(
            number, {"title": shown, "description": body}, f"update merge request !{number}"
        )

    def close_pull_request(self, number: int) -> PullRequest:
        return self._put(number, {"state_event": "close"}, f"close merge request !{number}")

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        self._put(number, {"add_labels": list(labels)}, f"label merge request !{number}")

    def request_reviewers(self, number: int, reviewers: Sequence[str]) -> None:
        ids = [self._user_id(name) for name in reviewers]
        self._put(number, {"reviewer_ids": ids}, f"request reviewers of merge request !{number}")

    def _user_id(self, username: str) -> int:
        answer = self._http.request(
            "GET", "/users", params={"username": username}, what=f"look up user {username}"
        )
        found = answer.data if isinstance(answer.data, list) else []
        if not found:
            raise ForgeError(
                f"forge.reviewers: no GitLab user {username}",
                hint="list GitLab usernames, without @",
            )
        return int(found[0]["id"])

    def comments(self, number: int) -> Sequence[Comment]:
        items = self._http.pages(
            f"{self._root}/merge_requests/{number}/notes",
            {"sort": "asc", "order_by": "created_at", "per_page": 100},
            what=f"list the notes of merge request !{number}",
        )
        return [_note(item) for item in items if not item.get("system")]

    def create_comment(self, number: int, body: str) -> Comment:
        answer = self._http.request(
            "POST",
            f"{self._root}/merge_requests/{number}/notes",
            json={"body": body},
            what=f"comment on merge request !{number}",
        )
        return _note(answer.data)

    def edit_comment(self, number: int, comment_id: int, body: str) -> Comment:
        answer = self._http.request(
            "PUT",
            f"{self._root}/merge_requests/{number}/notes/{comment_id}",
            json={"body": body},
            what=f"edit note {comment_id} on merge request !{number}",
        )
        return _note(answer.data)
